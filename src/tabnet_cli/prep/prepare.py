"""The data stage of a training run: read, split, then one preparation for every run.

``read_source`` reads a file once into a :class:`Table`; ``holdout_split`` picks training
and validation rows; ``prepare`` fits the feature and target encoders on the training rows
only and returns the encoded matrices as a :class:`Prepared`. Cross-validation prepares
one table for several splits, tuning trains many times on one ``Prepared``: nothing is
read twice. A streamed run (``prep/streamed.py``) reads its source in one pass instead.

Either way, what reading showed is a :class:`Seen`, and ``prepare_seen`` decides the rest
in one place: the task, the feature columns, the encoders, the notices, the checks of
the validation part and the loss. ``require_named_columns`` and ``note_missing_targets``
are the checks both readers make while reading.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tabnet_cli.errors import DataError
from tabnet_cli.io.datasets import is_dataset, read_whole
from tabnet_cli.io.sources import display_name
from tabnet_cli.io.tables import read_table, require_columns, sha256_of
from tabnet_cli.prep.features import FeatureEncoder
from tabnet_cli.prep.split import split_positions
from tabnet_cli.prep.targets import (
    AUTO_LOSS,
    TargetEncoder,
    infer_task,
    label_counts,
    label_key,
)
from tabnet_cli.prep.types import Matrices, Prepared, Provenance, Schema, Split, Table
from tabnet_cli.settings.config import DataConfig

if TYPE_CHECKING:
    import pandas as pd

    from tabnet_cli.prep.types import StreamPlan


def read_source(source: str, config: DataConfig) -> Table:
    """Reads the training (and validation) file, checks the named columns exist, and drops
    rows without a target.

    Example:
        >>> table = read_source("sample_data/diabetes.csv", DataConfig(target="progression"))
        >>> table.frame.shape
        (442, 11)
    """

    refuse_validation_on_training_rows(source, config)
    notices: list[str] = []
    if source != "-" and is_dataset(source):
        frame = read_whole(source, config.read_options())
    else:
        frame = read_table(source, config.read_options(), notices=notices)
    require_named_columns(frame, config, display_name(source))
    frame = _drop_missing_targets(frame, config.target, notices)
    valid_frame = None
    if config.validation_data:
        valid_frame = read_table(config.validation_data, config.read_options())
        require_named_columns(valid_frame, config, config.validation_data, validation=True)
        valid_frame = _drop_missing_targets(valid_frame, config.target, notices)
    return Table(source, frame, valid_frame, source_digest(source), notices)


def refuse_validation_on_training_rows(source: str, config: DataConfig) -> None:
    """``--validation-data`` naming the training file itself (through links too) would
    validate on the rows the network learns: early stopping would never see overfitting.

    Example:
        >>> refuse_validation_on_training_rows("sample_data/diabetes.csv", DataConfig(
        ...     target="progression", validation_data="sample_data/./diabetes.csv"))
        Traceback (most recent call last):
        ...
        tabnet_cli.errors.DataError: --validation-data sample_data/./diabetes.csv is the ...
    """
    other = config.validation_data
    if not other or source == "-" or not os.path.isfile(source) or not os.path.isfile(other):
        return
    if os.path.samefile(source, other):
        raise DataError(
            f"--validation-data {other} is the training file itself: validating on the rows "
            "the network learns hides overfitting; give a file of other rows, or leave it "
            "out to validate on a --validation-split of the training file"
        )


def source_digest(source: str) -> str | None:
    """The SHA-256 of a training file (none for a folder or a glob of files)."""

    return None if source != "-" and is_dataset(source) else sha256_of(source)


def require_named_columns(
    frame: pd.DataFrame, config: DataConfig, name: str, validation: bool = False
) -> None:
    """The columns the options name exist: the target, and in the training file those of
    --drop, --features, --categorical and --numeric, none of which may name the target
    (the feature columns of a validation file are checked once the encoders know them)."""
    require_columns(frame, [config.target], "target", name)
    for option in () if validation else ("drop", "features", "categorical", "numeric"):
        named = list(getattr(config, option))
        if config.target in named:  # the target is never an input: a mistake, said
            hint = " (--task multiclass makes a target classes)" if option == "categorical" else ""
            raise DataError(
                f"--{option} names the target {config.target!r}, which is never an input; "
                f"leave it out of --{option}{hint}"
            )
        require_columns(frame, named, f"--{option}", name)


def note_missing_targets(missing: int, rows: int, target: str, notices: list[str]) -> None:
    """Says how many of ``rows`` rows had no target (they are left out); refuses a file
    where none has one."""
    if missing:
        notices.append(f"dropped {missing} row(s) whose target {target!r} is missing")
    if missing == rows:
        raise DataError(f"every row's target {target!r} is missing")


def holdout_split(table: Table, config: DataConfig, seed: int) -> Split:
    """The course's split (``df.sample(frac=1-F, random_state=seed)`` trains), or every
    row of each file when a separate validation file is given.

    Example:
        >>> import pandas as pd
        >>> table = Table("t.csv", pd.DataFrame({"y": range(10)}))
        >>> holdout_split(table, DataConfig(target="y", validation_split=0.3), 0).valid_rows
        array([0, 3, 5])
    """
    if table.valid_frame is not None:
        return Split(np.arange(len(table.frame)), np.arange(len(table.valid_frame)))
    return Split(*split_positions(len(table.frame), config.validation_split, seed))


def prepare(table: Table, split: Split, config: DataConfig, loss: str = "auto") -> Prepared:
    """Infers the task, fits the encoders on the training rows and encodes both parts.

    Example:
        >>> config = DataConfig(target="progression")
        >>> table = read_source("sample_data/diabetes.csv", config)
        >>> prepared = prepare(table, holdout_split(table, config, 0), config)
        >>> prepared.task, prepared.loss, prepared.matrices.x_train.shape
        ('regression', 'mae', (354, 10))
    """
    return prepare_seen(InMemory(table, split, config.target), config, loss)


@dataclass(eq=False)  # holds frames: compared by identity
class Seen(ABC):
    """What reading the data showed the data stage, whichever way it was read:
    :class:`InMemory` (a table and a split) or a streamed pass (``prep/streamed.py``).
    ``prepare_seen`` decides everything else from it."""

    name: str  # the training source, as messages name it
    fit_frame: pd.DataFrame  # every column of the training file, and the rows to fit on
    fit_rows: np.ndarray | None  # their positions in fit_frame; None: all (a sample)
    valid_header: pd.DataFrame | None  # the validation file's columns (no rows), if any
    label_counts: Counter | None  # rows per label of every training row, when fit on a sample
    notices: list[str]  # said while reading
    sha256: str | None
    rows: int
    train_rows: int
    valid_rows: int

    @abstractmethod
    def valid_labels(self) -> Counter | None:
        """Rows per label (``label_key``) in the validation part; None: not counted."""

    @abstractmethod
    def encoded_rows(self, features, targets) -> Matrices | StreamPlan:
        """The rows training reads, given the fitted encoders."""


class InMemory(Seen):
    """A table in memory and a split of its rows."""

    def __init__(self, table: Table, split: Split, target: str):
        super().__init__(
            name=table.name,
            fit_frame=table.frame,
            fit_rows=split.train_rows,
            valid_header=None if table.valid_frame is None else table.valid_frame.iloc[:0],
            label_counts=None,  # the encoders see every training row
            notices=list(table.notices),
            sha256=table.sha256,
            rows=len(table.frame),
            train_rows=len(split.train_rows),
            valid_rows=len(split.valid_rows),
        )
        self.split, self.target = split, target
        self.valid_frame = table.frame if table.valid_frame is None else table.valid_frame

    def valid_labels(self) -> Counter:

        valid = self.valid_frame[self.target].take(self.split.valid_rows)
        return label_counts(valid)

    def encoded_rows(self, features, targets) -> Matrices:
        frame, valid_frame, split = self.fit_frame, self.valid_frame, self.split
        return Matrices(
            x_train=features.transform_rows(frame, split.train_rows),
            y_train=targets.encode(frame[self.target].take(split.train_rows)),
            x_valid=features.transform_rows(valid_frame, split.valid_rows),
            y_valid=targets.encode(valid_frame[self.target].take(split.valid_rows)),
        )


def prepare_seen(seen: Seen, config: DataConfig, loss: str = "auto") -> Prepared:
    """The preparation of every run, in memory or streamed: infers the task, chooses the
    feature columns, fits the encoders on the training rows (or their sample), checks the
    validation part, and resolves the loss.

    Example:
        >>> config = DataConfig(target="progression")
        >>> table = read_source("sample_data/diabetes.csv", config)
        >>> seen = InMemory(table, holdout_split(table, config, 0), config.target)
        >>> prepared = prepare_seen(seen, config, "mse")
        >>> prepared.task, prepared.loss, prepared.streamed, prepared.provenance.train_rows
        ('regression', 'mse', False, 354)
    """

    frame, rows = seen.fit_frame, seen.fit_rows
    target = frame[config.target] if rows is None else frame[config.target].take(rows)
    task = infer_task(target, loss, config.task)
    features = FeatureEncoder(config.scale, config.clip, config.rank_inputs).fit(
        frame, rows, config.categorical, config.numeric, _feature_columns(seen, config)
    )
    if seen.valid_header is not None:
        name = str(config.validation_data)
        require_columns(seen.valid_header, features.input_columns, "feature", name)
    targets = _fit_targets(task, config, target, seen.label_counts)
    if task != "regression":
        _refuse_classes_only_in_validation(targets, seen.valid_labels(), config)
    encoded = seen.encoded_rows(features, targets)
    return Prepared(
        task=task,
        loss=loss if loss != "auto" else AUTO_LOSS[task],
        features=features,
        targets=targets,
        rows=encoded,
        schema=Schema(tuple(features.input_columns), tuple(str(c) for c in frame.columns)),
        provenance=Provenance(
            source=seen.name,
            sha256=seen.sha256,
            rows=seen.rows,
            train_rows=seen.train_rows,
            validation_rows=seen.valid_rows,
            validation_source=config.validation_data,
            streamed=not isinstance(encoded, Matrices),
        ),
        notices=seen.notices + _encoder_notices(features),
    )


def _feature_columns(seen: Seen, config: DataConfig) -> list[str]:
    """--features (or every column), less the target and --drop."""
    chosen = config.features or tuple(seen.fit_frame.columns)
    columns = [c for c in chosen if c != config.target and c not in config.drop]
    if not columns:
        raise DataError(f"{seen.name} has no feature columns besides the target {config.target!r}")
    return columns


def _encoder_notices(features: FeatureEncoder) -> list[str]:
    ignored = [f"ignored column {i['name']!r}: {i['reason']}" for i in features.ignored_]
    return ignored + features.notes_


def _fit_targets(
    task: str, config: DataConfig, target: pd.Series, label_counts: Counter | None
) -> TargetEncoder:
    """The target encoder. Fitted on a sample (``label_counts`` given), its classes are
    those of every training row, even one too rare to be sampled, and its baseline their
    frequencies."""
    import pandas as pd  # pandas loads on first use, not with this module

    if task == "regression" or label_counts is None:
        return TargetEncoder(task, config.target_scale).fit(target)
    sampled = {label_key(v) for v in target.unique()}
    rare = [label for label in label_counts if label not in sampled]
    targets = TargetEncoder(task).fit(pd.concat([target, pd.Series(rare, dtype=object)]))
    total = sum(label_counts.values())
    targets.baseline_ = [label_counts[label_key(c)] / total for c in targets.classes_]
    return targets


def _refuse_classes_only_in_validation(
    targets: TargetEncoder, valid_labels: Counter | None, config: DataConfig
) -> None:
    """A class whose every row landed in the validation part cannot be learned; say so
    and what to do, instead of "labels the model never saw"."""

    known = {label_key(c) for c in targets.classes_}
    unseen = sorted(set(valid_labels or ()) - known)
    if not unseen:
        return
    where = (
        f"the validation file {config.validation_data}"
        if config.validation_data
        else "the validation rows of the split"
    )
    rows = sum(valid_labels[label] for label in unseen)
    hint = (
        "add rows of that class to the training file or remove them from the validation file"
        if config.validation_data
        else "try another --seed or a smaller --validation-split, or remove that class's rows"
    )
    raise DataError(
        f"class {unseen[0]!r} of target {config.target!r} appears only in {where} "
        f"({rows} row(s)), so the model cannot learn it; {hint}"
    )


def _drop_missing_targets(frame: pd.DataFrame, target: str, notices: list[str]) -> pd.DataFrame:
    missing = frame[target].isna()
    note_missing_targets(int(missing.sum()), len(frame), target, notices)
    return frame[~missing] if missing.any() else frame
