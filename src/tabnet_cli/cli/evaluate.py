"""``tabnet evaluate``: a saved run scored on new data, next to a naive baseline."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from tabnet_cli.cli.app import command, warn
from tabnet_cli.cli.run_options import BatchOpt, DataArg, DataEncoding, RunArg, load_for_data
from tabnet_cli.io.outputs import guarded_stdout


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
    encoding: DataEncoding = None,
) -> None:
    """Score a model on DATA, next to a naive baseline.

    Example: tabnet evaluate runs/red-wine valid.csv --json --fail-if "mae>0.5"
    """
    from tabnet_cli.run.info import seen_in_training  # not at start-up: tabnet --help stays light
    from tabnet_cli.score import gate  # not at start-up: tabnet --help stays light

    # not at start-up: tabnet --help stays light
    from tabnet_cli.score.inference import evaluate_run

    conditions = [gate.parse_condition(text) for text in fail_if or ()]
    loaded = load_for_data(run, data, encoding, warn)
    report = evaluate_run(loaded, data, batch_size, warn=warn)
    gate.check_metrics(conditions, report["metrics"])
    # said once the figures exist: an error alone stays the only line
    if seen_in_training(loaded.manifest, data):
        warn(
            f"{data} is the file this model was trained on (same sha256): these figures are "
            "optimistic, the model saw these rows; evaluate on data it never saw"
        )
    if json_output:
        guarded_stdout().write(json.dumps(report, indent=2) + "\n")
    else:
        # not at start-up: tabnet --help stays light
        from tabnet_cli.report.tables import render_evaluation

        render_evaluation(report)
    failed = gate.failures(conditions, report["metrics"])
    if failed:
        sys.stdout.flush()  # the report first, then the verdict
        sys.stderr.write("".join(line + "\n" for line in failed))
        raise typer.Exit(gate.GATE_FAILED)
