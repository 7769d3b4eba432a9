"""The training stage: ``train(Prepared, ArchConfig, TrainConfig, callbacks) -> Fitted``.

Builds the network for the prepared data, turns the data into a batch source
(``batch_source``) and runs the loop (``loop.fit``). It knows nothing of files: the same
stage serves a single run, each fold of a cross-validation and each trial of a search.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from tabnet_cli.errors import TabnetError
from tabnet_cli.fit.batches import Batches, in_memory
from tabnet_cli.fit.callbacks import Callback
from tabnet_cli.fit.devices import select_device
from tabnet_cli.fit.loop import FitResult, fit
from tabnet_cli.fit.precision import choose_precision
from tabnet_cli.fit.shares import local_batch
from tabnet_cli.fit.stream_memory import step_bytes
from tabnet_cli.fit.streamed_batches import StreamedRows, streamed_sizes
from tabnet_cli.nn.model import build_mlp, row_work, weight_count
from tabnet_cli.prep.class_weights import class_weights
from tabnet_cli.prep.types import Prepared
from tabnet_cli.settings.config import ArchConfig, ModelConfig, TrainConfig
from tabnet_cli.system.distributed import Rank, reduce_means
from tabnet_cli.system.memory import available_memory
from tabnet_cli.system.threads import choose_threads


@dataclass
class Fitted:
    """A trained network (on the CPU) and how its training went."""

    model: nn.Module
    model_config: ModelConfig
    train_config: TrainConfig  # with the loss resolved
    result: FitResult


def monitors(task: str) -> list[str]:
    """The quantities a task records, i.e. what ``--monitor`` may name.

    Example:
        >>> monitors("binary")
        ['loss', 'accuracy', 'auc', 'val_loss', 'val_accuracy', 'val_auc']
    """
    names = ["loss"] + (["mae", "mse"] if task == "regression" else ["accuracy"])
    names += ["auc"] if task == "binary" else []  # logged when watched (loop.Job.with_auc)
    return names + [f"val_{n}" for n in names]


def resolve(config: TrainConfig, prepared: Prepared) -> TrainConfig:
    """``config`` with the task's loss in place of ``auto``; refuses a monitor the task
    does not record.

    Example:
        >>> class P: task, loss = "binary", "bce"
        >>> P.targets = type("T", (), {"classes_": [0, 1], "baseline_": [0.5, 0.5]})
        >>> resolve(TrainConfig(), P).loss
        'bce'
    """
    if config.monitor not in monitors(prepared.task):
        raise TabnetError(
            f"--monitor {config.monitor} is not recorded for a {prepared.task} task; "
            f"choose one of {', '.join(monitors(prepared.task))}"
        )
    loss_weights(config, prepared)  # a bad --class-weight is an error before training
    return replace(config, loss=prepared.loss if config.loss == "auto" else config.loss)


def loss_weights(config: TrainConfig, prepared: Prepared):
    """The class weights of ``--class-weight`` for the prepared classes (or ``None``)."""
    targets = prepared.targets
    return class_weights(config.class_weight, prepared.task, targets.classes_, targets.baseline_)


def train(
    prepared: Prepared,
    arch: ArchConfig,
    config: TrainConfig,
    callbacks: Sequence[Callback] = (),
    device: torch.device | None = None,
    rank: Rank | None = None,
) -> Fitted:
    """Trains a new network on ``prepared``; the returned model lives on the CPU. With a
    ``rank`` (under torchrun), trains on that rank's shard of the rows with DDP.

    Example:
        >>> from tabnet_cli.settings.config import DataConfig
        >>> from tabnet_cli.prep.prepare import holdout_split, prepare, read_source
        >>> data = DataConfig(target="progression")
        >>> table = read_source("sample_data/diabetes.csv", data)
        >>> prepared = prepare(table, holdout_split(table, data, 0), data)
        >>> fitted = train(prepared, ArchConfig(layers=(8,)), TrainConfig(epochs=2))
        >>> fitted.result.epochs_run, fitted.train_config.loss, fitted.train_config.threads
        (2, 'mae', 1)
    """
    config = resolve(config, prepared)
    device = device or select_device(config.device)
    model_config = model_config_for(prepared, arch)
    # check_batches ran before (jobs.train, before any rank trains); a streamed batch
    # that does not fit is refused again by the batch source, which sizes itself
    torch.manual_seed(config.seed)
    model = _build(model_config, device, prepared.features.first_binary_input)
    # the count and the precision used are saved as the settings: results differ in the
    # last bits between thread counts and precisions, and a rerun from the saved config
    # must reproduce the run
    config = replace(config, threads=_set_threads(model_config, config, device))
    net, fit_config, reduce = _data_parallel(model, config, device, rank)
    # bfloat16 pays from a number of rows per thread: those of this rank's share of a batch
    precision = choose_precision(config.precision, device, fit_config.batch_size, config.threads)
    config, fit_config = (replace(c, precision=precision) for c in (config, fit_config))
    weights = loss_weights(config, prepared)
    data = batch_source(prepared, device, rank, fit_config.batch_size, model)
    result = fit(
        net,
        data,
        fit_config,
        prepared.task,
        target_spread=prepared.targets.spread_,
        callbacks=list(callbacks),
        reduce=reduce,
        class_weights=None if weights is None else weights.tolist(),
        submodels=arch.submodels,
    )
    result.extra["threads"] = config.threads
    _refuse_no_epoch(result)
    return Fitted(model.cpu(), model_config, config, result)


def _data_parallel(model: nn.Module, config: TrainConfig, device: torch.device, rank):
    """The module, config and metric reduction ``fit`` uses: as given alone; under
    torchrun, DDP (gradients averaged) with the per-rank share of the batch."""
    if rank is None:
        return model, config, None

    net = DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)
    return net, replace(config, batch_size=local_batch(config.batch_size, rank.world)), reduce_means


def _refuse_no_epoch(result: FitResult) -> None:
    """Nothing to save when not one epoch completed: Ctrl-C, or a loss that blew up."""
    if result.epochs_run > 0:
        return
    if result.stop_reason == "interrupted":
        raise KeyboardInterrupt
    raise TabnetError(
        "the loss became NaN or infinite in epoch 1; nothing was saved. "
        "Try a lower --lr, --scale standard or --target-scale standard"
    )


def _build(model_config: ModelConfig, device: torch.device, binary_from: int) -> nn.Module:
    check_memory(model_config, device)
    return build_mlp(model_config, binary_from).to(device)


def check_memory(model_config: ModelConfig, device: torch.device) -> None:
    """Refuses a network too big for the memory, before allocating it: Linux hands out
    memory it does not have, and the process would be killed while initialising the
    weights instead of failing."""
    weights = weight_count(model_config)
    # float32 weights, gradients, two Adam moments and the best epoch's copy
    needed, free = weights * 4 * 5, available_memory()
    if device.type == "cpu" and free is not None and needed > free:
        raise TabnetError(
            f"a network of {weights:,} weights needs about {needed / 2**30:.1f} GiB to train, "
            f"more than the {free / 2**30:.1f} GiB available; use smaller --layers"
        )


def model_config_for(prepared: Prepared, arch: ArchConfig) -> ModelConfig:
    """The network's shape for these matrices."""
    return ModelConfig(
        n_inputs=prepared.features.n_features, n_outputs=prepared.targets.n_outputs, arch=arch
    )


