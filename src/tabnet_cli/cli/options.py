"""The options of ``tabnet train``, declared once each. Defaults are read from the config
dataclasses (the one source of defaults), and the values go back into them unchanged, so
every check lives in the configs and a config file gets the same ones."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import typer

from tabnet_cli.config import (
    ACTIVATIONS,
    DEVICES,
    LOSSES,
    OPTIMIZERS,
    SCALES,
    TASKS,
    ArchConfig,
    RunConfig,
)
from tabnet_cli.errors import TabnetError

MODEL, FIT, STOP, DATA = "Model", "Training", "Early stopping", "Data"
# Options that steer the command, not the run (they are not saved with the model).
COMMAND_ONLY = ("data", "out", "verbose", "plot")
NAME_LISTS = ("drop", "features", "categorical", "numeric", "na_values")


def parse_layers(text: str) -> tuple[int, ...]:
    """``"512,512,512"`` -> ``(512, 512, 512)``; ``""`` or ``"0"`` -> no hidden layer.

    Example:
        >>> parse_layers("64, 32")
        (64, 32)
    """
    if text.strip() in ("", "0"):
        return ()
    try:
        widths = tuple(int(part) for part in text.split(","))
    except ValueError:
        widths = ()
    if not widths or min(widths) < 1:
        raise TabnetError(
            f"--layers {text!r} is not a list of positive widths; write e.g. --layers 512,512,512"
        )
    return widths


def format_layers(widths: tuple[int, ...]) -> str:
    """The ``--layers`` spelling of widths.

    Example:
        >>> format_layers((256, 256)), format_layers(())
        ('256,256', '0')
    """
    return ",".join(map(str, widths)) or "0"


def split_names(text: str) -> tuple[str, ...]:
    """``"a, b,,c"`` -> ``("a", "b", "c")``.

    Example:
        >>> split_names("id, name")
        ('id', 'name')
    """
    return tuple(part.strip() for part in text.split(",") if part.strip())


def run_config(options: dict[str, Any]) -> RunConfig:
    """The run's configs from the command's option values (text lists parsed).

    Example:
        >>> run_config({"target": "y", "layers": "8", "drop": "id"}).arch.layers
        (8,)
    """
    values = {k: v for k, v in options.items() if k not in COMMAND_ONLY}
    if "layers" in values:
        values["layers"] = parse_layers(values["layers"])
    for name in NAME_LISTS:
        if name in values:
            values[name] = split_names(values[name])
    return RunConfig.from_options(values)


def _option(help_text: str, panel: str | None, metavar: str, *names: str, **extra) -> Any:
    # an explicit metavar: Typer would show <str>, <int range>... in the help otherwise
    return typer.Option(*names, help=help_text, rich_help_panel=panel, metavar=metavar, **extra)


def _flag(help_text: str, panel: str | None, *names: str) -> Any:
    return typer.Option(*names, help=help_text, rich_help_panel=panel)


def choices(names: tuple[str, ...]) -> str:
    """The help's spelling of a choice, as Click writes it.

    Example:
        >>> choices(("cpu", "cuda"))
        '[cpu|cuda]'
    """
    return "[" + "|".join(names) + "]"


# Typer turns Literal types into choices; the names live once, in config.py.
Target = Annotated[str, _option("Column to predict.", None, "COL", "--target", "-t")]
Layers = Annotated[
    str, _option("Hidden layer widths, e.g. 512,512,512; 0 for none.", MODEL, "WIDTHS")
]
Activation = Annotated[
    Literal[ACTIVATIONS],  # type: ignore[valid-type]
    _option("Hidden activation.", MODEL, choices(ACTIVATIONS)),
]
Dropout = Annotated[float, _option("Dropout rate after each hidden layer.", MODEL, "RATE")]
BatchNorm = Annotated[bool, _flag("BatchNorm after each hidden Dense.", MODEL, "--batchnorm")]
Loss = Annotated[
    Literal[LOSSES],  # type: ignore[valid-type]
    _option(
        "auto: mae (regression), bce (binary), crossentropy (multiclass).", FIT, choices(LOSSES)
    ),
]
HuberDelta = Annotated[
    float, _option("Huber loss threshold, in scaled target units.", FIT, "DELTA")
]
Optimizer = Annotated[Literal[OPTIMIZERS], _option("Optimizer.", FIT, choices(OPTIMIZERS))]  # type: ignore[valid-type]
LearningRate = Annotated[float, _option("Learning rate.", FIT, "LR")]
WeightDecay = Annotated[float, _option("L2 penalty (decoupled for adamw).", FIT, "DECAY")]
Momentum = Annotated[float, _option("SGD momentum.", FIT, "MOMENTUM")]
BatchSize = Annotated[int, _option("Rows per step.", FIT, "ROWS")]
Epochs = Annotated[int, _option("Maximum epochs.", FIT, "N")]
Patience = Annotated[
    int,
    _option("Epochs without improvement before stopping; 0 = never stop early.", STOP, "EPOCHS"),
]
MinDelta = Annotated[float, _option("Smallest change of --monitor that counts.", STOP, "DELTA")]
Monitor = Annotated[
    str, _option("Quantity to watch: val_loss, val_mae, val_accuracy...", STOP, "METRIC")
]
RestoreBest = Annotated[bool, _flag("Keep the weights of the best epoch, not the last.", STOP)]
ValidationSplit = Annotated[
    float,
    _option("Fraction held out; the rest is df.sample(frac=1-F, random_state=SEED).", DATA, "F"),
]
ValidationData = Annotated[
    str | None, _option("Separate validation file (replaces --validation-split).", DATA, "FILE")
]
Scale = Annotated[
    Literal[SCALES],  # type: ignore[valid-type]
    _option("Feature scaling, fitted on training rows.", DATA, choices(SCALES)),
]
TargetScale = Annotated[
    Literal[SCALES],  # type: ignore[valid-type]
    _option("Regression target scaling; loss is reported in these units.", DATA, choices(SCALES)),
]
Task = Annotated[
    Literal[TASKS],  # type: ignore[valid-type]
    _option("What to predict; auto decides from the target.", DATA, choices(TASKS)),
]
Drop = Annotated[str, _option("Comma-separated columns to leave out.", DATA, "COLS")]
Features = Annotated[str, _option("Use only these columns as features.", DATA, "COLS")]
Categorical = Annotated[str, _option("Columns to treat as categories.", DATA, "COLS")]
Numeric = Annotated[str, _option("Columns to treat as numbers.", DATA, "COLS")]
NaValues = Annotated[str, _option("Extra missing-value markers, e.g. -,n.a.", DATA, "MARKERS")]
Seed = Annotated[int, _option("Seed for the split, initial weights and batches.", None, "SEED")]
Device = Annotated[
    Literal[DEVICES],  # type: ignore[valid-type]
    _option("auto uses CUDA when available.", None, choices(DEVICES)),
]

DEFAULT_LAYERS = format_layers(ArchConfig.layers)
