"""pyarrow's CSV parser on many cores, in bounded memory: the file is cut into blocks at
newlines, and blocks are parsed on a thread pool a few at a time, in file order.

pyarrow's own streaming reader (``pyarrow.csv.open_csv``) is always single-threaded, and
its whole-file reader holds the whole file. Here the first block decides the column types
(as the streaming reader does) and later blocks are parsed with them; pyarrow releases the
GIL while parsing, so the blocks parse in parallel, and the caller's work on one block
overlaps the parsing of the next ones.

A cut is only made where it cannot fall inside a quoted value (see :func:`_safe_cut`);
when that cannot be told, or pyarrow refuses a block, :class:`Unsafe` tells the caller
to use a slower reader that handles everything.
"""

from __future__ import annotations

import codecs
import copy
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

BLOCK_BYTES = 16 << 20  # what one thread parses at a time
MIN_BLOCK_BYTES = 1 << 20  # tests lower it to get many blocks from a small file
PARSE_BYTES = 1 << 20  # pyarrow's unit inside a block: larger ones parse slower (cache)
_QUOTE = ord('"')


class Unsafe(Exception):
    """The file cannot be cut or parsed here; read it with a reader that handles all."""


@dataclass
class ArrowSetup:
    """pyarrow's options for one file, as :func:`tabnet_cli.io.csv_parse.arrow_setup` decides."""

    parse: object  # pyarrow.csv.ParseOptions
    convert: object  # pyarrow.csv.ConvertOptions
    read: dict = field(default_factory=dict)  # pyarrow.csv.ReadOptions keywords


def newline_safe(encoding: str) -> bool:
    """Whether a ``\\n`` byte always ends a line in this encoding (UTF-8 and one-byte
    encodings; not UTF-16, nor Shift-JIS-like ones whose second bytes vary).

    Example:
        >>> newline_safe("utf-8"), newline_safe("latin-1"), newline_safe("utf-16")
        (True, True, False)
    """

    name = codecs.lookup(encoding).name
    if name.startswith("utf-8") or name == "ascii":
        return True
    try:
        one_byte = len(bytes(range(256)).decode(encoding, errors="replace")) == 256
    except (LookupError, ValueError):
        return False
    return one_byte and "\n".encode(encoding) == b"\n"


def block_size(head: bytes, rows: int) -> int:
    """Bytes per block so that a block holds about ``rows`` rows, judged from ``head``.

    Example:
        >>> block_size(b"a,b\\n" * 1000, 65536) == MIN_BLOCK_BYTES
        True
    """
    per_row = len(head) / max(head.count(b"\n"), 1)
    return int(min(max(rows * per_row, MIN_BLOCK_BYTES), 4 * BLOCK_BYTES))


def pool_size() -> int:
    """Threads parsing blocks: the cores, up to 4 (beyond, reading the file limits)."""
    return min(os.cpu_count() or 1, 4)


def parsed_blocks(
    stream: BinaryIO, setup: ArrowSetup, size: int | None = None, ahead: bool = True
) -> Iterator[pa.Table]:
    """Tables of consecutive blocks of ``stream``, in file order; at most ``pool_size()``
    + 1 blocks are held besides the one the caller works on. Raises :class:`Unsafe`.

    With ``ahead``, blocks are parsed while the caller works; without, a round of one
    block per thread is parsed when the caller has used the previous round, so parsing
    does not compete for the cores with the caller's own threads (NumPy's matrix
    products in ``predict``, which slow down badly when their threads wait for a core).

    Example:
        >>> import io, pyarrow.csv as pv
        >>> setup = ArrowSetup(pv.ParseOptions(), pv.ConvertOptions())
        >>> [t.num_rows for t in parsed_blocks(io.BytesIO(b"a,b\\n1,2\\n3,4\\n"), setup)]
        [2]
    """

    workers = pool_size()
    blocks = _cut(stream, size or BLOCK_BYTES)
    first = next(blocks, None)
    if first is None:
        raise Unsafe("empty")  # pandas says what is wrong with an empty file
    table = _parse(first, setup, None, None, threads=True)  # both cores on the first one
    yield table
    names = table.column_names
    pinned = _pinned(table.schema)
    pending: deque = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="csv-block") as pool:
        try:
            for block in blocks:
                pending.append(pool.submit(_parse, block, setup, names, pinned))
                if len(pending) > workers:
                    yield pending.popleft().result()
                elif len(pending) == workers and not ahead:
                    while pending:
                        yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:  # the caller stopped early or failed: drop what has not started
            for future in pending:
                future.cancel()


def _pinned(schema) -> dict | None:
    """The first block's column types, for later blocks (all-null columns stay free)."""
    import pyarrow as pa  # pyarrow loads on first use, not with this module

    if len(set(schema.names)) != len(schema.names):
        return None  # duplicated names: refused later, with the names
    return {f.name: f.type for f in schema if not pa.types.is_null(f.type)}


def _cut(stream: BinaryIO, size: int) -> Iterator[pa.Buffer]:
    """Blocks of about ``size`` bytes, each ending at a line end outside quotes."""
    import pyarrow as pa  # pyarrow loads on first use, not with this module

    rest = b""
    while True:
        data = stream.read(size)
        if not data:
            if rest:
                yield pa.py_buffer(rest)
            return
        data = rest + data if rest else data
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            if len(data) > 4 * size:  # no line end at all (a "\r" file, one huge line)
                raise Unsafe("no line end")
            rest = data
            continue
        _safe_cut(data, cut)
        yield pa.py_buffer(data).slice(0, cut)  # no copy
        rest = data[cut:]


