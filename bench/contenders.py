"""The models of the quality benchmark, each fitted on a training CSV and scored on a test
CSV: tabnet through its command line, CatBoost and LightGBM with their library defaults
(the `bench` extra), and three scikit-learn references.

Every contender returns a `Result`: the test score (AUC for binary, accuracy for
multiclass, R2 for regression, all computed by `score`) and the fit time in seconds.
"""

from __future__ import annotations

import io
import json
import shlex
import shutil
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from datasets import BINARY, MULTICLASS, REGRESSION
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

# catboost and lightgbm come with the `bench` extra; each with its library's defaults
CONTENDERS = ("tabnet", "catboost", "lightgbm", "hgb", "mlp", "linear")


@dataclass
class Result:
    """One model's test score and fit time on one table and seed."""

    score: float | None
    fit_s: float
    extra: dict = field(default_factory=dict)


def positive_class(labels: pd.Series) -> object:
    """The class whose probability the AUC ranks: the larger of the two, as in sklearn."""
    return sorted(labels.dropna().unique())[1]


def score(task: str, truth: pd.Series, prediction) -> float:
    """AUC (prediction: probability of `positive_class`), accuracy or R2."""
    if task == BINARY:
        return float(roc_auc_score(truth == positive_class(truth), prediction))
    if task == MULTICLASS:
        return float(accuracy_score(truth.astype(str), pd.Series(prediction).astype(str)))
    return float(r2_score(truth, prediction))


def tabnet_command() -> list[str]:
    """The `tabnet` console script beside this interpreter, else `python -m tabnet_cli`."""
    script = Path(sys.executable).with_name("tabnet")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tabnet_cli"]


def run_tabnet(task: str, target: str, train: Path, test: Path, seed: int, run_dir: Path,
               extra_args: str = "") -> Result:
    """`tabnet train` with default options (plus `extra_args`), then `tabnet predict`.

    The fit time is the wall clock of the whole `tabnet train` command, process start and
    CSV reading included: what a user waits for.
    """
    shutil.rmtree(run_dir, ignore_errors=True)
    command = [*tabnet_command(), "train", str(train), "--target", target, "--seed", str(seed),
               "--verbose", "0", "--out", str(run_dir), *shlex.split(extra_args)]
    started = time.perf_counter()
    trained = subprocess.run(command, capture_output=True, text=True)
    fit_s = time.perf_counter() - started
    if trained.returncode != 0:
        return Result(None, fit_s, {"error": trained.stderr.strip()[-500:]})
    metrics = json.loads((run_dir / "metrics.json").read_text())
    chosen = json.loads((run_dir / "model.json").read_text())["task"]
    extra = {"task": chosen, **training_figures(metrics)}
    try:
        return Result(score_run(task, target, run_dir, test), fit_s, extra)
    except RuntimeError as failed:
        return Result(None, fit_s, {**extra, "error": str(failed)})


def score_run(task: str, target: str, run_dir: Path, test: Path) -> float:
    """The test score of a saved run: `tabnet predict` on the test CSV, scored by `score`;
    RuntimeError with the end of its stderr when predict fails."""
    predict = [*tabnet_command(), "predict", str(run_dir), str(test)]
    predicted = subprocess.run([*predict, "--proba"] if task == BINARY else predict,
                               capture_output=True, text=True)
    if predicted.returncode != 0:
        raise RuntimeError(predicted.stderr.strip()[-500:])
    frame = pd.read_csv(io.StringIO(predicted.stdout))
    truth = pd.read_csv(test)[target]
    positive = str(positive_class(truth))
    # probability columns are named proba_<class> when a class is named like the target
    column = f"proba_{positive}" if f"proba_{positive}" in frame.columns else positive
    prediction = frame[column] if task == BINARY else frame[target]
    return score(task, truth, prediction)


def training_figures(metrics: dict) -> dict:
    """Epochs, kept epoch, training time, time per epoch and rows per epoch of a run's
    metrics.json; for a bagged ensemble (``members``), the members' totals (epochs, rows
    over all members) and their mean time per epoch, with the member count."""
    if "members" not in metrics:
        return {"epochs": metrics["epochs_run"], "kept_epoch": metrics["kept_epoch"],
                "train_s": metrics["train_seconds"], "s_per_epoch": metrics["seconds_per_epoch"],
                "fit_rows": metrics["train_rows"]}
    members = metrics["member_runs"]
    return {"members": metrics["members"], "epochs": sum(m["epochs_run"] for m in members),
            "kept_epoch": [m["kept_epoch"] for m in members],
            "train_s": metrics["train_seconds"],
            "s_per_epoch": float(np.mean([m["seconds_per_epoch"] for m in members])),
            "fit_rows": float(np.mean([m["train_rows"] for m in members]))}


