"""The options of ``tabnet train``, declared once each. Defaults are read from the config
dataclasses (the one source of defaults), and the values go back into them unchanged, so
every check lives in the configs and a config file gets the same ones."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from tabnet_cli.errors import TabnetError
from tabnet_cli.settings.config import (
    ACTIVATIONS,
    CLIPS,
    DEVICES,
    DROPOUT_SAMPLERS,
    EMBEDDINGS,
    FEATURE_SCALES,
    LOSSES,
    OPTIMIZERS,
    PRECISIONS,
    SCALES,
    SCHEDULES,
    TASKS,
    ArchConfig,
    RunConfig,
)
from tabnet_cli.settings.recipes import RECIPES

MODEL, FIT, STOP, DATA = "Model", "Training", "Early stopping", "Data"
# Options that steer the command, not the run (they are not saved with the model).
COMMAND_ONLY = (
    "ctx", "data", "out", "verbose", "plot", "recipe", "nproc", "log_format", "config",
)  # fmt: skip
NAME_LISTS = ("drop", "features", "categorical", "numeric", "na_values", "names")


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


def run_config(options: dict[str, Any], ctx: typer.Context | None = None) -> RunConfig:
    """The run's configs from the command's option values (text lists parsed); the
    options the user typed are ``explicit``: the recipe leaves them alone. With
    ``config`` (a ``--config`` file), the file's settings count as typed too, and the
    options on the command line override them.

    Example:
        >>> config = run_config({"target": "y", "layers": "8", "drop": "id", "recipe": "plain"})
        >>> config.arch.layers, config.recipe
        ((8,), 'plain')
    """
    return _merged(options, ctx)[1]


def command_config(options: dict[str, Any], ctx: typer.Context | None = None):
    """``(training file, RunConfig)`` of a command, the file's settings merged in."""
    source, config = _merged(options, ctx, need_source=True)
    return str(source), config


def _merged(
    options: dict[str, Any], ctx: typer.Context | None, need_source: bool = False
) -> tuple[str | None, RunConfig]:
    values = {k: v for k, v in options.items() if k not in COMMAND_ONLY and v is not None}
    if "layers" in values:
        values["layers"] = parse_layers(values["layers"])
    for name in NAME_LISTS:
        if name in values:
            values[name] = split_names(values[name])
    typed = set(values) if ctx is None else {n for n in values if typed_option(ctx, n)}
    recipe, source = options.get("recipe", RunConfig.recipe), options.get("data")
    if options.get("config"):
        # not at start-up: tabnet --help stays light
        from tabnet_cli.settings.config_file import read_config

        settings = read_config(options["config"], values.get("target"))
        values = {**settings.values, **{k: v for k, v in values.items() if k in typed}}
        typed |= set(settings.values)
        if settings.recipe and not (ctx is not None and typed_option(ctx, "recipe")):
            recipe = settings.recipe
        source = source or settings.source
    if need_source and not source:
        raise TabnetError("Missing argument 'DATA' (or a --config file that names its source)")
    if "target" not in values:
        raise TabnetError("Missing option '--target' (or a --config file that sets it)")
    return source, RunConfig.from_options(values, recipe=recipe, explicit=tuple(typed))


def with_options_of(template: Callable, drop: tuple[str, ...] = ()) -> Callable:
    """Gives a command the parameters of ``template`` (``train``) besides its own, so
    ``cv`` and ``tune`` take every train option without declaring them again. The
    command receives the template's values as ``**options``; its own parameters win
    over the template's of the same name, and ``drop`` leaves some out.

    Example:
        >>> def template(lr: float = 0.1, plot: bool = False): ...
        >>> @with_options_of(template, drop=("plot",))
        ... def command(folds: int = 5, **options): return folds, options
        >>> list(inspect.signature(command).parameters), command(folds=3, lr=0.2)
        (['folds', 'lr'], (3, {'lr': 0.2}))
    """

    def decorate(command: Callable) -> Callable:
        own = [
            p
            for p in inspect.signature(command, eval_str=True).parameters.values()
            if p.kind is not inspect.Parameter.VAR_KEYWORD
        ]
        taken = {p.name for p in own} | set(drop)
        shared = inspect.signature(template, eval_str=True).parameters.values()
        # keyword-only: Typer passes every value by name, and keyword-only parameters
        # may mix those with and without defaults in any order
        params = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in [*own, *(p for p in shared if p.name not in taken)]
        ]

        @functools.wraps(command)
        def wrapper(**values: Any) -> Any:
            return command(**values)

        wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return wrapper

    return decorate


