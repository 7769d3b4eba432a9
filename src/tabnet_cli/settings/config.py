"""Typed, frozen configuration: the one source of every default and every check.

The CLI takes its option defaults from these classes, a saved ``model.json`` is rebuilt
into them, and each validates itself on construction, so an option, a config file and a
manifest get the same checks and the same one-line messages (nanoGPT's ``GPTConfig``
idea: no globals, the config travels with the model).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from tabnet_cli.errors import TabnetError
from tabnet_cli.io.read_options import ReadOptions

ACTIVATIONS = (
    "relu",
    "tanh",
    "sigmoid",
    "gelu",
    "elu",
    "selu",
    "leaky_relu",
    "silu",
    "mish",
    "linear",
)
LOSSES = ("auto", "mae", "mse", "huber", "bce", "crossentropy")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCALES = ("minmax", "standard", "robust", "none")  # of the target
FEATURE_SCALES = (*SCALES, "quantile")
CLIPS = ("none", "smooth")
TASKS = ("auto", "regression", "binary", "multiclass")
DEVICES = ("auto", "cpu", "cuda")
# a step's arithmetic: float32, or bfloat16 matrix products (auto: where they pay)
PRECISIONS = ("auto", "float32", "bfloat16")
SCHEDULES = ("constant", "cosine")
MAX_SEED = 2**32 - 1  # NumPy's and pandas' random_state take seeds below 2**32
EMBEDDINGS = ("none", "periodic")
# how dropout draws its masks: torch.nn.Dropout's Bernoulli draws, or 16 random bits per
# unit (3-5x faster on CPU: nn/layers.py, BitsDropout)
DROPOUT_SAMPLERS = ("torch", "bits")
# submodels of an efficient ensemble (--submodels): each costs about one network's work
MAX_SUBMODELS = 64
MAX_WIDTH = 65536  # a Dense layer of 65536 x 65536 float32 weights is already 16 GiB
# far beyond any training, and within the 64-bit integers config.toml and model.json hold
MAX_EPOCHS = 1_000_000
MAX_BATCH = 2**31 - 1


NONE, BALANCED = "none", "balanced"  # --class-weight without label=weight pairs


class ConfigError(TabnetError, ValueError):
    """A setting out of range or not among its choices, named as its command-line option."""


def option(name: str) -> str:
    """The command-line spelling of a config field.

    Example:
        >>> option("min_delta")
        '--min-delta'
    """
    return "--" + name.replace("_", "-")


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{option(name)} {value!r} is not one of: {', '.join(choices)}")


def check_range(name: str, value: float, low: float, high: float, closed: str = "") -> None:
    """Raises unless ``low < value < high``; ``closed`` may hold "low" and/or "high" to
    include an end. NaN is always out of range.

    Example:
        >>> check_range("dropout", float("nan"), 0, 1, closed="low")
        Traceback (most recent call last):
        ...
        tabnet_cli.settings.config.ConfigError: --dropout must be in [0, 1), got nan
    """
    above = value >= low if "low" in closed else value > low
    below = value <= high if "high" in closed else value < high
    if not (above and below) or math.isnan(value):
        left, right = "[" if "low" in closed else "(", "]" if "high" in closed else ")"
        shown = "inf" if high == math.inf else high
        raise ConfigError(f"{option(name)} must be in {left}{low}, {shown}{right}, got {value}")


class _Config:
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str | None = None):
        """Builds the config from a dict, strictly: unknown fields, wrong types and bad
        values are refused (``typed.SchemaError``).

        Example:
            >>> ArchConfig.from_dict({"layers": [64, 32]}).layers
            (64, 32)
        """
        from tabnet_cli.settings.typed import build  # not at start-up: tabnet --help stays light

        return build(cls, data, where or cls.__name__)


@dataclass(frozen=True)
class ArchConfig(_Config):
    """The network: an optional learnable per-input scale, Dense layers of ``layers``
    widths, each followed by optional batch normalization, the activation and optional
    dropout, then the output layer.

    Example:
        >>> ArchConfig(layers=(512, 512, 512)).activation
        'relu'
    """

    layers: tuple[int, ...] = (256, 256)
    activation: str = "relu"
    dropout: float = 0.0
    dropout_sampler: str = "torch"  # "bits": masks from 16 random bits per unit (faster)
    batchnorm: bool = False
    feature_scale: bool = False  # a learnable scale per input before the first layer
    zero_init_last: bool = False  # the output layer starts at zero (RealMLP, TabM)
    embedding: str = "none"  # "periodic": each input becomes 4 learned periodic features
    # K > 1: K networks trained at once as one batched network (TabM's efficient ensemble,
    # nn/submodels.py); their predictions are averaged
    submodels: int = 1

    def __post_init__(self) -> None:
        if any(width < 1 for width in self.layers):
            raise ConfigError(f"--layers must be positive widths, got {self.layers}")
        if any(width > MAX_WIDTH for width in self.layers):
            raise ConfigError(f"--layers widths above {MAX_WIDTH} are not supported")
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("embedding", self.embedding, EMBEDDINGS)
        check_choice("dropout_sampler", self.dropout_sampler, DROPOUT_SAMPLERS)
        check_range("dropout", self.dropout, 0.0, 1.0, closed="low")
        check_range("submodels", self.submodels, 1, MAX_SUBMODELS, closed="low high")


@dataclass(frozen=True)
class ModelConfig(_Config):
    """Everything that shapes the saved network: input and output widths and the stack.

    Example:
        >>> ModelConfig(n_inputs=11, n_outputs=1, arch=ArchConfig(layers=(4,))).arch.layers
        (4,)
    """

    n_inputs: int
    n_outputs: int
    arch: ArchConfig = field(default_factory=ArchConfig)

    def __post_init__(self) -> None:
        if self.n_inputs < 1 or self.n_outputs < 1:
            shape = f"{self.n_inputs} inputs, {self.n_outputs} outputs"
            raise ConfigError(f"a model needs inputs and outputs, not {shape}")


def parse_class_weight(spec: str) -> dict[str, float] | str:
    """``"none"``, ``"balanced"`` or label -> weight; raises ``ValueError`` when malformed.

    Example:
        >>> parse_class_weight("good=3, bad=1")
        {'good': 3.0, 'bad': 1.0}
        >>> parse_class_weight("good=-1")
        Traceback (most recent call last):
        ...
        ValueError: weight of 'good' must be a positive number, got '-1'
        >>> parse_class_weight("good=3,good=4")
        Traceback (most recent call last):
        ...
        ValueError: label 'good' is given twice; give each label one weight
    """
    text = spec.strip()
    if text in (NONE, BALANCED):
        return text
    weights: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        label, equals, value = part.rpartition("=")
        if not equals or not label.strip():
            raise ValueError(f"write balanced, none or LABEL=WEIGHT pairs, got {part!r}")
        try:
            weight = float(value)
        except ValueError:
            weight = math.nan
        name = label.strip()
        if not (math.isfinite(weight) and weight > 0):
            raise ValueError(f"weight of {name!r} must be a positive number, got {value!r}")
        if name in weights:
            raise ValueError(f"label {name!r} is given twice; give each label one weight")
        weights[name] = weight
    if not weights:
        raise ValueError("write balanced, none or LABEL=WEIGHT pairs")
    return weights


@dataclass(frozen=True)
class TrainConfig(_Config):
    """How to fit: loss, optimizer, batches, early stopping, seed and device. ``loss``
    ``auto`` is resolved from the task before training; runs store the resolved one.

    Example:
        >>> TrainConfig().monitor
        'val_loss'
    """

    loss: str = "auto"
    huber_delta: float = 1.0
    optimizer: str = "adam"
    lr: float = 1e-3
    schedule: str = "constant"  # cosine: from lr down to 0 over the epochs, after warm-up
    warmup: float = 0.0  # share of all steps spent raising the learning rate from 0
    weight_decay: float = 0.0
    momentum: float = 0.9
    beta2: float = 0.999  # Adam's second-moment decay; 0.95 adapts faster (RealMLP)
    label_smoothing: float = 0.0
    class_weight: str = "none"  # balanced, or label=weight pairs (class_weights.py)
    batch_size: int = 64
    epochs: int = 200
    patience: int = 20
    min_delta: float = 0.0
    monitor: str = "val_loss"
    restore_best_weights: bool = True
    ema: float = 0.0  # decay of the weights' moving average per step; 0 = none
    seed: int = 0
    device: str = "auto"
    precision: str = "float32"  # auto: bfloat16 products where the hardware pays (precision.py)
    threads: int = 0  # CPU threads per step; 0 = from the step's work and the free cores

    def __post_init__(self) -> None:
        check_choice("loss", self.loss, LOSSES)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("device", self.device, DEVICES)
        check_choice("precision", self.precision, PRECISIONS)
        check_choice("schedule", self.schedule, SCHEDULES)
        check_range("warmup", self.warmup, 0.0, 1.0, closed="low")
        check_range("beta2", self.beta2, 0.0, 1.0)
        check_range("label_smoothing", self.label_smoothing, 0.0, 1.0, closed="low")
        check_range("huber_delta", self.huber_delta, 0.0, math.inf)
        check_range("lr", self.lr, 0.0, math.inf)
        check_range("weight_decay", self.weight_decay, 0.0, math.inf, closed="low")
        check_range("momentum", self.momentum, 0.0, 1.0, closed="low")
        check_range("min_delta", self.min_delta, 0.0, math.inf, closed="low")
        check_range("ema", self.ema, 0.0, 1.0, closed="low")
        check_range("batch_size", self.batch_size, 1, MAX_BATCH, closed="low high")
        check_range("epochs", self.epochs, 1, MAX_EPOCHS, closed="low high")
        check_range("patience", self.patience, 0, MAX_EPOCHS, closed="low high")
        check_range("seed", self.seed, 0, MAX_SEED, closed="low high")
        check_range("threads", self.threads, 0, 4096, closed="low high")
        try:
            parse_class_weight(self.class_weight)
        except ValueError as exc:
            raise ConfigError(f"--class-weight {self.class_weight!r}: {exc}") from None


@dataclass(frozen=True)
class DataConfig(_Config):
    """Which columns, how they are read, split and scaled.

    Example:
        >>> DataConfig(target="quality").validation_split
        0.2
    """

    target: str
    task: str = "auto"
    scale: str = "standard"
    clip: str = "none"
    rank_inputs: bool = False  # each numeric column's quantile score as a second input
    target_scale: str = "standard"
    validation_split: float = 0.2
    validation_data: str | None = None
    folds: int = 1  # K >= 2: a bagged ensemble of K members, each validated on its fold
    drop: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()
    # how files are read (io.read_options.ReadOptions), for training and predict alike
    na_values: tuple[str, ...] = ReadOptions.na_values
    default_na: bool = ReadOptions.default_na
    header: bool = ReadOptions.header
    names: tuple[str, ...] = ReadOptions.names
    encoding: str = ReadOptions.encoding
    decimal: str = ReadOptions.decimal
    # above this, training streams the data instead of holding it (prep/streamed.py)
    memory_budget: str = "auto"

    def __post_init__(self) -> None:
        if not self.target.strip():
            raise ConfigError("--target must name a column")
        if self.memory_budget != "auto":
            # not at start-up: tabnet --help stays light
            from tabnet_cli.system.memory import parse_size

            try:
                parse_size(self.memory_budget)
            except ValueError as exc:
                raise ConfigError(f"--memory-budget {exc}") from None
        self.read_options()  # the reading options check themselves
        check_choice("task", self.task, TASKS)
        check_choice("scale", self.scale, FEATURE_SCALES)
        check_choice("clip", self.clip, CLIPS)
        if self.rank_inputs and self.scale == "quantile":
            raise ConfigError(
                "--rank-inputs with --scale quantile would give each column's rank twice; "
                "use one of them"
            )
        check_choice("target_scale", self.target_scale, SCALES)
        check_range("validation_split", self.validation_split, 0.0, 1.0)
        check_range("folds", self.folds, 1, math.inf, closed="low")
        if self.folds > 1 and self.validation_data:
            raise ConfigError("--folds validates each member on its fold: drop --validation-data")

    def read_options(self):
        """The ``ReadOptions`` for files of this run.

        Example:
            >>> DataConfig(target="y", header=False).read_options().header
            False
        """
        return ReadOptions(
            na_values=self.na_values,
            default_na=self.default_na,
            header=self.header,
            names=self.names,
            encoding=self.encoding,
            decimal=self.decimal,
            # class labels as written: "007" stays "007" (not 7) when the task says labels
            text=(self.target,) if self.task == "multiclass" else (),
        )


@dataclass(frozen=True)
class RunConfig(_Config):
    """Every setting of a training run, in three sections, with the recipe that fills
    the settings not listed in ``explicit`` (see ``recipes.py``).

    Example:
        >>> config = RunConfig.from_options({"target": "y", "lr": 0.01, "layers": (8,)})
        >>> config.train.lr, config.explicit
        (0.01, ('layers', 'lr', 'target'))
    """

    data: DataConfig
    arch: ArchConfig = field(default_factory=ArchConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    recipe: str = "auto"
    explicit: tuple[str, ...] = ()  # settings the user gave, which the recipe leaves alone

    @classmethod
    def from_options(
        cls, options: dict[str, Any], recipe: str = "auto", explicit: tuple[str, ...] | None = None
    ) -> RunConfig:
        """Distributes flat option values (``lr``, ``layers``...) to their sections;
        ``explicit`` defaults to every option given. A name that belongs to no section is
        a bug in the caller."""
        sections = {"data": DataConfig, "arch": ArchConfig, "train": TrainConfig}
        names = {key: {f.name for f in fields(kind)} for key, kind in sections.items()}
        unknown = set(options) - set().union(*names.values())
        if unknown:
            raise TypeError(f"not a run setting: {', '.join(sorted(unknown))}")
        built = {
            key: kind(**{k: v for k, v in options.items() if k in names[key]})
            for key, kind in sections.items()
        }
        given = sorted(options) if explicit is None else sorted(explicit)
        return cls(**built, recipe=recipe, explicit=tuple(given))
