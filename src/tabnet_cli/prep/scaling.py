"""Numeric scalings beyond a centre and a spread: smooth clipping (``--clip smooth``) and
quantile ranks (``--scale quantile``, ``--rank-inputs``).

Quantile scaling: each numeric input mapped through its training
quantiles onto normal scores, as scikit-learn's ``QuantileTransformer(output_distribution=
"normal")`` does, the preprocessing of the TabM and rtdl papers. Ranks, not distances,
reach the network, so a heavy tail (counts, sizes, waiting times) spreads over the same
range as the bulk instead of being squashed to a sliver near zero.

The map is piecewise linear between the stored quantiles and their normal scores, flat
beyond the training range. A value shared by many rows (a quantile repeated, like the
zeros of a mostly-zero column) goes to the middle of its scores, the average of
interpolating from below and from above (scikit-learn's rule). ``onnx_export`` builds the
same function from ramps and steps.
"""

from __future__ import annotations

import functools
from statistics import NormalDist

import numpy as np

MAX_QUANTILES = 256  # per column: fine enough with periodic embeddings; model.json stays small
ROWS_PER_QUANTILE = 30  # fewer rows per quantile would fit the sample's noise


def fit_quantiles(present: np.ndarray) -> list[float]:
    """The quantiles stored for a column's non-missing training values: one per
    ``ROWS_PER_QUANTILE`` rows, at least 10, at most ``MAX_QUANTILES``.

    Example:
        >>> fit_quantiles(np.arange(101.0))[:3]
        [0.0, 11.11111111111111, 22.22222222222222]
    """
    count = int(np.clip(len(present) // ROWS_PER_QUANTILE, 10, MAX_QUANTILES))
    return np.quantile(present, np.linspace(0.0, 1.0, count)).tolist()


@functools.lru_cache(maxsize=64)  # the same few counts at every predict chunk
def _scores(count: int) -> tuple[float, ...]:
    normal = NormalDist()
    return tuple(normal.inv_cdf((i + 0.5) / count) for i in range(count))


def normal_scores(count: int) -> np.ndarray:
    """The normal score of each of ``count`` quantiles: the inverse normal CDF at the
    midpoints ``(i + 1/2) / count`` (so the ends stay finite, about +-2.7 for 256).

    Example:
        >>> normal_scores(3).round(4).tolist()
        [-0.9674, 0.0, 0.9674]
    """
    return np.array(_scores(count))


def quantile_normal(values: np.ndarray, quantiles: list[float] | np.ndarray) -> np.ndarray:
    """``values`` (no NaN) mapped through ``quantiles`` onto normal scores.

    Example:
        >>> quantile_normal(np.array([0.0, 1.0, 2.0, 5.0]), [0.0, 0.0, 2.0]).round(4).tolist()
        [-0.4837, 0.4837, 0.9674, 0.9674]
    """
    points = np.asarray(quantiles, dtype=np.float64)
    scores = normal_scores(len(points))
    # np.interp looks for each value's interval from the previous value's: in sorted
    # order it finds it at once (8x faster than a search per value). A value's result
    # does not depend on where the search started (the same interval, the same
    # arithmetic), so the values are interpolated sorted and put back in place.
    order = np.argsort(values)
    ordered = values[order]
    up = np.interp(ordered, points, scores)
    down = -np.interp(-ordered[::-1], -points[::-1], -scores[::-1])[::-1]
    result = np.empty_like(up)
    result[order] = 0.5 * (up + down)
    return result


def smooth_clip(x: np.ndarray) -> np.ndarray:
    """``x / sqrt(1 + (x/3)^2)``: the identity near 0, bounded by +-3, smooth everywhere
    (RealMLP's smooth clipping), so an outlier far outside the training range reaches the
    network as about 3, not as a huge input.

    Example:
        >>> smooth_clip(np.array([0.0, 1.0, 3.0, 1e300, -np.inf])).round(4).tolist()
        [0.0, 0.9487, 2.1213, 3.0, -3.0]
    """
    # beyond 1e15 the result is +-3 to double precision; clipping first avoids (x/3)^2
    # overflowing to infinity (which would give 0)
    bounded = np.clip(x, -1e15, 1e15)
    return bounded / np.sqrt(1.0 + np.square(bounded / 3.0))
