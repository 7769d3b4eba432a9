"""The two CSV parsers and what they share: pyarrow reads whole files for training (many
cores, dictionary-encoded text), pandas streams chunks for ``predict`` and reads stdin.

They treat spaces, markers and types differently (pyarrow keeps ``' ?'`` as text where
pandas' ``skipinitialspace`` makes it missing), so both results go through
:func:`clean_cells`, which decides from the cell text alone: the same file gives the same
values whichever parser read it.
"""

from __future__ import annotations

import gzip
import re
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tabnet_cli.errors import DataError
from tabnet_cli.io.csv_blocks import (
    ArrowSetup,
    Unsafe,
    is_binary,
    newline_safe,
    whole_table,
    with_types,
)
from tabnet_cli.io.csv_format import WHITESPACE, CsvFormat, encoding_advice

if TYPE_CHECKING:
    import pandas as pd

    from tabnet_cli.io.read_options import ReadOptions

STREAM_BYTES = 256 << 20  # files larger than this are parsed block by block
TRUE_VALUES = ("True", "TRUE", "true")  # pandas' booleans; pyarrow's would add "1"
FALSE_VALUES = ("False", "FALSE", "false")
# What reading a damaged file raises: gzip.BadGzipFile is an OSError, zlib.error is not.
READ_ERRORS = (OSError, EOFError, zlib.error)
# pandas' low_memory parsing can give one column numbers and text from different blocks
_TEXT_KINDS = ("string", "mixed", "mixed-integer")
_FEW = 2000  # distinct labels cleaned in plain Python (cheaper than pandas calls)
_BOOLEANS = frozenset(TRUE_VALUES + FALSE_VALUES)
_DECIMAL_COMMA = r"[+-]?\d*,\d+"
_COMMA_NUMBER = re.compile(_DECIMAL_COMMA)
_THOUSANDS = r"[+-]?\d{1,3}(?:,\d{3})+"  # 1,234 may use a thousands separator: no hint


def first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def damaged(name: str, exc: BaseException) -> str:
    """The one-line error for a file that cannot be read to its end."""
    if name.endswith(".gz"):
        return (
            f"{name}: the gzip data is damaged or cut short ({first_line(exc)}); "
            "download or compress the file again"
        )
    return f"{name}: cannot read the file ({first_line(exc)})"


def pandas_options(form: CsvFormat, options: ReadOptions) -> dict:
    return {
        "sep": form.sep,
        "encoding": form.encoding,
        "decimal": options.decimal,
        "na_values": form.markers,
        "keep_default_na": False,  # form.markers holds pandas' defaults when wanted
        "skipinitialspace": True,
        "header": 0 if options.header and not options.names else None,
        "names": list(options.names) or None,
        "dtype": dict.fromkeys(options.text, "str"),  # read as written (labels like 007)
    }


@contextmanager
def pandas_errors(name: str, encoding: str):
    """What pandas (and gzip under it) raise for a bad file, as one DataError line. Only
    Exception subclasses are caught: a KeyboardInterrupt stays a KeyboardInterrupt."""
    import pandas as pd  # pandas loads on first use, not with this module

    try:
        yield
    except pd.errors.EmptyDataError:
        raise DataError(f"{name} is empty; give a CSV with a header row") from None
    except pd.errors.ParserError as exc:
        broken = _gzip_problem(name)  # garbled rows are the first sign of damaged gzip data
        message = damaged(name, broken) if broken else f"{name}: malformed CSV ({first_line(exc)})"
        raise DataError(message) from None
    except UnicodeError:  # UnicodeDecodeError, or another codec's complaint
        raise DataError(encoding_advice(name, encoding)) from None
    except READ_ERRORS as exc:
        raise DataError(damaged(name, exc)) from None


def _gzip_problem(name: str) -> BaseException | None:
    """What decompressing the whole file ``name`` raises, if it is gzip."""
    if not name.endswith(".gz") or not Path(name).is_file():
        return None

    try:
        with gzip.open(name, "rb") as stream:
            while stream.read(1 << 20):
                pass
    except READ_ERRORS as exc:
        return exc
    return None


