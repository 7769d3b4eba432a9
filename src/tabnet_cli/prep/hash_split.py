"""Row decisions that need no shuffle of the table: each row's fate is a hash of its
position in the source (and the seed), so every pass, every block order and every
process agrees on it, whatever the file size.
"""

from __future__ import annotations

import numpy as np

SPLIT_SALT = 0x9E3779B97F4A7C15  # which rows validate
SAMPLE_SALT = 0xD1B54A32D192ED03  # which rows the preprocessing sample keeps
_TWO_TO_64 = float(2**64)


def unit_hash(positions: np.ndarray, seed: int, salt: int) -> np.ndarray:
    """A uniform number in [0, 1) per row position (SplitMix64's finaliser), a pure
    function of (position, seed, salt).

    Example:
        >>> values = unit_hash(np.arange(100_000), seed=0, salt=SPLIT_SALT)
        >>> bool(0.49 < values.mean() < 0.51), unit_hash(np.arange(3), 0, 1).tolist() == \\
        ...     unit_hash(np.arange(3), 0, 1).tolist()
        (True, True)
    """
    with np.errstate(over="ignore"):  # the arithmetic is modulo 2**64 on purpose
        z = positions.astype(np.uint64) + np.uint64((seed * SPLIT_SALT + salt) % 2**64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(2**53)


def is_validation(positions: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Which rows hold out for validation: about ``fraction`` of them, chosen by hash.

    Example:
        >>> held = is_validation(np.arange(10_000), 0.2, seed=0)
        >>> round(float(held.mean()), 2)
        0.2
    """
    return unit_hash(positions, seed, SPLIT_SALT) < fraction


def rows_held(positions: np.ndarray, part: str, fraction: float, seed: int) -> np.ndarray:
    """Which rows of a streamed part validate: by hash ("split"), none ("train": a
    --validation-data file validates) or all ("valid": that file).

    Example:
        >>> rows_held(np.arange(3), "valid", 0.2, 0).tolist()
        [True, True, True]
    """
    if part == "split":
        return is_validation(positions, fraction, seed)
    return np.full(len(positions), part == "valid")


class BottomKSample:
    """A uniform sample of ``size`` rows from a stream of chunks: the rows whose hash
    keys are the smallest seen. Any order of the same rows gives the same sample, and
    memory stays at about twice ``size`` rows.

    Example:
        >>> import pandas as pd
        >>> sample = BottomKSample(3, seed=0)
        >>> for start in (0, 5):
        ...     rows = np.arange(start, start + 5)
        ...     sample.add(pd.DataFrame({"x": rows}), rows)
        >>> len(sample.frame())
        3
    """

    def __init__(self, size: int, seed: int):
        self.size, self.seed = size, seed
        self._parts: list = []
        self._keys: list[np.ndarray] = []
        self._held = 0
        self._cut = 1.0  # keys at or above this cannot enter the sample any more

    def add(self, chunk, positions: np.ndarray) -> None:
        keys = unit_hash(positions, self.seed, SAMPLE_SALT)
        keep = keys < self._cut
        if not keep.any():
            return
        self._parts.append(chunk[keep])
        self._keys.append(keys[keep])
        self._held += int(keep.sum())
        if self._held > 2 * self.size:
            self._trim()

    def _trim(self) -> None:
        import pandas as pd  # pandas loads on first use, not with this module

        keys = np.concatenate(self._keys)
        frame = pd.concat(self._parts, ignore_index=True)
        order = np.argsort(keys, kind="stable")[: self.size]
        order.sort()  # keep the rows in source order
        self._parts, self._keys = [frame.take(order)], [keys[order]]
        self._held = len(order)
        if self._held == self.size:
            self._cut = float(keys[order].max())

    def frame(self):
        """The sample as one DataFrame, rows in source order."""
        import pandas as pd  # pandas loads on first use, not with this module

        if not self._parts:
            return None
        self._trim()
        return pd.concat(self._parts, ignore_index=True)
