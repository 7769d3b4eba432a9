"""The typed content of ``model.json``: what save writes and what load accepts.

Loading is strict: every field must be present with its type, nothing unknown is allowed,
and the values must make sense (finite statistics, known task, positive spreads). A
hand-edited or hostile file is refused with the path of the first bad field instead of
failing somewhere later with a traceback or, worse, a silent wrong prediction.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from tabnet_cli.prep.targets import FLOAT32_MAX, label_key
from tabnet_cli.prep.types import Provenance, Schema
from tabnet_cli.settings.config import DataConfig, ModelConfig, TrainConfig
from tabnet_cli.settings.typed import SchemaError, build

FORMAT = "tabnet-run"
FORMAT_VERSION = 2
Task = Literal["regression", "binary", "multiclass"]
Label = str | int | float | bool
Scale = Literal["minmax", "standard", "robust", "none"]
FeatureScale = Literal["minmax", "standard", "robust", "none", "quantile"]


# A spread is a difference of distinct float64 values (or their deviation over at most
# 2**50 rows), so never below this share of the values around it: a smaller one is an edit.
RESOLUTION = 2.0**-80


def _finite(where: str, *values: float) -> None:
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{where} must be finite numbers")


def _in_range(where: str, *values: float) -> None:
    """Statistics of values the float32 model could take (training refuses larger ones)."""
    _finite(where, *values)
    if any(abs(v) > FLOAT32_MAX for v in values):
        raise ValueError(f"{where} must be within the float32 range (about {FLOAT32_MAX:.2g})")


def _check_spread(owner: str, spread: float, *around: float) -> None:
    """A positive spread, no wider than float32 values span and not finer than the
    resolution of the values ``around`` it (centre, median)."""
    if spread <= 0:
        raise ValueError(f"{owner} has a spread <= 0")
    if spread > 2 * FLOAT32_MAX:
        raise ValueError(f"{owner} has a spread beyond the float32 range")
    if spread < RESOLUTION * max(abs(v) for v in around):
        raise ValueError(
            f"{owner} has a spread of {spread!r}, below the resolution of the values it "
            f"scales (around {max(around, key=abs)!r})"
        )


def _unique_names(where: str, names: list[str]) -> None:
    """Column names as the model's inputs are named: non-empty and each once."""
    if any(not name.strip() for name in names):
        raise ValueError(f"{where} has an empty column name")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"{where} names column {repeated[0]!r} twice")


@dataclass(frozen=True)
class NumericColumn:
    """A numeric input: imputed with ``median``, scaled by ``(x - center) / spread``."""

    name: str
    median: float
    center: float
    spread: float
    indicator: bool
    quantiles: tuple[float, ...] | None = None  # --scale quantile (scaling.py)

    def __post_init__(self) -> None:
        _in_range(f"column {self.name!r} statistics", self.median, self.center, self.spread)
        _check_spread(f"column {self.name!r}", self.spread, self.center, self.median)
        if self.quantiles is not None:
            _in_range(f"column {self.name!r} quantiles", *self.quantiles)
            points = self.quantiles
            if len(points) < 2 or any(b < a for a, b in zip(points, points[1:], strict=False)):
                raise ValueError(f"column {self.name!r} needs 2 or more increasing quantiles")


@dataclass(frozen=True)
class CategoricalColumn:
    """A one-hot input over ``categories`` plus one slot for anything else."""

    name: str
    categories: tuple[str, ...]

    def __post_init__(self) -> None:
        repeated = sorted({c for c in self.categories if self.categories.count(c) > 1})
        if repeated:
            raise ValueError(f"column {self.name!r} lists category {repeated[0]!r} twice")


@dataclass(frozen=True)
class IgnoredColumn:
    name: str
    reason: str


@dataclass(frozen=True)
class FeatureState:
    """The fitted feature preprocessing (``prep.features.FeatureEncoder.state()``)."""

    scale: FeatureScale
    numeric: tuple[NumericColumn, ...]
    categorical: tuple[CategoricalColumn, ...]
    ignored: tuple[IgnoredColumn, ...]
    clip: Literal["none", "smooth"] = "none"
    ranks: bool = False  # --rank-inputs

    def __post_init__(self) -> None:
        quantile = self.scale == "quantile" or self.ranks
        if any((c.quantiles is not None) != quantile for c in self.numeric):
            raise ValueError(
                "numeric columns have quantiles exactly when the scale is quantile or "
                "ranks are inputs"
            )
        if self.ranks and self.scale == "quantile":
            raise ValueError("ranks are not inputs besides quantile scaling")
        columns = [*self.numeric, *self.categorical, *self.ignored]
        _unique_names("the preprocessing", [c.name for c in columns])

    @property
    def n_inputs(self) -> int:
        indicators = sum(c.indicator for c in self.numeric)
        numeric = len(self.numeric) * (2 if self.ranks else 1)
        return numeric + indicators + sum(len(c.categories) + 1 for c in self.categorical)


