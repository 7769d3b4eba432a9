"""``tabnet evaluate`` and ``tabnet predict``: a saved run applied to new data."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tabnet_cli.cli.app import command, warn
from tabnet_cli.cli.options import split_names

RunArg = Annotated[
    str, typer.Argument(metavar="RUN", help="Run directory written by tabnet train.")
]
DataArg = Annotated[
    str, typer.Argument(metavar="DATA", help="CSV/TSV/parquet file, or - for stdin.")
]
BatchOpt = Annotated[
    int,
    typer.Option(min=1, metavar="ROWS", help="Rows read and scored at a time (bounds memory)."),
]
OUTPUT_ADVICE = "choose another --output"


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


@command()
def evaluate(
    run: RunArg,
    data: DataArg,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead of tables.")
    ] = False,
    batch_size: BatchOpt = 65536,
    fail_if: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-if",
            metavar="COND",
            help="Exit 3 when METRIC<VALUE holds (<, <=, >, >=); repeatable.",
        ),
    ] = None,
) -> None:
    """Score a model on DATA, next to a naive baseline.

    Example: tabnet evaluate runs/red-wine valid.csv --json --fail-if "mae>0.5"
    """
    from tabnet_cli.run.info import seen_in_training
    from tabnet_cli.run.run_dir import load_run
    from tabnet_cli.score import gate
    from tabnet_cli.score.inference import evaluate_run

    conditions = [gate.parse_condition(text) for text in fail_if or ()]
    loaded = load_run(run)
    report = evaluate_run(loaded, data, batch_size, warn=warn)
    gate.check_metrics(conditions, report["metrics"])
    # said once the figures exist: an error alone stays the only line
    if seen_in_training(loaded.manifest, data):
        warn(
            f"{data} is the file this model was trained on (same sha256): these figures are "
            "optimistic, the model saw these rows; evaluate on data it never saw"
        )
    if json_output:
        import json

        from tabnet_cli.io.outputs import guarded_stdout

        guarded_stdout().write(json.dumps(report, indent=2) + "\n")
    else:
        from tabnet_cli.report.tables import render_evaluation

        render_evaluation(report)
    failed = gate.failures(conditions, report["metrics"])
    if failed:
        sys.stdout.flush()  # the report first, then the verdict
        sys.stderr.write("".join(line + "\n" for line in failed))
        raise typer.Exit(gate.GATE_FAILED)


@command()
def predict(
    run: RunArg,
    data: DataArg,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write the CSV here (atomically)."),
    ] = None,
    proba: Annotated[
        bool, typer.Option("--proba", help="Add one probability column per class.")
    ] = False,
    keep: Annotated[
        str,
        typer.Option(
            metavar="COLS", help="Comma-separated input columns to copy next to the prediction."
        ),
    ] = "",
    keep_all: Annotated[bool, typer.Option("--keep-all", help="Copy every input column.")] = False,
    batch_size: BatchOpt = 65536,
) -> None:
    """Predict the target of every row of DATA (CSV on stdout or -o).

    Example: cat new.csv | tabnet predict runs/red-wine - --keep id | head
    """
    from tabnet_cli.io.outputs import guarded_stdout, open_output
    from tabnet_cli.run.run_dir import load_run
    from tabnet_cli.score.inference import PredictOptions, predict_to

    loaded = load_run(run)
    options = PredictOptions(proba, split_names(keep), keep_all, chunk_rows=batch_size)
    if output is None:
        _exit_quietly_when_the_reader_goes_away()
        stdout = guarded_stdout()
        _, report = predict_to(loaded, data, stdout, options)  # type: ignore[arg-type]
        stdout.flush()
    else:
        with open_output(output, OUTPUT_ADVICE) as handle:
            _, report = predict_to(loaded, data, handle, options)  # type: ignore[arg-type]
    if report.message():
        warn(report.message())
