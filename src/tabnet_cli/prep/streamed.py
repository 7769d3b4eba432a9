"""The data stage of a streamed run: one pass over the source, then ``prepare_seen``.

A source whose table would not fit in ``--memory-budget`` is streamed: training reads it
block by block each epoch. The pass here reads it once first: it counts the rows of each
block, drops rows without a target, splits rows into training and validation by a hash
of their position (``rows_held``), keeps a uniform sample of training rows and counts
the target's classes. ``prepare_seen`` then fits the encoders on the sample (medians and
quartiles of 200k rows are as good as the whole column's; categories too rare to appear
in it go to the "other" slot), with the checks, notes and errors of every run. The
result is a ``Prepared`` whose rows are a :class:`StreamPlan`, read by
``fit/streamed_batches.py``.

The pass holds rows within ``--memory-budget``: chunks of ``memory.chunk_rows`` rows, and
a sample of at most ``SAMPLE_ROWS`` rows, fewer when ``SAMPLE_COPIES`` copies of it (the
sampler keeps up to twice its size, and trims through a copy) would take more than half
the budget. Each process of a data-parallel run makes the same pass and fits the same
encoders (``jobs/train.py`` checks that with a digest).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from tabnet_cli.errors import DataError
from tabnet_cli.io.datasets import BlockSource
from tabnet_cli.prep.hash_split import BottomKSample, rows_held
from tabnet_cli.prep.prepare import (
    Seen,
    note_missing_targets,
    prepare_seen,
    refuse_validation_on_training_rows,
    require_named_columns,
    source_digest,
)
from tabnet_cli.prep.targets import label_key
from tabnet_cli.prep.types import StreamPlan
from tabnet_cli.settings.config import DataConfig
from tabnet_cli.system.memory import chunk_rows, format_size, memory_budget

if TYPE_CHECKING:
    import pandas as pd

    from tabnet_cli.prep.types import Prepared

SAMPLE_ROWS = 200_000  # rows the encoders are fitted on, when the budget allows
MIN_SAMPLE_ROWS, SAMPLE_COPIES = 1000, 5
MEASURED_ROWS = 256  # rows read to learn a row's size in pandas before the pass
MAX_COUNTED_LABELS = 10_000  # beyond this many distinct target values, stop counting them


def should_stream(source: str, config: DataConfig) -> tuple[bool, str]:
    """Whether in-memory training would exceed ``--memory-budget``, and why (a notice).

    Example:
        >>> should_stream("sample_data/diabetes.csv", DataConfig(target="progression"))[0]
        False
    """
    if source == "-":  # standard input can be read only once
        return False, ""
    needed = BlockSource.open(source, config.read_options()).in_memory_bytes()
    budget = memory_budget(config.memory_budget)
    if needed <= budget:
        return False, ""
    return True, (
        f"streaming {source}: in memory it would need about {format_size(needed)}, more than "
        f"the --memory-budget of {format_size(budget)}; validation rows are chosen by a hash "
        f"of their position, and the preprocessing is fitted on a sample of the training rows"
    )


def prepare_streamed(source: str, config: DataConfig, seed: int, loss: str = "auto") -> Prepared:
    """One pass over ``source``, then the preparation of every run on its sample.

    Example:
        >>> config = DataConfig(target="progression")
        >>> prepared = prepare_streamed("sample_data/diabetes.csv", config, 0)
        >>> prepared.task, prepared.streamed, prepared.plan.starts
        ('regression', True, [0])
        >>> prepared.provenance.train_rows + prepared.provenance.validation_rows
        442
    """
    return prepare_seen(read_streamed(source, config, seed), config, loss)


@dataclass
class _Tally:
    """What the pass over one source counted."""

    starts: list[int] = field(default_factory=list)
    train_counts: list[int] = field(default_factory=list)  # training rows per block
    valid_counts: list[int] = field(default_factory=list)  # validation rows per block
    row_bytes: int = 1  # a row of the source as pandas holds it
    rows: int = 0
    train_rows: int = 0
    valid_rows: int = 0
    missing_targets: int = 0
    train_labels: Counter | None = field(default_factory=Counter)
    valid_labels: Counter | None = field(default_factory=Counter)
    sample: pd.DataFrame | None = None
    header: pd.DataFrame | None = None  # the source's columns (no rows)


@dataclass(eq=False)  # holds frames: compared by identity
class StreamedPass(Seen):
    """What one pass over a source (and its --validation-data file) showed."""

    config: DataConfig
    seed: int
    blocks: BlockSource
    valid: BlockSource | None  # the --validation-data file: every row validates
    tally: _Tally
    valid_tally: _Tally | None

    def valid_labels(self) -> Counter | None:
        if self.label_counts is None:  # too many labels to be classes: nothing to compare
            return None
        return (self.valid_tally or self.tally).valid_labels

    def encoded_rows(self, features, targets) -> StreamPlan:
        """Where training reads its rows each epoch, and which are which."""
        config, tally, valid = self.config, self.tally, self.valid_tally
        return StreamPlan(
            self.blocks,
            tally.starts,
            [*features.input_columns, config.target],
            config.target,
            config.validation_split,
            self.seed,
            memory_budget(config.memory_budget),
            self.valid,
            valid.starts if valid else [],
            tally.train_counts,
            (valid or tally).valid_counts,
            max(tally.row_bytes, valid.row_bytes if valid else 1),
            max(source.read_bytes() for source in (self.blocks, self.valid) if source),
        )


def read_streamed(source: str, config: DataConfig, seed: int) -> StreamedPass:
    """The pass over ``source`` (and the --validation-data file, every row of which
    validates): row counts, the hash split, the training sample, the class counts.

    Example:
        >>> seen = read_streamed("sample_data/diabetes.csv", DataConfig(target="progression"), 0)
        >>> seen.rows, seen.train_rows + seen.valid_rows, len(seen.fit_frame)
        (442, 442, 361)
    """
    refuse_validation_on_training_rows(source, config)
    blocks = BlockSource.open(source, config.read_options())
    valid = None
    if config.validation_data:
        valid = BlockSource.open(config.validation_data, config.read_options())
    budget = memory_budget(config.memory_budget)
    tally = _tally(blocks, config, seed, "train" if valid else "split", budget)
    valid_tally = _tally(valid, config, seed, "valid", budget) if valid else None
    notices: list[str] = []
    for counted in (tally, valid_tally) if valid_tally else (tally,):
        note_missing_targets(counted.missing_targets, counted.rows, config.target, notices)
    valid_rows = (valid_tally or tally).valid_rows
    if tally.sample is None or tally.train_rows < 2 or valid_rows < 1:
        raise DataError(
            f"{source} leaves {tally.train_rows} training and {valid_rows} validation "
            "rows; give more rows or another --validation-split"
        )
    return StreamedPass(
        name=source,
        fit_frame=tally.sample,
        fit_rows=None,  # every row of the sample
        valid_header=valid_tally.header if valid_tally else None,
        label_counts=tally.train_labels,
        notices=notices,
        sha256=source_digest(source),
        rows=tally.rows,
        train_rows=tally.train_rows,
        valid_rows=valid_rows,
        config=config,
        seed=seed,
        blocks=blocks,
        valid=valid,
        tally=tally,
        valid_tally=valid_tally,
    )


def _tally(blocks: BlockSource, config: DataConfig, seed: int, part: str, budget: int) -> _Tally:
    """Counts rows per block and part, and keeps the training sample. ``part``: "split"
    (hash split), "train" or "valid" (every row; with a --validation-data file)."""

    tally, target = _Tally(), config.target
    tally.row_bytes = _row_bytes(blocks)
    sample = BottomKSample(sample_rows(budget, tally.row_bytes), seed)
    rows = chunk_rows(budget, tally.row_bytes)
    for index in range(len(blocks.blocks)):
        tally.starts.append(tally.rows)
        before = (tally.train_rows, tally.valid_rows)
        for chunk in blocks.read(index, rows=rows):
            if tally.header is None:
                require_named_columns(chunk, config, blocks.name, validation=part == "valid")
                tally.header = chunk.iloc[:0]
            positions = np.arange(tally.rows, tally.rows + len(chunk))
            tally.rows += len(chunk)
            present = chunk[target].notna().to_numpy()
            tally.missing_targets += int((~present).sum())
            held = rows_held(positions, part, config.validation_split, seed)
            train, valid = present & ~held, present & held
            tally.train_rows += int(train.sum())
            tally.valid_rows += int(valid.sum())
            if train.any():
                sample.add(chunk[train], positions[train])
            tally.train_labels = _count(tally.train_labels, chunk[target][train], label_key)
            tally.valid_labels = _count(tally.valid_labels, chunk[target][valid], label_key)
        tally.train_counts.append(tally.train_rows - before[0])
        tally.valid_counts.append(tally.valid_rows - before[1])
    tally.sample = sample.frame()
    return tally


def sample_rows(budget: int, row_bytes: int) -> int:
    """Rows of the sample the encoders are fitted on, within half of ``budget``.

    Example:
        >>> sample_rows(256 * 2**20, 84), sample_rows(16 * 2**20, 84)
        (200000, 19972)
    """
    fits = budget // 2 // (SAMPLE_COPIES * row_bytes)
    return min(SAMPLE_ROWS, max(MIN_SAMPLE_ROWS, fits))


def _row_bytes(blocks: BlockSource) -> int:
    """Bytes of a row of ``blocks`` as pandas holds it, measured on its first rows."""
    chunks = blocks.read(0, rows=MEASURED_ROWS)
    try:
        first = next(chunks, None)
    finally:
        chunks.close()
    if first is None or not len(first):
        return 1
    return max(int(first.memory_usage(deep=True, index=False).sum()) // len(first), 1)


def _count(counter: Counter | None, values: pd.Series, key) -> Counter | None:
    """Adds the labels of ``values``; None once there are too many to be classes."""
    if counter is None or values.empty:
        return counter
    per_value = values.value_counts()
    if len(per_value) > MAX_COUNTED_LABELS:
        return None
    for value, rows in per_value.items():
        counter[key(value)] += int(rows)
    return None if len(counter) > MAX_COUNTED_LABELS else counter
