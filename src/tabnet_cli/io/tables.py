"""Reading tables (CSV, TSV, gzip, parquet, stdin), the seeded split and column checks.

Every problem a user can cause with their file becomes a one-line :class:`DataError`.
Sniffing a CSV's format lives in :mod:`tabnet_cli.io.csv_format`, the two CSV parsers (pyarrow
for whole files, pandas for chunks and stdin) and the cell clean-up that makes them agree
in :mod:`tabnet_cli.io.csv_parse`.
"""

from __future__ import annotations

import codecs
import difflib
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from tabnet_cli.errors import DataError, short_list
from tabnet_cli.io.csv_format import SNIFF_BYTES, CsvFormat, refuse_duplicates, sniff_format
from tabnet_cli.io.csv_parse import (
    READ_ERRORS,
    clean_cells,
    damaged,
    first_line,
    pandas_errors,
    pandas_options,
    read_with_arrow,
    refuse_decimal_commas,
)
from tabnet_cli.settings.config import DataConfig

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class ReadOptions:
    """How to read a CSV, saved with a run so ``predict`` reads new files the same way.
    Each field is one command-line option: ``--na-values``, ``--no-default-na`` (only blanks
    and ``na_values`` are missing), ``--no-header`` (columns ``V1..Vn``), ``--names`` (the
    first line is data), ``--encoding`` (``utf-8`` accepts a BOM), ``--decimal``.

    Example:
        >>> ReadOptions(names=["x", "y"], decimal=",").to_dict()["names"]
        ['x', 'y']
        >>> ReadOptions.from_dict({"encoding": "latin-1", "header": False}).header
        False
    """

    # the defaults are DataConfig's, the one source of every default
    na_values: tuple[str, ...] = DataConfig.na_values
    default_na: bool = DataConfig.default_na
    header: bool = DataConfig.header
    names: tuple[str, ...] = DataConfig.names
    encoding: str = DataConfig.encoding
    decimal: str = DataConfig.decimal

    def __post_init__(self) -> None:
        for key in ("na_values", "names"):
            value = getattr(self, key)
            value = tuple(value) if isinstance(value, list) else value  # as JSON gives it
            if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
                raise TypeError(f"read option {key} must be a list of strings, not {value!r}")
            object.__setattr__(self, key, value)
        for key, kind in (("default_na", bool), ("header", bool), ("encoding", str)):
            if not isinstance(getattr(self, key), kind):
                raise TypeError(f"read option {key} must be a {kind.__name__}")
        if not isinstance(self.decimal, str):
            raise TypeError("read option decimal must be a str")
        object.__setattr__(self, "names", tuple(name.strip() for name in self.names))
        _check_read_options(self)

    def to_dict(self) -> dict:
        """Plain JSON values (lists for tuples)."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> ReadOptions:
        """The options ``to_dict`` gave; unknown keys or wrong types raise ValueError."""
        if not isinstance(data, dict):
            raise ValueError(f"read options must be a JSON object, not {type(data).__name__}")
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown read option(s): {', '.join(unknown)}")
        try:
            return cls(**data)
        except (TypeError, DataError) as exc:
            raise ValueError(str(exc)) from None


def _jsonable(value):
    return list(value) if isinstance(value, tuple) else value


def _check_read_options(options: ReadOptions) -> None:
    """Values a user can get wrong on the command line: one DataError naming the option."""
    try:
        known = codecs.lookup(options.encoding)._is_text_encoding  # not "hex" or "zlib"
    except LookupError:
        known = False
    if not known:
        raise DataError(
            f"unknown --encoding {options.encoding!r}; use e.g. utf-8, latin-1, cp1252 or utf-16"
        )
    mark = options.decimal
    if len(mark) != 1 or mark.isalnum() or mark.isspace() or mark in "\"'+-":
        raise DataError(f"--decimal must be one mark such as . or , (got {mark!r})")
    if "" in options.names:
        raise DataError("--names has an empty name; give one name per column, e.g. a,b,y")
    repeated = sorted({name for name in options.names if options.names.count(name) > 1})
    if repeated:
        raise DataError(f"--names repeats {short_list(repeated)}; give each column its own name")


def _open_source(source: str) -> tuple[str, BinaryIO]:
    """Opens a path or ``-`` (stdin) as a binary stream; returns (display name, stream)."""
    if source == "-":
        return "<stdin>", sys.stdin.buffer
    path = Path(source)
    if not path.exists():
        raise DataError(f"{source}: no such file; check the path")
    if path.is_dir():
        raise DataError(f"{source} is a directory; give a CSV or parquet file")
    return source, path.open("rb")


def _peek(name: str, stream: BinaryIO) -> tuple[bytes, BinaryIO]:
    """Reads the first bytes to sniff, returning a stream that still yields everything."""
    owned = [stream]  # closed with the returned stream (GzipFile leaves its file open)
    if name.endswith(".gz"):
        import gzip

        stream = gzip.GzipFile(fileobj=stream)  # type: ignore[assignment]
        owned.insert(0, stream)
    try:
        head = stream.read(SNIFF_BYTES)
    except READ_ERRORS as exc:
        for handle in owned:
            handle.close()
        raise DataError(damaged(name, exc)) from None
    rest = io.BufferedReader(_Chain(head, stream, owned))  # type: ignore[arg-type]
    return head, rest


class _Chain(io.RawIOBase):
    """A raw stream that replays already-read bytes, then continues with the source."""

    def __init__(self, head: bytes, tail: BinaryIO, owned: list):
        self._head = head
        self._tail = tail
        self._owned = owned

    def close(self) -> None:
        if not self.closed:
            for handle in self._owned:
                if handle is not sys.stdin.buffer:
                    handle.close()
        super().close()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._tail.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _shape(
    frame: pd.DataFrame, name: str, form: CsvFormat | None, options: ReadOptions
) -> pd.DataFrame:
    """Column names as the user sees them (stripped; ``Unnamed: 3`` for an empty one, as
    pandas names it, whichever parser read the file; ``V1..Vn`` without a header), then
    cleaned cells for a CSV (``form``)."""
    if not options.header and not options.names and form is not None:
        frame.columns = [f"V{i + 1}" for i in range(frame.shape[1])]
    frame.columns = [str(c).strip() or f"Unnamed: {i}" for i, c in enumerate(frame.columns)]
    refuse_duplicates(list(frame.columns), name)
    if form is not None:
        frame = clean_cells(frame, form.markers, options.decimal)
        if options.decimal == "." and form.sep != ",":
            refuse_decimal_commas(frame, name)
    return frame


def _is_index_column(frame: pd.DataFrame) -> bool:
    """An unnamed leading column holding exactly 0..n-1 or 1..n is a saved row index
    (pandas ``to_csv``, Kaggle exports); anything else in it is data and is kept."""
    import pandas as pd

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
    source: str, options: ReadOptions = ReadOptions(), notices: list[str] | None = None
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
    name, stream = _open_source(source)
    if name.endswith(".parquet"):
        frame = _shape(_read_parquet(name, stream, notices), name, None, options)
    else:
        head, stream = _peek(name, stream)
        try:
            form = sniff_format(name, head, options)
            frame = read_with_arrow(source, form, options) if source != "-" else None
            if frame is None:
                import pandas as pd

                with pandas_errors(name, form.encoding):
                    frame = pd.read_csv(stream, **pandas_options(form, options))
        finally:
            stream.close()  # stdin itself stays open
        frame = _shape(frame, name, form, options)
    if _is_index_column(frame):
        frame = frame.iloc[:, 1:]
        if notices is not None:
            notices.append(f"ignored the unnamed index column at the start of {name}")
    if len(frame) == 0:
        raise DataError(f"{name} has a header but no data rows")
    return frame


def parquet_columns(parquet, name: str) -> tuple[list[str], list[str]]:
    """(plain, nested) column names of a ``pyarrow.parquet.ParquetFile``; lists, structs
    and maps are not model inputs, and a file of nothing else is an error."""
    import pyarrow as pa

    schema = parquet.schema_arrow
    nested = [f.name for f in schema if pa.types.is_nested(f.type)]
    plain = [f.name for f in schema if not pa.types.is_nested(f.type)]
    if nested and not plain:
        raise DataError(
            f"{name} has only nested columns (lists, structs or maps): "
            f"{short_list(nested)}; give a table with plain columns"
        )
    return plain, nested


@contextmanager
def parquet_errors(name: str):
    """A broken parquet file is one DataError line; pyarrow's Ctrl-C stays a Ctrl-C."""
    import pyarrow as pa

    try:
        yield
    except DataError:
        raise
    except pa.ArrowCancelled:  # pyarrow's form of Ctrl-C: keep it one
        raise KeyboardInterrupt from None
    except Exception as exc:  # pyarrow and pandas raise many types for a broken file
        raise DataError(f"{name}: cannot read parquet ({first_line(exc)})") from None


