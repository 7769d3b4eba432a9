"""``tabnet importance``: which input columns a trained model relies on."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from tabnet_cli.cli.app import command, plot_size, wants_colour, warn
from tabnet_cli.cli.run_options import DataEncoding, load_for_data


@command()
def importance(
    run: Annotated[
        str, typer.Argument(metavar="RUN", help="Run directory written by tabnet train.")
    ],
    data: Annotated[
        str, typer.Argument(metavar="DATA", help="CSV/TSV/parquet file with the target, or -.")
    ],
    repeats: Annotated[
        int,
        typer.Option(
            min=1, max=1000, metavar="N", help="Shuffles per column (mean ± std over them)."
        ),
    ] = 5,
    seed: Annotated[
        int, typer.Option(min=0, max=2**32 - 1, metavar="SEED", help="Seed of the shuffles.")
    ] = 0,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead of the table.")
    ] = False,
    encoding: DataEncoding = None,
) -> None:
    """Permutation importance of every input column on DATA (with the target column).

    Example: tabnet importance runs/abalone test.csv --repeats 10
    """
    # not at start-up: tabnet --help stays light
    from tabnet_cli.score.importance import permutation_importance, render_importance

    loaded = load_for_data(run, data, encoding, warn)
    report = permutation_importance(loaded, data, repeats, seed, warn=warn)
    if json_output:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return
    width = min(plot_size(None, None)[0], 100)
    sys.stdout.write(render_importance(report, width, colour=wants_colour(sys.stdout)))
