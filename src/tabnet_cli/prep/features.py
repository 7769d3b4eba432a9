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
from tabnet_cli.prep.column_kinds import (
    MAX_ONE_HOT,
    MISSING,
    column_kind,
    factorize,
    label_counts,
    nothing_left,
    to_floats,
)
from tabnet_cli.prep.scaling import fit_quantiles, quantile_normal, smooth_clip
from tabnet_cli.prep.targets import FLOAT32_MAX, center_spread

if TYPE_CHECKING:
    import pandas as pd

# A column whose central 90% of values fill less than this share of the scaled range is
# dominated by a few extreme values (a typo like 9.6e14 for 9.6): worth a note.
SQUASHED_SHARE = 0.01


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

    def __init__(self, scale: str = "standard", clip: str = "none", ranks: bool = False):
        self.scale = scale
        self.clip = clip  # "smooth": x / sqrt(1 + (x/3)^2) after scaling (RealMLP)
        # each numeric column also as its quantile score: the value for what is linear in
        # it, the rank for heavy tails and steps (scaling.py)
        self.ranks = ranks

    def fit(
        self,
        features: pd.DataFrame,
        rows: np.ndarray | None = None,
        categorical: tuple[str, ...] = (),
        numeric: tuple[str, ...] = (),
        columns: list[str] | None = None,
    ) -> FeatureEncoder:
        """Learns column kinds and statistics from the ``columns`` of ``features`` (all by
        default), on the row positions ``rows`` when given (the training rows), one column
        at a time so the table is never copied. Columns in ``categorical`` / ``numeric``
        get that kind whatever their values look like.
        """

        self.numeric_, self.categorical_, self.ignored_ = [], [], []
        self.notes_: list[str] = []  # said at training, not saved
        for name in features.columns if columns is None else columns:
            column = features[name] if rows is None else features[name].take(rows)
            if name in categorical:
                kind, reason = "categorical", ""
            elif name in numeric:
                kind, reason = "numeric", ""
            else:
                kind, reason = column_kind(column)
            if kind == "ignored":
                self.ignored_.append({"name": name, "reason": reason})
            elif kind == "numeric":
                self.numeric_.append(self._fit_numeric(name, to_floats(column)))
            else:
                counts = label_counts(column)
                ranked = sorted(counts.index, key=lambda v: (-counts[v], v))[:MAX_ONE_HOT]
                self.categorical_.append({"name": name, "categories": sorted(ranked)})
        if not self.numeric_ and not self.categorical_:
            raise DataError(nothing_left(self.ignored_))
        return self

    def _fit_numeric(self, name: str, values: np.ndarray) -> dict:
        """Median, centre and spread of a numeric column; refuses values the float32 model
        could not take, and notes outliers that squash the rest of the column."""
        if np.isnan(values).all():
            raise DataError(
                f"column {name!r} has no numeric value; drop --numeric {name} or use --categorical"
            )
        present = values[~np.isnan(values)]
        if not np.all(np.isfinite(present)):
            raise DataError(
                f"column {name!r} has infinite values; replace them or --drop the column"
            )
        largest = float(np.abs(present).max())
        if largest > FLOAT32_MAX:
            raise DataError(
                f"column {name!r} holds {largest:.3g}, beyond the float32 range the model "
                f"computes in (about {FLOAT32_MAX:.2g}); fix the value or --drop the column"
            )
        spec = {"name": name, "median": float(np.median(present))}
        if self.scale == "quantile":  # ranks: extreme values squash nothing
            spec.update(center=0.0, spread=1.0)
        else:
            center, spread = center_spread(present, self.scale)
            spec.update(center=center, spread=spread)
            note = outlier_note(name, present, spread)
            if note:
                self.notes_.append(note)
        if self.scale == "quantile" or self.ranks:
            spec["quantiles"] = fit_quantiles(present)
        return {**spec, "indicator": bool(len(present) < len(values))}

    @property
    def n_features(self) -> int:
        indicators = sum(c["indicator"] for c in self.numeric_)
        one_hot = sum(len(c["categories"]) + 1 for c in self.categorical_)
        return len(self.numeric_) * (2 if self.ranks else 1) + indicators + one_hot

    @property
    def first_binary_input(self) -> int:
        """The input position from which every input is 0 or 1: the missing-value
        indicators, then the one-hot slots (``n_features`` when there are none). A numeric
        column with gaps and a text column of two values: 1 of 5 (``column_slots``)."""
        return len(self.numeric_) * (2 if self.ranks else 1)

    @property
    def input_columns(self) -> list[str]:
        """The raw columns the model reads (the rest of a file is ignored)."""
        return [c["name"] for c in self.numeric_] + [c["name"] for c in self.categorical_]

    def transform(self, features: pd.DataFrame) -> tuple[np.ndarray, TransformReport]:
        """The float32 model input, and a report of unseen and missing values."""

        report = TransformReport()
        out = np.empty((len(features), self.n_features), dtype=np.float32)
        position = 0
        indicators, ranks = [], []
        for spec in self.numeric_:
            values = to_floats(features[spec["name"]])
            missing = ~np.isfinite(values)
            if missing.any():
                if not spec["indicator"]:
                    report.missing[spec["name"]] += int(missing.sum())
                values = np.where(missing, spec["median"], values)
            if self.scale == "quantile":
                scaled = quantile_normal(values, spec["quantiles"])
            else:
                scaled = (values - spec["center"]) / spec["spread"]
            if self.ranks:
                ranks.append(quantile_normal(values, spec["quantiles"]))
            if self.clip == "smooth":
                scaled = smooth_clip(scaled)
            _refuse_overflow(spec["name"], values, scaled)
            out[:, position] = scaled
            position += 1
            if spec["indicator"]:
                indicators.append(missing)
        for column in (*ranks, *indicators):
            out[:, position] = column
            position += 1
        for spec in self.categorical_:
            categories = spec["categories"]
            width = len(categories) + 1
            codes = self._category_slots(features[spec["name"]], categories)
            unseen = codes < 0
            report.unseen[spec["name"]] += int(unseen.sum())
            codes[unseen] = len(categories)
            block = out[:, position : position + width]
            block[:] = 0.0
            block[np.arange(len(codes)), codes] = 1.0
            position += width
        return out, report

    def column_slots(self) -> dict[str, list[int]]:
        """The model-input positions each raw column fills, in ``transform``'s layout:
        numeric values, then their ranks (``ranks``), then the missing indicators, then one
        one-hot block per category column (its categories, then "other").

        Example:
            >>> import pandas as pd
            >>> df = pd.DataFrame({"x": [1.0, None], "c": ["a", "b"]})
            >>> FeatureEncoder().fit(df).column_slots()
            {'x': [0, 1], 'c': [2, 3, 4]}
        """
        slots = {spec["name"]: [i] for i, spec in enumerate(self.numeric_)}
        position = len(self.numeric_)
        if self.ranks:
            for spec in self.numeric_:
                slots[spec["name"]].append(position)
                position += 1
        for spec in self.numeric_:
            if spec["indicator"]:
                slots[spec["name"]].append(position)
                position += 1
        for spec in self.categorical_:
            width = len(spec["categories"]) + 1
            slots[spec["name"]] = list(range(position, position + width))
            position += width
        return slots

    @staticmethod
    def _category_slots(column: pd.Series, categories: list[str]) -> np.ndarray:
        """Each row's position in ``categories`` (-1 when unseen)."""
        import pandas as pd  # pandas loads on first use, not with this module

        codes, labels = factorize(column)
        known = pd.Index(categories)
        slot_of_label = known.get_indexer(labels).astype(np.int64)
        missing_slot = known.get_indexer([MISSING])[0]
        slots = np.full(len(codes), missing_slot, dtype=np.int64)
        present = codes >= 0
        slots[present] = slot_of_label[codes[present]]
        return slots

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
            "clip": self.clip,
            "ranks": self.ranks,
            "numeric": self.numeric_,
            "categorical": self.categorical_,
            "ignored": self.ignored_,
        }

    @classmethod
    def from_state(cls, state: dict) -> FeatureEncoder:
        encoder = cls(state["scale"], state.get("clip", "none"), state.get("ranks", False))
        encoder.numeric_ = list(state["numeric"])
        encoder.categorical_ = list(state["categorical"])
        encoder.ignored_ = list(state["ignored"])
        return encoder