def _read_parquet(name: str, stream: BinaryIO, notices: list[str] | None) -> pd.DataFrame:
    """Reads the columns a model can use: lists, structs and maps are left out, named."""
    import pyarrow.parquet as pq

    with parquet_errors(name), stream:
        parquet = pq.ParquetFile(stream)
        plain, nested = parquet_columns(parquet, name)
        table = parquet.read(columns=plain if nested else None, use_pandas_metadata=True)
        frame = table.to_pandas()
    if nested and notices is not None:
        notices.append(
            f"ignored nested column(s) in {name} (lists, structs and maps are not model "
            f"inputs): {short_list(nested)}"
        )
    return frame


def iter_table(
    source: str, chunk_rows: int, options: ReadOptions = ReadOptions()
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
    from tabnet_cli.io.chunks import csv_chunks, parquet_chunks

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
    import hashlib

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


def split_positions(rows: int, validation_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the course's split: training rows are exactly those of
    ``df.sample(frac=1-F, random_state=S)`` (in that order), validation rows the rest
    (``df.drop(train.index)``). Sampling a small integer Series walks the same random
    path as sampling the DataFrame, without copying the data.

    Example:
        >>> train, valid = split_positions(10, 0.3, seed=0)
        >>> train.tolist(), valid.tolist()
        ([2, 8, 4, 9, 1, 6, 7], [0, 3, 5])
    """
    import pandas as pd

    train = pd.Series(np.arange(rows)).sample(frac=1 - validation_split, random_state=seed)
    train_positions = train.to_numpy()
    keep = np.ones(rows, dtype=bool)
    keep[train_positions] = False
    valid_positions = np.flatnonzero(keep)
    if len(train_positions) < 2 or len(valid_positions) < 1:
        raise DataError(
            f"{rows} rows are too few for --validation-split {validation_split}: "
            f"it leaves {len(train_positions)} training and {len(valid_positions)} "
            "validation rows; give more rows or another split"
        )
    return train_positions, valid_positions
