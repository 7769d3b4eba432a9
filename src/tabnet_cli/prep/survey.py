"""The data stage of a streamed run: one pass over the source, then the encoders.

The pass counts the rows of each block, drops rows without a target, splits rows into
training and validation by a hash of their position (``stream_split``), keeps a uniform
sample of training rows and counts the target's classes. The feature and target encoders
are fitted on the sample (medians and quartiles of 200k rows are as good as the whole
column's; categories too rare to appear in it go to the "other" slot). The result is a
``Prepared`` without matrices: its ``stream`` says how to read batches (``stream_batches``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from tabnet_cli.errors import DataError
from tabnet_cli.io.datasets import BlockSource, is_dataset
from tabnet_cli.io.tables import require_columns, sha256_of
from tabnet_cli.prep.hash_split import BottomKSample, is_validation
from tabnet_cli.prep.types import Provenance, Schema, StreamPlan
from tabnet_cli.settings.config import DataConfig
from tabnet_cli.system.memory import format_size, memory_budget

if TYPE_CHECKING:
    import pandas as pd

    from tabnet_cli.prep.types import Prepared

SAMPLE_ROWS = 200_000  # rows the encoders are fitted on
MAX_COUNTED_LABELS = 10_000  # beyond this many distinct target values, stop counting them


@dataclass
class _Survey:
    """What the pass over the source found."""

    starts: list[int] = field(default_factory=list)
    rows: int = 0
    train_rows: int = 0
    valid_rows: int = 0
    missing_targets: int = 0
    train_labels: Counter | None = field(default_factory=Counter)
    valid_labels: Counter | None = field(default_factory=Counter)
    sample: pd.DataFrame | None = None


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


def prepare_stream(source: str, config: DataConfig, seed: int, loss: str = "auto") -> Prepared:
    """One pass over ``source``, then the encoders fitted on the training sample.

    Example:
        >>> config = DataConfig(target="progression")
        >>> prepared = prepare_stream("sample_data/diabetes.csv", config, 0)
        >>> prepared.task, prepared.provenance.train_rows + prepared.provenance.validation_rows
        ('regression', 442)
    """
    from tabnet_cli.prep.targets import AUTO_LOSS, infer_task
    from tabnet_cli.prep.types import Prepared

    blocks = BlockSource.open(source, config.read_options())
    valid = None
    if config.validation_data:
        valid = BlockSource.open(config.validation_data, config.read_options())
    survey = _survey(blocks, config, seed, "train" if valid else "split")
    valid_survey = _survey(valid, config, seed, "valid") if valid else None
    if valid_survey:
        survey.valid_rows, survey.valid_labels = valid_survey.valid_rows, valid_survey.valid_labels
    sample = survey.sample
    if sample is None or survey.train_rows < 2 or survey.valid_rows < 1:
        raise DataError(
            f"{source} leaves {survey.train_rows} training and {survey.valid_rows} validation "
            "rows; give more rows or another --validation-split"
        )
    task = infer_task(sample[config.target], loss, config.task)
    features, targets = _fit_encoders(sample, config, task, survey)
    plan = StreamPlan(
        blocks,
        survey.starts,
        [*features.input_columns, config.target],
        config.target,
        config.validation_split,
        seed,
        memory_budget(config.memory_budget),
        valid,
        valid_survey.starts if valid_survey else [],
    )
    empty = np.empty((0, features.n_features), dtype=np.float32)
    return Prepared(
        task=task,
        loss=loss if loss != "auto" else AUTO_LOSS[task],
        features=features,
        targets=targets,
        x_train=empty,
        y_train=np.empty(0, dtype=np.float32),
        x_valid=empty,
        y_valid=np.empty(0, dtype=np.float32),
        schema=Schema(tuple(features.input_columns), tuple(str(c) for c in sample.columns)),
        provenance=_provenance(source, survey, config),
        notices=_notices(survey, features, config.target),
        stream=plan,
    )


def _provenance(source: str, survey: _Survey, config: DataConfig) -> Provenance:
    return Provenance(
        source=source,
        sha256=None if is_dataset(source) else sha256_of(source),
        rows=survey.rows,
        train_rows=survey.train_rows,
        validation_rows=survey.valid_rows,
        validation_source=config.validation_data,
        streamed=True,
    )


def _notices(survey: _Survey, features, target: str) -> list[str]:
    dropped = survey.missing_targets
    notices = [f"dropped {dropped} row(s) whose target {target!r} is missing"] if dropped else []
    ignored = [f"ignored column {i['name']!r}: {i['reason']}" for i in features.ignored_]
    return notices + ignored + features.notes_


def _survey(blocks: BlockSource, config: DataConfig, seed: int, part: str) -> _Survey:
    """Counts rows per block and part, and keeps the training sample. ``part``: "split"
    (hash split), "train" or "valid" (every row; with a --validation-data file)."""
    from tabnet_cli.prep.targets import label_key

    survey, target = _Survey(), config.target
    sample = BottomKSample(SAMPLE_ROWS, seed)
    for index in range(len(blocks.blocks)):
        survey.starts.append(survey.rows)
        for chunk in blocks.read(index):
            if survey.rows == 0:
                _check_columns(chunk, config, blocks.name)
            positions = np.arange(survey.rows, survey.rows + len(chunk))
            survey.rows += len(chunk)
            present = chunk[target].notna().to_numpy()
            survey.missing_targets += int((~present).sum())
            held = rows_held(positions, part, config.validation_split, seed)
            train, valid = present & ~held, present & held
            survey.train_rows += int(train.sum())
            survey.valid_rows += int(valid.sum())
            if train.any():
                sample.add(chunk[train], positions[train])
            survey.train_labels = _count(survey.train_labels, chunk[target][train], label_key)
            survey.valid_labels = _count(survey.valid_labels, chunk[target][valid], label_key)
    survey.sample = sample.frame()
    return survey


def rows_held(positions: np.ndarray, part: str, fraction: float, seed: int) -> np.ndarray:
    """Which rows validate: by hash ("split"), none ("train") or all ("valid").

    Example:
        >>> rows_held(np.arange(3), "valid", 0.2, 0).tolist()
        [True, True, True]
    """
    if part == "split":
        return is_validation(positions, fraction, seed)
    return np.full(len(positions), part == "valid")


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


def _check_columns(chunk: pd.DataFrame, config: DataConfig, name: str) -> None:
    require_columns(chunk, [config.target], "target", name)
    for option in ("drop", "features", "categorical", "numeric"):
        require_columns(chunk, list(getattr(config, option)), f"--{option}", name)


def _fit_encoders(sample: pd.DataFrame, config: DataConfig, task: str, survey: _Survey):
    """The encoders, fitted on the sample; class frequencies from the whole pass."""
    import pandas as pd

    from tabnet_cli.prep.features import FeatureEncoder
    from tabnet_cli.prep.targets import TargetEncoder, label_key

    chosen = config.features or tuple(sample.columns)
    columns = [c for c in chosen if c != config.target and c not in config.drop]
    if not columns:
        raise DataError(f"the data has no feature columns besides the target {config.target!r}")
    features = FeatureEncoder(config.scale, config.clip, config.rank_inputs).fit(
        sample, None, config.categorical, config.numeric, columns
    )
    target = sample[config.target]
    counts = survey.train_labels
    if task == "regression" or counts is None:
        return features, TargetEncoder(task, config.target_scale).fit(target)
    seen = {label_key(v) for v in target.unique()}
    rare = [label for label in counts if label not in seen]  # not in the sample
    targets = TargetEncoder(task).fit(pd.concat([target, pd.Series(rare, dtype=object)]))
    total = sum(counts.values())
    targets.baseline_ = [counts[label_key(c)] / total for c in targets.classes_]
    unseen = sorted(set(survey.valid_labels or ()) - set(counts))
    if unseen:
        raise DataError(
            f"class {unseen[0]!r} of target {config.target!r} appears only in the validation "
            "rows, so the model cannot learn it; try another --seed or a smaller "
            "--validation-split, or remove that class's rows"
        )
    return features, targets
