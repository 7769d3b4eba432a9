"""The training loop: loss and optimizer factories, ``fit``, and batched inference.

Never prints: progress and messages are callbacks' and the CLI's business. The whole
training set lives on the device as one tensor; each epoch draws a seeded permutation and
slices minibatches from it (no per-sample DataLoader). Running sums stay on the device so
that an epoch costs one host sync, not one per batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from tabnet_cli.callbacks import Callback, EarlyStopping, History, Logs
from tabnet_cli.config import TrainConfig
from tabnet_cli.errors import TabnetError

INFERENCE_ROWS = 65536  # rows per forward pass when validating or predicting


def select_device(name: str) -> torch.device:
    """``auto`` picks CUDA when present, else the CPU.

    Example:
        >>> select_device("cpu")
        device(type='cpu')
    """
    if name == "cuda" and not torch.cuda.is_available():
        raise TabnetError("--device cuda asked for, but no CUDA GPU is available; use --device cpu")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def make_loss(task: str, loss: str, huber_delta: float = 1.0) -> nn.Module:
    """The loss module for a task; classification losses take logits.

    Example:
        >>> make_loss("regression", "mae")
        L1Loss()
    """
    if task == "binary":
        return nn.BCEWithLogitsLoss()
    if task == "multiclass":
        return nn.CrossEntropyLoss()
    return {"mae": nn.L1Loss, "mse": nn.MSELoss}.get(
        loss, lambda: nn.HuberLoss(delta=huber_delta)
    )()


def make_optimizer(params, config: TrainConfig) -> torch.optim.Optimizer:
    """Adam (default), AdamW, SGD with momentum or RMSprop, fused where PyTorch can.

    Example:
        >>> opt = make_optimizer(nn.Linear(2, 1).parameters(), TrainConfig(optimizer="sgd"))
        >>> type(opt).__name__
        'SGD'
    """
    params = list(params)
    name, lr, decay = config.optimizer, config.lr, config.weight_decay
    if name in ("adam", "adamw"):
        kind = torch.optim.Adam if name == "adam" else torch.optim.AdamW
        # Keras' epsilon (1e-7) keeps updates the same as the course's for tiny gradients.
        try:
            return kind(params, lr=lr, weight_decay=decay, eps=1e-7, fused=True)
        except (RuntimeError, TypeError, ValueError):  # fused kernels missing on this build
            return kind(params, lr=lr, weight_decay=decay, eps=1e-7, foreach=True)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=config.momentum, weight_decay=decay)
    return torch.optim.RMSprop(params, lr=lr, weight_decay=decay, eps=1e-7)


@dataclass
class FitResult:
    """What happened during ``fit``: the history and why training ended."""

    history: History
    early_stopping: EarlyStopping
    epochs_run: int = 0
    stop_reason: str = "completed"  # completed | early_stopping | non_finite | interrupted
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)


class _Sums:
    """Per-epoch running sums on the device, read once at the end of the epoch."""

    def __init__(self, device: torch.device, task: str):
        self.task = task
        self.loss = torch.zeros((), device=device)
        self.abs_err = torch.zeros((), device=device)
        self.sq_err = torch.zeros((), device=device)
        self.correct = torch.zeros((), device=device)
        self.rows = 0

    def add(self, output: torch.Tensor, target: torch.Tensor, loss: torch.Tensor) -> None:
        n = target.shape[0]
        self.rows += n
        output = output.detach()
        self.loss += loss.detach() * n
        if self.task == "regression":
            diff = output - target
            self.abs_err += diff.abs().sum()
            self.sq_err += diff.square().sum()
        elif self.task == "binary":
            self.correct += ((output > 0) == (target > 0.5)).sum()
        else:
            self.correct += (output.argmax(dim=1) == target).sum()

    def logs(self, prefix: str, target_spread: float) -> Logs:
        values = torch.stack([self.loss, self.abs_err, self.sq_err, self.correct]).tolist()
        loss, abs_err, sq_err, correct = (v / max(self.rows, 1) for v in values)
        logs = {f"{prefix}loss": loss}
        if self.task == "regression":  # metrics in the target's original units
            logs[f"{prefix}mae"] = abs_err * target_spread
            logs[f"{prefix}mse"] = sq_err * target_spread**2
        else:
            logs[f"{prefix}accuracy"] = correct
        return logs

    def running_loss(self) -> Logs:
        return {"loss": self.loss.item() / max(self.rows, 1)}


def _outputs(model: nn.Module, x: torch.Tensor, task: str) -> torch.Tensor:
    out = model(x)
    return out.squeeze(1) if task != "multiclass" else out


def _train_epoch(model, optimizer, loss_fn, x, y, config, generator, task, callbacks) -> _Sums:
    model.train()
    sums = _Sums(x.device, task)
    order = torch.randperm(x.shape[0], generator=generator).to(x.device)
    for step, start in enumerate(range(0, x.shape[0], config.batch_size), start=1):
        index = order[start : start + config.batch_size]
        xb, yb = x.index_select(0, index), y.index_select(0, index)
        output = _outputs(model, xb, task)
        loss = loss_fn(output, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        sums.add(output, yb, loss)
        for callback in callbacks:
            callback.on_batch_end(step, sums.running_loss)
    return sums


@torch.inference_mode()
def evaluate_tensors(model, loss_fn, x: torch.Tensor, y: torch.Tensor, task: str) -> _Sums:
    """Loss and metric sums over a whole set, in eval mode (dropout off, BN frozen)."""
    model.eval()
    sums = _Sums(x.device, task)
    for start in range(0, x.shape[0], INFERENCE_ROWS):
        xb, yb = x[start : start + INFERENCE_ROWS], y[start : start + INFERENCE_ROWS]
        output = _outputs(model, xb, task)
        # Sum-reduced per chunk so the mean over the set is exact, whatever the chunking.
        sums.add(output, yb, loss_fn(output, yb))
    return sums


@torch.inference_mode()
def predict_raw(model: nn.Module, x: np.ndarray, device: torch.device) -> np.ndarray:
    """Raw model outputs (scaled values or logits) for a float32 matrix.

    Example:
        >>> predict_raw(nn.Linear(2, 1), np.zeros((3, 2), np.float32), torch.device("cpu")).shape
        (3, 1)
    """
    model.eval()
    outputs = [
        model(torch.from_numpy(x[start : start + INFERENCE_ROWS]).to(device)).cpu().numpy()
        for start in range(0, len(x), INFERENCE_ROWS)
    ]
    return np.concatenate(outputs) if outputs else np.zeros((0, 1), np.float32)


def fit(
    model: nn.Module,
    train: tuple[torch.Tensor, torch.Tensor],
    valid: tuple[torch.Tensor, torch.Tensor],
    config: TrainConfig,
    task: str,
    target_spread: float = 1.0,
    callbacks: list[Callback] | None = None,
    clock: Callable[[], float] | None = None,
) -> FitResult:
    """Trains ``model`` in place; returns the history and how training ended.

    ``target_spread`` converts regression metrics (mae, mse) to original units; ``loss``
    stays in the scaled units the model trains in, as in Keras.

    Example:
        >>> import torch
        >>> x = torch.randn(32, 3); y = x.sum(1)
        >>> model = nn.Linear(3, 1)
        >>> result = fit(model, (x, y), (x, y), TrainConfig(epochs=2, batch_size=8), "regression")
        >>> result.epochs_run, sorted(result.history.history)
        (2, ['loss', 'mae', 'mse', 'val_loss', 'val_mae', 'val_mse'])
    """
    import time

    clock = clock or time.perf_counter
    history = History()
    stopper = EarlyStopping(
        config.monitor, config.min_delta, config.patience, config.restore_best_weights
    )
    everyone = [history, stopper, *(callbacks or [])]
    for callback in everyone:
        callback.set_model(model)
    loss_fn = make_loss(task, config.loss, config.huber_delta)
    optimizer = make_optimizer(model.parameters(), config)
    generator = torch.Generator().manual_seed(config.seed)
    x_train, y_train = train
    steps = math.ceil(x_train.shape[0] / config.batch_size)
    result = FitResult(history, stopper)
    started = clock()
    for callback in everyone:
        callback.on_train_begin(config.epochs, steps)
    try:
        for epoch in range(1, config.epochs + 1):
            for callback in everyone:
                callback.on_epoch_begin(epoch)
            sums = _train_epoch(
                model, optimizer, loss_fn, x_train, y_train, config, generator, task, everyone
            )
            logs = sums.logs("", target_spread)
            logs.update(evaluate_tensors(model, loss_fn, *valid, task).logs("val_", target_spread))
            if not (math.isfinite(logs["loss"]) and math.isfinite(logs["val_loss"])):
                result.stop_reason = "non_finite"
                result.extra["epoch"] = epoch
                break
            result.epochs_run = epoch
            for callback in everyone:
                callback.on_epoch_end(epoch, logs)
            if any(callback.stop_training for callback in everyone):
                result.stop_reason = "early_stopping"
                break
    except KeyboardInterrupt:
        result.stop_reason = "interrupted"
    result.seconds = clock() - started
    for callback in everyone:
        callback.on_train_end()
    return result
