"""What a table's column is and holds: its kind (numeric, categorical or ignored, with the
reason), its values as floats, and its category labels with their counts. The feature
encoder (``prep/features.py``) decides and encodes with these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tabnet_cli.errors import DataError
from tabnet_cli.prep.targets import label_key

if TYPE_CHECKING:
    import pandas as pd

MAX_ONE_HOT = 50  # categories kept per column; the rest share the "other" slot
MISSING = "(missing)"


def factorize(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Per-row codes (-1 for missing) and the text label of each code (``label_key``: 1,
    1.0 and " 1" are all "1", since a chunk of a file may read as numbers what the whole
    file read as text). Working on distinct values keeps text columns fast: a million
    rows rarely hold many labels.

    Example:
        >>> import pandas as pd
        >>> factorize(pd.Series([1.0, None, 2.5]))[1].tolist()
        ['1', '2.5']
    """
    import pandas as pd  # pandas loads on first use, not with this module

    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    return codes, pd.Index([label_key(v) for v in np.asarray(uniques, dtype=object)])


def label_counts(column: pd.Series) -> pd.Series:
    """Rows per category label, missing values counted under ``(missing)``.

    Example:
        >>> import pandas as pd
        >>> label_counts(pd.Series(["a", " a", None, "b"])).to_dict()
        {'(missing)': 1, 'a': 2, 'b': 1}
    """
    import pandas as pd  # pandas loads on first use, not with this module

    codes, labels = factorize(column)
    per_code = np.bincount(codes[codes >= 0], minlength=len(labels))
    counts = pd.Series(per_code, index=labels).groupby(level=0).sum()
    missing = int((codes < 0).sum())
    if missing:
        counts[MISSING] = counts.get(MISSING, 0) + missing
    return counts.sort_index()


def _as_text_if_object(column: pd.Series) -> pd.Series:
    """Text columns stripped of stray spaces before number parsing (' 1.5 ' is 1.5)."""
    import pandas as pd  # pandas loads on first use, not with this module

    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return column
    return column.astype("string").str.strip()


def to_floats(column: pd.Series) -> np.ndarray:
    """Numbers as float64, with anything unparseable (text, infinities kept) as NaN.

    Example:
        >>> import pandas as pd
        >>> to_floats(pd.Series([" 1.5 ", "n/a", "inf"])).tolist()
        [1.5, nan, inf]
    """
    import pandas as pd  # pandas loads on first use, not with this module

    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(_as_text_if_object(column), errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )


def nothing_left(ignored: list[dict]) -> str:
    """The error for a table whose every feature column was ignored: which, why, and how
    to keep one (a column the user names with --numeric or --categorical is never
    ignored).

    Example:
        >>> nothing_left([{"name": "id", "reason": "constant"}]).split("; ")[:2]
        ['no usable feature column', "ignored 'id': constant"]
    """
    shown = [f"ignored {c['name']!r}: {c['reason']}" for c in ignored[:3]]
    if len(ignored) > 3:
        shown.append(f"and {len(ignored) - 3} more")
    return "; ".join(
        [
            "no usable feature column",
            *shown,
            "keep a column with --numeric NAME or --categorical NAME",
        ]
    )


def _is_row_identifier(present: pd.Series, rows: int) -> bool:
    """Distinct integers, densely packed, on every row (1..n, or the training part of it):
    a row number, not a measurement. Counts and codes repeat; unique measurements (prices
    in cents) spread over a range far wider than the number of rows."""
    if rows < 20 or len(present) != rows or not present.is_unique:
        return False
    return int(present.max()) - int(present.min()) + 1 <= 2 * rows


def column_kind(column: pd.Series) -> tuple[str, str]:
    """('numeric'|'categorical'|'ignored', reason) for one training column.

    Example:
        >>> import pandas as pd
        >>> column_kind(pd.Series(range(30))), column_kind(pd.Series(["a", "b"] * 15))
        (('ignored', 'a row identifier (distinct consecutive integers)'), ('categorical', ''))
    """
    import pandas as pd  # pandas loads on first use, not with this module

    present = column.dropna()
    numbers = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    # min == max is a cheap constant test for numbers (nunique hashes every value)
    single = present.min() == present.max() if numbers and len(present) else present.nunique() <= 1
    if single and not (column.isna().any() and len(present)):
        return "ignored", "constant"
    if pd.api.types.is_bool_dtype(column):
        return "categorical", ""
    if pd.api.types.is_integer_dtype(column) and _is_row_identifier(present, len(column)):
        return "ignored", "a row identifier (distinct consecutive integers)"
    if pd.api.types.is_numeric_dtype(column):
        return "numeric", ""
    counts = label_counts(present)
    numbers_per_value = pd.to_numeric(counts.index.to_series(), errors="coerce")
    junk = counts[numbers_per_value.isna().to_numpy()]
    junk_rows = int(junk.sum())
    if junk_rows and junk_rows <= 0.05 * len(present):
        example = junk.index[0]
        raise DataError(
            f"column {column.name!r} is numeric except for values like {example!r}; "
            f"add --na-values {example!r} if it marks a missing value, or "
            f"--categorical {column.name!r} to treat the column as text"
        )
    if junk_rows == 0:
        return "numeric", ""
    distinct = len(counts)
    if distinct > MAX_ONE_HOT and distinct > 0.5 * len(present):
        return "ignored", "nearly every value distinct (an identifier or free text)"
    return "categorical", ""
