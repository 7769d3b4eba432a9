"""``tabnet info``: what a run directory holds, on one screen or as JSON."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from tabnet_cli.cli.app import command
from tabnet_cli.cli.run_options import RunArg
from tabnet_cli.io.outputs import guarded_stdout


@command()
def info(
    run: RunArg,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead of text.")
    ] = False,
) -> None:
    """Describe a run: inputs, encodings, options, best epoch, data.

    Example: tabnet info runs/red-wine
    """

    # not at start-up: tabnet --help stays light
    from tabnet_cli.run.info import describe_run, info_text

    description = describe_run(run)
    text = json.dumps(description, indent=2) + "\n" if json_output else info_text(description)
    guarded_stdout().write(text)
