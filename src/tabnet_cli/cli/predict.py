"""``tabnet predict``: a saved run's predictions for new data, as CSV on stdout or a file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from tabnet_cli.cli.app import command, warn
from tabnet_cli.cli.options import split_names
from tabnet_cli.cli.run_options import (
    BatchOpt,
    DataArg,
    DataEncoding,
    RunArg,
    data_files,
    load_for_data,
)
from tabnet_cli.io.outputs import guarded_stdout, open_output

OUTPUT_ADVICE = "choose another --output"
# OpenBLAS's helper threads spin for 2^28 cycles (about 0.1 s) after each matrix product
# before they sleep; between predict's products (reading, writing, the rest of the forward
# pass) they would take a core from the reading and writing threads and from other
# processes. 2^4 cycles: they sleep at once. Their number and the results stay the same.
BLAS_SPIN = "4"


def quiet_blas_threads() -> None:
    """Makes OpenBLAS's threads sleep when idle (unless the user set it), before NumPy
    loads OpenBLAS, which reads the setting once."""
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", BLAS_SPIN)


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
    encoding: DataEncoding = None,
) -> None:
    """Predict the target of every row of DATA (CSV on stdout or -o).

    Example: cat new.csv | tabnet predict runs/red-wine - --keep id | head
    """
    quiet_blas_threads()
    from tabnet_cli.io.overwrite import refuse_inputs  # not at start-up: tabnet --help stays light

    # not at start-up: tabnet --help stays light
    from tabnet_cli.score.predicting import PredictOptions, predict_to

    loaded = load_for_data(run, data, encoding, warn)
    if output is not None:
        refuse_inputs(output, "--output", data_files(data), [run])
    options = PredictOptions(proba, split_names(keep), keep_all, chunk_rows=batch_size)
    if output is None:
        stdout = guarded_stdout()
        _, report = predict_to(loaded, data, stdout, options)  # type: ignore[arg-type]
        stdout.flush()
    else:
        with open_output(output, OUTPUT_ADVICE) as handle:
            _, report = predict_to(loaded, data, handle, options)  # type: ignore[arg-type]
    if report.message():
        warn(report.message())
