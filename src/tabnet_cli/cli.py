"""The ``tabnet`` command line: parses options, calls one core function per command,
renders the result, and turns every user mistake into one line ``Error: ...`` + exit 2.

The only module importing typer. Heavy libraries (torch, pandas) are imported inside
commands so that ``tabnet --help`` starts instantly.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from typer.core import TyperGroup

from tabnet_cli.config import ACTIVATIONS, DEVICES, LOSSES, OPTIMIZERS, SCALES, TASKS
from tabnet_cli.errors import TabnetError

USER_ERROR = 2


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def fail(message: str) -> None:
    """Prints ``Error: message`` on one line to stderr (plain text, never wrapped)."""
    sys.stderr.write(f"Error: {_one_line(message)}\n")
    sys.stderr.flush()


class OneLineErrorGroup(TyperGroup):
    """Runs commands non-standalone so that every usage error and every ``TabnetError``
    becomes one line on stderr with exit code 2, instead of Typer's boxed panel."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):  # type: ignore[override]
        from typer._click.exceptions import ClickException, NoArgsIsHelpError

        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except NoArgsIsHelpError as exc:
            sys.stderr.write(exc.ctx.get_help() + "\n")
            code = USER_ERROR
        except ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            fail(exc.format_message() + where)
            code = USER_ERROR
        except TabnetError as exc:
            fail(str(exc))
            code = USER_ERROR
        except BrokenPipeError:
            # The reader went away (`| head`): end quietly, as Unix tools killed by SIGPIPE do.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            code = 141
        except typer.Abort:
            sys.stderr.write("Aborted.\n")
            code = 130
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=OneLineErrorGroup,
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,  # the help text is the docstring of _root below
)


@app.callback()
def _root() -> None:
    """Train neural networks on tabular data (CSV) from the command line, Keras style.

    tabnet train DATA --target COL, then tabnet evaluate / predict / curves on the run.
    """


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


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


def split_names(text: str) -> tuple[str, ...]:
    """``"a, b,,c"`` -> ``("a", "b", "c")``.

    Example:
        >>> split_names("id, name")
        ('id', 'name')
    """
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _check_range(name: str, value: float, low: float, high: float, open_low=True, open_high=True):
    too_low = value <= low if open_low else value < low
    too_high = value >= high if open_high else value > high
    if too_low or too_high:
        lo, hi = ("(" if open_low else "["), (")" if open_high else "]")
        raise TabnetError(f"{name} must be in {lo}{low}, {high}{hi}, got {value}")


# Typer turns these into choices; the names live once, in config.py.
Loss = Literal[LOSSES]  # type: ignore[valid-type]
Optimizer = Literal[OPTIMIZERS]  # type: ignore[valid-type]
Activation = Literal[ACTIVATIONS]  # type: ignore[valid-type]
Scale = Literal[SCALES]  # type: ignore[valid-type]
Task = Literal[TASKS]  # type: ignore[valid-type]
Device = Literal[DEVICES]  # type: ignore[valid-type]
MODEL, FIT, STOP, DATA = "Model", "Training", "Early stopping", "Data"


