"""``tabnet curves``: learning curves of one or more runs, in the terminal."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tabnet_cli.cli.app import command, plot_size, wants_colour
from tabnet_cli.cli.options import split_names
from tabnet_cli.io.outputs import guarded_stdout, open_output


@command()
def curves(
    runs: Annotated[
        list[str],
        typer.Argument(metavar="RUN", help="Run directories (or history CSVs) to draw together."),
    ],
    metrics: Annotated[
        str,
        typer.Option(
            metavar="NAMES", help="Comma-separated metrics, e.g. loss,accuracy (val_ implied)."
        ),
    ] = "",
    from_epoch: Annotated[
        int, typer.Option(min=1, metavar="EPOCH", help="First epoch to show.")
    ] = 1,
    log_y: Annotated[bool, typer.Option("--log-y", help="Logarithmic y axis.")] = False,
    width: Annotated[
        int | None,
        typer.Option(min=20, metavar="COLUMNS", help="Plot width [default: the terminal's]."),
    ] = None,
    height: Annotated[
        int | None,
        typer.Option(min=6, metavar="LINES", help="Plot height [default: the terminal's]."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write the plot (plain text) here."),
    ] = None,
    table: Annotated[
        bool, typer.Option("--table", help="Per-epoch values as a table instead of a plot.")
    ] = False,
) -> None:
    """Draw learning curves (training vs validation) in the terminal.

    Example: tabnet curves runs/small runs/big --metrics loss --from-epoch 5
    """
    from tabnet_cli.io.overwrite import refuse_inputs  # not at start-up: tabnet --help stays light

    # not at start-up: tabnet --help stays light
    from tabnet_cli.report.plots import load_history, render_curves, render_table, select_metrics

    histories = [load_history(run) for run in runs]
    if output is not None:
        folders = [run for run in runs if Path(run).is_dir()]
        refuse_inputs(output, "--output", [r for r in runs if r not in folders], folders)
    chosen = select_metrics(histories, list(split_names(metrics)))
    if table:
        text = render_table(histories, chosen, from_epoch)
    else:
        plot_width, plot_height = plot_size(width, height)
        colour = output is None and wants_colour(sys.stdout)
        notes: list[str] = []
        text = render_curves(
            histories, chosen, plot_width, plot_height, from_epoch, log_y, colour, notes
        )
        sys.stderr.write("".join(f"Note: {note}\n" for note in notes))
    if output is None:
        guarded_stdout().write(text)
        return
    with open_output(output, "choose another --output") as handle:
        handle.write(text)
