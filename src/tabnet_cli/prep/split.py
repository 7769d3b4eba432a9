"""The course's split of an in-memory table: training rows exactly as pandas'
``df.sample(frac=1-F, random_state=S)`` picks them (streamed runs split by a hash of each
row's position instead: ``hash_split``)."""

from __future__ import annotations

import numpy as np

from tabnet_cli.errors import DataError


def split_positions(rows: int, validation_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the course's split: training rows are exactly those of
    ``df.sample(frac=1-F, random_state=S)`` (in that order), validation rows the rest
    (``df.drop(train.index)``). Sampling a small integer Series walks the same random
    path as sampling the DataFrame, without copying the data.

    Example:
        >>> train, valid = split_positions(10, 0.3, seed=0)
        >>> train.tolist(), valid.tolist()
        ([2, 8, 4, 9, 1, 6, 7], [0, 3, 5])
    """
    import pandas as pd  # pandas loads on first use, not with this module

    train = pd.Series(np.arange(rows)).sample(frac=1 - validation_split, random_state=seed)
    train_positions = train.to_numpy()
    keep = np.ones(rows, dtype=bool)
    keep[train_positions] = False
    valid_positions = np.flatnonzero(keep)
    if len(train_positions) < 2 or len(valid_positions) < 1:
        raise DataError(
            f"{rows} rows are too few for --validation-split {validation_split}: "
            f"it leaves {len(train_positions)} training and {len(valid_positions)} "
            "validation rows; give more rows or another split"
        )
    return train_positions, valid_positions
