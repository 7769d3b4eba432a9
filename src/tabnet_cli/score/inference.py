"""Inference from a saved run: the model's outputs on new data, and evaluation.

Input is read in chunks, transformed with the saved preprocessing (never refitted) and
fed to the model chunk by chunk, so memory stays bounded whatever the file size; the next
chunks are read on a thread meanwhile. ``predict`` itself is :mod:`tabnet_cli.score.predicting`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tabnet_cli.errors import DataError
from tabnet_cli.io.background import read_ahead
from tabnet_cli.io.datasets import iter_source
from tabnet_cli.io.sources import display_name
from tabnet_cli.io.tables import require_columns
from tabnet_cli.prep.features import TransformReport
from tabnet_cli.run.run_dir import LoadedRun
from tabnet_cli.score.metrics import score

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_CHUNK_ROWS = 65536


def prepared_chunks(
    run: LoadedRun, source: str, chunk_rows: int, report: TransformReport
) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    """(input chunk, model input) pairs: the chunks read and preprocessed, not yet
    scored; ``report`` collects what the preprocessing had to paper over."""
    name = display_name(source)
    options = run.manifest.data_config.read_options()
    for index, chunk in enumerate(iter_source(source, chunk_rows, options)):
        if index == 0:
            require_columns(chunk, run.features.input_columns, "feature", name)
        x, chunk_report = run.features.transform(chunk)
        report.unseen.update(chunk_report.unseen)
        report.missing.update(chunk_report.missing)
        yield chunk, x


def scored_chunks(
    run: LoadedRun, source: str, chunk_rows: int, report: TransformReport
) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    """Yields (input chunk, raw model outputs) pairs; ``report`` collects what the
    preprocessing had to paper over (unseen categories, missing values). The next chunks
    are read and preprocessed on a thread while the model runs on this one."""
    name, rows = display_name(source), 0
    with read_ahead(prepared_chunks(run, source, chunk_rows, report)) as chunks:
        for chunk, x in chunks:
            raw = model_outputs(run, x)
            refuse_non_finite(raw, rows, name)
            rows += len(chunk)
            yield chunk, raw


def model_outputs(run: LoadedRun, x: np.ndarray) -> np.ndarray:
    """The run's raw outputs for model inputs ``x``; an overflow is not warned about here
    but found by ``non_finite_rows`` and said in one line by the caller."""
    with np.errstate(all="ignore"):
        return run.model(x)


def non_finite_rows(raw: np.ndarray) -> np.ndarray:
    """Which rows of raw outputs hold a NaN or an infinity.

    Example:
        >>> non_finite_rows(np.array([[0.5, 1.0], [np.nan, 0.0]])).tolist()
        [False, True]
    """
    return ~np.isfinite(raw).reshape(len(raw), -1).all(axis=1)


def refuse_non_finite(raw: np.ndarray, offset: int, name: str) -> None:
    """A NaN or infinite model output would be written as an empty cell: refuse it.

    Example:
        >>> refuse_non_finite(np.array([[0.5], [np.inf]]), 10, "new.csv")
        Traceback (most recent call last):
        ...
        tabnet_cli.errors.DataError: the model's output is NaN or infinite for 1 row(s) of ...
    """
    bad = non_finite_rows(raw)
    if bad.any():
        first = offset + int(np.flatnonzero(bad)[0]) + 1
        raise DataError(
            f"the model's output is NaN or infinite for {int(bad.sum())} row(s) of {name} "
            f"(first: data row {first}): the computation overflowed float32, so the run's "
            "weights or those rows hold extreme values; retrain the run or check those rows"
        )


def input_names(kept: list[str], outputs: list[str]) -> dict[str, str]:
    """New names for kept input columns named like an output: ``y_input``, or
    ``y_input_2``... when the input already has a ``y_input`` (every header unique).

    Example:
        >>> input_names(["id", "y", "y_input"], ["y"])
        {'y': 'y_input_2'}
    """
    taken, renamed = set(kept) | set(outputs), {}
    for column in kept:
        if column not in outputs:
            continue
        name, n = f"{column}_input", 1
        while name in taken:
            n += 1
            name = f"{column}_input_{n}"
        taken.add(name)
        renamed[column] = name
    return renamed


def probability_columns(classes, target: str) -> list[str]:
    """One column name per class: the class itself, or ``proba_<class>`` for every class
    when one is named like the target column (its predictions would be overwritten).

    Example:
        >>> probability_columns(["n", "y"], "y"), probability_columns(["bad", "good"], "y")
        (['proba_n', 'proba_y'], ['bad', 'good'])
    """
    names = [str(label) for label in classes]
    return [f"proba_{n}" for n in names] if target in names else names


@dataclass
class Scores:
    """Everything ``evaluate`` needs, gathered in one pass over the data."""

    raw: np.ndarray  # model outputs: scaled values or logits
    encoded: np.ndarray  # targets in model units
    truth: np.ndarray  # targets in the user's units (regression) or class indices
    dropped: int  # rows without a target
    report: TransformReport


def collect_scores(run: LoadedRun, source: str, chunk_rows: int) -> Scores:
    """Runs the model over ``source`` (which must hold the target column)."""
    report = TransformReport()
    raws, encoded, truths, dropped = [], [], [], 0
    name = display_name(source)
    for chunk, raw in scored_chunks(run, source, chunk_rows, report):
        if run.target_name not in chunk.columns:
            require_columns(chunk, [run.target_name], "target", name)
        present = chunk[run.target_name].notna().to_numpy()
        dropped += int((~present).sum())
        target = chunk[run.target_name][present]
        raws.append(raw[present])
        encoded.append(run.target.encode(target))
        if run.task == "regression":
            truths.append(target.astype(float).to_numpy())
    if not raws or sum(len(r) for r in raws) == 0:
        raise DataError(f"{name} has no row with a value in the target {run.target_name!r}")
    raw, enc = np.concatenate(raws), np.concatenate(encoded)
    truth = np.concatenate(truths) if run.task == "regression" else enc
    return Scores(raw, enc, truth, dropped, report)


def evaluate_run(
    run: LoadedRun,
    source: str,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    warn: Callable[[str], None] = lambda message: None,
) -> dict:
    """Metrics of the run's model on ``source`` next to the naive baseline's.

    Example:
        >>> evaluate_run(load_run("runs/diabetes"), "valid.csv")["metrics"]["mae"]  # doctest: +SKIP
        {'model': 41.2, 'baseline': 62.9}
    """

    scores = collect_scores(run, source, chunk_rows)
    if scores.dropped:
        warn(f"ignored {scores.dropped} row(s) without a value in {run.target_name!r}")
    if scores.report.message():
        warn(scores.report.message())
    result = score(run, scores.raw, scores.encoded, scores.truth)
    return {
        "run": str(run.path),
        "data": display_name(source),
        "task": run.task,
        "target": run.target_name,
        "loss_name": run.loss,
        "rows": int(len(scores.raw)),
        **result,
    }