def arrow_setup(form: CsvFormat, options: ReadOptions):
    """pyarrow's options for this file (a :class:`tabnet_cli.io.csv_blocks.ArrowSetup`), or
    None when only pandas reads it right: whitespace-separated columns (pyarrow splits on
    one character), quoted values after spaces (pyarrow keeps ``' "a"'`` with its quotes),
    or pyarrow missing."""
    try:
        import pyarrow.csv as pv  # pyarrow loads on first use, not with this module
    except ImportError:
        return None

    if form.sep == WHITESPACE or _spaced_quote(form):
        return None
    convert = pv.ConvertOptions(
        null_values=form.markers,
        true_values=list(TRUE_VALUES),
        false_values=list(FALSE_VALUES),
        decimal_point=options.decimal,
        strings_can_be_null=True,
        # text with few distinct values arrives as pandas Categorical: a byte per row
        # instead of a Python string object
        auto_dict_encode=True,
        column_types=dict.fromkeys(options.text, "string"),  # read as written (labels like 007)
    )
    read = {
        "encoding": "utf8" if form.encoding == "utf-8-sig" else form.encoding,  # skips a BOM
        "column_names": list(options.names),
        "autogenerate_column_names": not options.header and not options.names,
    }
    return ArrowSetup(pv.ParseOptions(delimiter=form.sep), convert, read)


def read_with_arrow(path: str, form: CsvFormat, options: ReadOptions) -> pd.DataFrame | None:
    """pyarrow's CSV reader (multi-threaded; files over ``STREAM_BYTES`` block by block in
    bounded memory); None when it refuses the file, so pandas can read it or explain why."""
    import pyarrow as pa  # pyarrow loads on first use, not with this module

    setup = arrow_setup(form, options)
    if setup is None:
        return None
    table = _arrow_table(path, setup, form.encoding)
    if table is None:
        return None
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    # Arrow's allocator keeps the freed parse buffers for reuse; hand them back to the OS
    # (on a 1M-row file, 450 MB that training would otherwise carry).
    pa.default_memory_pool().release_unused()
    return frame


def _spaced_quote(form: CsvFormat) -> bool:
    """A quoted field after spaces (``a, "b, c"``): only pandas' skipinitialspace reads it."""
    return re.search(rf'(^|{re.escape(form.sep)}) +"', form.text, re.MULTILINE) is not None


def _arrow_table(path: str, setup, encoding: str):
    """The whole file as a table: block by block above ``STREAM_BYTES`` (parallel, a few
    blocks in memory), else pyarrow's whole-file reader; None when pyarrow refuses it."""
    import pyarrow as pa  # pyarrow loads on first use, not with this module

    if Path(path).stat().st_size >= STREAM_BYTES and newline_safe(encoding):
        try:
            with _open_binary(path) as stream:
                table = whole_table(stream, setup)
            if table is not None:
                return table
        except Unsafe:
            pass  # below: pyarrow's whole-file reader, else pandas
        except READ_ERRORS:
            return None  # pandas names the damage
    return _whole_file(path, setup, pa)


def _open_binary(path: str):
    if path.endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def _whole_file(path: str, setup, pa):
    """pyarrow's whole-file reader: every core, the types decided from every row; dates
    read as text (pandas, which ``predict`` may use, keeps them as text)."""
    import pyarrow.csv as pv  # pyarrow loads on first use, not with this module

    convert = setup.convert
    try:
        for _ in range(2):
            table = pv.read_csv(
                path,
                read_options=pv.ReadOptions(**setup.read),
                parse_options=setup.parse,
                convert_options=convert,
            )
            temporal = [f.name for f in table.schema if pa.types.is_temporal(f.type)]
            if not temporal:
                break
            convert = with_types(convert, dict.fromkeys(temporal, pa.string()))
    except pa.ArrowCancelled:  # Ctrl-C while parsing: never a reason to read again
        raise KeyboardInterrupt from None
    except (pa.ArrowException, OSError, ValueError):
        return None
    if any(is_binary(f.type) for f in table.schema):
        return None  # text that does not decode: pandas says which --encoding to try
    return table


