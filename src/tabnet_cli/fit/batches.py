"""Batch sources: the one seam between the data and the training loop.

``fit`` reads every kind of data the same way (skorch's ``get_iterator``; nanoGPT reads
every size through one path): from a source with

- ``train_rows``: the training rows of one epoch (of this rank's share);
- ``epoch_steps(batch_size)``: the steps of one epoch, the same on every rank
  (``shares.epoch_steps``): ``ceil(train_rows / batch_size)`` alone;
- ``train_batches(batch_size, generator)``: one epoch of batches in a seeded random
  order, every batch but the last full (``shares.batch_bounds``);
- ``valid_batches()``: the validation rows, in order;
- ``metric_rows``: how many rows of outputs the epoch's metrics may hold at once
  (``epoch_metrics.EpochMetrics``);
- ``device``: where the batches are.

In-memory tensors (``TensorRows``) are a stream of one block; a rank's shard under torchrun
is the same with every ``world``-th row (``in_memory``); streamed rows are
``streamed_batches.StreamedRows``, a rank's being its share of each epoch's blocks. An
ensemble member is a run of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

import numpy as np
import torch

from tabnet_cli.fit.shares import batch_bounds, epoch_steps
from tabnet_cli.system.distributed import shard

if TYPE_CHECKING:
    from tabnet_cli.system.distributed import Rank

Batch = tuple[torch.Tensor, torch.Tensor]
INFERENCE_ROWS = 8192  # rows per validation forward pass: 8 MB of activations per 256 units


class Batches(Protocol):
    """What ``fit`` reads its batches from."""

    device: torch.device
    train_rows: int
    metric_rows: int

    def epoch_steps(self, batch_size: int) -> int: ...

    def train_batches(self, batch_size: int, generator: torch.Generator) -> Iterator[Batch]: ...

    def valid_batches(self) -> Iterator[Batch]: ...


class TensorRows:
    """Training and validation rows held as tensors on one device: each epoch draws a
    seeded permutation and slices minibatches from it (no per-sample DataLoader). A rank's
    shard knows every rank's rows (``all_rows``, ``world``), to take as many steps as
    the others.

    Example:
        >>> x = torch.arange(10.0).unsqueeze(1); rows = TensorRows((x, x[:, 0]), (x, x[:, 0]))
        >>> [len(y) for _, y in rows.train_batches(4, torch.Generator().manual_seed(0))]
        [4, 4, 2]
    """

    def __init__(self, train: Batch, valid: Batch, all_rows: int | None = None, world: int = 1):
        (self.x, self.y), self.valid = train, valid
        self.device = self.x.device
        self.train_rows = len(self.x)
        self.all_rows, self.world = all_rows or self.train_rows, world
        # the whole epoch at once: its metrics are means over all its outputs
        self.metric_rows = max(len(self.x), len(valid[0]), 1)

    def epoch_steps(self, batch_size: int) -> int:
        return epoch_steps(self.all_rows, self.world, batch_size)

    def train_batches(self, batch_size: int, generator: torch.Generator) -> Iterator[Batch]:
        x, y, rows = self.x, self.y, self.train_rows
        order = torch.randperm(rows, generator=generator).to(self.device)
        bounds = batch_bounds(rows, batch_size, self.epoch_steps(batch_size))
        for start, end in zip(bounds[:-1], bounds[1:], strict=True):
            index = order[start:end]
            yield x.index_select(0, index), y.index_select(0, index)

    def valid_batches(self) -> Iterator[Batch]:
        x, y = self.valid
        for start in range(0, len(x), INFERENCE_ROWS):
            yield x[start : start + INFERENCE_ROWS], y[start : start + INFERENCE_ROWS]


def in_memory(
    train: tuple[np.ndarray, np.ndarray],
    valid: tuple[np.ndarray, np.ndarray],
    device: torch.device,
    rank: Rank | None = None,
) -> TensorRows:
    """Prepared matrices as ``TensorRows`` on ``device``; with a ``rank`` (under
    torchrun), that rank's shard of the training and of the validation rows.

    Example:
        >>> x = np.zeros((5, 2), np.float32); y = np.arange(5, dtype=np.float32)
        >>> from tabnet_cli.system.distributed import Rank
        >>> in_memory((x, y), (x, y), torch.device("cpu"), Rank(1, 2, 1)).y.tolist()
        [1.0, 3.0]
    """
    world = rank.world if rank is not None else 1
    train_rows = _tensors(*train, device, rank)
    return TensorRows(train_rows, _tensors(*valid, device, rank), len(train[0]), world)


def _tensors(x: np.ndarray, y: np.ndarray, device: torch.device, rank: Rank | None) -> Batch:
    if rank is not None:
        rows = shard(np.arange(len(x)), rank)
        x, y = x[rows], y[rows]
    return torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)
