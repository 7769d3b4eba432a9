"""Feature preprocessing: fitted on training rows only, applied unchanged everywhere else.

Column kinds are decided on the training rows: numeric columns are imputed with the
training median (plus a 0/1 "was missing" input when training had gaps) and scaled;
text/boolean columns are one-hot encoded over their most frequent values with one extra
slot for anything else (unseen at predict time, or rare); constant columns and free-text
or identifier columns (nearly every value distinct) are ignored. The fitted state is plain
JSON, saved in ``model.json``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from tabnet_cli.errors import DataError
from tabnet_cli.targets import _center_spread

if TYPE_CHECKING:
    import pandas as pd

MAX_ONE_HOT = 50  # categories kept per column; the rest share the "other" slot
MISSING = "(missing)"


@dataclass
class TransformReport:
    """What ``transform`` had to paper over, for one warning line at predict time."""

    unseen: Counter = field(default_factory=Counter)
    missing: Counter = field(default_factory=Counter)

    def message(self) -> str | None:
        parts = [f"{n} unseen value(s) in {c!r}" for c, n in self.unseen.items() if n]
        parts += [
            f"{n} missing or non-numeric value(s) in {c!r}" for c, n in self.missing.items() if n
        ]
        return "; ".join(parts) or None


class FeatureEncoder:
    """Turns a DataFrame of raw features into a float32 matrix.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"x": [1.0, 3.0], "c": ["a", "b"], "k": [7, 7]})
        >>> enc = FeatureEncoder("minmax").fit(df)
        >>> enc.transform(df)[0].tolist()
        [[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 1.0, 0.0]]
        >>> enc.ignored_
        [{'name': 'k', 'reason': 'constant'}]
    """

    def __init__(self, scale: str = "standard"):
        self.scale = scale

    def fit(
        self,
        features: pd.DataFrame,
        rows: np.ndarray | None = None,
        categorical: tuple[str, ...] = (),
        numeric: tuple[str, ...] = (),
    ) -> FeatureEncoder:
        """Learns column kinds and statistics from ``features`` (only the row positions
        ``rows`` when given: the training rows, taken one column at a time). Columns in
        ``categorical`` / ``numeric`` get that kind whatever their values look like.
        """
        import pandas as pd

        self.numeric_, self.categorical_, self.ignored_ = [], [], []
        for name in features.columns:
            column = features[name] if rows is None else features[name].take(rows)
            if name in categorical:
                kind, reason = "categorical", ""
            elif name in numeric:
                kind, reason = "numeric", ""
            else:
                kind, reason = _column_kind(column)
            if kind == "ignored":
                self.ignored_.append({"name": name, "reason": reason})
            elif kind == "numeric":
                values = pd.to_numeric(_as_text_if_object(column), errors="coerce").astype(float)
                if values.notna().sum() == 0:
                    raise DataError(
                        f"column {name!r} has no numeric value; drop --numeric {name} "
                        "or use --categorical"
                    )
                present = values.dropna().to_numpy()
                if not np.all(np.isfinite(present)):
                    raise DataError(
                        f"column {name!r} has infinite values; replace them or --drop the column"
                    )
                center, spread = _center_spread(present, self.scale)
                self.numeric_.append(
                    {
                        "name": name,
                        "median": float(np.median(present)),
                        "center": center,
                        "spread": spread,
                        "indicator": bool(values.isna().any()),
                    }
                )
            else:
                counts = Counter(_category_values(column))
                ranked = sorted(counts, key=lambda v: (-counts[v], v))[:MAX_ONE_HOT]
                self.categorical_.append({"name": name, "categories": sorted(ranked)})
        if not self.numeric_ and not self.categorical_:
            raise DataError("no usable feature column left; every column was ignored")
        return self

    @property
    def n_features(self) -> int:
        indicators = sum(c["indicator"] for c in self.numeric_)
        one_hot = sum(len(c["categories"]) + 1 for c in self.categorical_)
        return len(self.numeric_) + indicators + one_hot

    @property
    def input_columns(self) -> list[str]:
        """The raw columns the model reads (the rest of a file is ignored)."""
        return [c["name"] for c in self.numeric_] + [c["name"] for c in self.categorical_]

    def transform(self, features: pd.DataFrame) -> tuple[np.ndarray, TransformReport]:
        """The float32 model input, and a report of unseen and missing values."""
        import pandas as pd

        report = TransformReport()
        out = np.empty((len(features), self.n_features), dtype=np.float32)
        position = 0
        indicators = []
        for spec in self.numeric_:
            column = _as_text_if_object(features[spec["name"]])
            values = pd.to_numeric(column, errors="coerce").to_numpy(float)
            missing = ~np.isfinite(values)
            if missing.any():
                if not spec["indicator"]:
                    report.missing[spec["name"]] += int(missing.sum())
                values = np.where(missing, spec["median"], values)
            out[:, position] = (values - spec["center"]) / spec["spread"]
            position += 1
            if spec["indicator"]:
                indicators.append(missing)
        for missing in indicators:
            out[:, position] = missing
            position += 1
        for spec in self.categorical_:
            categories = spec["categories"]
            width = len(categories) + 1
            values = _category_values(features[spec["name"]])
            codes = pd.Index(categories).get_indexer(values).astype(np.int64)
            unseen = codes < 0
            report.unseen[spec["name"]] += int(unseen.sum())
            codes[unseen] = len(categories)
            block = out[:, position : position + width]
            block[:] = 0.0
            block[np.arange(len(codes)), codes] = 1.0
            position += width
        return out, report

    def transform_rows(
        self, frame: pd.DataFrame, rows: np.ndarray, chunk_rows: int = 65536
    ) -> np.ndarray:
        """``transform`` of the rows at positions ``rows``, chunk by chunk into one
        preallocated matrix, so no full copy of the selected rows is ever made."""
        out = np.empty((len(rows), self.n_features), dtype=np.float32)
        for start in range(0, len(rows), chunk_rows):
            part = frame.take(rows[start : start + chunk_rows])
            out[start : start + len(part)] = self.transform(part)[0]
        return out

    def state(self) -> dict:
        return {
            "scale": self.scale,
            "numeric": self.numeric_,
            "categorical": self.categorical_,
            "ignored": self.ignored_,
        }

    @classmethod
    def from_state(cls, state: dict) -> FeatureEncoder:
        encoder = cls(state["scale"])
        encoder.numeric_ = list(state["numeric"])
        encoder.categorical_ = list(state["categorical"])
        encoder.ignored_ = list(state["ignored"])
        return encoder


def _category_values(column: pd.Series) -> list[str]:
    """Category labels as stripped text, with missing values as their own category."""
    return column.astype("string").str.strip().fillna(MISSING).tolist()


def _as_text_if_object(column: pd.Series) -> pd.Series:
    """Text columns stripped of stray spaces before number parsing (' 1.5 ' is 1.5)."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return column
    return column.astype("string").str.strip()