def clean_cells(
    frame: pd.DataFrame, markers: list[str], decimal: str = ".", text: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Strips text cells, reads stripped ``markers`` as missing, and makes a text column
    numbers (or booleans) when every remaining cell is one, in place.

    Example:
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"a": [" ?", "x "], "b": [" 1,5", "2"]}, dtype="str")
        >>> clean_cells(frame, ["", "?"], decimal=",").to_dict("list")
        {'a': [nan, 'x'], 'b': [1.5, 2.0]}
    """
    markers = frozenset(markers)
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        cleaned = _clean_column(column, markers, "" if frame.columns[position] in text else decimal)
        if cleaned is not column:
            frame.isetitem(position, cleaned)
    return frame


def _clean_column(column: pd.Series, markers: frozenset[str], decimal: str) -> pd.Series:
    import pandas as pd  # pandas loads on first use, not with this module

    if isinstance(column.dtype, pd.CategoricalDtype):  # pyarrow's dictionary text
        codes, labels = column.cat.codes.to_numpy(), column.cat.categories
        return _clean_labelled(column, codes, labels, markers, decimal)
    if column.isna().all():  # pyarrow's all-null column, as pandas reads it
        return pd.Series(np.nan, index=column.index, name=column.name)
    if pd.api.types.infer_dtype(column, skipna=True) not in _TEXT_KINDS:
        return column  # numbers, booleans, timestamps
    column = column.astype("str")
    if column.iloc[:1000].nunique() > 200:  # names, free text: row by row is cheaper
        stripped = column.str.strip()
        column = stripped.mask(stripped.isin(list(markers)))
        head = column.iloc[:_FEW].dropna().tolist()
        if _as_numbers(head, decimal) is None and not set(head) <= _BOOLEANS:
            return column
    codes, labels = pd.factorize(column)
    return _clean_labelled(column, codes, labels, markers, decimal)


def _clean_labelled(column: pd.Series, codes, labels, markers: frozenset[str], decimal: str):
    """Works on the distinct labels (pyarrow's dictionary, or pandas' factorized text)
    and touches the rows only when something changed."""
    import pandas as pd  # pandas loads on first use, not with this module

    text, cleaned = _clean_labels(labels, markers)
    present = [label for label in cleaned if label is not None]
    per_label = _as_numbers(present, decimal)
    if per_label is None and set(present) <= _BOOLEANS:
        per_label = [label in TRUE_VALUES for label in present]
    if per_label is not None:  # (also when no value is left: all missing)
        return _spread(per_label, cleaned, codes, column)
    if cleaned == text:
        return column
    new_codes, uniques = pd.factorize(pd.Series(cleaned, dtype="str"))  # merges equals
    mapped = np.where(codes >= 0, new_codes[np.maximum(codes, 0)], -1)
    if isinstance(column.dtype, pd.CategoricalDtype):
        values = pd.Categorical.from_codes(mapped, pd.Index(uniques, dtype="str"))
    else:
        values = pd.array(uniques, dtype="str").take(mapped, allow_fill=True)
    return pd.Series(values, index=column.index, name=column.name)


def _clean_labels(labels, markers: frozenset[str]) -> tuple[list[str], list[str | None]]:
    """The labels as text, and stripped with None for markers."""
    import pandas as pd  # pandas loads on first use, not with this module

    if len(labels) > _FEW:  # names, free text: strip in pandas, a loop costs more there
        series = pd.Series(labels, dtype="str")
        stripped = series.str.strip()
        text = series.tolist()
        cleaned = stripped.mask(stripped.isin(list(markers))).astype(object)
        return text, cleaned.where(cleaned.notna(), None).tolist()
    text = [str(label) for label in labels]
    return text, [None if label.strip() in markers else label.strip() for label in text]


def _spread(per_label: list, cleaned: list, codes: np.ndarray, column: pd.Series):
    """Row values from the values of the present (not None) labels, with the dtypes pandas
    would give: int64 or bool without gaps, float64 or object (NaN for gaps) with."""
    import pandas as pd  # pandas loads on first use, not with this module

    present = iter(per_label)
    values = [None if label is None else next(present) for label in cleaned]
    kind = np.asarray(per_label).dtype if per_label else np.dtype(float)
    table = np.asarray(values + [None], dtype=object)  # the last slot serves code -1
    rows = pd.Series(table[codes], index=column.index, name=column.name)
    if rows.isna().any():
        return rows.astype(object if kind.kind == "b" else float).where(rows.notna())
    return rows.astype(kind)


def _as_numbers(present: list[str], decimal: str) -> list | None:
    """The numbers the labels spell, or None if one does not (or ``decimal`` is "": text)."""
    import pandas as pd  # pandas loads on first use, not with this module

    if not decimal:
        return None
    if decimal != ".":
        if any("." in label for label in present):
            return None  # "1.5" is not a number when the decimal mark is ","
        present = [label.replace(decimal, ".") for label in present]
    # a text column fails on its first labels: Python's float is a quick first test
    if not all(_floatish(label) for label in present[:_FEW]):
        return None
    numbers = pd.to_numeric(pd.Series(present, dtype="str"), errors="coerce")
    return None if numbers.isna().any() else numbers.tolist()


def _floatish(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def refuse_decimal_commas(frame: pd.DataFrame, name: str) -> None:
    """A column of numbers written with a decimal comma (``1,5`` in a ``;`` file) read
    with ``.`` as the decimal mark would become text: say how to read it as numbers."""
    for column in frame.columns:
        example = decimal_comma_example(frame[column])
        if example is not None:
            raise DataError(
                f"column {column!r} of {name} holds numbers with a decimal comma "
                f"(like {example!r}); add --decimal , to read them as numbers"
            )


def decimal_comma_example(column: pd.Series) -> str | None:
    """A value like ``'1,5'`` when a text column holds numbers written with a decimal comma
    (all but 5% of its rows), else None. ``1,234`` alone could be thousands: no answer.

    Example:
        >>> import pandas as pd
        >>> decimal_comma_example(pd.Series(["1,5", "2", "-0,25"], dtype="str"))
        '1,5'
    """
    import pandas as pd  # pandas loads on first use, not with this module

    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return None
    if isinstance(column.dtype, pd.CategoricalDtype):
        head = column.cat.categories[:1000].tolist()
    else:
        head = column.iloc[:1000].dropna().tolist()
    if _mostly_text(head):  # names, free text stop here
        return None
    counts = column.value_counts()
    counts = counts[counts > 0]
    text = pd.Series(counts.index.astype("str"), dtype="str")
    if not text.str.contains(",", regex=False).any():
        return None
    decimal = text.str.fullmatch(_DECIMAL_COMMA) & ~text.str.fullmatch(_THOUSANDS)
    junk_rows = counts.to_numpy()[~_comma_or_number(text)].sum()
    if not decimal.any() or junk_rows > 0.05 * counts.sum():
        return None
    return str(text[decimal].iloc[0])


def _mostly_text(values: list) -> bool:
    """More than a fifth of ``values`` neither numbers nor decimal-comma numbers."""
    limit, junk = len(values) // 5, 0
    for value in map(str, values):
        if not (_floatish(value) or _COMMA_NUMBER.fullmatch(value)):
            junk += 1
            if junk > limit:
                return True
    return False


def _comma_or_number(text: pd.Series) -> np.ndarray:
    import pandas as pd  # pandas loads on first use, not with this module

    comma = text.str.fullmatch(_DECIMAL_COMMA).to_numpy(dtype=bool)
    return comma | pd.to_numeric(text, errors="coerce").notna().to_numpy()
