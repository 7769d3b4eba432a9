"""``tabnet train``: options in, one ``jobs.train.train_run`` call, the outcome on stderr and
the run directory's path on stdout."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import typer

from tabnet_cli.cli import options as opts
from tabnet_cli.cli.app import (
    INTERRUPTED,
    command,
    plot_size,
    stderr_console,
    wants_colour,
)
from tabnet_cli.cli.train_events import error_events, train_with_events
from tabnet_cli.errors import DataError, plural
from tabnet_cli.settings.config import (
    ArchConfig,
    ConfigError,
    DataConfig,
    RunConfig,
    TrainConfig,
)
from tabnet_cli.system import distributed


def _model_options(
    layers: opts.Layers = opts.DEFAULT_LAYERS,
    activation: opts.Activation = ArchConfig.activation,
    dropout: opts.Dropout = ArchConfig.dropout,
    dropout_sampler: opts.DropoutSampler = ArchConfig.dropout_sampler,
    batchnorm: opts.BatchNorm = ArchConfig.batchnorm,
    feature_scale: opts.FeatureScaleOpt = ArchConfig.feature_scale,
    zero_init_last: opts.ZeroInitLast = ArchConfig.zero_init_last,
    embedding: opts.Embedding = ArchConfig.embedding,
    submodels: opts.Submodels = ArchConfig.submodels,
) -> None:
    """The network's options (a template: ``train`` takes its parameters)."""


def _fit_options(
    loss: opts.Loss = TrainConfig.loss,
    huber_delta: opts.HuberDelta = TrainConfig.huber_delta,
    optimizer: opts.Optimizer = TrainConfig.optimizer,
    lr: opts.LearningRate = TrainConfig.lr,
    schedule: opts.Schedule = TrainConfig.schedule,
    warmup: opts.Warmup = TrainConfig.warmup,
    weight_decay: opts.WeightDecay = TrainConfig.weight_decay,
    momentum: opts.Momentum = TrainConfig.momentum,
    beta2: opts.Beta2 = TrainConfig.beta2,
    label_smoothing: opts.LabelSmoothing = TrainConfig.label_smoothing,
    class_weight: opts.ClassWeight = TrainConfig.class_weight,
    batch_size: opts.BatchSize = TrainConfig.batch_size,
    epochs: opts.Epochs = TrainConfig.epochs,
    patience: opts.Patience = TrainConfig.patience,
    min_delta: opts.MinDelta = TrainConfig.min_delta,
    monitor: opts.Monitor = TrainConfig.monitor,
    restore_best_weights: opts.RestoreBest = TrainConfig.restore_best_weights,
    ema: opts.Ema = TrainConfig.ema,
    seed: opts.Seed = TrainConfig.seed,
    device: opts.Device = TrainConfig.device,
    precision: opts.Precision = TrainConfig.precision,
    threads: opts.Threads = TrainConfig.threads,
) -> None:
    """The training options (a template: ``train`` takes its parameters)."""


def _data_options(
    validation_split: opts.ValidationSplit = DataConfig.validation_split,
    validation_data: opts.ValidationData = DataConfig.validation_data,
    folds: opts.Folds = DataConfig.folds,
    scale: opts.Scale = DataConfig.scale,
    clip: opts.Clip = DataConfig.clip,
    rank_inputs: opts.RankInputs = DataConfig.rank_inputs,
    target_scale: opts.TargetScale = DataConfig.target_scale,
    task: opts.Task = DataConfig.task,
    drop: opts.Drop = "",
    features: opts.Features = "",
    categorical: opts.Categorical = "",
    numeric: opts.Numeric = "",
    na_values: opts.NaValues = "",
    default_na: opts.DefaultNa = DataConfig.default_na,
    header: opts.Header = DataConfig.header,
    names: opts.Names = "",
    encoding: opts.Encoding = DataConfig.encoding,
    decimal: opts.Decimal = DataConfig.decimal,
    memory_budget: opts.MemoryBudget = DataConfig.memory_budget,
) -> None:
    """The data options (a template: ``train`` takes its parameters)."""


