"""How an epoch's rows divide among the ranks of a data-parallel run, and into steps.

Every rank must take the same number of optimizer steps per epoch: each step's backward
pass all-reduces the gradients, and a rank that ran out of batches first would leave the
others waiting in that all-reduce for ever. So the step count is decided from the rows of
the rank with the fewest (``epoch_steps``), and a rank with a row more puts it in its last
batch (``batch_bounds``). In memory a rank's rows are every ``world``-th one
(``distributed.shard``); streamed, they are a contiguous share of the epoch's rows in
that epoch's block order (``rank_share``), so a rank reads only its own blocks, and one
block split between two ranks.
"""

from __future__ import annotations

import math

import numpy as np

ORDER_SALT = 0x5851F42D4C957F2D  # the block order's seed stream, apart from the shuffle's


def local_batch(batch_size: int, world: int) -> int:
    """Each rank's batch: ``--batch-size`` stays the batch of all ranks together, so an
    epoch has as many steps as alone.

    Example:
        >>> local_batch(512, 2), local_batch(3, 4)
        (256, 1)
    """
    return max(1, batch_size // world)


def epoch_steps(rows: int, world: int, batch_size: int) -> int:
    """Steps per epoch on every rank: ``ceil(fewest rows / batch)``, where the fewest
    is ``rows // world`` (the shares differ by at most one row).

    Example:
        >>> epoch_steps(1000, 1, 64), epoch_steps(1001, 2, 32), epoch_steps(1, 2, 8)
        (16, 16, 0)
    """
    return math.ceil((rows // world) / batch_size)


def batch_bounds(rows: int, batch_size: int, steps: int) -> list[int]:
    """Where each of ``steps`` batches of ``rows`` rows starts, then the end: full batches
    and a last one with the rest, which is one row more than full on a rank that has a
    row more than the fewest.

    Example:
        >>> batch_bounds(10, 4, 3), batch_bounds(9, 4, 2), batch_bounds(3, 4, 1)
        ([0, 4, 8, 10], [0, 4, 9], [0, 3])
    """
    return [min(step * batch_size, rows) for step in range(steps)] + [rows]


def epoch_order(blocks: int, seed: int, epoch: int) -> list[int]:
    """The order blocks are read in epoch ``epoch``: a permutation drawn from the seed
    and the epoch alone, so every rank draws the same one without talking.

    Example:
        >>> epoch_order(5, 0, 1) == epoch_order(5, 0, 1), sorted(epoch_order(5, 0, 2))
        (True, [0, 1, 2, 3, 4])
    """
    generator = np.random.default_rng([seed, epoch, ORDER_SALT])
    return generator.permutation(blocks).tolist()


def rank_share(
    counts: list[int], order: list[int], rank: int, world: int
) -> list[tuple[int, int, int]]:
    """This rank's rows of an epoch as ``(block, first, stop)``: rows ``first`` to
    ``stop`` (exclusive) of a block's kept rows, ``counts[block]`` of them. The blocks
    laid end to end in ``order`` hold every row once; rank ``r`` takes rows
    ``r * total // world`` to ``(r + 1) * total // world`` of that sequence, so the ranks'
    shares differ by at most one row and cover every row exactly once.

    Example:
        >>> rank_share([5, 3, 4], [2, 0, 1], 0, 2)  # 12 rows: rank 0 takes 6
        [(2, 0, 4), (0, 0, 2)]
        >>> rank_share([5, 3, 4], [2, 0, 1], 1, 2)
        [(0, 2, 5), (1, 0, 3)]
    """
    total = sum(counts)
    low, high = rank * total // world, (rank + 1) * total // world
    share, start = [], 0
    for block in order:
        end = start + counts[block]
        first, stop = max(low, start), min(high, end)
        if first < stop:
            share.append((block, first - start, stop - start))
        start = end
    return share
