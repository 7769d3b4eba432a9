"""Reading tables (CSV, TSV, gzip, parquet, stdin), the seeded split and column checks.

Every problem a user can cause with their file becomes a one-line :class:`DataError`.
Sniffing a CSV's format lives in :mod:`tabnet_cli.io.csv_format`, the two CSV parsers (pyarrow
for whole files, pandas for chunks and stdin) and the cell clean-up that makes them agree
in :mod:`tabnet_cli.io.csv_parse`.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from tabnet_cli.errors import DataError, short_list
from tabnet_cli.io.chunks import csv_chunks, parquet_chunks
from tabnet_cli.io.csv_format import sniff_format
from tabnet_cli.io.csv_parse import (
    pandas_errors,
    pandas_options,
    read_with_arrow,
)
from tabnet_cli.io.opening import is_stream, open_source, peek, shape_frame
from tabnet_cli.io.parquet import read_parquet
from tabnet_cli.io.read_options import DEFAULT_READ, ReadOptions

if TYPE_CHECKING:
    import pandas as pd


def _is_index_column(frame: pd.DataFrame) -> bool:
    """An unnamed leading column holding exactly 0..n-1 or 1..n is a saved row index
    (pandas ``to_csv``, Kaggle exports); anything else in it is data and is kept."""
    import pandas as pd  # pandas loads on first use, not with this module

    if frame.shape[1] < 2 or not str(frame.columns[0]).startswith("Unnamed: 0"):
        return False
    column = frame.iloc[:, 0]
    if not pd.api.types.is_integer_dtype(column) or pd.api.types.is_bool_dtype(column):
        return False
    values = column.to_numpy()
    return bool(len(values)) and any(
        np.array_equal(values, np.arange(start, start + len(values))) for start in (0, 1)
    )


def read_table(
    source: str, options: ReadOptions = DEFAULT_READ, notices: list[str] | None = None
) -> pd.DataFrame:
    """Reads a CSV/TSV (optionally gzipped), parquet file or ``-`` (stdin) into a DataFrame.

    Notices for the user (an ignored index column, nested parquet columns) are appended
    to ``notices``. Gives the same values as :func:`iter_table` for the same file.

    Example:
        >>> read_table("sample_data/diabetes.csv").shape
        (442, 11)
        >>> read_table("sample_data/diabetes.csv", ReadOptions(header=False)).columns[0]
        'V1'
    """
    name, stream = open_source(source)
    if name.endswith(".parquet"):
        frame = shape_frame(read_parquet(name, stream, notices), name, None, options)
    else:
        head, stream = peek(name, stream)
        try:
            form = sniff_format(name, head, options)
            frame = None if is_stream(source) else read_with_arrow(source, form, options)
            if frame is None:
                import pandas as pd  # pandas loads on first use, not with this module

                with pandas_errors(name, form.encoding):
                    frame = pd.read_csv(stream, **pandas_options(form, options))
        finally:
            stream.close()  # stdin itself stays open
        frame = shape_frame(frame, name, form, options)
    if _is_index_column(frame):
        frame = frame.iloc[:, 1:]
        if notices is not None:
            notices.append(f"ignored the unnamed index column at the start of {name}")
    if len(frame) == 0:
        raise DataError(f"{name} has a header but no data rows")
    return frame


def iter_table(
    source: str, chunk_rows: int, options: ReadOptions = DEFAULT_READ
) -> Iterator[pd.DataFrame]:
    """Yields a table in chunks of at most ``chunk_rows`` rows, so memory stays bounded
    whatever the file size (CSV parsed by pyarrow on every core a few blocks ahead,
    parquet by record batches; see :mod:`tabnet_cli.io.chunks`). The values are those
    :func:`read_table` gives (the first chunk decides whether an unnamed leading column
    is a row index).

    Example:
        >>> [len(chunk) for chunk in iter_table("sample_data/diabetes.csv", 200)]
        [200, 200, 42]
    """

    name = "<stdin>" if source == "-" else source
    read = parquet_chunks if name.endswith(".parquet") else csv_chunks
    rows, index_column = 0, None
    for chunk in read(source, chunk_rows, options):
        if index_column is None:
            index_column = _is_index_column(chunk)
        rows += len(chunk)
        yield chunk.iloc[:, 1:] if index_column else chunk
    if not rows:
        raise DataError(f"{name} has a header but no data rows")


def sha256_of(source: str) -> str | None:
    """The file's sha256 (None for stdin), recorded so a run names the exact data it saw."""
    if source == "-":
        return None

    digest = hashlib.sha256()
    with open(source, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def require_columns(frame: pd.DataFrame, columns: list[str], what: str, name: str) -> None:
    """Raises a DataError naming missing columns and the closest existing names.

    Example:
        >>> import pandas as pd
        >>> require_columns(pd.DataFrame({"quality": [1]}), ["qualty"], "target", "wine.csv")
        Traceback (most recent call last):
        ...
        tabnet_cli.errors.DataError: target column 'qualty' not found in wine.csv; did you mean ...
    """
    available = [str(c) for c in frame.columns]
    missing = [c for c in columns if c not in available]
    if not missing:
        return
    if 2 * sum(map(_is_number, available)) >= len(available):  # a data row as header
        raise DataError(
            f"{what} column{'s' * (len(missing) > 1)} "
            f"{short_list([repr(c) for c in missing])} not found in "
            f"{name}: its first line ({short_list(available, 4)}) looks like data, not "
            "column names; add a header line, or train with --no-header (columns V1, V2...) "
            "or --names a,b,..."
        )
    if len(missing) == 1:
        close = difflib.get_close_matches(missing[0], available, n=3, cutoff=0.5)
        hint = (
            "did you mean " + " or ".join(repr(c) for c in close) + "?"
            if close
            else "available columns: " + short_list(available)
        )
        raise DataError(f"{what} column {missing[0]!r} not found in {name}; {hint}")
    raise DataError(
        f"{what} columns not found in {name}: {short_list(missing)}; "
        f"available columns: {short_list(available)}"
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
