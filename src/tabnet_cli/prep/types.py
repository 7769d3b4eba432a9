"""The prepared types: a table read once, a split of its rows, the encoded rows of an
in-memory run or where a streamed run's rows come from, and the prepared data that
training takes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from tabnet_cli.io.datasets import BlockSource
from tabnet_cli.io.sources import display_name

if TYPE_CHECKING:
    import pandas as pd

    from tabnet_cli.prep.features import FeatureEncoder
    from tabnet_cli.prep.targets import TargetEncoder


@dataclass(frozen=True)
class Schema:
    """The raw columns the model reads, and every column the training file had."""

    input_columns: tuple[str, ...]
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Provenance:
    """Where the training data came from."""

    source: str
    sha256: str | None
    rows: int
    train_rows: int
    validation_rows: int
    validation_source: str | None
    size: int | None = None  # bytes of the training file (absent in older runs)
    streamed: bool = False  # read block by block (--memory-budget), hash-split validation


@dataclass
class Table:
    """A training file read once, with its optional separate validation file."""

    source: str
    frame: pd.DataFrame
    valid_frame: pd.DataFrame | None = None
    sha256: str | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return display_name(self.source)


@dataclass(frozen=True)
class Split:
    """Row positions: training rows in ``Table.frame``; validation rows in the separate
    validation file when there is one, else in ``Table.frame`` too."""

    train_rows: np.ndarray
    valid_rows: np.ndarray


@dataclass(frozen=True)
class Matrices:
    """The encoded rows of an in-memory run."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray


@dataclass
class Prepared:
    """Everything training needs, and nothing of the raw table: the encoders fitted on the
    training rows and the rows, encoded in memory (:class:`Matrices`) or, in a streamed
    run, where to read them from each epoch (:class:`StreamPlan`)."""

    task: str
    loss: str  # resolved: never "auto"
    features: FeatureEncoder
    targets: TargetEncoder
    rows: Matrices | StreamPlan
    schema: Schema
    provenance: Provenance
    notices: list[str]

    @property
    def streamed(self) -> bool:
        """Whether the rows are read block by block each epoch (above --memory-budget)."""
        return isinstance(self.rows, StreamPlan)

    @property
    def matrices(self) -> Matrices:
        """The encoded rows; a streamed run has none."""
        if not isinstance(self.rows, Matrices):
            raise TypeError("a streamed Prepared has no matrices; read its rows with its plan")
        return self.rows

    def digest(self) -> str:
        """A SHA-256 of what training depends on (the encoders, the task, the rows' counts
        and, streamed, where each block's rows are): equal on processes that prepared the
        same data the same way.

        Example:
            >>> from tabnet_cli.settings.config import DataConfig
            >>> from tabnet_cli.prep.streamed import prepare_streamed
            >>> config = DataConfig(target="progression")
            >>> one, two = (prepare_streamed("sample_data/diabetes.csv", config, s) for s in (0, 0))
            >>> one.digest() == two.digest(), len(one.digest())
            (True, 64)
        """
        rows = self.rows
        where = (
            [rows.starts, rows.train_counts, rows.valid_counts, rows.valid_starts]
            if isinstance(rows, StreamPlan)
            else [len(rows.y_train), len(rows.y_valid)]
        )
        state = [self.task, self.loss, self.features.state(), self.targets.state(), where]
        text = json.dumps(state, sort_keys=True, default=_plain)
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def plan(self) -> StreamPlan:
        """Where a streamed run's rows come from; an in-memory run has no plan."""
        if not isinstance(self.rows, StreamPlan):
            raise TypeError("an in-memory Prepared has no stream plan; its rows are matrices")
        return self.rows


@dataclass
class StreamPlan:
    """Where a streamed run's rows come from and which are which."""

    source: BlockSource
    starts: list[int]  # position of each block's first row
    columns: list[str]  # the columns read: the model's inputs, then the target
    target: str
    validation_split: float
    seed: int
    budget: int  # bytes for buffers
    valid_source: BlockSource | None = None  # --validation-data: every row validates
    valid_starts: list[int] = field(default_factory=list)
    train_counts: list[int] = field(default_factory=list)  # training rows per block
    valid_counts: list[int] = field(default_factory=list)  # validation rows per block
    row_bytes: int = 1  # a row as read, in pandas
    read_bytes: int = 0  # raw bytes held while a block is read (a parquet row group)


def _plain(value) -> object:
    """A NumPy value or array as JSON can hold it, in full (``repr`` shortens arrays)."""
    return value.tolist() if hasattr(value, "tolist") else repr(value)