@app.command()
def train(
    data: Annotated[str, typer.Argument(help="CSV/TSV/parquet file, or - for stdin.")],
    target: Annotated[str, typer.Option("--target", "-t", help="Column to predict.")],
    layers: Annotated[
        str, typer.Option(help="Hidden layer widths.", rich_help_panel=MODEL)
    ] = "256,256",
    activation: Annotated[Activation, typer.Option(rich_help_panel=MODEL)] = "relu",
    dropout: Annotated[
        float, typer.Option(help="Dropout rate after each hidden layer.", rich_help_panel=MODEL)
    ] = 0.0,
    batchnorm: Annotated[
        bool,
        typer.Option(
            "--batchnorm",
            help="Batch normalization after each hidden Dense.",
            rich_help_panel=MODEL,
        ),
    ] = False,
    loss: Annotated[
        Loss,
        typer.Option(
            help="auto: mae (regression), bce (binary), crossentropy (multiclass).",
            rich_help_panel=FIT,
        ),
    ] = "auto",
    huber_delta: Annotated[
        float,
        typer.Option(help="Huber loss threshold, in scaled target units.", rich_help_panel=FIT),
    ] = 1.0,
    optimizer: Annotated[Optimizer, typer.Option(rich_help_panel=FIT)] = "adam",
    lr: Annotated[float, typer.Option(help="Learning rate.", rich_help_panel=FIT)] = 1e-3,
    weight_decay: Annotated[float, typer.Option(rich_help_panel=FIT)] = 0.0,
    momentum: Annotated[float, typer.Option(help="SGD momentum.", rich_help_panel=FIT)] = 0.9,
    batch_size: Annotated[int, typer.Option(min=1, rich_help_panel=FIT)] = 64,
    epochs: Annotated[int, typer.Option(min=1, rich_help_panel=FIT)] = 200,
    patience: Annotated[
        int,
        typer.Option(
            min=0,
            help="Epochs without improvement before stopping; 0 = never stop early.",
            rich_help_panel=STOP,
        ),
    ] = 20,
    min_delta: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Smallest change of --monitor that counts as an improvement.",
            rich_help_panel=STOP,
        ),
    ] = 0.0,
    monitor: Annotated[
        str,
        typer.Option(
            help="Quantity to watch: val_loss, val_mae, val_accuracy, ...", rich_help_panel=STOP
        ),
    ] = "val_loss",
    restore_best_weights: Annotated[
        bool,
        typer.Option(
            help="Keep the weights of the best epoch, not the last.", rich_help_panel=STOP
        ),
    ] = True,
    validation_split: Annotated[
        float,
        typer.Option(
            help="Fraction of rows held out; the rest is df.sample(frac=1-F, random_state=SEED).",
            rich_help_panel=DATA,
        ),
    ] = 0.2,
    validation_data: Annotated[
        str | None,
        typer.Option(
            help="Separate validation file (replaces --validation-split).", rich_help_panel=DATA
        ),
    ] = None,
    scale: Annotated[
        Scale, typer.Option(help="Feature scaling, fitted on training rows.", rich_help_panel=DATA)
    ] = "standard",
    target_scale: Annotated[
        Scale,
        typer.Option(
            help="Regression target scaling; loss is reported in these units.", rich_help_panel=DATA
        ),
    ] = "standard",
    task: Annotated[Task, typer.Option(rich_help_panel=DATA)] = "auto",
    drop: Annotated[
        str, typer.Option(help="Comma-separated columns to leave out.", rich_help_panel=DATA)
    ] = "",
    features: Annotated[
        str, typer.Option(help="Use only these columns as features.", rich_help_panel=DATA)
    ] = "",
    categorical: Annotated[
        str, typer.Option(help="Columns to treat as categories.", rich_help_panel=DATA)
    ] = "",
    numeric: Annotated[
        str, typer.Option(help="Columns to treat as numbers.", rich_help_panel=DATA)
    ] = "",
    na_values: Annotated[
        str, typer.Option(help="Extra missing-value markers, e.g. -,n.a.", rich_help_panel=DATA)
    ] = "",
    seed: Annotated[int, typer.Option(help="Seed for the split, initial weights and batches.")] = 0,
    device: Annotated[Device, typer.Option(help="auto uses CUDA when available.")] = "auto",
    out: Annotated[
        Path | None, typer.Option(help="Run directory to create \\[default: runs/<file name>].")
    ] = None,
    verbose: Annotated[
        int, typer.Option(min=0, max=2, help="0 silent, 1 progress bar, 2 one line per epoch.")
    ] = 1,
    plot: Annotated[
        bool, typer.Option("--plot", help="Draw the learning curves at the end (on stderr).")
    ] = False,
) -> None:
    """Train an MLP on DATA and write a run directory (its path is printed on stdout).

    Example: tabnet train red-wine.csv --target quality --layers 512,512,512
    """
    from tabnet_cli.config import DataConfig, TrainConfig
    from tabnet_cli.progress import KerasProgress
    from tabnet_cli.runner import train_run

    widths = parse_layers(layers)
    _check_range("--validation-split", validation_split, 0.0, 1.0)
    _check_range("--dropout", dropout, 0.0, 1.0, open_low=False)
    _check_range("--lr", lr, 0.0, float("inf"))
    data_config = DataConfig(
        target=target,
        task=task,
        scale=scale,
        target_scale=target_scale,
        validation_split=validation_split,
        validation_data=validation_data,
        drop=split_names(drop),
        features=split_names(features),
        categorical=split_names(categorical),
        numeric=split_names(numeric),
        na_values=split_names(na_values),
    )
    train_config = TrainConfig(
        loss=loss,
        huber_delta=huber_delta,
        optimizer=optimizer,
        lr=lr,
        weight_decay=weight_decay,
        momentum=momentum,
        batch_size=batch_size,
        epochs=epochs,
        patience=patience,
        min_delta=min_delta,
        monitor=monitor,
        restore_best_weights=restore_best_weights,
        seed=seed,
        device=device,
    )
    console = _stderr_console()

    def notify(message: str) -> None:
        if verbose:
            console.file.write(f"Note: {message}\n")

    progress = KerasProgress(console, verbose)
    try:
        summary = train_run(
            data,
            data_config,
            widths,
            activation,
            dropout,
            batchnorm,
            train_config,
            out,
            [progress],
            notify,
        )
    except KeyboardInterrupt:
        console.file.write("Interrupted before the first epoch ended; nothing was written.\n")
        raise typer.Exit(130) from None
    if verbose:
        for line in describe_outcome(summary.metrics, patience):
            console.file.write(line + "\n")
        console.file.write(f"Run written to {summary.run_dir}\n")
    if plot:
        _plot_after_training(summary.run_dir, console.file)
    print(summary.run_dir)
    if summary.metrics["stop_reason"] == "interrupted":
        raise typer.Exit(130)  # saved, but scripts must know the run did not finish


