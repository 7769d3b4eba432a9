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
from tabnet_cli.run.manifest import Ensemble, RunManifest
from tabnet_cli.settings.config import RunConfig

if TYPE_CHECKING:
    from tabnet_cli.fit.train import Fitted
    from tabnet_cli.jobs.train import TrainSummary
    from tabnet_cli.prep.prepare import Prepared


class EnsembleMLP:
    """The members' mean prediction, as one network's raw output: the mean value
    (regression), or the logit / log of the mean probabilities (classification),
    computed in log space so that certain members give no infinities.

    Example:
        >>> class Net:
        ...     def __init__(self, z): self.z = z
        ...     def __call__(self, x): return np.full((len(x), 1), self.z, np.float32)
        >>> both = EnsembleMLP([Net(2.0), Net(-2.0)], "binary")
        >>> both(np.zeros((1, 3))).round(6).tolist()  # p = (0.881 + 0.119) / 2 = 0.5
        [[0.0]]
    """

    def __init__(self, members: Sequence[Callable[[np.ndarray], np.ndarray]], task: str):
        self.members, self.task = list(members), task

    def __call__(self, x: np.ndarray) -> np.ndarray:
        outputs = np.stack([member(x) for member in self.members]).astype(np.float64)
        if self.task == "regression":
            return outputs.mean(axis=0)
        log_k = np.log(len(self.members))
        if self.task == "binary":  # log p = -softplus(-z), log (1 - p) = -softplus(z)
            log_p = np.logaddexp.reduce(-np.logaddexp(0, -outputs), axis=0) - log_k
            log_q = np.logaddexp.reduce(-np.logaddexp(0, outputs), axis=0) - log_k
            return log_p - log_q
        log_probs = outputs - np.logaddexp.reduce(outputs, axis=2, keepdims=True)
        return np.logaddexp.reduce(log_probs, axis=0) - log_k


def member_prefix(index: int) -> str:
    """The tensor name prefix of member ``index`` (1-based, as the folds).

    Example:
        >>> member_prefix(1) + "0.weight"
        'member1.0.weight'
    """
    return f"member{index}."


def load_members(manifest: RunManifest, path: Path) -> EnsembleMLP:
    """The NumPy ensemble of a run: every member's tensors checked by name, shape, dtype
    and finiteness as a single network's are."""
    from tabnet_cli.nn.model import tensor_shapes
    from tabnet_cli.nn.numpy_forward import NumpyMLP
    from tabnet_cli.run.run_dir import read_weights

    assert manifest.ensemble is not None
    shapes = tensor_shapes(manifest.model)
    members = range(1, manifest.ensemble.members + 1)
    expected = {member_prefix(i) + k: v for i in members for k, v in shapes.items()}
    weights = read_weights(path, expected)
    nets = [
        NumpyMLP(manifest.model, {k: weights[member_prefix(i) + k] for k in shapes})
        for i in members
    ]
    return EnsembleMLP(nets, manifest.task)


class _Stacked:
    """The members' PyTorch modules seen as one ``state_dict`` (what ``save_run`` saves)."""

    def __init__(self, models: Sequence[Any]):
        self.models = models

    def state_dict(self) -> dict[str, Any]:
        return {
            member_prefix(i) + name: tensor
            for i, model in enumerate(self.models, start=1)
            for name, tensor in model.state_dict().items()
        }


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
    from tabnet_cli.fit.loop import select_device
    from tabnet_cli.fit.train import check_memory, model_config_for, resolve, train
    from tabnet_cli.jobs.cv import fold_splits, refuse_validation_file
    from tabnet_cli.prep.prepare import Split, prepare, read_source
    from tabnet_cli.settings.recipes import resolve_data, resolve_training

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
    check_memory(model_config_for(prepared, config.arch), device)  # before any member
    for message in prepared.notices:
        notify(message)
    members = []
    for index, split in enumerate(splits, start=1):
        notify(f"member {index}/{folds}: validated on fold {index} ({len(split.valid_rows)} rows)")
        member = _member_data(prepared, split)
        fitted = train(member, config.arch, train_config, callbacks, device)
        members.append((fitted, member))
        if fitted.result.stop_reason == "interrupted":
            if not keep_partial:
                raise KeyboardInterrupt  # an ensemble missing members is not what was asked
            break
    if len(members) == 1:  # interrupted in the first member: a single network
        from tabnet_cli.jobs.train import TrainSummary, write_run

        fitted, member = members[0]
        single = replace(config, data=replace(config.data, folds=1))
        return TrainSummary(run_dir, write_run(run_dir, source, member, fitted, single))
    return _save(run_dir, source, prepared, members, config)


def _member_data(prepared: Prepared, split) -> Prepared:
    x, y = prepared.x_train, prepared.y_train
    return replace(
        prepared,
        x_train=x[split.train_rows],
        y_train=y[split.train_rows],
        x_valid=x[split.valid_rows],
        y_valid=y[split.valid_rows],
        provenance=replace(
            prepared.provenance,
            train_rows=len(split.train_rows),
            validation_rows=len(split.valid_rows),
        ),
    )


def _save(run_dir, source, prepared, members: list[tuple[Fitted, Prepared]], config):
    from tabnet_cli.jobs.train import TrainSummary, build_manifest, resolved_config
    from tabnet_cli.run.run_dir import save_run
    from tabnet_cli.settings.config_file import CONFIG_FILE, dump_config

    first = members[0][0]
    manifest = build_manifest(prepared, first, config)
    rows = prepared.provenance.rows
    manifest = replace(
        manifest,
        ensemble=Ensemble(members=len(members)),
        data=replace(manifest.data, validation_rows=rows),  # every row, out of fold
    )
    epochs, history = mean_history([fitted.result.history.history for fitted, _ in members])
    metrics = ensemble_metrics(members)
    files = {CONFIG_FILE: dump_config(resolved_config(config, prepared, first), source)}
    models = _Stacked([fitted.model for fitted, _ in members])
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
    from tabnet_cli.fit.train import summarize

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
