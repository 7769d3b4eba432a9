"""A prediction request, checked: JSON records (``[{"col": value, ...}]``) or columns
(``{"col": [...]}``) in, one DataFrame of the run's input columns out, or a
:class:`RequestError` naming the row and the column. Nothing is half-answered: a request
is checked whole before the model sees it.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


class RequestError(Exception):
    """A client's mistake: an HTTP status and one line saying what to send instead."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def parse_json(body: bytes) -> Any:
    """The request's JSON; NaN and Infinity (which Python's json accepts) are refused.

    Example:
        >>> parse_json(b'{"x": [1]}')
        {'x': [1]}
        >>> parse_json(b'{"x": [NaN]}')
        Traceback (most recent call last):
        ...
        tabnet_cli.serve.requests.RequestError: the request holds NaN, which is not JSON; ...
    """

    def refuse(token: str):
        raise RequestError(
            400, f"the request holds {token}, which is not JSON; send null for a missing value"
        )

    try:
        return json.loads(body, parse_constant=refuse)
    except UnicodeDecodeError:
        raise RequestError(400, "the request body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise RequestError(400, f"the request body is not valid JSON ({exc})") from None
    except RecursionError:
        raise RequestError(400, "the request's JSON is nested too deeply") from None


def columns_of(payload: Any, names: list[str]) -> dict[str, list]:
    """Each input column's values in request order, from records or columns; other keys
    are ignored (as ``tabnet predict`` ignores other columns of a file).

    Example:
        >>> columns_of([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}], ["a", "b"])
        {'a': [1, 2], 'b': ['x', 'y']}
        >>> columns_of({"a": [1, 2]}, ["a"])
        {'a': [1, 2]}
    """
    if isinstance(payload, list):
        return _from_records(payload, names)
    if isinstance(payload, dict):
        return _from_columns(payload, names)
    raise RequestError(
        422, 'send a list of records [{"column": value, ...}] or columns {"column": [...]}'
    )


def _from_records(records: list, names: list[str]) -> dict[str, list]:
    if not records:
        raise RequestError(422, "the request holds no rows")
    for row, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise RequestError(422, f"row {row} is not an object of column: value pairs")
        for name in names:
            if name not in record:
                raise RequestError(422, f"row {row} has no column {name!r}")
    return {name: [record[name] for record in records] for name in names}


def _from_columns(columns: dict, names: list[str]) -> dict[str, list]:
    for name in names:
        if name not in columns:
            raise RequestError(422, f"the request has no column {name!r}")
        if not isinstance(columns[name], list):
            raise RequestError(422, f"column {name!r} is not a list of values")
    lengths = {len(columns[name]) for name in names}
    if len(lengths) > 1:
        raise RequestError(422, "the columns have different lengths; send one value per row")
    if lengths == {0}:
        raise RequestError(422, "the request holds no rows")
    return {name: columns[name] for name in names}


def check_values(values: dict[str, list], numeric: set[str]) -> None:
    """Numbers (or null) in numeric columns, text or numbers (or null) in category
    columns; the first offending row and column are named.

    Example:
        >>> check_values({"a": [1, "2"]}, numeric={"a"})
        Traceback (most recent call last):
        ...
        tabnet_cli.serve.requests.RequestError: row 2, column 'a': expected a number or null, ...
    """
    for name, column in values.items():
        wanted = "a number or null" if name in numeric else "text, a number or null"
        for row, value in enumerate(column, start=1):
            if not _fits(value, name in numeric):
                shown = json.dumps(value)[:40]
                raise RequestError(
                    422, f"row {row}, column {name!r}: expected {wanted}, got {shown}"
                )


def _fits(value: Any, numeric: bool) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return math.isfinite(value) and abs(value) < 1e308  # huge ints overflow float64
    return isinstance(value, str) and not numeric


def request_frame(values: dict[str, list], numeric: set[str]) -> pd.DataFrame:
    """The checked values as the DataFrame ``FeatureEncoder.transform`` reads: float64 for
    numeric columns (null -> NaN), Python objects for category columns (null -> None)."""
    import numpy as np  # numpy loads on first use, not with this module
    import pandas as pd  # pandas loads on first use, not with this module

    data = {
        name: np.array([np.nan if v is None else float(v) for v in column], dtype=np.float64)
        if name in numeric
        else pd.Series(column, dtype=object)
        for name, column in values.items()
    }
    return pd.DataFrame(data)