def _plot_after_training(run_dir: Path, stream) -> None:
    from tabnet_cli.errors import DataError
    from tabnet_cli.plots import load_history, render_curves, select_metrics

    history = load_history(str(run_dir))
    width, height = _plot_size(None, None)
    try:
        text = render_curves(
            [history],
            select_metrics([history], None),
            width,
            height,
            colour=_wants_colour(stream),
        )
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
    reasons = {
        "completed": f"Trained {metrics['epochs_run']} epochs.",
        "early_stopping": (
            f"Stopped early after {metrics['epochs_run']} epochs "
            f"(no improvement in {metrics['monitor']} for {patience} epochs)."
        ),
        "interrupted": f"Interrupted after {metrics['epochs_run']} complete epochs; saving.",
        "non_finite": (
            f"Stopped after {metrics['epochs_run']} epochs: the loss became NaN or "
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


RunArg = Annotated[str, typer.Argument(help="Run directory written by tabnet train.")]
DataArg = Annotated[str, typer.Argument(help="CSV/TSV/parquet file, or - for stdin.")]
BatchOpt = Annotated[
    int, typer.Option(min=1, help="Rows read and scored at a time (bounds memory).")
]


def _warn(message: str) -> None:
    sys.stderr.write(f"Warning: {_one_line(message)}\n")


def _exit_quietly_when_the_reader_goes_away() -> None:
    """``tabnet predict ... | head`` ends as ``cat ... | head`` does: killed by SIGPIPE,
    silently, with the status shells report for it (141), instead of a BrokenPipeError."""
    import signal

    if hasattr(signal, "SIGPIPE") and _is_real_stream(sys.stdout):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)


def _is_real_stream(stream) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True


@app.command()
def evaluate(
    run: RunArg,
    data: DataArg,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead of tables.")
    ] = False,
    batch_size: BatchOpt = 65536,
) -> None:
    """Score a trained model on DATA (with the target column), next to a naive baseline.

    Example: tabnet evaluate runs/red-wine valid.csv --json
    """
    from tabnet_cli.artifact import load_run
    from tabnet_cli.inference import evaluate_run

    report = evaluate_run(load_run(run), data, batch_size, warn=_warn)
    if json_output:
        import json

        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return
    from tabnet_cli.render import render_evaluation

    render_evaluation(report)


