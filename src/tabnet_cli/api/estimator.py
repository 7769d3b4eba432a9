"""``TabnetClassifier`` and ``TabnetRegressor``: scikit-learn estimators over the same
stages as ``tabnet train``.

``fit`` writes the rows to a temporary parquet file and runs the train job on it (the
recipe, bagging, checks and messages are the command's, not a copy of them); the fitted
estimator keeps the run directory's files and predicts with the NumPy forward pass, as
``tabnet predict`` does. ``save`` writes those files as a normal run directory, and
``tabnet_cli.load`` reads any run directory back as a fitted estimator: no pickle.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from tabnet_cli.api import parameters
from tabnet_cli.api.frames import feature_frame, fit_checked, training_frame
from tabnet_cli.errors import TabnetError
from tabnet_cli.io.outputs import write_new_file
from tabnet_cli.jobs.train import train_run
from tabnet_cli.prep.targets import label_key
from tabnet_cli.run.run_dir import load_run, write_run_files
from tabnet_cli.score.inference import model_outputs, non_finite_rows
from tabnet_cli.settings.config import RunConfig


class TabnetEstimator(BaseEstimator):
    """What both estimators share: parameters from the configs, fit by the train job."""

    _regression = False

    def __init__(self, **params: Any):
        unknown = sorted(set(params) - set(parameters.defaults(self._regression)))
        if unknown:
            raise TypeError(f"{type(self).__name__} got unknown parameter(s): {unknown}")
        for name, default in parameters.defaults(self._regression).items():
            setattr(self, name, params.get(name, default))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)

        def __init__(self, **params: Any) -> None:  # noqa: N807 (a copy with its own signature)
            TabnetEstimator.__init__(self, **params)

        __init__.__signature__ = parameters.signature(cls._regression)  # type: ignore[attr-defined]
        cls.__init__ = __init__  # type: ignore[method-assign]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # a missing value is imputed, as in a CSV
        tags.input_tags.string = True  # text columns become categories
        tags.non_deterministic = False
        return tags

    def fit(self, X, y):
        """Trains on ``X`` (DataFrame or array) and ``y``; returns ``self``."""

        X = fit_checked(self, X)
        frame, target = training_frame(X, self._target_values(y))
        config = parameters.run_config(
            self.get_params(), target, self._task(frame[target]), self._regression
        )
        with tempfile.TemporaryDirectory(prefix="tabnet-fit-") as folder:
            data, run_dir = Path(folder) / "rows.parquet", Path(folder) / "run"
            write_new_file(data, frame.to_parquet(None, index=False))  # bytes
            try:
                train_run(str(data), config, run_dir)
            except TabnetError as exc:
                raise ValueError(str(exc)) from None
            self._set_fitted(load_run(run_dir), _files(run_dir))
        return self

    def _set_fitted(self, run, files: dict[str, bytes]) -> None:
        self.run_ = run
        self.run_files_ = files
        self.history_ = _history(files["history.csv"])

    def _target_values(self, y) -> np.ndarray:
        return column_or_1d(y, warn=True)

    def _task(self, target) -> str:
        return "regression"

    def _outputs(self, X) -> np.ndarray:
        """The networks' raw outputs for ``X``, checked against what ``fit`` saw."""
        check_is_fitted(self, "run_")
        frame = feature_frame(X, self)
        try:
            x, _ = self.run_.features.transform(frame)
        except TabnetError as exc:  # values beyond what the saved scaling can take
            raise ValueError(str(exc)) from None
        raw = model_outputs(self.run_, x)
        bad = non_finite_rows(raw)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"the model's output is NaN or infinite for {int(bad.sum())} row(s) of X "
                f"(first: row {first}): the rows or the weights hold extreme values"
            )
        return raw

    def __getstate__(self) -> dict[str, Any]:
        """Parameters and the run directory's bytes: what ``joblib`` and ``n_jobs`` copy.
        The NumPy model is rebuilt from those bytes, through the same checked loading as a
        run directory (never from pickled objects)."""
        state = dict(super().__getstate__())  # a copy: object's own is the live __dict__
        state.pop("run_", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        if "run_files_" in state:
            self.run_ = _run_from_files(state["run_files_"])

    def save(self, path: str | Path) -> Path:
        """Writes the fitted run as a run directory that every ``tabnet`` command reads.

        Example:
            >>> TabnetRegressor().fit(X, y).save("runs/from-python")  # doctest: +SKIP
        """

        check_is_fitted(self, "run_")
        return write_run_files(Path(path), self.run_files_)


class TabnetRegressor(RegressorMixin, TabnetEstimator):
    """tabnet's regression network as a scikit-learn regressor.

    Example:
        >>> from sklearn.datasets import load_diabetes
        >>> X, y = load_diabetes(return_X_y=True, as_frame=True)
        >>> model = TabnetRegressor(epochs=5).fit(X, y)  # doctest: +SKIP
        >>> model.predict(X.head(2)).shape  # doctest: +SKIP
        (2,)
    """

    _regression = True

    def _target_values(self, y) -> np.ndarray:
        values = column_or_1d(y, warn=True)
        try:
            return values.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError("a regression target must be numbers") from None

    def predict(self, X) -> np.ndarray:
        """Predicted values in the target's units."""
        raw = self._outputs(X)
        return self.run_.target.decode(raw)


class TabnetClassifier(ClassifierMixin, TabnetEstimator):
    """tabnet's classification network (binary or multiclass) as a scikit-learn classifier.

    Example:
        >>> from sklearn.datasets import load_breast_cancer
        >>> X, y = load_breast_cancer(return_X_y=True)
        >>> TabnetClassifier(epochs=5).fit(X, y).predict_proba(X[:1]).shape  # doctest: +SKIP
        (1, 2)
    """

    def _target_values(self, y) -> np.ndarray:
        values = column_or_1d(y, warn=True)
        check_classification_targets(values)
        self.classes_ = np.unique(values)
        if len(self.classes_) < 2:
            raise ValueError(
                f"a classifier needs samples of at least 2 classes; y holds 1 class "
                f"({self.classes_[0]!r})"
            )
        return values

    def _task(self, target) -> str:
        return "binary" if len(self.classes_) == 2 else "multiclass"

    def _set_fitted(self, run, files: dict[str, bytes]) -> None:
        super()._set_fitted(run, files)

        if not hasattr(self, "classes_"):  # loaded from a run directory
            self.classes_ = np.asarray(run.target.classes_)
        column = {label_key(label): i for i, label in enumerate(run.target.classes_)}
        # the network's class columns, in the order of ``classes_``
        self.class_columns_ = np.array([column[label_key(c)] for c in self.classes_])

    def predict_proba(self, X) -> np.ndarray:
        """One column per class of ``classes_``; rows sum to 1."""
        raw = self._outputs(X)
        return self.run_.target.probabilities(raw)[:, self.class_columns_]

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row."""
        best = self.predict_proba(X).argmax(axis=1)
        return self.classes_[best]


def load(path: str | Path) -> TabnetEstimator:
    """A fitted estimator from any run directory (trained by ``tabnet train`` or ``save``).

    Example:
        >>> model = load("runs/red-wine")  # doctest: +SKIP
        >>> model.predict(new_rows)  # doctest: +SKIP
    """

    run = load_run(path)
    manifest = run.manifest
    regression = manifest.task == "regression"
    config = RunConfig(manifest.data_config, manifest.model.arch, manifest.train_config,
                       recipe=manifest.recipe, explicit=manifest.explicit)  # fmt: skip
    kind = TabnetRegressor if regression else TabnetClassifier
    estimator = kind(**parameters.from_run(config, regression))
    estimator._set_fitted(run, _files(Path(path)))
    estimator.n_features_in_ = len(manifest.schema.input_columns)
    estimator.feature_names_in_ = np.asarray(manifest.schema.input_columns, dtype=object)
    return estimator


def _run_from_files(files: dict[str, bytes]):

    with tempfile.TemporaryDirectory(prefix="tabnet-load-") as folder:
        for name, data in files.items():
            write_new_file(Path(folder) / name, data)
        return load_run(folder)


def _files(run_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(run_dir.iterdir()) if p.is_file()}


def _history(text: bytes) -> dict[str, list[float]]:
    """``history.csv`` as Keras' ``History.history``: each column's values by epoch."""

    rows = list(csv.DictReader(io.StringIO(text.decode())))
    names = [name for name in (rows[0] if rows else {}) if name != "epoch"]
    return {name: [float(row[name]) for row in rows] for name in names}
