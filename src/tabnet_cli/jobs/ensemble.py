"""``tabnet train --folds K``: a bagged ensemble of K networks in one run directory.

The preprocessing is fitted once on every row of the training file (the one a saved run
applies); the rows are cut into K folds (stratified for classes, seeded), and member
``i`` trains on all folds but fold ``i``, which validates it (early stopping, restored
weights). The weights of all members go into one ``model.safetensors`` as
``member{i}.<tensor>``, and ``model.json`` says ``"ensemble": {"members": K}``.

A prediction averages the members' class probabilities (classification) or values
(regression). :class:`EnsembleMLP` returns it in the units of a single network's output
(the logits of the averaged probabilities), so decoding, ``--proba`` and every metric of
``tabnet evaluate`` work on an ensemble unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tabnet_cli.fit.callbacks import Callback
from tabnet_cli.jobs.folds import fold_splits, refuse_validation_file
from tabnet_cli.jobs.member_processes import member_processes, train_members
from tabnet_cli.nn.ensemble import StackedMembers
from tabnet_cli.prep.prepare import prepare, read_source
from tabnet_cli.prep.types import Matrices, Split
from tabnet_cli.run.manifest import Ensemble
from tabnet_cli.run.run_dir import save_run
from tabnet_cli.run.save import (
    TrainSummary,
    build_manifest,
    check_savable,
    resolved_config,
    write_run,
)
from tabnet_cli.settings.config import RunConfig
from tabnet_cli.settings.config_file import CONFIG_FILE, dump_config
from tabnet_cli.settings.recipes import resolve_data, resolve_training

if TYPE_CHECKING:
    from tabnet_cli.fit.train import Fitted
    from tabnet_cli.prep.types import Prepared


def train_ensemble(
    source: str,
    config: RunConfig,
    run_dir: Path,
    callbacks: Sequence[Callback] = (),
    notify: Callable[[str], None] = lambda message: None,
    keep_partial: bool = False,
) -> TrainSummary:
    """Trains the K members and writes the ensemble's run directory. On Ctrl-C, an
    ensemble the user asked for (``--folds``) writes nothing; with ``keep_partial`` (the
    recipe's bagging) the members trained so far and the interrupted one are saved.

    Example:
        >>> train_ensemble("sample_data/diabetes.csv", RunConfig.from_options(
        ...     {"target": "progression", "folds": 3}), Path("/tmp/ens"))  # doctest: +SKIP
    """
    # torch loads on first use, not with this module
    from tabnet_cli.fit.devices import select_device
    from tabnet_cli.fit.train import check_memory, model_config_for, resolve

    refuse_validation_file(config.data)
    config = resolve_data(config)
    table = read_source(source, config.data)
    folds, seed = config.data.folds, config.train.seed
    splits = fold_splits(table, config.data, config.train.loss, folds, seed)
    every_row = Split(np.arange(len(table.frame)), np.arange(0))
    prepared = prepare(table, every_row, config.data, config.train.loss)
    config = resolve_training(config, len(splits[0].train_rows), prepared.task)
    train_config = resolve(config.train, prepared)
    device = select_device(train_config.device)  # refused (no GPU) before any member
    model_config = model_config_for(prepared, config.arch)
    check_memory(model_config, device)  # before any member
    check_savable(source, prepared, model_config, train_config, config)
    for message in prepared.notices:
        notify(message)
    data = [_member_data(prepared, split) for split in splits]

    def announce(member: int) -> None:  # 0-based
        rows = len(splits[member].valid_rows)
        notify(f"member {member + 1}/{folds}: validated on fold {member + 1} ({rows} rows)")

    def told(member: int) -> list[Callback]:
        return [member_callback(callback, member + 1) for callback in callbacks]

    processes = member_processes(folds, device, train_config)
    if processes > 1:
        trained = train_members(data, config.arch, train_config, device, told, processes, announce)
    else:
        trained = _in_turn(data, config.arch, train_config, device, told, announce)
    interrupted = len(trained) < folds or any(
        fitted.result.stop_reason == "interrupted" for _, fitted in trained
    )
    if not trained or (interrupted and not keep_partial):
        raise KeyboardInterrupt  # an ensemble missing members is not what was asked
    members = [(fitted, data[member]) for member, fitted in trained]
    if len(members) == 1:  # interrupted in the first member: a single network
        fitted, member = members[0]
        single = replace(config, data=replace(config.data, folds=1))
        return TrainSummary(run_dir, write_run(run_dir, source, member, fitted, single))
    return _save(run_dir, source, prepared, members, config, processes)


def _in_turn(data, arch, train_config, device, told, announce) -> list[tuple[int, Fitted]]:
    """The members trained one after the other in this process, up to an interrupted one."""
    from tabnet_cli.fit.train import train  # torch loads on first use, not with this module

    trained = []
    for member, rows in enumerate(data):
        announce(member)
        fitted = train(rows, arch, train_config, told(member), device)
        trained.append((member, fitted))
        if fitted.result.stop_reason == "interrupted":
            break
    return trained


class _Member(Callback):
    """A callback told which member trains: every hook gets ``member=i`` in its context
    (``--log-format jsonl`` puts it in the epoch events)."""

    def __init__(self, inner: Callback, member: int):
        self.inner, self.member = inner, member

    @property
    def stop_training(self) -> bool:  # type: ignore[override]
        return self.inner.stop_training

    @stop_training.setter
    def stop_training(self, value: bool) -> None:
        self.inner.stop_training = value

    def set_model(self, model: Any) -> None:
        self.inner.set_model(model)

    def on_train_begin(self, **context: Any) -> None:
        self.inner.on_train_begin(**{"member": self.member, **context})

    def on_epoch_begin(self, **context: Any) -> None:
        self.inner.on_epoch_begin(**{"member": self.member, **context})

    def on_epoch_end(self, **context: Any) -> None:
        self.inner.on_epoch_end(**{"member": self.member, **context})

    def on_train_end(self, **context: Any) -> None:
        self.inner.on_train_end(**{"member": self.member, **context})


class _MemberWithBatches(_Member):
    """:class:`_Member` of a callback that follows batches (the loop calls
    ``on_batch_end`` only on callbacks that define it)."""

    def on_batch_end(self, **context: Any) -> None:
        self.inner.on_batch_end(**{"member": self.member, **context})


def member_callback(callback: Callback, member: int) -> Callback:
    """``callback`` as seen while member ``member`` (1-based) trains."""
    batches = type(callback).on_batch_end is not Callback.on_batch_end
    return (_MemberWithBatches if batches else _Member)(callback, member)


def _member_data(prepared: Prepared, split) -> Prepared:
    x, y = prepared.matrices.x_train, prepared.matrices.y_train
    train, valid = split.train_rows, split.valid_rows
    return replace(
        prepared,
        rows=Matrices(x[train], y[train], x[valid], y[valid]),
        provenance=replace(
            prepared.provenance,
            train_rows=len(split.train_rows),
            validation_rows=len(split.valid_rows),
        ),
    )


def _save(run_dir, source, prepared, members: list[tuple[Fitted, Prepared]], config, processes):

    first = members[0][0]
    manifest = build_manifest(prepared, first, config)
    rows = prepared.provenance.rows
    manifest = replace(
        manifest,
        ensemble=Ensemble(members=len(members)),
        data=replace(manifest.data, validation_rows=rows),  # every row, out of fold
    )
    epochs, history = mean_history([fitted.result.history.history for fitted, _ in members])
    metrics = {**ensemble_metrics(members), "member_processes": processes}
    files = {CONFIG_FILE: dump_config(resolved_config(config, prepared, first), source)}
    models = StackedMembers([fitted.model for fitted, _ in members])
    save_run(run_dir, models, manifest, epochs, history, metrics, files)
    return TrainSummary(run_dir, metrics)


def mean_history(histories: list[dict[str, list[float]]]) -> tuple[list[int], dict]:
    """Each epoch's mean over the members that ran it (early stopping ends members at
    different epochs), for ``history.csv`` and ``tabnet curves``.

    Example:
        >>> mean_history([{"loss": [1.0, 0.5]}, {"loss": [3.0]}])
        ([1, 2], {'loss': [2.0, 0.5]})
    """
    longest = max(len(next(iter(h.values()))) for h in histories)
    mean = {
        key: [
            float(np.mean([h[key][e] for h in histories if len(h[key]) > e]))
            for e in range(longest)
        ]
        for key in histories[0]
    }
    return list(range(1, longest + 1)), mean


def ensemble_metrics(members: list[tuple[Fitted, Prepared]]) -> dict[str, Any]:
    """``metrics.json`` of an ensemble: each member's summary, and out of fold the
    validation values of the members' kept epochs averaged by rows, i.e. every row
    scored by the member that did not train on it."""
    from tabnet_cli.fit.train import summarize  # torch loads on first use, not with this module

    summaries = [summarize(fitted, member) for fitted, member in members]
    rows = np.array([s["validation_rows"] for s in summaries], dtype=np.float64)
    names = [k for k in summaries[0]["kept"] if k.startswith("val_")]
    out_of_fold = {
        name: float(np.dot(rows, [s["kept"][name] for s in summaries]) / rows.sum())
        for name in names
    }
    monitor = summaries[0]["monitor"]
    stops = {s["stop_reason"] for s in summaries}
    return {
        "members": len(members),
        "out_of_fold": out_of_fold,
        "monitor": monitor,
        "best_value": out_of_fold.get(monitor),
        "best_epoch": None,
        "kept_epoch": None,  # each member kept its own epoch (see member_runs)
        "epochs_run": max(s["epochs_run"] for s in summaries),
        "stop_reason": _stop_reason(stops),
        "train_seconds": round(sum(s["train_seconds"] for s in summaries), 4),
        "member_runs": summaries,
    }


def _stop_reason(stops: set[str]) -> str:
    """The ensemble's: interrupted if a member was, else completed if all were."""
    if "interrupted" in stops:
        return "interrupted"
    return "completed" if stops == {"completed"} else "early_stopping"
