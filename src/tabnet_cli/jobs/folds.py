"""The K folds of cross-validation and of bagged ensembles: seeded, stratified by class."""

from __future__ import annotations

import numpy as np

from tabnet_cli.errors import DataError
from tabnet_cli.prep.targets import infer_task, label_key
from tabnet_cli.prep.types import Split, Table
from tabnet_cli.settings.config import ConfigError, DataConfig


def fold_splits(table: Table, config: DataConfig, loss: str, folds: int, seed: int) -> list[Split]:
    """K (training rows, test rows) splits of the table: stratified by class for a
    classification target, shuffled with ``seed``.

    Example:
        >>> import pandas as pd
        >>> table = Table("t.csv", pd.DataFrame({"y": ["a", "b"] * 5, "x": range(10)}))
        >>> splits = fold_splits(table, DataConfig(target="y"), "auto", 5, 0)
        >>> [len(s.valid_rows) for s in splits], sorted(np.concatenate([s.valid_rows
        ...     for s in splits]).tolist()) == list(range(10))
        ([2, 2, 2, 2, 2], True)
    """
    refuse_validation_file(config)
    target = table.frame[config.target]
    rows = len(target)
    if folds < 2 or folds > rows // 2:
        raise ConfigError(f"--folds must be in [2, {rows // 2}] for {rows} rows, got {folds}")
    if infer_task(target, loss, config.task) == "regression":
        labels = np.zeros(rows, dtype=np.int64)
    else:
        labels = np.array([label_key(v) for v in target.tolist()])
        names, counts = np.unique(labels, return_counts=True)
        if counts.min() < folds:
            rare = str(names[counts.argmin()])
            raise DataError(
                f"class {rare!r} of target {config.target!r} has {counts.min()} row(s), "
                f"fewer than --folds {folds}: every fold needs one; use fewer folds"
            )
    fold_of_row = assign_folds(labels, folds, seed)
    return [
        Split(np.flatnonzero(fold_of_row != k), np.flatnonzero(fold_of_row == k))
        for k in range(folds)
    ]


def assign_folds(labels: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """The fold (0..K-1) of every row: the rows shuffled with ``seed``, grouped by label
    (a stable sort keeps the shuffle inside each group) and dealt round-robin, so each
    fold holds every label's rows to within one and the folds' sizes differ by at most one.
    NumPy rather than scikit-learn's StratifiedKFold, whose import (model_selection pulls
    in SciPy) costs a bagged run about a second before its first step.

    Example:
        >>> np.bincount(assign_folds(np.array([0] * 6 + [1] * 4), 2, seed=0)).tolist()
        [5, 5]
    """
    shuffled = np.random.default_rng(seed).permutation(len(labels))
    dealt = shuffled[np.argsort(labels[shuffled], kind="stable")]
    fold_of_row = np.empty(len(labels), dtype=np.int64)
    fold_of_row[dealt] = np.arange(len(labels)) % folds
    return fold_of_row


def refuse_validation_file(config: DataConfig) -> None:
    """Each fold is validated on the training file's rows: a validation file is a mistake.

    Example:
        >>> refuse_validation_file(DataConfig(target="y", validation_data="v.csv"))
        Traceback (most recent call last):
        ...
        tabnet_cli.settings.config.ConfigError: folds validate on the training file's rows: drop ...
    """
    if config.validation_data:
        raise ConfigError("folds validate on the training file's rows: drop --validation-data")