@command()
@opts.with_options_of(_data_options)
@opts.with_options_of(_fit_options)
@opts.with_options_of(_model_options)
def train(
    ctx: typer.Context,
    data: opts.Data = None,
    target: opts.Target = None,
    config: opts.ConfigPath = None,
    recipe: opts.Recipe = RunConfig.recipe,
    out: opts.Out = None,
    verbose: opts.Verbose = 1,
    plot: opts.Plot = False,
    nproc: opts.Nproc = 1,
    log_format: opts.LogFormat = "text",
    **options: Any,
) -> None:
    """Train an MLP on DATA and write a run directory (path on stdout).

    Example: tabnet train red-wine.csv --target quality --layers 512,512,512
    """
    given = {k: v for k, v in locals().items() if k != "options"}
    _dispatch({**options, **given}, ctx)


def _dispatch(options: dict, ctx: typer.Context) -> None:
    """Under torchrun for --nproc, with JSON events for --log-format jsonl, or plainly."""
    jsonl = options["log_format"] == "jsonl"
    if options["nproc"] > 1 and distributed.current() is None:
        with error_events() if jsonl else nullcontext():
            _launch(options, ctx)
    out, plot = options["out"], options["plot"]
    if jsonl:  # user errors become JSON events too: built there
        data = options["data"] or _command_config(options, ctx)[0]  # from a --config
        train_with_events(data, lambda: _command_config(options, ctx)[1], out, plot)
        return
    with distributed.errors_recorded():  # a rank's error, for the launcher
        source, config = _command_config(options, ctx)
        run_training(source, config, out, options["verbose"], plot)


def _command_config(options: dict, ctx: typer.Context):
    """``(source, RunConfig)`` of the command; refuses a --validation-split typed beside
    --folds K, which would not be used (each member validates on its own fold). A config
    file holds both (a bagged run's saved settings), so only typed options are compared."""
    both = all(opts.typed_option(ctx, n) for n in ("folds", "validation_split"))
    if both and options["folds"] > 1:
        raise ConfigError(
            f"--folds {options['folds']} validates each member on its own fold, so "
            "--validation-split would not be used; drop one of them"
        )
    return opts.command_config(options, ctx)


def _launch(options: dict, ctx: typer.Context) -> None:
    """Checks what every rank would refuse (the options, stdin, --folds, streaming, the
    GPUs) once, then starts the ranks under torchrun; exits with their exit code."""
    # not at start-up: tabnet --help stays light
    from tabnet_cli.jobs.train import check_data_parallel

    source, config = _command_config(options, ctx)
    check_data_parallel(source, config, options["nproc"])
    raise typer.Exit(distributed.launch(options["nproc"], without_nproc(sys.argv[1:])))


def without_nproc(argv: list[str]) -> list[str]:
    """The command line as typed, minus ``--nproc N`` (torchrun starts the ranks).

    Example:
        >>> without_nproc(["train", "d.csv", "--nproc", "2", "--target=y", "--nproc=3"])
        ['train', 'd.csv', '--target=y']
    """
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            kept.append(arg)
    return kept


def run_training(data: str, config, out: Path | None, verbose: int, plot: bool) -> None:
    """Trains with progress on stderr; prints the run directory on stdout."""
    from tabnet_cli.jobs.train import train_run  # not at start-up: tabnet --help stays light

    # not at start-up: tabnet --help stays light
    from tabnet_cli.report.progress import KerasProgress

    console = stderr_console()

    def notify(message: str) -> None:
        if verbose:
            console.file.write(f"Note: {message}\n")

    try:
        summary = train_run(data, config, out, [KerasProgress(console, verbose)], notify)
    except KeyboardInterrupt:
        # before the first epoch ended, or while saving (the save is all or nothing)
        if distributed.reports_interrupts():
            console.file.write("Interrupted before the run was saved; nothing was written.\n")
        raise typer.Exit(INTERRUPTED) from None
    if summary.run_dir is None:  # a data-parallel rank other than 0: rank 0 reports
        return
    if verbose:
        for line in describe_outcome(summary.metrics, config.train.patience):
            console.file.write(line + "\n")
        console.file.write(f"Run written to {summary.run_dir}\n")
    if plot:
        _plot_after_training(summary.run_dir, console.file)
    print(summary.run_dir)
    if summary.metrics["stop_reason"] == "interrupted":
        raise typer.Exit(INTERRUPTED)  # saved, but scripts must know the run did not finish


