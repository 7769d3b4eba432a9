"""Writing predictions as CSV text, byte for byte as pandas' ``to_csv`` writes them, in a
fraction of its time for the usual columns (numbers, booleans, plain labels).

pandas formats each float with NumPy (``astype(str)``: the shortest text that reads back
as the same float, as Python's ``repr``) and then writes row by row; on a million
predictions that was 4 s of the 8.6 s a ``predict`` took. Here the cells are made by
Arrow's compute functions in C++: floats by Arrow's cast to text, which gives the same
shortest digits and differs from ``repr`` only in the layout of some values (``15`` for
``15.0``, ``1.5e+10`` for ``15000000000.0``, ``0.00001`` for ``1e-05``): those values,
outside ``[1e-4, 1e10)`` or integral, are written with ``repr``. The rows are joined by
Arrow too. Anything else (text that needs quotes, categories, mixed objects) is written
by pandas itself.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, TextIO

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

_NEEDS_QUOTES = (",", '"', "\n", "\r")
# Arrow's cast writes these floats as repr does (besides integral values)
_SHORTEST_RANGE = (1e-4, 1e10)


def write_csv(frame: pd.DataFrame, stream: TextIO, header: bool) -> None:
    """Writes ``frame`` as ``frame.to_csv(stream, header=header, index=False,
    lineterminator="\\n")`` does.

    Example:
        >>> import io, pandas as pd
        >>> out = io.StringIO()
        >>> write_csv(pd.DataFrame({"y": [0.1, float("nan")], "k": ["a", "b"]}), out, True)
        >>> out.getvalue()
        'y,k\\n0.1,a\\n,b\\n'
    """
    columns = [_cells(frame.iloc[:, position]) for position in range(frame.shape[1])]
    if not columns or any(cells is None for cells in columns) or _lone_blank(columns):
        # (a lone empty cell is written as "" by pandas' csv writer)
        frame.to_csv(stream, header=header, index=False, lineterminator="\n")
        return
    if header:
        frame.head(0).to_csv(stream, index=False, lineterminator="\n")
    if len(frame):
        # the rows, then their last line end, in two writes as ever: into a pipe whose
        # reader left, Python reports the failure of the second (exit 141), not the first
        stream.write(_joined(columns)[:-1])  # type: ignore[arg-type]
        stream.write("\n")


def _lone_blank(columns: list) -> bool:
    import pyarrow.compute as pc  # pyarrow loads on first use, not with this module

    return len(columns) == 1 and pc.any(pc.equal(columns[0], "")).as_py() is True


def _joined(columns: list[pa.Array]) -> str:
    """The rows of text columns, comma-separated, each ended by a newline."""
    import pyarrow as pa  # pyarrow loads on first use, not with this module
    import pyarrow.compute as pc  # pyarrow loads on first use, not with this module

    columns = [column.cast(pa.large_string()) for column in columns]  # no 2 GiB limit
    comma, newline, empty = (pa.scalar(mark, pa.large_string()) for mark in (",", "\n", ""))
    rows = columns[0] if len(columns) == 1 else pc.binary_join_element_wise(*columns, comma)
    lines = pc.binary_join_element_wise(rows, empty, newline)
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    first, last = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return lines.buffers()[2].to_pybytes()[first:last].decode("utf-8")


def _cells(column: pd.Series) -> pa.Array | None:
    """The column's cells as pandas writes them, or None to let pandas write it."""
    import pandas as pd  # pandas loads on first use, not with this module
    import pyarrow as pa  # pyarrow loads on first use, not with this module

    kind = column.dtype
    if isinstance(kind, np.dtype) and kind == np.float64:
        return float_cells(column.to_numpy())
    if isinstance(kind, np.dtype) and kind.kind in "iu":
        return pa.array(column.to_numpy()).cast(pa.string())  # as str() writes them
    if isinstance(kind, np.dtype) and kind.kind == "b":
        return pa.array(list(map(str, column.to_numpy().tolist())), pa.string())
    if isinstance(kind, pd.CategoricalDtype):
        return None
    if kind == np.dtype(object) or pd.api.types.is_string_dtype(kind):
        cells = _text_cells(column.to_numpy(dtype=object).tolist())
        return None if cells is None else pa.array(cells, pa.string())
    return None


def float_cells(values: np.ndarray) -> pa.Array:
    """float64 values as pandas writes them: ``repr``'s text, empty for NaN.

    Example:
        >>> float_cells(np.array([0.25, 15.0, 1e-05, np.nan])).to_pylist()
        ['0.25', '15.0', '1e-05', '']
    """
    import pyarrow as pa  # pyarrow loads on first use, not with this module
    import pyarrow.compute as pc  # pyarrow loads on first use, not with this module

    magnitude = np.abs(values)
    low, high = _SHORTEST_RANGE
    with np.errstate(invalid="ignore"):
        shortest = (magnitude >= low) & (magnitude < high) & (values != np.floor(values))
    if not _arrow_writes_repr():
        shortest[:] = False
    texts = pa.array(np.ascontiguousarray(values)).cast(pa.string())
    odd = ~shortest
    if odd.any():
        cells = ["" if v != v else repr(v) for v in values[odd].tolist()]
        texts = pc.replace_with_mask(texts, pa.array(odd), pa.array(cells, pa.string()))
    return texts


@functools.cache
def _arrow_writes_repr() -> bool:
    """Whether this pyarrow's cast gives ``repr``'s text in ``_SHORTEST_RANGE`` (checked
    once, on values of every magnitude there; another pyarrow may lay them out otherwise)."""
    import pyarrow as pa  # pyarrow loads on first use, not with this module

    low, high = (round(np.log10(bound)) for bound in _SHORTEST_RANGE)
    probe = [
        sign * digits * 10.0**exponent
        for exponent in range(low, high)
        for digits in (1.5, 1.2345678901234567, 9.87654321, 7.000001)
        for sign in (1, -1)
    ] + [0.1, 0.30000000000000004, 1 / 3, 2 / 3]
    probe = [value for value in probe if value != int(value)]  # integral ones: repr
    texts = pa.array(probe, pa.float64()).cast(pa.string()).to_pylist()
    return texts == [repr(value) for value in probe]


def _text_cells(values: list) -> list[str] | None:
    """Labels: text without separators or quotes, integers, booleans, missing."""
    cells = []
    for value in values:
        if isinstance(value, str):
            if any(mark in value for mark in _NEEDS_QUOTES):
                return None
            cells.append(value)
        elif isinstance(value, bool | int | np.integer | np.bool_):
            cells.append(str(value))
        elif value is None or (isinstance(value, float) and value != value):
            cells.append("")
        else:
            return None
    return cells
