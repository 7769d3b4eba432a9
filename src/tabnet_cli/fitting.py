"""The training stage: ``train(Prepared, ArchConfig, TrainConfig, callbacks) -> Fitted``.

Builds the network for the prepared matrices, moves them to the device and runs the loop
(``train.fit``). It knows nothing of files: the same stage serves a single run, each fold
of a cross-validation and each trial of a search.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn

from tabnet_cli.callbacks import Callback
from tabnet_cli.class_weights import class_weights
from tabnet_cli.config import ArchConfig, ModelConfig, TrainConfig
from tabnet_cli.errors import TabnetError
from tabnet_cli.prepare import Prepared
from tabnet_cli.train import FitResult, fit, select_device


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
        ['loss', 'accuracy', 'val_loss', 'val_accuracy']
    """
    names = ["loss"] + (["mae", "mse"] if task == "regression" else ["accuracy"])
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
) -> Fitted:
    """Trains a new network on ``prepared``; the returned model lives on the CPU.

    Example:
        >>> from tabnet_cli.config import DataConfig
        >>> from tabnet_cli.prepare import holdout_split, prepare, read_source
        >>> data = DataConfig(target="progression")
        >>> table = read_source("sample_data/diabetes.csv", data)
        >>> prepared = prepare(table, holdout_split(table, data, 0), data)
        >>> fitted = train(prepared, ArchConfig(layers=(8,)), TrainConfig(epochs=2))
        >>> fitted.result.epochs_run, fitted.train_config.loss
        (2, 'mae')
    """
    from tabnet_cli.model import build_mlp

    config = resolve(config, prepared)
    device = device or select_device(config.device)
    model_config = ModelConfig(
        n_inputs=prepared.x_train.shape[1], n_outputs=prepared.targets.n_outputs, arch=arch
    )
    torch.manual_seed(config.seed)
    model = build_mlp(model_config).to(device)

    def tensors(x, y):
        return torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)

    weights = loss_weights(config, prepared)
    result = fit(
        model,
        tensors(prepared.x_train, prepared.y_train),
        tensors(prepared.x_valid, prepared.y_valid),
        config,
        prepared.task,
        target_spread=prepared.targets.spread_,
        callbacks=list(callbacks),
        class_weights=None if weights is None else weights.tolist(),
    )
    if result.epochs_run == 0:
        if result.stop_reason == "interrupted":
            raise KeyboardInterrupt
        raise TabnetError(
            "the loss became NaN or infinite in epoch 1; nothing was saved. "
            "Try a lower --lr, --scale standard or --target-scale standard"
        )
    return Fitted(model.cpu(), model_config, config, result)


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
        "train_rows": prepared.provenance.train_rows,
        "validation_rows": prepared.provenance.validation_rows,
        "best": {k: v[best_row] for k, v in history.history.items()},
        "kept": {k: v[row] for k, v in history.history.items()},
    }
