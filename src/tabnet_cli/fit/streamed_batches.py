"""Batches of a streamed run, read from the source every epoch.

Training rows: the blocks (parquet row groups, CSV files) in a seeded random order each
epoch (``shares.epoch_order``, the same on every rank), encoded chunk by chunk into a
shuffle buffer; each time the buffer is full its rows are permuted and handed out as
batches, and the rows left over wait for the next fill. Every batch but the epoch's last
is full. Under torchrun a rank reads only its share of the epoch's rows
(``shares.rank_share``: a contiguous run of the blocks in that order) and every rank
takes the same number of steps. Validation rows: this rank's share of them in source
order, kept encoded in memory after the first epoch when they fit. Every size comes from
``--memory-budget`` (``stream_memory``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import torch

from tabnet_cli.fit.batches import Batch
from tabnet_cli.fit.shares import batch_bounds, epoch_order, epoch_steps, rank_share
from tabnet_cli.fit.stream_memory import RowCosts, stream_sizes
from tabnet_cli.prep.hash_split import rows_held
from tabnet_cli.prep.types import StreamPlan
from tabnet_cli.system.distributed import Rank
from tabnet_cli.system.memory import trim_freed_memory


class StreamedRows:
    """The training and validation batches of a streamed ``Prepared`` (this rank's share
    of them under torchrun), as tensors on ``device``, for batches of ``batch_size`` rows;
    ``step_bytes``: what a training step holds per row (``stream_memory.step_bytes``).

    Example:
        >>> from tabnet_cli.settings.config import DataConfig
        >>> from tabnet_cli.prep.streamed import prepare_streamed
        >>> config = DataConfig(target="progression")
        >>> prepared = prepare_streamed("sample_data/diabetes.csv", config, 0)
        >>> rows = StreamedRows(prepared, torch.device("cpu"), 100)
        >>> batches = list(rows.train_batches(100, torch.Generator().manual_seed(0)))
        >>> sum(len(y) for _, y in batches) == rows.train_rows, len(batches[0][1])
        (True, 100)
    """

    def __init__(
        self,
        prepared,
        device: torch.device,
        batch_size: int,
        rank: Rank | None = None,
        step_bytes: int = 0,
    ):
        plan: StreamPlan = prepared.plan
        self.plan, self.device = plan, device
        self.features, self.targets = prepared.features, prepared.targets
        self.rank, self.world = (rank.rank, rank.world) if rank else (0, 1)
        self.all_rows = prepared.provenance.train_rows
        (_, first, stop), *_ = rank_share([self.all_rows], [0], self.rank, self.world)
        self.train_rows = stop - first  # this rank's share of every epoch
        self.valid_share = valid_share(plan, rank)
        self.sizes = streamed_sizes(prepared, batch_size, rank, step_bytes)
        self.metric_rows = self.sizes.metric_rows  # outputs held for the metrics
        self._valid_cache: list[tuple[torch.Tensor, torch.Tensor]] | None = None
        self._epoch = 0

    def epoch_steps(self, batch_size: int) -> int:
        return epoch_steps(self.all_rows, self.world, batch_size)

    def train_batches(self, batch_size: int, generator: torch.Generator) -> Iterator[Batch]:
        """One epoch of shuffled training batches: this rank's share of the epoch's rows."""
        plan = self.plan
        part = "split" if plan.valid_source is None else "train"
        self._epoch += 1
        order = epoch_order(len(plan.source.blocks), plan.seed, self._epoch)
        chunks = (
            chunk
            for block, first, stop in rank_share(plan.train_counts, order, self.rank, self.world)
            for chunk in self._encoded(plan.source, plan.starts[block], block, part, first, stop)
        )
        steps, fill = self.epoch_steps(batch_size), self.sizes.fill
        for x, y in shuffled_batches(chunks, batch_size, fill, generator, steps):
            yield self._tensors(x, y)
        trim_freed_memory()  # the epoch's reading freed pages in the middle of the heap

    def valid_batches(self) -> Iterator[Batch]:
        """This rank's validation rows in batches, from memory when they fit."""
        if self._valid_cache is not None:
            yield from self._valid_cache
            return
        plan, cache, held, rows = self.plan, [], 0, self.sizes.valid_batch
        source, starts = plan.source, plan.starts
        part = "split" if plan.valid_source is None else "valid"
        if plan.valid_source is not None:
            source, starts = plan.valid_source, plan.valid_starts
        for block, first, stop in self.valid_share:
            for x, y in self._encoded(source, starts[block], block, part, first, stop, True):
                for start in range(0, len(y), rows):
                    batch = self._tensors(x[start : start + rows], y[start : start + rows])
                    held += len(batch[1])
                    cache = cache if cache is not None and held <= self.sizes.cache_rows else None
                    if cache is not None:
                        cache.append(batch)
                    yield batch
        self._valid_cache = cache
        trim_freed_memory()

    def _encoded(self, source, position: int, block: int, part: str, first: int, stop: int,
                 held: bool = False):  # fmt: skip
        """(x, y) per chunk of block ``block``'s training rows (or, ``held``, validation
        rows) ``first`` to ``stop`` (counted among those rows)."""
        plan, seen = self.plan, 0
        for chunk in source.read(block, plan.columns, self.sizes.chunk_rows):
            positions = np.arange(position, position + len(chunk))
            position += len(chunk)
            keep = rows_held(positions, part, plan.validation_split, plan.seed)
            keep = (keep if held else ~keep) & chunk[plan.target].notna().to_numpy()
            counted = seen + np.cumsum(keep) - 1  # each kept row's place among the block's
            seen += int(keep.sum())
            keep &= (counted >= first) & (counted < stop)
            if keep.any():
                rows = chunk[keep]
                del chunk
                yield self.features.transform(rows)[0], self.targets.encode(rows[plan.target])
            if seen >= stop:  # the rest of the block is another rank's
                return

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


