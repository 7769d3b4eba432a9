"""``tabnet cv``: K-fold cross-validation with the train options; the mean and standard
deviation of every metric across folds on stdout (a table, or ``--json``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from tabnet_cli.cli import options as opts
from tabnet_cli.cli.app import INTERRUPTED, command, stderr_console
from tabnet_cli.cli.train import train


@command()
@opts.with_options_of(train, drop=("plot",))
def cv(
    folds: Annotated[int, typer.Option(min=2, metavar="K", help="Number of folds.")] = 5,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document (folds and summary).")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="Keep each fold's run in DIR/fold-1, DIR/fold-2..."),
    ] = None,
    nproc: opts.TrainOnlyNproc = 1,
    log_format: opts.TrainOnlyLogFormat = "text",
    **options: Any,
) -> None:
    """Cross-validate: train on K-1 folds, score on the fold left out, K times.

    Preprocessing is fitted inside each fold. Takes the options of tabnet train but
    --nproc, --log-format and --plot; the table is held in memory (--memory-budget).

    Example: tabnet cv ion.csv --target Class --folds 5 --json
    """
    from tabnet_cli.jobs.cv import cross_validate  # not at start-up: tabnet --help stays light

    # not at start-up: tabnet --help stays light
    from tabnet_cli.report.progress import KerasProgress

    opts.refuse_train_only("cv", nproc, log_format)
    source, config = opts.command_config(options, options["ctx"])
    console, verbose = stderr_console(), options["verbose"]

    def callbacks(fold: int):
        if verbose:
            console.file.write(f"Fold {fold}/{folds}\n")
        return [KerasProgress(console, verbose)]

    def notify(message: str) -> None:
        if verbose:
            console.file.write(f"Note: {message}\n")

    try:
        result = cross_validate(source, config, folds, out, callbacks, notify)
    except KeyboardInterrupt:
        console.file.write("Interrupted; no result.\n")
        raise typer.Exit(INTERRUPTED) from None
    if json_output:
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
        return
    from tabnet_cli.report.tables import render_cv  # not at start-up: tabnet --help stays light

    render_cv(result.to_json(), f"{folds}-fold cross-validation of {source}")
