"""``tabnet export``: a run as one ONNX file (preprocessing and network) for serving."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from tabnet_cli.cli.app import command


@command()
def export(
    run: Annotated[
        str, typer.Argument(metavar="RUN", help="Run directory written by tabnet train.")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", metavar="FILE", help="File to write, e.g. model.onnx.")
    ],
    format: Annotated[
        Literal["onnx"],
        typer.Option("--format", metavar="[onnx]", help="File format (ONNX, opset 20)."),
    ] = "onnx",
) -> None:
    """Write the model and its preprocessing as one ONNX graph (needs the onnx extra).

    Example: tabnet export runs/red-wine --format onnx -o red-wine.onnx
    """
    from tabnet_cli.export.onnx import require_onnx  # not at start-up: tabnet --help stays light

    require_onnx()  # before loading anything: the message says how to install it
    from tabnet_cli.export.onnx import export_onnx  # not at start-up: tabnet --help stays light
    from tabnet_cli.io.overwrite import refuse_inputs  # not at start-up: tabnet --help stays light
    from tabnet_cli.run.run_dir import load_run  # not at start-up: tabnet --help stays light

    loaded = load_run(run)
    refuse_inputs(output, "--output", directories=[run])
    difference = export_onnx(loaded, output)
    sys.stderr.write(
        f"Checked with onnxruntime against tabnet predict: max difference {difference:.2g}\n"
    )
    print(output)