@dataclass(frozen=True)
class TargetState:
    """The fitted target encoding (``targets.TargetEncoder.state()``)."""

    task: Task
    scale: Scale
    center: float
    spread: float
    classes: tuple[Label, ...] | None
    baseline: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.task == "regression":
            _in_range("the target's centre and baseline", self.center, *self.baseline)
            _check_spread("the target", self.spread, self.center)
            return
        if (self.center, self.spread) != (0.0, 1.0):
            raise ValueError("a classifier's target has centre 0 and spread 1")
        classes = self.classes or ()
        if len(classes) < 2 or len(classes) != len(self.baseline):
            raise ValueError("a classifier needs two or more classes, one baseline frequency each")
        if self.task == "binary" and len(classes) != 2:
            raise ValueError("a binary classifier has two classes")
        _finite("the classes", *(c for c in classes if isinstance(c, float)))
        keys = [label_key(c) for c in classes]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise ValueError(f"the classes list {repeated[0]!r} twice")
        if not all(0.0 <= b <= 1.0 for b in self.baseline):
            raise ValueError("the baseline class frequencies must be in [0, 1]")


@dataclass(frozen=True)
class Preprocessing:
    features: FeatureState
    target: TargetState


@dataclass(frozen=True)
class Ensemble:
    """A bagged ensemble (``--folds K``): ``members`` networks of the run's architecture,
    member ``i`` trained on every fold but fold ``i``; tensors ``member{i}.<name>``. The
    prediction averages the members' probabilities (classification) or values."""

    members: int

    def __post_init__(self) -> None:
        if self.members < 2:
            raise ValueError("an ensemble has two or more members")


@dataclass(frozen=True)
class RunManifest:
    """Everything in ``model.json`` besides the weights.

    Example:
        >>> RunManifest.from_json({"format": "tabnet-run", "format_version": 2})
        Traceback (most recent call last):
        ...
        tabnet_cli.settings.typed.SchemaError: task: missing
    """

    task: Task
    target: str
    model: ModelConfig
    preprocessing: Preprocessing
    schema: Schema
    data_config: DataConfig
    train_config: TrainConfig
    data: Provenance
    versions: dict[str, str]
    created: str
    recipe: Literal["auto", "plain"] = "plain"  # runs from before recipes were plain
    explicit: tuple[str, ...] = ()  # the settings the user gave; the recipe chose the rest
    ensemble: Ensemble | None = None  # None: one network (every run before --folds)

    def __post_init__(self) -> None:
        if not self.target.strip():
            raise ValueError("the target column has no name")
        _unique_names("schema.input_columns", list(self.schema.input_columns))
        _unique_names("schema.columns", list(self.schema.columns))
        if self.preprocessing.features.n_inputs != self.model.n_inputs:
            raise ValueError("preprocessing and model disagree on the number of inputs")
        if self.preprocessing.target.task != self.task:
            raise ValueError("the target encoding is for another task")
        if self.train_config.loss == "auto":
            raise ValueError("train_config.loss must be resolved, not 'auto'")

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, **asdict(self)}

    @classmethod
    def from_json(cls, data: Any) -> RunManifest:
        """Checks format and version, then builds every field strictly."""

        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise SchemaError(f"is not a tabnet model description (format != {FORMAT!r})")
        version = data.get("format_version")
        if type(version) is not int or version not in (1, FORMAT_VERSION):
            raise SchemaError(
                f"has format version {version!r}; this tabnet reads versions 1 and "
                f"{FORMAT_VERSION}: use the tabnet release that wrote it"
            )
        body = {k: v for k, v in data.items() if k not in ("format", "format_version")}
        if version == 1:
            body = _upgrade_v1(body)
        return build(cls, body, "")


def _upgrade_v1(body: dict[str, Any]) -> dict[str, Any]:
    """tabnet 0.1 wrote the architecture flat in ``model``; it now has its own section."""
    model = body.get("model")
    if isinstance(model, dict) and "arch" not in model:
        arch_keys = ("layers", "activation", "dropout", "batchnorm")
        body = {
            **body,
            "model": {
                **{k: v for k, v in model.items() if k not in arch_keys},
                "arch": {k: model[k] for k in arch_keys if k in model},
            },
        }
    return body
