"""Reading tables (CSV, TSV, gzip, parquet, stdin), the seeded split and task inference.

Every problem a user can cause with their file becomes a one-line :class:`DataError`.
"""

from __future__ import annotations

import csv
import difflib
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from tabnet_cli.errors import DataError, short_list

if TYPE_CHECKING:
    import pandas as pd

# Markers read as missing on top of pandas' defaults: UCI files use a lone "?".
EXTRA_NA_VALUES = ("?",)
# pandas' default missing-value markers, given to pyarrow so both readers agree.
PANDAS_NA_VALUES = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)
_SEPARATORS = (",", ";", "\t", "|")
_SNIFF_BYTES = 64 * 1024
STREAM_BYTES = 256 << 20  # files larger than this are parsed block by block


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


def _detect_separator(head: str) -> str:
    """Picks the separator that splits the header line into the most fields.

    Example:
        >>> _detect_separator("a;b;c\\n1;2;3\\n")
        ';'
    """
    first_line = head.splitlines()[0] if head else ""
    counts = {sep: first_line.count(sep) for sep in _SEPARATORS}
    best = max(counts, key=lambda sep: counts[sep])
    if counts[best] == 0:
        return ","
    try:  # the sniffer resolves quoted headers; fall back to counting when it cannot
        sniffed = csv.Sniffer().sniff(head[:_SNIFF_BYTES], delimiters="".join(_SEPARATORS))
        if sniffed.delimiter in _SEPARATORS and first_line.count(sniffed.delimiter) > 0:
            return sniffed.delimiter
    except csv.Error:
        pass
    return best


def _peek(name: str, stream: BinaryIO) -> tuple[bytes, BinaryIO]:
    """Reads the first bytes to sniff, returning a stream that still yields everything."""
    owned = [stream]  # closed with the returned stream (GzipFile leaves its file open)
    if name.endswith(".gz"):
        import gzip

        stream = gzip.GzipFile(fileobj=stream)  # type: ignore[assignment]
        owned.insert(0, stream)
    try:
        head = stream.read(_SNIFF_BYTES)
    except (OSError, EOFError) as exc:
        for handle in owned:
            handle.close()
        raise DataError(f"{name}: cannot read the file ({exc})") from None
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


def _csv_options(name: str, head: bytes, na_values: tuple[str, ...]) -> dict:
    if b"\x00" in head:
        raise DataError(f"{name} is not a text file; give a CSV (or .parquet) file")
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a cut multi-byte character at the end is fine
            raise DataError(f"{name} is not UTF-8 text; re-save it as UTF-8 CSV") from None
        text = head[: exc.start].decode("utf-8-sig")
    if not text.strip():
        raise DataError(f"{name} is empty; give a CSV with a header row and data rows")
    sep = "\t" if name.endswith((".tsv", ".tsv.gz", ".tab")) else _detect_separator(text)
    return {
        "sep": sep,
        "encoding": "utf-8-sig",
        "na_values": list(EXTRA_NA_VALUES + tuple(na_values)),
        "skipinitialspace": True,
    }


def _tidy(frame: pd.DataFrame, name: str, notices: list[str] | None) -> pd.DataFrame:
    """Strips column names, names empty ones as pandas does (``Unnamed: 3``) whichever
    parser read the file, and drops an unnamed leading index column (Kaggle exports)."""
    frame.columns = [str(c).strip() or f"Unnamed: {i}" for i, c in enumerate(frame.columns)]
    first = frame.columns[0] if len(frame.columns) else None
    if first is not None and (first == "" or first.startswith("Unnamed: 0")):
        frame = frame.drop(columns=[first])
        if notices is not None:
            notices.append(f"ignored the unnamed index column at the start of {name}")
    return frame


def read_table(
    source: str, na_values: tuple[str, ...] = (), notices: list[str] | None = None
) -> pd.DataFrame:
    """Reads a CSV/TSV (optionally gzipped), parquet file or ``-`` (stdin) into a DataFrame.

    Notices for the user (e.g. an ignored index column) are appended to ``notices``.

    Example:
        >>> read_table("sample_data/diabetes.csv").shape
        (442, 11)
    """
    import pandas as pd

    name, stream = _open_source(source)
    if name.endswith(".parquet"):
        try:
            with stream:
                frame = pd.read_parquet(stream)
        except Exception as exc:  # pyarrow raises many types for a broken file
            raise DataError(f"{name}: cannot read parquet ({exc})") from None
    else:
        head, stream = _peek(name, stream)
        try:
            options = _csv_options(name, head, na_values)
            frame = _read_with_arrow(source, options) if source != "-" else None
            if frame is None:
                frame = _read_with_pandas(name, stream, options)
        finally:
            stream.close()  # stdin itself stays open
    frame = _tidy(frame, name, notices)
    if len(frame) == 0:
        raise DataError(f"{name} has a header but no data rows")
    return frame


