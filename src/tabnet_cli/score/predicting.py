"""``predict`` as a pipeline of three threads over chunks of rows: one reads and
preprocesses the next chunks, this one runs the model, one formats and writes the
previous chunks' predictions (:mod:`tabnet_cli.io.background`, at most two chunks waiting
in each queue, so memory stays bounded whatever the file size).

The model sees exactly the chunks it saw without threads (``--batch-size`` rows, cut where
the reader cuts them) and is the only user of NumPy's matrix products, on this thread:
the float32 results, which depend on how rows are grouped into products and on the
number of BLAS threads, are the same bytes as before. Errors come in the order they
would without threads: a bad row in the third chunk is reported after the first two
chunks' predictions are written (to stdout; ``-o`` is written atomically, so nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, TextIO

import numpy as np

from tabnet_cli.errors import DataError
from tabnet_cli.io.background import WriteBehind, read_ahead
from tabnet_cli.io.csv_write import write_csv
from tabnet_cli.io.sources import display_name
from tabnet_cli.io.tables import require_columns
from tabnet_cli.prep.features import TransformReport
from tabnet_cli.run.run_dir import LoadedRun
from tabnet_cli.score.inference import (
    DEFAULT_CHUNK_ROWS,
    input_names,
    model_outputs,
    prepared_chunks,
    probability_columns,
    refuse_non_finite,
)

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class PredictOptions:
    """What ``predict`` writes besides the prediction column."""

    proba: bool = False
    keep: tuple[str, ...] = ()
    keep_all: bool = False
    chunk_rows: int = DEFAULT_CHUNK_ROWS


def predict_to(
    run: LoadedRun, source: str, stream: TextIO, options: PredictOptions
) -> tuple[int, TransformReport]:
    """Writes a CSV with a header: kept input columns, the prediction (named after the
    target, in original units or labels), then one probability column per class with
    ``proba``. Returns the number of rows written and the transform report.

    Example:
        >>> import io
        >>> run = load_run("runs/diabetes")  # doctest: +SKIP
        >>> rows, _ = predict_to(run, "new.csv", io.StringIO(), PredictOptions())  # doctest: +SKIP
    """
    if options.proba and run.task == "regression":
        raise DataError("--proba needs a classification model; this run is a regression")
    report = TransformReport()
    name, rows = display_name(source), 0
    chunks = prepared_chunks(run, source, options.chunk_rows, report)
    with read_ahead(chunks) as ahead, WriteBehind() as writer:
        for chunk, x in ahead:
            raw = model_outputs(run, x)
            refuse_non_finite(raw, rows, name)
            if rows == 0:
                _check_keep(chunk, options, source)
            kept = kept_columns(chunk, options)  # the writer holds these, not the chunk
            writer.submit(partial(write_chunk, run, kept, raw, options, stream, rows == 0))
            rows += len(chunk)
    return rows, report


def kept_columns(chunk: pd.DataFrame, options: PredictOptions) -> pd.DataFrame:
    """The input columns copied next to the predictions (none by default)."""
    return chunk if options.keep_all else chunk[list(dict.fromkeys(options.keep))]


def write_chunk(
    run: LoadedRun,
    kept: pd.DataFrame,
    raw: np.ndarray,
    options: PredictOptions,
    stream: TextIO,
    header: bool,
) -> None:
    """Writes one chunk's rows: the kept input columns, the prediction, the probabilities."""
    import pandas as pd  # pandas loads on first use, not with this module

    outputs = {run.target_name: run.target.decode(raw)}
    if options.proba:
        names = probability_columns(run.target.classes_, run.target_name)
        outputs.update(zip(names, run.target.probabilities(raw).T, strict=True))
    kept = kept.rename(columns=input_names(list(kept.columns), list(outputs)))
    frame = pd.concat([kept.reset_index(drop=True), pd.DataFrame(outputs)], axis=1)
    write_csv(frame, stream, header)


def _check_keep(chunk: pd.DataFrame, options: PredictOptions, source: str) -> None:
    if options.keep:
        require_columns(chunk, list(options.keep), "--keep", display_name(source))