def split_columns(features: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Numeric columns and text (categorical) columns, as pandas read them."""
    text = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    return [c for c in features.columns if c not in text], text


def hgb(task: str, features: pd.DataFrame, seed: int):
    """HistGradientBoosting with its defaults; text columns ordinal-encoded and declared
    categorical, gaps left to the model's own missing-value handling."""
    numbers, text = split_columns(features)
    encode = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                            encoded_missing_value=np.nan)
    prep = ColumnTransformer([("cat", encode, text), ("num", "passthrough", numbers)])
    kind = HistGradientBoostingRegressor if task == REGRESSION else HistGradientBoostingClassifier
    categorical = [True] * len(text) + [False] * len(numbers)
    return make_pipeline(prep, kind(categorical_features=categorical, random_state=seed))


def one_hot_prep(features: pd.DataFrame) -> ColumnTransformer:
    """Median-imputed standardized numbers and constant-imputed one-hot text columns."""
    numbers, text = split_columns(features)
    num = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    cat = make_pipeline(SimpleImputer(strategy="constant", fill_value="(missing)"),
                        OneHotEncoder(handle_unknown="ignore"))
    return ColumnTransformer([("num", num, numbers), ("cat", cat, text)])


def mlp(task: str, features: pd.DataFrame, seed: int):
    """scikit-learn's MLP with its defaults on the one-hot preprocessing. A regression
    target is standardized around it (as tabnet does by default): MLPRegressor on raw
    targets such as prices in dollars does not converge in its 200 default epochs."""
    if task != REGRESSION:
        return make_pipeline(one_hot_prep(features), MLPClassifier(random_state=seed))
    model = TransformedTargetRegressor(MLPRegressor(random_state=seed),
                                       transformer=StandardScaler())
    return make_pipeline(one_hot_prep(features), model)


def linear(task: str, features: pd.DataFrame, seed: int):
    """Ridge or LogisticRegression on the one-hot preprocessing (max_iter raised to 1000
    so that lbfgs converges; otherwise defaults)."""
    model = Ridge() if task == REGRESSION else LogisticRegression(max_iter=1000)
    return make_pipeline(one_hot_prep(features), model)


def catboost(task: str, features: pd.DataFrame, seed: int):
    """CatBoost with its defaults and its native categorical columns (text columns, a
    missing text cell as its own category), quiet."""
    from catboost import CatBoostClassifier, CatBoostRegressor  # the bench extra

    _, text = split_columns(features)
    kind = CatBoostRegressor if task == REGRESSION else CatBoostClassifier
    model = kind(random_seed=seed, verbose=0, cat_features=text, allow_writing_files=False)
    return _TextAsCategory(model, text, "(missing)")


def lightgbm(task: str, features: pd.DataFrame, seed: int):
    """LightGBM with its defaults; text columns as pandas categories (its native
    categorical handling), quiet."""
    from lightgbm import LGBMClassifier, LGBMRegressor  # the bench extra

    _, text = split_columns(features)
    kind = LGBMRegressor if task == REGRESSION else LGBMClassifier
    return _TextAsCategory(kind(random_state=seed, verbose=-1), text, None)


class _TextAsCategory:
    """A model fed text columns as one consistent categorical dtype (the training rows'
    categories), or as strings with `fill` for missing cells (CatBoost)."""

    def __init__(self, model, text: list[str], fill: str | None):
        self.model, self.text, self.fill = model, text, fill
        self.categories: dict[str, list] = {}

    def _prepared(self, features: pd.DataFrame) -> pd.DataFrame:
        """Text cells as strings (missing ones kept missing), then as the model takes them."""
        frame = features.assign(**{c: features[c].astype(str).where(features[c].notna())
                                   for c in self.text})
        for column in self.text:
            if self.fill is not None:
                frame[column] = frame[column].astype(str).where(frame[column].notna(), self.fill)
            else:
                frame[column] = pd.Categorical(frame[column], categories=self.categories[column])
        return frame

    def fit(self, features: pd.DataFrame, target: pd.Series):
        self.categories = {c: sorted(features[c].dropna().astype(str).unique()) for c in self.text}
        self.model.fit(self._prepared(features), target)
        self.classes_ = getattr(self.model, "classes_", None)
        return self

    def predict(self, features: pd.DataFrame):
        return np.ravel(self.model.predict(self._prepared(features)))

    def predict_proba(self, features: pd.DataFrame):
        return self.model.predict_proba(self._prepared(features))


BUILDERS = {"catboost": catboost, "lightgbm": lightgbm, "hgb": hgb, "mlp": mlp, "linear": linear}


def run_sklearn(name: str, task: str, target: str, train: pd.DataFrame, test: pd.DataFrame,
                seed: int) -> Result:
    """Fits one scikit-learn contender on the training rows and scores it on the test rows."""
    features = train.drop(columns=[target])
    pipe = BUILDERS[name](task, features, seed)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(features, train[target])
    fit_s = time.perf_counter() - started
    test_features = test.drop(columns=[target])
    if task == BINARY:
        classes = list(pipe.classes_)
        column = classes.index(positive_class(train[target]))
        prediction = pipe.predict_proba(test_features)[:, column]
    else:
        prediction = pipe.predict(test_features)
    return Result(score(task, test[target], prediction), fit_s)