def outlier_note(name: str, present: np.ndarray, spread: float) -> str | None:
    """A note when a few extreme values squash the bulk of a column after scaling.

    Example:
        >>> values = np.r_[np.linspace(9, 14, 500), 9.6e14]
        >>> outlier_note("alcohol", values, float(values.max() - values.min()))
        "column 'alcohol' has extreme values (9.6e+14) that squash 90% of its values into 0.0% ..."
    """
    low, high = np.percentile(present, [5, 95])
    share = (high - low) / spread
    if not 0 < share < SQUASHED_SHARE:
        return None
    median = np.median(present)
    extreme = present[np.argmax(np.abs(present - median))]
    return (
        f"column {name!r} has extreme values ({extreme:.3g}) that squash 90% of its values "
        f"into {share:.1%} of the scaled range; check them for typos, or clip or --drop the column"
    )


def _refuse_overflow(name: str, values: np.ndarray, scaled: np.ndarray) -> None:
    """Scaled values beyond float32 would reach the network as infinities and come out as
    empty predictions: refuse them with the value that caused it."""
    too_large = np.abs(scaled) > FLOAT32_MAX
    if too_large.any():
        value = values[np.flatnonzero(too_large)[0]]
        raise DataError(
            f"column {name!r} holds {value:.3g}, far beyond the training values, too large "
            "for the model to compute with; fix or remove the value"
        )