def _read_with_arrow(path: str, options: dict) -> pd.DataFrame | None:
    """pyarrow's CSV reader (multi-threaded on files under ``STREAM_BYTES``, streamed and
    lean above); None when it refuses the file, so pandas can read it or explain why."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pv
    except ImportError:
        return None
    # newlines inside quoted values would serialise the parser: such files fail here and
    # go to pandas, which reads them
    parse = pv.ParseOptions(delimiter=options["sep"])
    convert = pv.ConvertOptions(
        null_values=list(PANDAS_NA_VALUES) + options["na_values"],
        strings_can_be_null=True,
        # text with few distinct values arrives as pandas Categorical: a byte per row
        # instead of a Python string object
        auto_dict_encode=True,
    )
    table = _arrow_table(path, parse, convert)
    if table is None:
        return None
    temporal = [f.name for f in table.schema if pa.types.is_temporal(f.type)]
    if temporal:
        # pyarrow turns ISO dates into timestamps, pandas (which predict streams with)
        # keeps them as text: read them as text here too, so both see the same values.
        convert.column_types = {name: pa.string() for name in temporal}
        table = _arrow_table(path, parse, convert)
        if table is None:
            return None
    if len(set(table.column_names)) != len(table.column_names):
        return None  # duplicated names: pandas numbers them (a, a.1) as users expect
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    # Arrow's allocator keeps the freed parse buffers for reuse; hand them back to the OS
    # (on a 1M-row file, 450 MB that training would otherwise carry).
    pa.default_memory_pool().release_unused()
    return frame


def _arrow_table(path: str, parse, convert):
    import pyarrow as pa
    import pyarrow.csv as pv

    try:
        if Path(path).stat().st_size < STREAM_BYTES:
            raise ValueError("small file: read it whole, with every core")
        # Streaming parses on one core but holds only a block of the file at a time (on a
        # 1M-row file: 6 s instead of 2.5 s, and 560 MB less at the peak). It infers the
        # column types from the first block, so a file whose later rows disagree (a
        # number column with text further down) is read again as a whole.
        reader = pv.open_csv(
            path,
            read_options=pv.ReadOptions(block_size=8 << 20),
            parse_options=parse,
            convert_options=convert,
        )
        return pa.Table.from_batches(list(reader), schema=reader.schema)
    except (pa.ArrowException, OSError, ValueError):
        try:
            return pv.read_csv(path, parse_options=parse, convert_options=convert)
        except (pa.ArrowException, OSError, ValueError):
            return None


def _read_with_pandas(name: str, stream, options: dict) -> pd.DataFrame:
    import pandas as pd

    try:
        return pd.read_csv(stream, **options)
    except pd.errors.EmptyDataError:
        raise DataError(f"{name} is empty; give a CSV with a header row") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{name}: malformed CSV ({_first_line(exc)})") from None
    except UnicodeDecodeError:
        raise DataError(f"{name} is not UTF-8 text; re-save it as UTF-8 CSV") from None


def iter_table(
    source: str, chunk_rows: int, na_values: tuple[str, ...] = ()
) -> Iterator[pd.DataFrame]:
    """Yields a table in chunks of at most ``chunk_rows`` rows, so memory stays bounded.

    Example:
        >>> [len(chunk) for chunk in iter_table("sample_data/diabetes.csv", 200)]
        [200, 200, 42]
    """
    import pandas as pd

    name = "<stdin>" if source == "-" else source
    if name.endswith(".parquet"):
        yield read_table(source, na_values)
        return
    name, stream = _open_source(source)
    head, stream = _peek(name, stream)
    seen_rows = False
    try:
        options = _csv_options(name, head, na_values)
        with pd.read_csv(stream, chunksize=chunk_rows, **options) as reader:
            for chunk in reader:
                seen_rows = True
                yield _tidy(chunk, name, None)
    except pd.errors.EmptyDataError:
        raise DataError(f"{name} is empty; give a CSV with a header row") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{name}: malformed CSV ({_first_line(exc)})") from None
    finally:
        stream.close()  # stdin itself stays open
    if not seen_rows:
        raise DataError(f"{name} has a header but no data rows")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


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
