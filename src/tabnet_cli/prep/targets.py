"""The target column: which task it implies, and its encoding to and from model units.

Regression targets are scaled (``--target-scale``); classification labels become class
indices in sorted label order, and predictions go back to the user's units and labels.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np

from tabnet_cli.errors import DataError, short_list

if TYPE_CHECKING:
    import pandas as pd

LOSS_TASKS = {
    "mae": "regression",
    "mse": "regression",
    "huber": "regression",
    "bce": "binary",
    "crossentropy": "multiclass",
}
AUTO_LOSS = {"regression": "mae", "binary": "bce", "multiclass": "crossentropy"}
MAX_CLASSES = 100
FLOAT32_MAX = float(np.finfo(np.float32).max)  # the network computes in float32
# Integer targets whose values are exactly 0..k-1 look like class codes (digits 0..9);
# other integers (wine quality 3..8, abalone rings 1..29) are quantities.
MAX_CODED_CLASSES = 20


def label_key(value: Any) -> str:
    """A label's identity, so 1, 1.0, "1" and "1.0" from different files match; text
    that is not how a number is written (``007``) stays itself.

    Example:
        >>> label_key(1.0), label_key(" good "), label_key("2.0"), label_key("007")
        ('1', 'good', '2', '007')
    """
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    text = str(value).strip()
    if text[:1] in _NUMBER_STARTS and "." in text and text == repr(_float(text)):
        number = float(text)
        return str(int(number)) if number.is_integer() else text
    return text


_NUMBER_STARTS = set("-0123456789")


def value_keys(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """``(codes, keys)``: ``keys[codes[i]]`` is row i's ``label_key``, computed once per
    distinct value (40k rows one by one: 0.08 s); mixed types (True, 1) row by row.

    Example:
        >>> import pandas as pd
        >>> codes, keys = value_keys(pd.Series(["b", " a", "b", "2.0"]))
        >>> [keys[c] for c in codes]
        ['b', 'a', 'b', '2']
    """
    import pandas as pd  # pandas loads on first use, not with this module

    if pd.api.types.infer_dtype(values, skipna=False).startswith("mixed"):
        return np.arange(len(values)), [label_key(v) for v in values.tolist()]
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    return codes, [label_key(v) for v in distinct]


def label_counts(values: pd.Series) -> Counter:
    """Rows per label key (``label_key``) of ``values``.

    Example:
        >>> import pandas as pd
        >>> sorted(label_counts(pd.Series([1, 1.0, 2, 1])).items())
        [('1', 3), ('2', 1)]
    """
    codes, keys = value_keys(values)
    return Counter(np.asarray(keys, dtype=object)[codes].tolist())


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _numeric_key(key: str) -> str:
    """The key of the number ``key`` spells (``"007"`` -> ``"7"``), else ``key``."""
    number = _float(key) if key[:1] in _NUMBER_STARTS else None
    return key if number is None else label_key(number)


def _number(key: str) -> int | float | None:
    """The number a label key writes the way Python writes it (``7``, ``-2``, ``1.5``),
    else None: ``007`` and ``1.50`` are text labels.

    Example:
        >>> _number("7"), _number("1.5"), _number("007"), _number("1.50")
        (7, 1.5, None, None)
    """
    if key[:1] not in _NUMBER_STARTS:
        return None
    if key.lstrip("-").isdigit() and key == str(int(key)):
        return int(key)
    number = _float(key)
    return number if number is not None and repr(number) == key else None


def _plain(value: Any) -> Any:
    """A label as a JSON value (what ``model.json`` can hold): NumPy numbers as Python
    ones, anything else that is not a number, text or boolean (a timestamp, a decimal)
    as its text, the way ``label_key`` sees it.

    Example:
        >>> import decimal
        >>> _plain(np.int64(3)), _plain(2.0), _plain(" a "), _plain(decimal.Decimal("1.5"))
        (3, 2, 'a', '1.5')
    """
    if isinstance(value, (np.bool_, np.integer, np.floating)):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (bool, int, float)):
        return value
    return label_key(value)


def infer_task(target: pd.Series, loss: str, task: str) -> str:
    """Decides regression, binary or multiclass from ``--task``, ``--loss`` and the values.

    Example:
        >>> import pandas as pd
        >>> infer_task(pd.Series(["good", "bad", "good"]), "auto", "auto")
        'binary'
        >>> infer_task(pd.Series([3, 5, 6, 8]), "auto", "auto")
        'regression'
    """
    import pandas as pd  # pandas loads on first use, not with this module

    values = target.dropna()
    distinct = values.nunique()
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if task == "multiclass" and not numeric:  # labels read as written (DataConfig)
        values, numeric = _numbers_of(values)
    if task == "auto" and loss not in LOSS_TASKS and not numeric:
        _refuse_stray_text(values, str(target.name))
    if task == "auto":
        task = LOSS_TASKS.get(loss) or _task_from_values(values, distinct, numeric)
    name = target.name
    if distinct < 2:
        raise DataError(
            f"target {name!r} has a single value in the training rows; nothing to learn"
        )
    if task == "regression" and not numeric:
        raise DataError(
            f"target {name!r} holds labels (e.g. {values.iloc[0]!r}), not numbers; "
            "use --task binary or multiclass with --loss bce or crossentropy"
        )
    if task == "binary" and distinct != 2:
        raise DataError(
            f"--loss bce / --task binary needs a target with two values; {name!r} has "
            f"{distinct} distinct values; use --loss mae|mse|huber for a quantity "
            "or crossentropy for classes"
        )
    if task == "multiclass" and numeric and not _integral(values):
        raise DataError(
            f"target {name!r} holds continuous numbers, not class labels; "
            "use --loss mae|mse|huber (regression)"
        )
    if task == "multiclass" and distinct > MAX_CLASSES:
        raise DataError(
            f"target {name!r} has {distinct} distinct values, too many classes for "
            f"crossentropy (at most {MAX_CLASSES}); use --task regression for a quantity"
        )
    expected_loss = AUTO_LOSS[task]
    if (
        loss != "auto"
        and LOSS_TASKS[loss] != task
        and not (loss == "crossentropy" and task == "binary")
    ):
        raise DataError(
            f"--loss {loss} does not fit a {task} target {name!r}; use --loss {expected_loss}"
        )
    if loss == "crossentropy" and task == "binary":
        task = "multiclass"  # a two-way softmax is what the user asked for
    return task


def _numbers_of(values: pd.Series) -> tuple[pd.Series, bool]:
    """Text labels that all write numbers as their distinct numbers (checked as numbers:
    ``1.5, 2.5`` are not classes), else the labels unchanged."""
    import pandas as pd  # pandas loads on first use, not with this module

    numbers = [_number(label_key(v)) for v in values.unique()]
    if all(n is not None for n in numbers):
        return pd.Series(numbers, dtype=float), True
    return values, False


def _refuse_stray_text(values: pd.Series, name: str) -> None:
    """A target that is numbers but for a few text values (``five`` among 5, 6, 7) is a
    typo, not a set of class labels: left alone, it would silently turn a regression into
    a many-class classification.

    Example:
        >>> import pandas as pd
        >>> _refuse_stray_text(pd.Series(["5", "6", "7"] * 10 + ["five"]), "quality")
        Traceback (most recent call last):
        ...
        tabnet_cli.errors.DataError: target 'quality' is numeric except for values like 'five'; ...
    """
    import pandas as pd  # pandas loads on first use, not with this module

    text = values.astype(str).str.strip()
    junk = text[pd.to_numeric(text, errors="coerce").isna()]
    if 0 < len(junk) <= 0.05 * len(text) and junk.nunique() < text.nunique():
        example = junk.iloc[0]
        raise DataError(
            f"target {name!r} is numeric except for values like {example!r}; fix or remove "
            f"those rows, add --na-values {example!r} if it marks a missing value, or give "
            "--task multiclass to treat every value as a class label"
        )


def _task_from_values(values: pd.Series, distinct: int, numeric: bool) -> str:
    if distinct == 2:
        return "binary"
    if not numeric:
        return "multiclass"
    if (
        _integral(values)
        and distinct <= MAX_CODED_CLASSES
        and set(values.astype(float).unique()) == set(range(distinct))
    ):
        return "multiclass"
    return "regression"


def _integral(values: pd.Series) -> bool:
    return bool(np.all(np.mod(values.astype(float), 1) == 0))


class TargetEncoder:
    """Maps target values to model units (scaled floats or class indices) and back.

    Example:
        >>> import pandas as pd
        >>> enc = TargetEncoder("binary").fit(pd.Series(["good", "bad", "good"]))
        >>> enc.classes_, enc.encode(pd.Series(["bad", "good"])).tolist()
        (['bad', 'good'], [0.0, 1.0])
    """

    def __init__(self, task: str, scale: str = "none"):
        self.task = task
        self.scale = scale if task == "regression" else "none"

    def fit(self, target: pd.Series) -> TargetEncoder:
        values = target.dropna()
        if self.task == "regression":
            y = values.astype(float).to_numpy()
            if not np.all(np.isfinite(y)):
                raise DataError(f"target {target.name!r} has infinite values; fix or drop them")
            if np.abs(y).max() > FLOAT32_MAX:
                raise DataError(
                    f"target {target.name!r} holds {np.abs(y).max():.3g}, beyond the float32 "
                    "range the model computes in; fix the value or rescale the column"
                )
            self.center_, self.spread_ = center_spread(y, self.scale)
            self.classes_ = None
            self.baseline_ = [float(y.mean())]  # the naive model: predict the training mean
        else:
            labels = _numbers_if_all({label_key(v): _plain(v) for v in values.unique()})
            if any(isinstance(v, float) and not np.isfinite(v) for v in labels.values()):
                raise DataError(f"target {target.name!r} has infinite values; fix or drop them")
            self.classes_ = [labels[k] for k in sorted(labels, key=_sort_key(labels))]
            self.center_, self.spread_ = 0.0, 1.0
            counts = label_counts(values)
            # the naive model: the training class frequencies
            self.baseline_ = [counts[label_key(c)] / len(values) for c in self.classes_]
        return self

    @property
    def n_outputs(self) -> int:
        return len(self.classes_) if self.task == "multiclass" else 1

    def encode(self, target: pd.Series) -> np.ndarray:
        """Target values in model units: float32 (regression, binary) or int64 (multiclass)."""
        if self.task == "regression":
            y = target.astype(float).to_numpy()
            return ((y - self.center_) / self.spread_).astype(np.float32)
        index = {label_key(c): i for i, c in enumerate(self.classes_)}
        rows, keys = value_keys(target)
        if all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in self.classes_):
            # a run whose labels are numbers, on labels read as text ("007" for 7)
            keys = [k if k in index else _numeric_key(k) for k in keys]
        unknown = sorted({k for k in keys if k not in index})
        if unknown:
            raise DataError(
                f"target {target.name!r} has labels the model never saw: "
                f"{', '.join(unknown[:5])}; "
                f"known labels: {short_list([str(c) for c in self.classes_])}"
            )
        codes = np.array([index[k] for k in keys], dtype=np.int64)[rows]
        return codes.astype(np.float32) if self.task == "binary" else codes

    def decode(self, model_output: np.ndarray) -> np.ndarray:
        """Regression values in original units, or labels, from raw model outputs."""
        if self.task == "regression":
            return model_output.reshape(-1).astype(np.float64) * self.spread_ + self.center_
        if self.task == "binary":
            codes = (model_output.reshape(-1) > 0).astype(np.int64)
        else:
            codes = model_output.argmax(axis=1)
        return np.asarray(self.classes_, dtype=object)[codes]

    def probabilities(self, model_output: np.ndarray) -> np.ndarray:
        """Class probabilities, one column per class in ``classes_`` order.

        Example:
            >>> enc = TargetEncoder.from_state({"task": "binary", "scale": "none", "center": 0,
            ...     "spread": 1, "classes": ["bad", "good"], "baseline": [0.5, 0.5]})
            >>> enc.probabilities(np.array([[0.0]])).tolist()
            [[0.5, 0.5]]
        """
        logits = model_output.astype(np.float64)
        if self.task == "binary":
            positive = 1.0 / (1.0 + np.exp(-logits.reshape(-1)))
            return np.column_stack([1.0 - positive, positive])
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    def state(self) -> dict:
        return {
            "task": self.task,
            "scale": self.scale,
            "center": self.center_,
            "spread": self.spread_,
            "classes": self.classes_,
            "baseline": self.baseline_,
        }

    @classmethod
    def from_state(cls, state: dict) -> TargetEncoder:
        encoder = cls(state["task"], state["scale"])
        encoder.center_ = float(state["center"])
        encoder.spread_ = float(state["spread"])
        encoder.classes_ = state["classes"]
        encoder.baseline_ = [float(v) for v in state["baseline"]]
        if encoder.task != "regression" and len(encoder.classes_) != len(encoder.baseline_):
            raise ValueError("classes and baseline frequencies differ in length")
        return encoder


def _numbers_if_all(labels: dict[str, Any]) -> dict[str, Any]:
    """Labels read as text (``--task multiclass`` reads them as written) are numbers
    again when every one is written as a number is, so ``1, 7, 10`` sort as numbers
    while ``001, 007, 010`` stay as they are."""
    numbers = {key: _number(key) if isinstance(v, str) else v for key, v in labels.items()}
    plain = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers.values())
    return numbers if plain else labels


def _sort_key(labels: dict[str, Any]):
    """Numbers sort numerically, everything else as text."""
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in labels.values())
    return (lambda k: float(labels[k])) if numeric else (lambda k: k)


def center_spread(values: np.ndarray, scale: str) -> tuple[float, float]:
    """Centre and spread for min-max, standard or robust scaling (spread 1 for a
    constant). Robust scaling (median and interquartile range, as RealMLP's) keeps a few
    extreme values from squashing the rest; a column with a zero IQR (mostly one value)
    falls back to half its range.

    Example:
        >>> center_spread(np.array([3.0, 8.0]), "minmax")
        (3.0, 5.0)
        >>> center_spread(np.array([1.0, 2.0, 3.0, 4.0, 1e9]), "robust")
        (3.0, 2.0)
    """
    if scale == "minmax":
        center, spread = float(values.min()), float(values.max() - values.min())
    elif scale == "standard":
        center, spread = float(values.mean()), float(values.std())
    elif scale == "robust":
        low, center, high = (float(q) for q in np.percentile(values, [25, 50, 75]))
        spread = high - low or float(values.max() - values.min()) / 2
    else:
        center, spread = 0.0, 1.0
    return center, (spread if spread > 0 else 1.0)