def _plot_after_training(run_dir: Path, stream) -> None:
    # not at start-up: tabnet --help stays light
    from tabnet_cli.report.plots import load_history, render_curves, select_metrics

    history = load_history(str(run_dir))
    width, height = plot_size(None, None)
    try:
        chosen = select_metrics([history], None)
        text = render_curves([history], chosen, width, height, colour=wants_colour(stream))
    except DataError as exc:  # a one-epoch run: the run is saved, only the plot is skipped
        text = f"Note: no plot: {exc}\n"
    stream.write(text)


def describe_outcome(metrics: dict, patience: int) -> list[str]:
    """The end-of-training summary lines.

    Example:
        >>> describe_outcome({"epochs_run": 95, "stop_reason": "early_stopping",
        ...     "best_epoch": 75, "monitor": "val_loss", "best_value": 0.1003,
        ...     "restored_best_weights": True}, patience=20)
        ['Stopped early after 95 epochs (no improvement in val_loss for 20 epochs).',
         'Best val_loss 0.1003 at epoch 75; restored the weights of that epoch.']
    """
    if "members" in metrics:
        return describe_ensemble(metrics)
    epochs = plural(metrics["epochs_run"], "epoch")
    reasons = {
        "completed": f"Trained {epochs}.",
        "early_stopping": (
            f"Stopped early after {epochs} "
            f"(no improvement in {metrics['monitor']} for {plural(patience, 'epoch')})."
        ),
        "interrupted": f"Interrupted after {plural(metrics['epochs_run'], 'complete epoch')}; "
        "saving.",
        "non_finite": (
            f"Stopped after {epochs}: the loss became NaN or "
            "infinite in the next one (try a lower --lr)."
        ),
    }
    kept = (
        "restored the weights of that epoch."
        if metrics["restored_best_weights"]
        else "kept the weights of the last epoch."
    )
    return [
        reasons[metrics["stop_reason"]],
        f"Best {metrics['monitor']} {metrics['best_value']:.4f} "
        f"at epoch {metrics['best_epoch']}; {kept}",
    ]


def describe_ensemble(metrics: dict) -> list[str]:
    """The summary lines of a ``--folds`` ensemble.

    Example:
        >>> describe_ensemble({"members": 2, "monitor": "val_loss", "best_value": 0.25,
        ...     "member_runs": [{"epochs_run": 9, "kept_epoch": 7},
        ...                     {"epochs_run": 12, "kept_epoch": 12}]})[0]
        'Trained 2 members (epochs run 9, 12; kept 7, 12).'
        >>> describe_ensemble({"members": 2, "monitor": "val_loss", "best_value": None,
        ...     "stop_reason": "interrupted", "member_runs": [{"epochs_run": 9, "kept_epoch": 7},
        ...                     {"epochs_run": 4, "kept_epoch": 4}]})
        ['Interrupted; saving 2 members (epochs run 9, 4; kept 7, 4).']
    """
    runs = metrics["member_runs"]
    ran = ", ".join(str(r["epochs_run"]) for r in runs)
    kept = ", ".join(str(r["kept_epoch"]) for r in runs)
    verb = "Interrupted; saving" if metrics.get("stop_reason") == "interrupted" else "Trained"
    lines = [f"{verb} {metrics['members']} members (epochs run {ran}; kept {kept})."]
    if metrics["best_value"] is not None:
        lines.append(
            f"Out-of-fold {metrics['monitor']} {metrics['best_value']:.4f} "
            "(each row scored by the member that did not train on it)."
        )
    return lines
