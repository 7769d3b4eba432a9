"""Training data read block by block: a parquet file, a CSV, or a directory or glob of them.

A source is a list of :class:`Block` s: one per parquet row group (found with
``pyarrow.dataset``, so blocks can be visited in any order) and one per CSV file (read
front to back in chunks by ``data.iter_table``, the reader ``predict`` uses, so cells
are cleaned the same way). Each block yields DataFrames of at most ``CHUNK_ROWS`` rows,
and nothing holds more than one chunk of the raw table at a time.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tabnet_cli.errors import DataError, short_list
from tabnet_cli.io.chunks import parquet_chunks
from tabnet_cli.io.csv_blocks import MIN_BLOCK_BYTES, pool_size
from tabnet_cli.io.csv_parse import first_line
from tabnet_cli.io.opening import check_source
from tabnet_cli.io.read_options import DEFAULT_READ, ReadOptions
from tabnet_cli.io.tables import iter_table

if TYPE_CHECKING:
    import pandas as pd

CHUNK_ROWS = 65536  # rows per chunk handed to preprocessing: about 5 MB per 10 columns
TABLE_SUFFIXES = (".parquet", ".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz")
# in-memory training holds the parsed table (float64 per number) next to the float32
# matrices and the parser's buffers: about this many times the table's raw size
IN_MEMORY_FACTOR = 3.0


@dataclass(frozen=True)
class Block:
    """One unit of reading: a parquet row group, or a whole CSV file (``row_group`` None)."""

    path: str
    row_group: int | None = None
    rows: int | None = None  # known from parquet metadata; CSV rows are counted when read
    bytes: int = 0  # a parquet row group's uncompressed size


def is_dataset(source: str) -> bool:
    """True for a directory or a glob pattern, which name several files.

    Example:
        >>> is_dataset("data/part-*.parquet"), is_dataset("data.csv")
        (True, False)
    """
    return any(mark in source for mark in "*?[") or Path(source).is_dir()


def table_files(source: str) -> list[str]:
    """The files a source names, sorted: itself, the files of a directory (recursively,
    skipping hidden and ``_``-prefixed ones such as Spark's ``_SUCCESS``) or a glob's
    matches. All must be parquet, or all CSV-like.

    Example:
        >>> table_files("sample_data/diabetes.csv")
        ['sample_data/diabetes.csv']
    """
    if not is_dataset(source):
        check_source(source)  # a named pipe, a device, a symlink loop: said as such
        return [source]
    if Path(source).is_dir():
        found = [
            str(path)
            for path in Path(source).rglob("*")
            if path.is_file()
            and path.name.lower().endswith(TABLE_SUFFIXES)
            and not any(part.startswith((".", "_")) for part in path.relative_to(source).parts)
        ]
    else:
        found = [path for path in glob.glob(source, recursive=True) if Path(path).is_file()]
    if not found:
        raise DataError(f"{source} names no table files (.parquet, .csv, .csv.gz, .tsv)")
    kinds = {path.lower().endswith(".parquet") for path in found}
    if len(kinds) > 1:
        raise DataError(f"{source} mixes parquet and CSV files; give one kind")
    return sorted(found)


def read_whole(source: str, options: ReadOptions = DEFAULT_READ) -> pd.DataFrame:
    """Every row of a directory or glob of table files, as one DataFrame.

    Example:
        >>> read_whole("sample_data/diab*.csv").shape
        (442, 11)
    """
    import pandas as pd  # pandas loads on first use, not with this module

    blocks = BlockSource.open(source, options)
    chunks = [chunk for index in range(len(blocks.blocks)) for chunk in blocks.read(index)]
    return pd.concat(chunks, ignore_index=True)


def iter_source(source: str, chunk_rows: int, options: ReadOptions = DEFAULT_READ):
    """``data.iter_table`` for a file or stdin, and for a directory or glob its files'
    chunks one file after the other (sorted by name): what ``predict`` reads.

    Example:
        >>> sum(len(chunk) for chunk in iter_source("sample_data/diab*.csv", 100))
        442
    """
    if source == "-" or not is_dataset(source):
        yield from iter_table(source, chunk_rows, options)
        return
    for path in table_files(source):
        yield from iter_table(path, chunk_rows, options)


class BlockSource:
    """The blocks of one source and how to read them.

    Example:
        >>> source = BlockSource.open("sample_data/diabetes.csv")
        >>> len(source.blocks), sum(len(chunk) for chunk in source.read(0))
        (1, 442)
    """

    def __init__(self, name: str, blocks: list[Block], options: ReadOptions):
        self.name, self.blocks, self.options = name, blocks, options
        self._columns: list[str] | None = None
        self._kinds: dict[str, tuple[str, str]] = {}  # column -> (kind, the file it is from)
        self._checked: set[str] = set()  # CSV files read through once, kinds checked

    @classmethod
    def open(cls, source: str, options: ReadOptions = DEFAULT_READ) -> BlockSource:
        files = table_files(source)
        if files[0].lower().endswith(".parquet"):
            return cls(source, _parquet_blocks(files), options)
        return cls(source, [Block(path) for path in files], options)

    @property
    def is_parquet(self) -> bool:
        return self.blocks[0].row_group is not None

    def table_bytes(self) -> int:
        """The table's size as stored, uncompressed for parquet (an estimate for gzip)."""
        if self.is_parquet:
            return sum(block.bytes for block in self.blocks)
        return sum(_text_bytes(path) for path in {block.path for block in self.blocks})

    def in_memory_bytes(self) -> int:
        """About the memory in-memory training would need for this table."""
        return int(self.table_bytes() * IN_MEMORY_FACTOR)

    def read_bytes(self) -> int:
        """Raw bytes held while a block is read, besides its chunks: the largest parquet
        row group's column chunks, or the CSV parser's round of blocks (at least 1 MiB
        each, one per thread and one more; a small file is one block)."""
        if self.is_parquet:
            return max(block.bytes for block in self.blocks)
        largest = max(_text_bytes(block.path) for block in self.blocks)
        return min((pool_size() + 1) * MIN_BLOCK_BYTES, largest)

    def read(
        self, index: int, columns: list[str] | None = None, rows: int = CHUNK_ROWS
    ) -> Iterator[pd.DataFrame]:
        """The chunks of block ``index`` in file order (all columns, or ``columns``), of
        at most ``rows`` rows."""
        block = self.blocks[index]
        if block.row_group is None:
            chunks = iter_table(block.path, rows, self.options)
        else:
            chunks = parquet_chunks(block.path, rows, self.options, [block.row_group], columns)
        for chunk in chunks:
            chunk.columns = [str(c).strip() for c in chunk.columns]
            self._check_columns(list(chunk.columns), block.path, columns)
            if block.row_group is None and block.path not in self._checked:
                self._check_kinds(chunk, block.path)  # parquet: by schema, when opened
            yield chunk if columns is None else chunk[columns]
        self._checked.add(block.path)

    def _check_kinds(self, chunk: pd.DataFrame, path: str) -> None:
        """A column holds the same kind of values (numbers, text...) in every file: the
        same column as numbers in one file and text in another is refused, naming both."""
        for name in chunk.columns:
            kind = value_kind(chunk[name])
            if kind is None:
                continue
            seen, where = self._kinds.setdefault(name, (kind, path))
            if seen != kind and where != path:
                raise mixed_kinds(name, (kind, path), (seen, where))

    def _check_columns(self, names: list[str], path: str, wanted: list[str] | None) -> None:
        """Every file of a source has the columns of the first one (or those ``wanted``)."""
        if wanted is None and self._columns is None:
            self._columns = names
        expected = self._columns if wanted is None else wanted
        if wanted is None and set(names) != set(expected) or not set(expected) <= set(names):
            raise DataError(
                f"{path} has other columns than {self.blocks[0].path}: "
                f"{short_list(sorted(set(names) ^ set(expected)))}; "
                "give files with the same columns"
            )


def _text_bytes(path: str) -> int:
    """A CSV file's size, uncompressed (an estimate for gzip)."""
    return os.stat(path).st_size * (4 if path.endswith(".gz") else 1)


def value_kind(column: pd.Series) -> str | None:
    """What a column of a chunk holds: numbers, text, booleans or dates and times; None
    when it holds nothing but missing values (which fit any kind).

    Example:
        >>> import pandas as pd
        >>> value_kind(pd.Series([1, None])), value_kind(pd.Series(["a", None]))
        ('numbers', 'text')
        >>> value_kind(pd.Series([True, None], dtype=object)), value_kind(pd.Series([None]))
        ('booleans', None)
    """
    import pandas as pd  # pandas loads on first use, not with this module

    if isinstance(column.dtype, pd.CategoricalDtype):
        column = pd.Series(column.cat.categories)
    if pd.api.types.is_bool_dtype(column.dtype):
        return "booleans"
    if pd.api.types.is_numeric_dtype(column.dtype):
        return None if column.isna().all() else "numbers"
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return "dates and times"
    found = pd.api.types.infer_dtype(column, skipna=True)
    kinds = {"boolean": "booleans", "empty": None, "date": "dates and times"}
    numbers = ("integer", "floating", "mixed-integer-float", "decimal")
    return "numbers" if found in numbers else kinds.get(found, "text")


def mixed_kinds(name: str, this: tuple[str, str], first: tuple[str, str]) -> DataError:
    return DataError(
        f"column {name!r} holds {this[0]} in {this[1]} but {first[0]} in {first[1]}; "
        "give files whose columns hold the same kind of values"
    )


def _arrow_kind(kind) -> str | None:
    """:func:`value_kind` of a parquet column, from its type alone."""
    import pyarrow as pa  # pyarrow loads on first use, not with this module

    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_null(kind) or pa.types.is_nested(kind):
        return None  # no values, or not a model input (parquet_columns leaves it out)
    if pa.types.is_boolean(kind):
        return "booleans"
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "numbers"
    if pa.types.is_temporal(kind):
        return "dates and times"
    return "text"


def _check_schemas(schemas: list[tuple[str, object]]) -> None:
    """The parquet files of a source give their columns the same kinds of values."""
    first: dict[str, tuple[str, str]] = {}
    for path, schema in schemas:
        for field in schema:  # type: ignore[attr-defined]
            kind = _arrow_kind(field.type)
            if kind is None:
                continue
            seen = first.setdefault(field.name.strip(), (kind, path))
            if seen[0] != kind:
                raise mixed_kinds(field.name.strip(), (kind, path), seen)


def _parquet_blocks(files: list[str]) -> list[Block]:
    import pyarrow as pa  # pyarrow loads on first use, not with this module
    import pyarrow.dataset as ds  # pyarrow loads on first use, not with this module

    blocks, schemas = [], []
    for path in files:
        try:
            dataset = ds.dataset(path, format="parquet")
            schemas.append((path, dataset.schema))
            fragment = next(iter(dataset.get_fragments()))
            for group in fragment.row_groups:
                blocks.append(Block(path, group.id, group.num_rows, group.total_byte_size))
        except pa.ArrowCancelled:
            raise KeyboardInterrupt from None
        except (pa.ArrowException, OSError, StopIteration) as exc:
            raise DataError(f"{path}: cannot read parquet ({first_line(exc)})") from None
    if not blocks or not sum(block.rows or 0 for block in blocks):
        raise DataError(f"{files[0]} holds no rows")
    _check_schemas(schemas)
    return blocks