def _is_row_identifier(present: pd.Series, rows: int) -> bool:
    """Distinct integers, densely packed, on every row (1..n, or the training part of it):
    a row number, not a measurement. Counts and codes repeat; unique measurements (prices
    in cents) spread over a range far wider than the number of rows."""
    if rows < 20 or len(present) != rows or not present.is_unique:
        return False
    return int(present.max()) - int(present.min()) + 1 <= 2 * rows


def _column_kind(column: pd.Series) -> tuple[str, str]:
    """('numeric'|'categorical'|'ignored', reason) for one training column."""
    import pandas as pd

    present = column.dropna()
    if present.nunique() <= 1 and not (column.isna().any() and len(present)):
        return "ignored", "constant"
    if pd.api.types.is_bool_dtype(column):
        return "categorical", ""
    if pd.api.types.is_integer_dtype(column) and _is_row_identifier(present, len(column)):
        return "ignored", "a row identifier (distinct consecutive integers)"
    if pd.api.types.is_numeric_dtype(column):
        return "numeric", ""
    text = present.astype(str).str.strip()
    as_numbers = pd.to_numeric(text, errors="coerce")
    junk = text[as_numbers.isna()]
    if len(junk) and len(junk) <= 0.05 * len(text):
        raise DataError(
            f"column {column.name!r} is numeric except for values like {junk.iloc[0]!r}; "
            f"add --na-values {junk.iloc[0]!r} if it marks a missing value, or "
            f"--categorical {column.name!r} to treat the column as text"
        )
    if len(junk) == 0:
        return "numeric", ""
    distinct = text.nunique()
    if distinct > MAX_ONE_HOT and distinct > 0.5 * len(text):
        return "ignored", "nearly every value distinct (an identifier or free text)"
    return "categorical", ""
