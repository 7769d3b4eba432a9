"""Estimator inputs as the tables the train job and the encoders read: scikit-learn's own
checks (``validate_data``: feature counts and names, NaN allowed, infinities refused),
then a DataFrame with string column names (``x0``, ``x1``... for arrays)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_consistent_length, validate_data


def training_frame(X, y: np.ndarray) -> tuple[pd.DataFrame, str]:
    """(rows with the target as their last column, the target's column name).

    Example:
        >>> frame, target = training_frame(np.eye(2), np.array([1.0, 2.0]))
        >>> list(frame.columns), target
        (['x0', 'x1', 'target'], 'target')
    """
    check_consistent_length(X, y)
    features = _features(X)
    if len(features) < 2:
        raise ValueError(
            f"got {len(features)} sample(s) (n_samples = {len(features)}); training needs "
            "rows to train on and rows to validate on"
        )
    target = _free_name("target", list(features.columns))
    return features.assign(**{target: y}), target


def feature_frame(X, estimator: Any) -> pd.DataFrame:
    """``X`` checked against what ``fit`` saw (count and names of features), as a
    DataFrame of the run's input columns."""
    if isinstance(X, pd.DataFrame):
        validate_data(estimator, X, reset=False, skip_check_array=True)
    else:
        X = validate_data(estimator, X, reset=False, dtype=None, ensure_all_finite="allow-nan")
    frame = _features(X)
    return frame[estimator.run_.features.input_columns]


def _features(X) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        frame = X.reset_index(drop=True)
        frame.columns = [str(c) for c in frame.columns]
        numbers = frame.select_dtypes("number")
        if np.isinf(numbers.to_numpy(dtype=float, na_value=np.nan)).any():
            raise ValueError("Input X contains infinity; give finite numbers (NaN is missing)")
        return frame
    array = np.asarray(X)
    if array.ndim != 2:
        raise ValueError(f"Expected a 2D array, got {array.ndim}D; reshape your data")
    frame = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
    return frame.infer_objects()  # an object array of numbers is numbers


def fit_checked(estimator: Any, X):
    """``X`` after scikit-learn's checks at fit time (sets ``n_features_in_`` and, for a
    DataFrame with string column names, ``feature_names_in_``)."""
    if isinstance(X, pd.DataFrame):
        validate_data(estimator, X, reset=True, skip_check_array=True)
        return X
    return validate_data(estimator, X, reset=True, dtype=None, ensure_all_finite="allow-nan")


def _free_name(name: str, taken: list[str]) -> str:
    candidate, number = name, 1
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    return candidate