def valid_share(plan: StreamPlan, rank: Rank | None) -> list[tuple[int, int, int]]:
    """This rank's validation rows, ``(block, first, stop)``: a contiguous share of them
    in source order, the same every epoch (so a rank can keep its share in memory)."""
    blocks = list(range(len(plan.valid_counts)))
    return rank_share(plan.valid_counts, blocks, *((rank.rank, rank.world) if rank else (0, 1)))


def streamed_sizes(prepared, batch_size: int, rank: Rank | None, step_bytes: int):
    """The ``stream_memory.StreamSizes`` of this rank's streamed batches of ``batch_size``
    rows; refuses a batch that does not fit in the budget."""
    plan: StreamPlan = prepared.plan
    encoded = 4 * prepared.features.n_features + 8  # float32 inputs, a target of 8 at most
    outputs = 4 * prepared.targets.n_outputs + 8
    costs = RowCosts(encoded, plan.row_bytes, step_bytes, outputs, plan.read_bytes)
    valid_rows = sum(stop - first for _, first, stop in valid_share(plan, rank))
    world = rank.world if rank else 1
    return stream_sizes(plan.budget, batch_size, costs, valid_rows, world)


def shuffled_batches(
    chunks: Iterable[tuple[np.ndarray, np.ndarray]],
    batch_size: int,
    fill: int,
    generator: torch.Generator,
    steps: int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Batches of the rows of ``chunks`` through a shuffle buffer: each time ``fill`` rows
    are held they are permuted and handed out in full batches, the rest waiting for the
    next fill; at the end the rows held are permuted and handed out, the last batch
    possibly smaller. Every row comes out once; no batch is empty. With ``steps``, exactly
    that many batches (``shares.batch_bounds``: the last may hold one row more than full).

    Example:
        >>> chunks = [(np.zeros((n, 1)), np.arange(n)) for n in (5, 7, 4)]
        >>> batches = shuffled_batches(chunks, 3, 6, torch.Generator().manual_seed(0))
        >>> [len(y) for _, y in batches]
        [3, 3, 3, 3, 3, 1]
    """
    held_x: list[np.ndarray] = []
    held_y: list[np.ndarray] = []
    held = given = 0
    for x, y in chunks:
        held_x.append(x)
        held_y.append(y)
        held += len(y)
        if held >= fill:
            room = None if steps is None else steps - 1 - given  # the last step takes the rest
            for batch in _drain(held_x, held_y, batch_size, generator, room):
                given += 1
                yield batch
            held = sum(len(rows) for rows in held_y)
    if held:  # nothing is held when the rows divided evenly into the last fill's batches
        left = -(-held // batch_size) if steps is None else steps - given
        yield from _drain(held_x, held_y, batch_size, generator, left, last=True)


def _drain(held_x, held_y, batch_size: int, generator: torch.Generator, count: int | None,
           last: bool = False):  # fmt: skip
    """Permutes the held rows and yields up to ``count`` full batches (all that are full
    when None); ``last``: exactly ``count`` batches of every row held. Each batch gathers
    its rows from the held ones: the buffer is never copied whole, and none of it stays
    alive through a batch the caller keeps."""
    x, y = np.concatenate(held_x), np.concatenate(held_y)
    held_x.clear()
    held_y.clear()
    order = torch.randperm(len(y), generator=generator).numpy()
    full = len(y) // batch_size if count is None else min(len(y) // batch_size, count)
    bounds = batch_bounds(len(y), batch_size, count) if last else batch_bounds(
        full * batch_size, batch_size, full)  # fmt: skip
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        yield x[order[start:end]], y[order[start:end]]
    if bounds[-1] < len(y):  # the rest waits for the next fill
        held_x.append(x[order[bounds[-1] :]])
        held_y.append(y[order[bounds[-1] :]])