def typed_option(ctx: typer.Context, name: str) -> bool:
    """Whether the user gave option ``name`` (on the command line or by environment)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


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


def _choice(values: tuple[str, ...], help_text: str, panel: str | None = None) -> Any:
    """An option whose value is one of ``values`` (Typer checks it)."""
    return Annotated[Literal[values], _option(help_text, panel, choices(values))]  # type: ignore[valid-type]


# Typer turns Literal types into choices; the names live once, in config.py and recipes.py.
Recipe = _choice(RECIPES, "Defaults to start from: auto (RealMLP-style) or plain (the course's).")
Data = Annotated[
    str | None,
    typer.Argument(
        metavar="DATA", help="CSV/TSV/parquet file, or - for stdin.", show_default=False
    ),
]
Target = Annotated[str | None, _option("Column to predict.", None, "COL", "--target", "-t")]
ConfigPath = Annotated[
    str | None,
    _option(
        "Settings from a TOML file (a run's config.toml); options given here win.", None, "FILE"
    ),
]
Layers = Annotated[
    str, _option("Hidden layer widths, e.g. 512,512,512; 0 for none.", MODEL, "WIDTHS")
]
Activation = _choice(ACTIVATIONS, "Hidden activation.", MODEL)
Dropout = Annotated[float, _option("Dropout rate after each hidden layer.", MODEL, "RATE")]
DropoutSampler = _choice(
    DROPOUT_SAMPLERS,
    "How dropout draws its masks: torch (nn.Dropout) or bits (16 random bits a unit; faster).",
    MODEL,
)
BatchNorm = Annotated[bool, _flag("BatchNorm after each hidden Dense.", MODEL, "--batchnorm")]
FeatureScaleOpt = Annotated[
    bool, _flag("A learnable scale per input before the first layer.", MODEL)
]
ZeroInitLast = Annotated[bool, _flag("Start the output layer at zero.", MODEL)]
Embedding = _choice(EMBEDDINGS, "Input embedding: periodic (learned cosines per input).", MODEL)
Submodels = Annotated[
    int,
    _option(
        "K networks trained at once as one (TabM: shared weights, own scalings and outputs); "
        "predictions are their mean.",
        MODEL,
        "K",
    ),
]
Loss = _choice(LOSSES, "auto: from the task and the recipe (see docs/recipes.md).", FIT)
HuberDelta = Annotated[
    float, _option("Huber loss threshold, in scaled target units.", FIT, "DELTA")
]
Optimizer = _choice(OPTIMIZERS, "Optimizer.", FIT)
LearningRate = Annotated[float, _option("Learning rate.", FIT, "LR")]
Ema = Annotated[
    float,
    _option(
        "Validate and keep a moving average of the weights, with this decay per step; 0 = off.",
        FIT,
        "DECAY",
    ),
]
Schedule = _choice(SCHEDULES, "Learning rate: constant, or cosine down to 0 over --epochs.", FIT)
Warmup = Annotated[float, _option("Share of all steps spent raising the rate from 0.", FIT, "F")]
WeightDecay = Annotated[float, _option("L2 penalty (decoupled for adamw).", FIT, "DECAY")]
Momentum = Annotated[float, _option("SGD momentum.", FIT, "MOMENTUM")]
Beta2 = Annotated[float, _option("Adam's second-moment decay.", FIT, "BETA")]
LabelSmoothing = Annotated[float, _option("Label smoothing for classification.", FIT, "EPS")]
ClassWeight = Annotated[
    str, _option("Class weights in the loss: none, balanced, or e.g. good=3,bad=1.", FIT, "W")
]
BatchSize = Annotated[int, _option("Rows per step.", FIT, "ROWS")]
Epochs = Annotated[int, _option("Maximum epochs.", FIT, "N")]
Patience = Annotated[
    int,
    _option("Epochs without improvement before stopping; 0 = never stop early.", STOP, "EPOCHS"),
]
MinDelta = Annotated[float, _option("Smallest change of --monitor that counts.", STOP, "DELTA")]
Monitor = Annotated[
    str,
    _option(
        "Quantity to watch: val_loss, val_mae, val_accuracy, val_auc (binary)...", STOP, "METRIC"
    ),
]
RestoreBest = Annotated[bool, _flag("Keep the weights of the best epoch, not the last.", STOP)]
ValidationSplit = Annotated[
    float,
    _option("Fraction held out; the rest is df.sample(frac=1-F, random_state=SEED).", DATA, "F"),
]
ValidationData = Annotated[
    str | None, _option("Separate validation file (replaces --validation-split).", DATA, "FILE")
]
Folds = Annotated[
    int, _option("K >= 2: a bagged ensemble of K members, each validated on its fold.", DATA, "K")
]
Scale = _choice(FEATURE_SCALES, "Feature scaling, fitted on training rows (quantile: ranks).", DATA)
Clip = _choice(CLIPS, "smooth: x/sqrt(1+(x/3)^2) after scaling: outliers stay within 3.", DATA)
RankInputs = Annotated[
    bool, _flag("Also give each numeric column's quantile rank (normal score) as an input.", DATA)
]
TargetScale = _choice(SCALES, "Regression target scaling; loss is in these units.", DATA)
Task = _choice(TASKS, "What to predict; auto decides from the target.", DATA)
Drop = Annotated[str, _option("Comma-separated columns to leave out.", DATA, "COLS")]
Features = Annotated[str, _option("Use only these columns as features.", DATA, "COLS")]
Categorical = Annotated[str, _option("Columns to treat as categories.", DATA, "COLS")]
Numeric = Annotated[str, _option("Columns to treat as numbers.", DATA, "COLS")]
NaValues = Annotated[str, _option("Extra missing-value markers, e.g. -,n.a.", DATA, "MARKERS")]
DefaultNa = Annotated[
    bool, _flag("--no-default-na: only blanks and --na-values are missing (not NA, null, ?).", DATA)
]
Header = Annotated[bool, _flag("--no-header: the first line is data; columns V1..Vn.", DATA)]
Names = Annotated[str, _option("Column names for a file without a header line.", DATA, "COLS")]
Encoding = Annotated[str, _option("Text encoding, e.g. latin-1, cp1252, utf-16.", DATA, "NAME")]
Decimal = Annotated[str, _option("Decimal mark: . or , (with ; separators).", DATA, "MARK")]
MemoryBudget = Annotated[
    str,
    _option(
        "Memory for the data; above it, training streams the rows (auto: half the free RAM).",
        DATA,
        "SIZE",
    ),
]
Seed = Annotated[int, _option("Seed for the split, initial weights and batches.", None, "SEED")]
Device = _choice(DEVICES, "auto uses CUDA when available.")
Precision = _choice(
    PRECISIONS,
    "Step arithmetic: bfloat16 matrix products (mixed precision) or float32; auto: "
    "bfloat16 on CPUs with AMX from 256 rows a batch per thread.",
)
Threads = Annotated[
    int,
    _option(
        "CPU threads per step; 0 = from the work and the free cores (bagged members: "
        "one each, side by side).",
        None,
        "N",
    ),
]
# options of the command itself, not saved with the run
Out = Annotated[
    Path | None,
    typer.Option(metavar="DIR", help="Run directory to create [default: runs/<file name>]."),
]
Verbose = Annotated[
    int,
    typer.Option(
        min=0, max=2, metavar="LEVEL", help="0 silent, 1 progress bar, 2 one line per epoch."
    ),
]
Plot = Annotated[
    bool, typer.Option("--plot", help="Draw the learning curves at the end (on stderr).")
]
Nproc = Annotated[
    int, typer.Option(min=1, metavar="N", help="Data-parallel processes (runs torchrun).")
]
LogFormat = Annotated[
    Literal["text", "jsonl"],
    _option(
        "text: progress and messages; jsonl: one JSON event per line on stderr.",
        None,
        "[text|jsonl]",
    ),
]

DEFAULT_LAYERS = format_layers(ArchConfig.layers)

# train options that cv and tune take by name only to refuse them (not in their help)
TrainOnlyNproc = Annotated[int, typer.Option(hidden=True)]
TrainOnlyLogFormat = Annotated[str, typer.Option(hidden=True)]


def refuse_train_only(command: str, nproc: int, log_format: str) -> None:
    """``--nproc`` and ``--log-format`` are train's: ``command`` (cv, tune) trains in one
    process and reports as text, so either given is one error line, not ignored."""
    if nproc != 1:
        raise TabnetError(
            f"--nproc is an option of tabnet train; tabnet {command} trains in one process: "
            "leave it out"
        )
    if log_format != "text":
        raise TabnetError(
            f"--log-format is an option of tabnet train; tabnet {command} reports as text"
            + (" (--json prints its result as JSON)" if command == "cv" else "")
        )
