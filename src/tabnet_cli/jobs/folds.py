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
    # sklearn loads on first use, not with this module
    from sklearn.model_selection import KFold, StratifiedKFold

    refuse_validation_file(config)
    target = table.frame[config.target]
    rows = len(target)
    if folds < 2 or folds > rows // 2:
        raise ConfigError(f"--folds must be in [2, {rows // 2}] for {rows} rows, got {folds}")
    zeros = np.zeros(rows)
    if infer_task(target, loss, config.task) == "regression":
        pairs = KFold(folds, shuffle=True, random_state=seed).split(zeros)
    else:
        labels = np.array([label_key(v) for v in target.tolist()])
        names, counts = np.unique(labels, return_counts=True)
        if counts.min() < folds:
            rare = str(names[counts.argmin()])
            raise DataError(
                f"class {rare!r} of target {config.target!r} has {counts.min()} row(s), "
                f"fewer than --folds {folds}: every fold needs one; use fewer folds"
            )
        pairs = StratifiedKFold(folds, shuffle=True, random_state=seed).split(zeros, labels)
    return [Split(train, test) for train, test in pairs]


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
