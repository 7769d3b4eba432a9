"""The data stage of a training run: read once, split, fit preprocessing, encode.

``read_source`` reads a file once into a :class:`Table`; ``holdout_split`` picks training
and validation rows; ``prepare`` fits the feature and target encoders on the training rows
only and returns the matrices as a :class:`Prepared`. Cross-validation prepares one table
for several splits, tuning trains many times on one ``Prepared``: nothing is read twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tabnet_cli.errors import DataError
from tabnet_cli.io.sources import display_name
from tabnet_cli.io.tables import read_table, require_columns, sha256_of, split_positions
from tabnet_cli.prep.types import Prepared, Provenance, Schema, Split, Table
from tabnet_cli.settings.config import DataConfig

if TYPE_CHECKING:
    import pandas as pd


def read_source(source: str, config: DataConfig) -> Table:
    """Reads the training (and validation) file, checks the named columns exist, and drops
    rows without a target.

    Example:
        >>> table = read_source("sample_data/diabetes.csv", DataConfig(target="progression"))
        >>> table.frame.shape
        (442, 11)
    """
    from tabnet_cli.io.datasets import is_dataset, read_whole

    notices: list[str] = []
    if source != "-" and is_dataset(source):
        frame = read_whole(source, config.read_options())
    else:
        frame = read_table(source, config.read_options(), notices=notices)
    name = display_name(source)
    require_columns(frame, [config.target], "target", name)
    for option in ("drop", "features", "categorical", "numeric"):
        require_columns(frame, list(getattr(config, option)), f"--{option}", name)
    frame = _drop_missing_targets(frame, config.target, notices)
    valid_frame = None
    if config.validation_data:
        valid_frame = read_table(config.validation_data, config.read_options())
        require_columns(valid_frame, [config.target], "target", config.validation_data)
        valid_frame = _drop_missing_targets(valid_frame, config.target, notices)
    digest = None if source != "-" and is_dataset(source) else sha256_of(source)
    return Table(source, frame, valid_frame, digest, notices)


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
        >>> prepared.task, prepared.loss, prepared.x_train.shape
        ('regression', 'mae', (354, 10))
    """
    from tabnet_cli.prep.features import FeatureEncoder
    from tabnet_cli.prep.targets import AUTO_LOSS, TargetEncoder, infer_task

    frame, target = table.frame, config.target
    valid_frame = table.frame if table.valid_frame is None else table.valid_frame
    train_target = frame[target].take(split.train_rows)
    valid_target = valid_frame[target].take(split.valid_rows)
    task = infer_task(train_target, loss, config.task)
    chosen = config.features or tuple(frame.columns)
    feature_columns = [c for c in chosen if c != target and c not in config.drop]
    if not feature_columns:
        raise DataError(f"{table.name} has no feature columns besides the target {target!r}")
    features = FeatureEncoder(config.scale, config.clip, config.rank_inputs).fit(
        frame, split.train_rows, config.categorical, config.numeric, feature_columns
    )
    notices = (
        table.notices
        + [
            f"ignored column {ignored['name']!r}: {ignored['reason']}"
            for ignored in features.ignored_
        ]
        + features.notes_
    )
    if config.validation_data:
        require_columns(valid_frame, features.input_columns, "feature", config.validation_data)
    targets = TargetEncoder(task, config.target_scale).fit(train_target)
    _refuse_classes_only_in_validation(targets, valid_target, config)
    provenance = Provenance(
        source=table.name,
        sha256=table.sha256,
        rows=len(frame),
        train_rows=len(split.train_rows),
        validation_rows=len(split.valid_rows),
        validation_source=config.validation_data,
    )
    return Prepared(
        task=task,
        loss=loss if loss != "auto" else AUTO_LOSS[task],
        features=features,
        targets=targets,
        x_train=features.transform_rows(frame, split.train_rows),
        y_train=targets.encode(train_target),
        x_valid=features.transform_rows(valid_frame, split.valid_rows),
        y_valid=targets.encode(valid_target),
        schema=Schema(tuple(features.input_columns), tuple(str(c) for c in frame.columns)),
        provenance=provenance,
        notices=notices,
    )


def _refuse_classes_only_in_validation(targets, valid_target, config: DataConfig) -> None:
    """A class whose every row landed in the validation part cannot be learned; say so
    and what to do, instead of "labels the model never saw"."""
    from tabnet_cli.prep.targets import label_key

    if targets.task == "regression":
        return
    known = {label_key(c) for c in targets.classes_}
    unseen = sorted({label_key(v) for v in valid_target.tolist()} - known)
    if not unseen:
        return
    where = (
        f"the validation file {config.validation_data}"
        if config.validation_data
        else "the validation rows of the split"
    )
    rows = sum(label_key(v) in unseen for v in valid_target.tolist())
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
    if missing.any():
        notices.append(f"dropped {int(missing.sum())} row(s) whose target {target!r} is missing")
        frame = frame[~missing]
    if len(frame) == 0:
        raise DataError(f"every row's target {target!r} is missing")
    return frame
