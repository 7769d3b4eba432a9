"""Batches of a streamed run, read from the source every epoch.

Training rows: the blocks (parquet row groups, CSV files) in a seeded random order each
epoch, encoded chunk by chunk into a shuffle buffer of about a quarter of
``--memory-budget``; each time the buffer is full its rows are permuted and handed out as
batches, and the rows left over wait for the next fill. Every batch but the epoch's last
is full, so an epoch has ``ceil(rows / batch)`` steps, as in memory. Validation rows:
read in source order; kept encoded in memory after the first epoch when they fit in
another quarter of the budget.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import torch

from tabnet_cli.fit.batches import Batch
from tabnet_cli.prep.hash_split import rows_held
from tabnet_cli.prep.types import StreamPlan

VALID_BATCH_ROWS = 8192


class StreamedRows:
    """The training and validation batches of a streamed ``Prepared``, as tensors on
    ``device``.

    Example:
        >>> from tabnet_cli.settings.config import DataConfig
        >>> from tabnet_cli.prep.streamed import prepare_streamed
        >>> config = DataConfig(target="progression")
        >>> prepared = prepare_streamed("sample_data/diabetes.csv", config, 0)
        >>> rows = StreamedRows(prepared, torch.device("cpu"))
        >>> batches = list(rows.train_batches(100, torch.Generator().manual_seed(0)))
        >>> sum(len(y) for _, y in batches) == rows.train_rows, len(batches[0][1])
        (True, 100)
    """

    def __init__(self, prepared, device: torch.device):
        plan: StreamPlan = prepared.plan
        self.plan, self.device = plan, device
        self.features, self.targets = prepared.features, prepared.targets
        self.train_rows = prepared.provenance.train_rows
        row_bytes = 4 * (self.features.n_features + 1)
        # the buffer is concatenated and permuted: about three copies of it live at once
        self.buffer_rows = max(plan.budget // 4 // (3 * row_bytes), 4096)
        self._valid_cap = plan.budget // 4 // row_bytes
        self.metric_rows = self.buffer_rows  # outputs held for the metrics: a few per row
        self._valid_cache: list[tuple[torch.Tensor, torch.Tensor]] | None = None

    def train_batches(self, batch_size: int, generator: torch.Generator) -> Iterator[Batch]:
        """One epoch of shuffled training batches."""
        plan = self.plan
        part = "split" if plan.valid_source is None else "train"
        order = torch.randperm(len(plan.source.blocks), generator=generator).tolist()
        chunks = (
            chunk
            for block in order
            for chunk in self._encoded(plan.source, plan.starts[block], block, part)
        )
        fill = max(self.buffer_rows, 4 * batch_size)
        for x, y in shuffled_batches(chunks, batch_size, fill, generator):
            yield self._tensors(x, y)

    def valid_batches(self) -> Iterator[Batch]:
        """The validation rows in batches, from memory when they fit in the budget."""
        if self._valid_cache is not None:
            yield from self._valid_cache
            return
        plan, cache, held = self.plan, [], 0
        source, starts = plan.source, plan.starts
        part = "split" if plan.valid_source is None else "valid"
        if plan.valid_source is not None:
            source, starts = plan.valid_source, plan.valid_starts
        for block in range(len(source.blocks)):
            for x, y in self._encoded(source, starts[block], block, part, held=True):
                for start in range(0, len(y), VALID_BATCH_ROWS):
                    end = start + VALID_BATCH_ROWS
                    batch = self._tensors(x[start:end], y[start:end])
                    held += len(batch[1])
                    if cache is not None:
                        cache.append(batch)
                        cache = cache if held <= self._valid_cap else None
                    yield batch
        self._valid_cache = cache

    def _encoded(self, source, first: int, block: int, part: str, held: bool = False):
        """(x, y) of one block's training rows (or, ``held``, validation rows), per chunk."""
        plan, position = self.plan, first
        for chunk in source.read(block, plan.columns):
            positions = np.arange(position, position + len(chunk))
            position += len(chunk)
            keep = rows_held(positions, part, plan.validation_split, plan.seed)
            keep = (keep if held else ~keep) & chunk[plan.target].notna().to_numpy()
            if keep.any():
                rows = chunk[keep]
                yield self.features.transform(rows)[0], self.targets.encode(rows[plan.target])

    def _tensors(self, x: np.ndarray, y: np.ndarray) -> Batch:
        """A batch on the device; to a GPU from pinned memory without waiting, so the copy
        overlaps the reading and encoding of the next rows (the GPU's queue keeps order)."""
        x_cpu, y_cpu = torch.from_numpy(x), torch.from_numpy(y)
        if self.device.type != "cuda":
            return x_cpu.to(self.device), y_cpu.to(self.device)
        return (
            x_cpu.pin_memory().to(self.device, non_blocking=True),
            y_cpu.pin_memory().to(self.device, non_blocking=True),
        )


def shuffled_batches(
    chunks: Iterable[tuple[np.ndarray, np.ndarray]],
    batch_size: int,
    fill: int,
    generator: torch.Generator,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Batches of the rows of ``chunks`` through a shuffle buffer: each time ``fill`` rows
    are held they are permuted and handed out in full batches, the rest waiting for the
    next fill; at the end the rows held are permuted and handed out, the last batch
    possibly smaller. Every row comes out once; no batch is empty.

    Example:
        >>> chunks = [(np.zeros((n, 1)), np.arange(n)) for n in (5, 7, 4)]
        >>> batches = shuffled_batches(chunks, 3, 6, torch.Generator().manual_seed(0))
        >>> [len(y) for _, y in batches]
        [3, 3, 3, 3, 3, 1]
    """
    held_x: list[np.ndarray] = []
    held_y: list[np.ndarray] = []
    held = 0
    for x, y in chunks:
        held_x.append(x)
        held_y.append(y)
        held += len(y)
        if held >= fill:
            yield from _drain(held_x, held_y, batch_size, generator, last=False)
            held = sum(len(rows) for rows in held_y)
    if held:  # nothing is held when the rows divided evenly into the last fill's batches
        yield from _drain(held_x, held_y, batch_size, generator, last=True)


def _drain(held_x, held_y, batch_size: int, generator: torch.Generator, last: bool):
    """Permutes the held rows and yields full batches (and, ``last``, the rest)."""
    x, y = np.concatenate(held_x), np.concatenate(held_y)
    held_x.clear()
    held_y.clear()
    order = torch.randperm(len(y), generator=generator).numpy()
    x, y = x[order], y[order]
    usable = len(y) if last else len(y) - len(y) % batch_size
    for start in range(0, usable, batch_size):
        end = min(start + batch_size, usable)
        yield x[start:end], y[start:end]
    if usable < len(y):
        held_x.append(x[usable:])
        held_y.append(y[usable:])
