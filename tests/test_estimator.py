"""``TabnetClassifier`` / ``TabnetRegressor``: scikit-learn's own estimator checks, the
pipeline tools, and run directories shared with the CLI both ways."""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from tabnet_cli import TabnetClassifier, TabnetRegressor, load
from tabnet_cli.settings.config import ConfigError

# small and quick, yet enough for scikit-learn's accuracy checks (no check is skipped)
FAST = {"recipe": "plain", "layers": (16,), "epochs": 12, "lr": 0.03, "patience": 0,
        "batch_size": 64}  # fmt: skip


@parametrize_with_checks([TabnetClassifier(**FAST), TabnetRegressor(**FAST)])
def test_scikit_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


def test_parameters_are_the_train_options_with_their_defaults():
    params = TabnetRegressor().get_params()
    assert params["layers"] == (256, 256) and params["lr"] == 0.001 and params["recipe"] == "auto"
    assert {"target_scale", "class_weight", "ema", "embedding"} <= set(params)
    assert "target_scale" not in TabnetClassifier().get_params()
    assert not {"target", "encoding", "memory_budget", "validation_data"} & set(params)
    with pytest.raises(ValueError, match="--dropout must be in"):
        TabnetRegressor(dropout=1.5).fit(np.eye(4), np.arange(4.0))
    assert issubclass(ConfigError, ValueError)


@pytest.fixture
def mixed():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200),
                          "colour": rng.choice(["red", "green", "blue"], size=200)})  # fmt: skip
    frame.loc[::17, "a"] = np.nan
    y = np.where(frame["b"] + (frame["colour"] == "red") > 0.5, "yes", "no")
    return frame, y


def test_dataframes_with_text_and_missing_values(mixed):
    frame, y = mixed
    model = TabnetClassifier(**{**FAST, "epochs": 30}).fit(frame, y)
    assert list(model.classes_) == ["no", "yes"] and model.n_features_in_ == 3
    assert list(model.feature_names_in_) == ["a", "b", "colour"]
    assert model.score(frame, y) > 0.8
    assert set(model.history_) >= {"loss", "val_loss", "accuracy", "val_accuracy"}
    assert len(model.history_["loss"]) == 30
    probabilities = model.predict_proba(frame.head(5))
    assert probabilities.shape == (5, 2) and np.allclose(probabilities.sum(axis=1), 1)


def test_pipeline_cross_val_score_and_grid_search(mixed):
    frame, y = mixed
    columns = ColumnTransformer([("num", StandardScaler(), ["a", "b"]),
                                 ("cat", OneHotEncoder(), ["colour"])])  # fmt: skip
    frame = frame.fillna(0.0)
    pipeline = Pipeline([("columns", columns), ("net", TabnetClassifier(**FAST))])
    scores = cross_val_score(pipeline, frame, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.6
    search = GridSearchCV(TabnetClassifier(**FAST), {"layers": [(8,), [16, 16]]}, cv=2)
    search.fit(frame, y)
    assert search.best_params_["layers"] in ((8,), [16, 16])


def test_save_then_tabnet_predict_gives_the_same_predictions(cli, mixed, tmp_path):
    frame, y = mixed
    model = TabnetClassifier(**FAST).fit(frame, y)
    run = model.save(tmp_path / "run")
    frame.to_csv(tmp_path / "rows.csv", index=False)
    result = cli("predict", run, tmp_path / "rows.csv", "--proba")
    assert result.exit_code == 0, result.stderr
    predicted = pd.read_csv(io.StringIO(result.stdout))
    assert predicted["target"].tolist() == model.predict(frame).tolist()
    assert predicted[["no", "yes"]].to_numpy() == pytest.approx(model.predict_proba(frame))
    with pytest.raises(Exception, match="already exists"):
        model.save(run)


def test_tabnet_train_then_load_gives_the_same_predictions(cli, binary_csv, tmp_path):
    run = cli.train(binary_csv, "label", tmp_path / "run", "--layers 8 --epochs 2")
    model = load(run)
    assert isinstance(model, TabnetClassifier) and list(model.classes_) == ["bad", "good"]
    assert model.get_params()["layers"] == (8,) and model.get_params()["recipe"] == "plain"
    rows = pd.read_csv(binary_csv).drop(columns="label")
    result = cli("predict", run, binary_csv)
    expected = pd.read_csv(io.StringIO(result.stdout))["label"].tolist()
    assert model.predict(rows).tolist() == expected


def test_a_fitted_estimator_survives_pickling_through_its_run_files():
    X, y = np.random.default_rng(1).normal(size=(60, 3)), np.arange(60.0)
    model = TabnetRegressor(**FAST).fit(X, y)
    copy = pickle.loads(pickle.dumps(model))
    assert "run_" not in model.__getstate__() and np.array_equal(copy.predict(X), model.predict(X))


def test_extreme_rows_are_a_value_error():
    X, y = np.random.default_rng(1).normal(size=(60, 3)), np.arange(60.0)
    model = TabnetRegressor(**FAST).fit(X, y)
    with pytest.raises(ValueError):
        model.predict(np.full((2, 3), 1e308))


def test_importing_the_package_stays_light():
    code = (
        "import sys, tabnet_cli; print(sorted({'torch', 'sklearn', 'pandas'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