@app.command()
def predict(
    run: RunArg,
    data: DataArg,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the CSV here (atomically).")
    ] = None,
    proba: Annotated[
        bool, typer.Option("--proba", help="Add one probability column per class.")
    ] = False,
    keep: Annotated[
        str, typer.Option(help="Comma-separated input columns to copy next to the prediction.")
    ] = "",
    keep_all: Annotated[bool, typer.Option("--keep-all", help="Copy every input column.")] = False,
    batch_size: BatchOpt = 65536,
) -> None:
    """Predict the target for every row of DATA; CSV on stdout (or --output).

    Example: cat new.csv | tabnet predict runs/red-wine - --keep id | head
    """
    from tabnet_cli.artifact import atomic_text_file, load_run
    from tabnet_cli.inference import PredictOptions, predict_to

    loaded = load_run(run)
    options = PredictOptions(
        proba=proba,
        keep=split_names(keep),
        keep_all=keep_all,
        chunk_rows=batch_size,
    )
    if output is None:
        _exit_quietly_when_the_reader_goes_away()
        _, report = predict_to(loaded, data, sys.stdout, options)
        sys.stdout.flush()
    else:
        with atomic_text_file(output) as handle:
            _, report = predict_to(loaded, data, handle, options)
    if report.message():
        _warn(report.message())


def _wants_colour(stream) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set (https://no-color.org)."""
    return bool(stream.isatty()) and not os.environ.get("NO_COLOR")


def _plot_size(width: int | None, height: int | None) -> tuple[int, int]:
    import shutil

    columns, lines = shutil.get_terminal_size((100, 30))
    return width or columns, height or max(lines - 2, 12)


@app.command()
def curves(
    runs: Annotated[
        list[str], typer.Argument(help="Run directories (or history CSVs) to draw together.")
    ],
    metrics: Annotated[
        str, typer.Option(help="Comma-separated metrics, e.g. loss,accuracy (val_ implied).")
    ] = "",
    from_epoch: Annotated[int, typer.Option(min=1, help="First epoch to show.")] = 1,
    log_y: Annotated[bool, typer.Option("--log-y", help="Logarithmic y axis.")] = False,
    width: Annotated[
        int | None, typer.Option(min=20, help="Plot width \\[default: the terminal's].")
    ] = None,
    height: Annotated[
        int | None, typer.Option(min=6, help="Plot height \\[default: the terminal's].")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the plot (plain text) here.")
    ] = None,
    table: Annotated[
        bool, typer.Option("--table", help="Per-epoch values as a table instead of a plot.")
    ] = False,
) -> None:
    """Draw learning curves (training vs validation) in the terminal.

    Example: tabnet curves runs/small runs/big --metrics loss,accuracy --from-epoch 5
    """
    from tabnet_cli.plots import load_history, render_curves, render_table, select_metrics

    histories = [load_history(run) for run in runs]
    wanted = list(split_names(metrics))
    chosen = select_metrics(histories, wanted)
    if table:
        text = render_table(histories, chosen, from_epoch)
    else:
        plot_width, plot_height = _plot_size(width, height)
        colour = output is None and _wants_colour(sys.stdout)
        text = render_curves(histories, chosen, plot_width, plot_height, from_epoch, log_y, colour)
    if output is None:
        sys.stdout.write(text)
        return
    from tabnet_cli.artifact import atomic_text_file

    with atomic_text_file(output) as handle:
        handle.write(text)


def main() -> None:
    """Console-script entry point."""
    app()