def _safe_cut(data: bytes, cut: int) -> None:
    """Raises Unsafe unless the line end at ``cut`` is outside quotes. The block starts
    outside quotes, so an even number of quote marks before ``cut`` means outside, as
    long as every quote mark opens or closes a value, which :func:`_framed_quotes`
    checks (in the parsing thread: it is the costly half)."""
    if data.count(b'"', 0, cut) % 2:
        raise Unsafe("a quoted value spans the cut")


# bytes next to which a quote mark opens or closes a value: line ends, quotes, space,
# tab and the usual separators (a literal quote, as in 5" or a"b, has a letter or digit
# on both sides)
_FRAMING = np.zeros(256, dtype=bool)
_FRAMING[list(b'\n\r"\t:;|, ')] = True


def _framed_quotes(data) -> None:
    """Raises Unsafe if a quote mark in ``data`` sits inside a value, where it would not
    open or close one and the count of quote marks would say nothing."""
    view = np.frombuffer(data, dtype=np.uint8)
    where = np.flatnonzero(view == _QUOTE)
    if not len(where):
        return
    end = len(view) - 1
    before = _FRAMING[view[np.maximum(where - 1, 0)]] | (where == 0)
    after = _FRAMING[view[np.minimum(where + 1, end)]] | (where == end)
    if not (before | after).all():
        raise Unsafe("a quote mark inside a value")


def _parse(data, setup: ArrowSetup, names, pinned, threads: bool = False):
    """One block as a table: with the first block's types, else with types of its own
    (a later block disagreeing); dates stay text; undecodable text is Unsafe."""
    import pyarrow as pa  # pyarrow loads on first use, not with this module
    import pyarrow.csv as pv  # pyarrow loads on first use, not with this module

    _framed_quotes(data)
    read = dict(setup.read) if names is None else {**setup.read, "column_names": names}
    if names is not None:
        read["autogenerate_column_names"] = False

    def attempt(types: dict | None) -> pa.Table:
        convert = setup.convert
        if types:
            convert = with_types(convert, types)
        return pv.read_csv(
            pa.BufferReader(data),
            read_options=pv.ReadOptions(use_threads=threads, block_size=PARSE_BYTES, **read),
            parse_options=setup.parse,
            convert_options=convert,
        )

    try:
        try:
            table = attempt(pinned)
        except pa.ArrowInvalid:
            if not pinned:
                raise
            table = attempt(None)  # types of its own, as pandas gives each chunk
        temporal = [f.name for f in table.schema if pa.types.is_temporal(f.type)]
        if temporal:  # read as text, as pandas reads dates
            table = attempt({**(pinned or {}), **dict.fromkeys(temporal, pa.string())})
    except pa.ArrowCancelled:
        raise KeyboardInterrupt from None
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise Unsafe(str(exc)) from None
    if any(is_binary(f.type) for f in table.schema):
        raise Unsafe("text that does not decode")
    return table


def with_types(convert, types: dict):

    convert = copy.copy(convert)
    convert.column_types = types
    return convert


def is_binary(kind) -> bool:
    import pyarrow as pa  # pyarrow loads on first use, not with this module

    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_binary(kind) or pa.types.is_large_binary(kind)


def whole_table(stream: BinaryIO, setup: ArrowSetup, size: int | None = None):
    """All blocks as one table, or None when later blocks disagree on a column's type
    (the caller reads the file as a whole, so the types are decided from every row)."""
    import pyarrow as pa  # pyarrow loads on first use, not with this module

    tables = list(parsed_blocks(stream, setup, size))
    schema = tables[0].schema
    for position, kind in enumerate(schema.types):
        if pa.types.is_null(kind):  # empty in the first block: take what later ones say
            kinds = {t.schema.types[position] for t in tables} - {pa.null()}
            if len(kinds) > 1:
                return None
            if kinds:
                target = kinds.pop()
                tables = [_cast_column(t, position, target) for t in tables]
    if any(t.schema != tables[0].schema for t in tables):
        return None
    return pa.concat_tables(tables)


def _cast_column(table, position: int, kind):
    if table.schema.types[position] == kind:
        return table
    column = table.column(position).cast(kind)
    return table.set_column(position, table.schema.field(position).with_type(kind), column)


def rechunk(tables: Iterator[pa.Table], rows: int) -> Iterator[pa.Table]:
    """Tables of exactly ``rows`` rows from tables of any size (the last one shorter,
    and a shorter one before a block whose column types differ).

    Example:
        >>> import pyarrow as pa
        >>> parts = [pa.table({"a": range(3)}), pa.table({"a": range(4)})]
        >>> [t.num_rows for t in rechunk(iter(parts), 2)]
        [2, 2, 2, 1]
    """
    import pyarrow as pa  # pyarrow loads on first use, not with this module

    pending: list = []
    count = 0
    for table in tables:
        if pending and table.schema != pending[0].schema:
            yield pa.concat_tables(pending)
            pending, count = [], 0
        pending.append(table)
        count += table.num_rows
        if count >= rows:
            joined = pa.concat_tables(pending)  # no copy: the chunks are kept
            full = count - count % rows
            for start in range(0, full, rows):
                yield joined.slice(start, rows)
            pending = [joined.slice(full)] if full < count else []
            count -= full
    if count:
        yield pa.concat_tables(pending)
