"""Reading a table in chunks of rows, in bounded memory, for ``predict``, ``evaluate`` and
``importance`` (through :func:`tabnet_cli.io.tables.iter_table`).

CSV files are parsed by pyarrow block by block on a thread pool
(:mod:`tabnet_cli.io.csv_blocks`), so parsing the next rows overlaps the model's work on
these; parquet files are read by record batches. What pyarrow cannot read (whitespace-
separated columns, quoted values after spaces, UTF-16, stdin, a malformed or badly
encoded row) goes to pandas' chunked parser, which reads it or says what is wrong; if
that happens mid-file, pandas starts after the rows already given. Every chunk goes
through the same cell clean-up as :func:`tabnet_cli.io.tables.read_table`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from tabnet_cli.io.csv_blocks import (
    Unsafe,
    block_size,
    newline_safe,
    parsed_blocks,
    pool_size,
    rechunk,
)
from tabnet_cli.io.csv_format import sniff_format
from tabnet_cli.io.csv_parse import READ_ERRORS, arrow_setup, pandas_errors, pandas_options
from tabnet_cli.io.opening import is_stream, open_source, peek, shape_frame
from tabnet_cli.io.parquet import decimals_as_floats, parquet_columns, parquet_errors

if TYPE_CHECKING:
    import pandas as pd

    from tabnet_cli.io.read_options import ReadOptions


def csv_chunks(source: str, chunk_rows: int, options: ReadOptions) -> Iterator[pd.DataFrame]:
    """Shaped chunks of a CSV (or ``-``) of at most ``chunk_rows`` rows.

    Example:
        >>> from tabnet_cli.io.read_options import ReadOptions
        >>> [len(c) for c in csv_chunks("sample_data/diabetes.csv", 400, ReadOptions())]
        [400, 42]
    """

    name, stream = open_source(source)
    head, stream = peek(name, stream)
    given = 0
    try:
        form = sniff_format(name, head, options)
        setup = arrow_setup(form, options)
        if setup is not None and not is_stream(source) and newline_safe(form.encoding):
            try:
                # a chunk's rows in one block per thread, parsed when the chunk is
                # asked for: not while NumPy's threads compute on the previous one
                size = block_size(head, max(chunk_rows // pool_size(), 1))
                blocks = parsed_blocks(stream, setup, size, ahead=False)
                for table in rechunk(blocks, chunk_rows):
                    frame = table.to_pandas(split_blocks=True)
                    del table
                    frame = shape_frame(frame, name, form, options)
                    given += len(frame)
                    yield frame
                return
            except (Unsafe, *READ_ERRORS):  # damaged gzip: pandas' reading says so
                stream.close()  # pandas reads the file again, from its start
                name, stream = open_source(source)
                head, stream = peek(name, stream)
        for frame in _pandas_chunks(stream, name, form, options, chunk_rows, given):
            yield shape_frame(frame, name, form, options)
    finally:
        stream.close()  # stdin itself stays open


def _pandas_chunks(stream, name: str, form, options, chunk_rows: int, skip: int):
    """pandas' chunked parser, leaving out the first ``skip`` data rows."""
    import pandas as pd  # pandas loads on first use, not with this module

    kwargs = pandas_options(form, options)
    with (
        pandas_errors(name, form.encoding),
        pd.read_csv(stream, chunksize=chunk_rows, **kwargs) as reader,
    ):
        for chunk in reader:
            if skip >= len(chunk):
                skip -= len(chunk)
                continue
            yield chunk.iloc[skip:] if skip else chunk
            skip = 0


def parquet_chunks(
    source: str,
    chunk_rows: int,
    options: ReadOptions,
    row_groups: list[int] | None = None,
    columns: list[str] | None = None,
) -> Iterator[pd.DataFrame]:
    """Shaped chunks of a parquet file, record batch by record batch (nested columns are
    left out, as :func:`tabnet_cli.io.tables.read_table` leaves them out); only ``row_groups``
    and ``columns`` (names as shaped, i.e. stripped) when given.

    Example:
        >>> chunks = parquet_chunks("new.parquet", 65536, ReadOptions())  # doctest: +SKIP
    """
    import pyarrow as pa  # pyarrow loads on first use, not with this module
    import pyarrow.parquet as pq  # pyarrow loads on first use, not with this module

    name, stream = open_source(source)
    with parquet_errors(name), stream:
        parquet = pq.ParquetFile(stream)
        plain, nested = parquet_columns(parquet, name)
        if columns is not None:
            plain = [c for c in plain if c.strip() in columns]
        batches = parquet.iter_batches(
            batch_size=chunk_rows,
            row_groups=row_groups,
            columns=plain if nested or columns is not None else None,
            use_pandas_metadata=True,
        )
        for batch in batches:
            frame = decimals_as_floats(pa.Table.from_batches([batch])).to_pandas()
            yield shape_frame(frame, name, None, options)
