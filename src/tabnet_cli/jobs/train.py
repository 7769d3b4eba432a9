"""``train_run``: the whole ``tabnet train`` job, from a file to a saved run directory.

read_source -> holdout_split -> prepare (data stage) -> train (fitting stage) -> save_run.
Messages for the user go through ``notify``; nothing prints.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tabnet_cli.errors import TabnetError
from tabnet_cli.fit.callbacks import Callback
from tabnet_cli.io.datasets import is_dataset
from tabnet_cli.io.outputs import prepare_directory, remove_empty_dirs
from tabnet_cli.io.sources import STDIN
from tabnet_cli.jobs.ensemble import train_ensemble
from tabnet_cli.prep.prepare import holdout_split, prepare, read_source
from tabnet_cli.prep.streamed import prepare_streamed, should_stream
from tabnet_cli.prep.types import Prepared
from tabnet_cli.run.run_dir import OUT_ADVICE, next_free_run_dir
from tabnet_cli.run.save import TrainSummary, check_savable, write_run
from tabnet_cli.settings.config import RunConfig
from tabnet_cli.settings.recipes import bagged_members, resolve_data, resolve_training
from tabnet_cli.system import distributed
from tabnet_cli.system.memory import (
    format_size,
    memory_budget,
    release_freed_memory,
    trim_freed_memory,
)

if TYPE_CHECKING:
    pass


RUNS = Path("runs")
LARGE_TABLE_CELLS = 1_000_000  # where runs go without --out


def default_run_dir(data: str, root: Path = RUNS) -> Path:
    """``runs/<file stem>``, numbered when taken.

    Example:
        >>> default_run_dir("data/red-wine.csv", Path("/nonexistent"))
        PosixPath('/nonexistent/red-wine')
        >>> default_run_dir("exports/part-*.parquet", Path("/nonexistent"))
        PosixPath('/nonexistent/exports')
    """

    path = Path(data)
    if data != STDIN and is_dataset(data) and not path.is_dir():  # a glob: its folder's name
        path = Path(os.path.dirname(re.split(r"[*?[]", data, maxsplit=1)[0]))
    stem = "stdin" if data == STDIN else path.name.split(".")[0] or "run"
    return next_free_run_dir(root, stem)


def train_run(
    source: str,
    config: RunConfig,
    out_dir: Path | None = None,
    callbacks: Sequence[Callback] = (),
    notify: Callable[[str], None] = lambda message: None,
) -> TrainSummary:
    """Trains a model on ``source`` and writes its run directory; returns where and how.
    The output place is checked first, so a read-only or full disk fails before any work.

    Example:
        >>> summary = train_run("sample_data/diabetes.csv", RunConfig.from_options(
        ...     {"target": "progression", "epochs": 2}), Path("/tmp/run"))  # doctest: +SKIP
    """
    if out_dir is not None and out_dir.exists():
        raise TabnetError(f"{out_dir} already exists; choose another --out or remove it")
    place = out_dir.parent if out_dir is not None else RUNS
    created = prepare_directory(place, OUT_ADVICE, shown=out_dir or place)
    try:
        if config.data.folds > 1:
            refuse_streaming(source, config, "--folds")

            run_dir = out_dir or default_run_dir(source)
            return train_ensemble(source, config, run_dir, callbacks, notify)
        return _train_and_save(source, config, out_dir, callbacks, notify)
    except BaseException:
        remove_empty_dirs(created)  # a failed run leaves no trace, not even its parents
        raise


def _train_and_save(
    source: str,
    config: RunConfig,
    out_dir: Path | None,
    callbacks: Sequence[Callback],
    notify: Callable[[str], None],
) -> TrainSummary:
    config = resolve_data(config)
    prepared = _prepared(source, config)
    rows = prepared.provenance.train_rows + prepared.provenance.validation_rows
    single = prepared.streamed or distributed.current() is not None or source == STDIN
    members = 1 if single else bagged_members(config, rows)
    if members > 1 and _can_bag(prepared, members):
        del prepared
        bagged = replace(config, data=replace(config.data, folds=members))
        run_dir = out_dir or default_run_dir(source)
        return train_ensemble(source, bagged, run_dir, callbacks, notify, keep_partial=True)
    config = resolve_training(config, prepared.provenance.train_rows, prepared.task)
    if prepared.provenance.rows * len(prepared.schema.columns) > LARGE_TABLE_CELLS:
        # pandas' internal reference cycles would keep the table alive until the next
        # collection; a full collection costs ~0.3 s, worth it only for a large table
        gc.collect()
    # PyTorch (about 220 MB) is imported only now: reading a large file is the memory peak
    # of a run, and it need not carry the library.
    from tabnet_cli.fit.devices import select_device
    from tabnet_cli.fit.train import check_batches, check_memory, model_config_for, resolve, train

    train_config = resolve(config.train, prepared)
    device = select_device(train_config.device)
    rank = distributed.current()
    if rank is not None:
        device = _rank_device(device, rank)
        distributed.start(rank, device)
        distributed.check_same(prepared.digest(), "data and encoders", device)
        if not rank.is_main:  # one voice: rank 0 prints and writes
            callbacks, notify = (), _silent
    model_config = model_config_for(prepared, config.arch)
    check_memory(model_config, device)
    check_savable(source, prepared, model_config, train_config, config)  # before training
    check_batches(prepared, model_config, train_config, device, rank)
    for message in prepared.notices:  # only once the input is known to be usable
        notify(message)
    try:
        fitted = train(prepared, config.arch, train_config, callbacks, device, rank)
    finally:
        distributed.stop()
    if rank is not None and not rank.is_main:
        from tabnet_cli.fit.train import summarize  # torch loads on first use, not with this module

        return TrainSummary(None, summarize(fitted, prepared))
    run_dir = out_dir or default_run_dir(source)
    return TrainSummary(run_dir, write_run(run_dir, source, prepared, fitted, config))


def _prepared(source: str, config: RunConfig) -> Prepared:
    """The data stage: in memory, or streamed when the data exceed --memory-budget."""

    streamed, reason = should_stream(source, config.data)
    if streamed:
        release_freed_memory()  # resident memory follows the rows held, within the budget
        prepared = prepare_streamed(source, config.data, config.train.seed, config.train.loss)
        trim_freed_memory()  # what the pass over the data freed, before training holds more
        prepared.notices.insert(0, reason)  # said once the data are known to be usable
        return prepared
    table = read_source(source, config.data)
    split = holdout_split(table, config.data, config.train.seed)
    return prepare(table, split, config.data, config.train.loss)


def check_data_parallel(source: str, config: RunConfig, nproc: int) -> None:
    """What every process of a data-parallel run (``--nproc``) would refuse, checked once
    before they start: stdin (each process reads DATA), an ensemble, DATA that does not
    open, GPUs too few for the processes."""
    if source == STDIN:
        raise TabnetError(
            f"--nproc {nproc} starts {nproc} processes that each read DATA; give a file, "
            "not stdin (-)"
        )
    if config.data.folds > 1:
        raise TabnetError(
            "--folds trains its members one after the other in one process; leave out "
            "--nproc or --folds"
        )
    should_stream(source, config.data)  # opens DATA: a missing file is said once
    distributed.check_devices(config.train.device, nproc)


def refuse_streaming(source: str, config: RunConfig, what: str) -> None:
    """Ensembles, cv and tune hold the table in memory: refuse one that needs streaming
    rather than run out of memory."""

    if should_stream(source, config.data)[0]:
        raise _streaming_refused(source, config, what)


def _streaming_refused(source: str, config: RunConfig, what: str) -> TabnetError:

    instead = "train without it" if what.startswith("--") else "train on a sample of the rows"
    return TabnetError(
        f"{source} needs more than the --memory-budget of "
        f"{format_size(memory_budget(config.data.memory_budget))} in memory, and {what} "
        f"does not stream yet; {instead}, or raise --memory-budget if the memory allows"
    )


def _can_bag(prepared: Prepared, members: int) -> bool:
    """Whether every class has a row in each of ``members`` folds (always for a
    regression): the recipe trains a single network otherwise."""

    if prepared.task == "regression":
        return True
    # class codes: float 0/1 for a binary target, int64 indices for a multiclass one
    matrices = prepared.matrices
    _, counts = np.unique(np.concatenate([matrices.y_train, matrices.y_valid]), return_counts=True)
    return bool(counts.min() >= members)


def _silent(message: str) -> None:
    """The notices of ranks other than 0, which rank 0 already prints."""


def _rank_device(device, rank: distributed.Rank):
    """One GPU per local rank; CPUs are shared."""
    import torch  # torch loads on first use, not with this module

    return torch.device("cuda", rank.local_rank) if device.type == "cuda" else device