def check_batches(
    prepared: Prepared,
    model_config: ModelConfig,
    config: TrainConfig,
    device: torch.device,
    rank: Rank | None,
) -> None:
    """Refuses, before training, batches this run cannot have: fewer training rows than
    processes, or (streamed) a batch that does not fit in ``--memory-budget``."""
    world = rank.world if rank is not None else 1
    if prepared.provenance.train_rows < world:
        raise TabnetError(
            f"{prepared.provenance.train_rows} training rows cannot be shared by {world} "
            "processes; give more rows or a smaller --nproc"
        )
    if prepared.streamed:
        with torch.random.fork_rng(devices=[]):  # the run's own weights draw as they would
            probe = build_mlp(model_config)
        step = step_bytes(probe, prepared.features.n_features, device)
        streamed_sizes(prepared, local_batch(config.batch_size, world), rank, step)


def batch_source(
    prepared: Prepared, device: torch.device, rank: Rank | None, batch_size: int, model: nn.Module
) -> Batches:
    """The batches ``fit`` reads: the streamed rows of a streamed run (sized from the
    budget for batches of ``batch_size`` rows of ``model``), else the prepared matrices on
    ``device``; under torchrun, this rank's share of them."""
    if prepared.streamed:
        step = step_bytes(model, prepared.features.n_features, device)
        return StreamedRows(prepared, device, batch_size, rank, step)
    matrices = prepared.matrices
    train_rows = (matrices.x_train, matrices.y_train)
    return in_memory(train_rows, (matrices.x_valid, matrices.y_valid), device, rank)


def _set_threads(model_config: ModelConfig, config: TrainConfig, device: torch.device) -> int:
    """Sets PyTorch's CPU threads for this run's steps (see threads.py); 0 on a GPU."""

    if device.type != "cpu":
        return 0
    threads = choose_threads(config.batch_size * row_work(model_config), config.threads)
    torch.set_num_threads(threads)
    return threads


def summarize(fitted: Fitted, prepared: Prepared) -> dict[str, Any]:
    """``metrics.json``: the best and kept epochs, why training stopped, timings."""
    result, config = fitted.result, fitted.train_config
    history, stopper = result.history, result.early_stopping
    kept = stopper.best_epoch if stopper.restored else history.epochs[-1]
    row = history.epochs.index(kept)
    best_row = history.epochs.index(stopper.best_epoch) if stopper.best_epoch else row
    return {
        "best_epoch": stopper.best_epoch,
        "kept_epoch": kept,
        "epochs_run": result.epochs_run,
        "stop_reason": result.stop_reason,
        "restored_best_weights": stopper.restored,
        "monitor": config.monitor,
        "best_value": stopper.best,
        "train_seconds": round(result.seconds, 4),
        "seconds_per_epoch": round(result.seconds / max(result.epochs_run, 1), 6),
        "threads": result.extra.get("threads", 0),
        "precision": config.precision,
        "train_rows": prepared.provenance.train_rows,
        "validation_rows": prepared.provenance.validation_rows,
        "best": {k: v[best_row] for k, v in history.history.items()},
        "kept": {k: v[row] for k, v in history.history.items()},
    }
