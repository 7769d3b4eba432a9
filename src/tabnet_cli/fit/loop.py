"""The training loop: device choice, the loss factory, ``fit`` and validation.

Never prints: progress and messages are callbacks' and the CLI's business. The whole
training set lives on the device as one tensor; each epoch draws a seeded permutation and
slices minibatches from it (no per-sample DataLoader). Batch outputs and losses stay on the
device, so an epoch costs one host sync for its logs, not one per batch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
from torch import nn

from tabnet_cli.errors import TabnetError
from tabnet_cli.fit.callbacks import Callback, EarlyStopping, History, Logs
from tabnet_cli.fit.optim import make_optimizer, scheduled_lr, set_lr
from tabnet_cli.settings.config import TrainConfig

if TYPE_CHECKING:
    from torch.optim.swa_utils import AveragedModel

    from tabnet_cli.fit.streamed_batches import StreamedRows

# Means over one process's rows -> means over all processes' rows (distributed.reduce_means)
Reduce = Callable[[torch.Tensor, int], torch.Tensor]
INFERENCE_ROWS = 8192  # rows per validation forward pass: 8 MB of activations per 256 units


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


class SmoothedBCEWithLogits(nn.Module):
    """Binary cross-entropy on logits against targets pulled towards 1/2 by ``smoothing``
    (``y (1 - e) + e / 2``), as Keras' ``label_smoothing`` does; with ``weights`` (one per
    class) each row counts with its class's weight: ``sum(w * loss) / sum(w)``, the
    normalisation of PyTorch's weighted cross-entropy.

    Example:
        >>> loss = SmoothedBCEWithLogits(0.1)
        >>> round(loss(torch.tensor([0.0]), torch.tensor([1.0])).item(), 4)  # log(2)
        0.6931
    """

    def __init__(self, smoothing: float, weights: torch.Tensor | None = None):
        super().__init__()
        self.smoothing, self.weights = smoothing, weights

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        soft = target * (1.0 - self.smoothing) + 0.5 * self.smoothing
        if self.weights is None:
            return nn.functional.binary_cross_entropy_with_logits(output, soft)
        weight = self.weights[target.long()]
        losses = nn.functional.binary_cross_entropy_with_logits(output, soft, reduction="none")
        return (losses * weight).sum() / weight.sum()


def make_loss(config: TrainConfig, task: str, weights: torch.Tensor | None = None) -> nn.Module:
    """The loss module for a task; classification losses take logits and optional
    class ``weights`` (``--class-weight``).

    Example:
        >>> make_loss(TrainConfig(loss="mae"), "regression")
        L1Loss()
    """
    if task == "binary":
        if config.label_smoothing or weights is not None:
            return SmoothedBCEWithLogits(config.label_smoothing, weights)
        return nn.BCEWithLogitsLoss()
    if task == "multiclass":
        return nn.CrossEntropyLoss(weight=weights, label_smoothing=config.label_smoothing)
    loss, huber_delta = config.loss, config.huber_delta
    return {"mae": nn.L1Loss, "mse": nn.MSELoss}.get(
        loss, lambda: nn.HuberLoss(delta=huber_delta)
    )()


@dataclass
class FitResult:
    """What happened during ``fit``: the history and why training ended."""

    history: History
    early_stopping: EarlyStopping
    epochs_run: int = 0
    stop_reason: str = "completed"  # completed | early_stopping | non_finite | interrupted
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)


def _metric_logs(
    output: torch.Tensor,
    target: torch.Tensor,
    mean_loss: torch.Tensor,
    task: str,
    prefix: str,
    target_spread: float,
    reduce: Reduce | None = None,
) -> Logs:
    """Loss and metrics of a whole epoch or set, with one host sync; ``reduce`` turns
    one rank's means into means over every rank's rows (data-parallel training)."""

    def gather(means: torch.Tensor) -> list[float]:
        return (reduce(means, output.shape[0]) if reduce else means).tolist()

    if task == "regression":  # metrics in the target's original units
        diff = output - target
        values = gather(torch.stack([mean_loss, diff.abs().mean(), diff.square().mean()]))
        return {
            f"{prefix}loss": values[0],
            f"{prefix}mae": values[1] * target_spread,
            f"{prefix}mse": values[2] * target_spread**2,
        }
    predicted = output > 0 if task == "binary" else output.argmax(dim=1)
    truth = target > 0.5 if task == "binary" else target
    correct = (predicted == truth).float().mean()
    loss, accuracy = gather(torch.stack([mean_loss, correct]))
    return {f"{prefix}loss": loss, f"{prefix}accuracy": accuracy}


class _EpochRecord:
    """Each batch's outputs and loss, copied into preallocated buffers (two cheap ops per
    batch); the epoch's metrics are computed once at its end, as Keras reports them: from
    the outputs the network gave during training. Every batch but the last has the first
    batch's size, so batch sizes need no storing."""

    def __init__(self, rows: int, steps: int, device: torch.device):
        self.capacity = rows
        self.outputs: torch.Tensor | None = None  # shaped by the first batch
        self.losses = torch.empty(steps, device=device)
        self.rows = self.steps = self.first_size = self.last_size = 0

    def add(self, output: torch.Tensor, loss: torch.Tensor) -> None:
        n = output.shape[0]
        if self.outputs is None:
            self.outputs = output.new_empty((self.capacity, *output.shape[1:]))
            self.first_size = n
        self.outputs[self.rows : self.rows + n].copy_(output.detach())
        self.losses[self.steps] = loss.detach()
        self.last_size = n
        self.rows += n
        self.steps += 1

    def mean_loss(self) -> torch.Tensor:
        """The batch losses' mean weighted by batch size, as Keras' running ``loss``."""
        if self.steps == 0:
            return self.losses.new_zeros(())
        full = self.losses[: self.steps - 1].sum() * self.first_size
        return (full + self.losses[self.steps - 1] * self.last_size) / self.rows

    def running_loss(self) -> Logs:
        return {"loss": self.mean_loss().item()}

    def logs(self, target: torch.Tensor, task: str, spread: float, reduce=None) -> Logs:
        return _metric_logs(self.outputs, target, self.mean_loss(), task, "", spread, reduce)


def batch_outputs(model: nn.Module, x: torch.Tensor, task: str) -> torch.Tensor:
    out = model(x)
    return out.squeeze(1) if task != "multiclass" else out


@dataclass
class Job:
    """What every epoch of one ``fit`` call works with."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    loss_fn: nn.Module
    generator: torch.Generator
    train: tuple[torch.Tensor, torch.Tensor]
    valid: tuple[torch.Tensor, torch.Tensor]
    config: TrainConfig
    task: str
    spread: float
    batch_listeners: list[Callback]
    reduce: Reduce | None = None
    averaged: AveragedModel | None = None  # the weights' moving average (``--ema``)
    steps_done: int = 0

    @property
    def evaluated(self) -> nn.Module:
        """The weights validation judges and early stopping keeps: the moving average
        when there is one."""
        return self.model if self.averaged is None else self.averaged.module

    def step(self, x: torch.Tensor, y: torch.Tensor, steps_per_epoch: int):
        """One optimizer step on a batch; returns its outputs and loss."""
        self._schedule(steps_per_epoch)
        output = batch_outputs(self.model, x, self.task)
        loss = self.loss_fn(output, y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        if self.averaged is not None:
            self.averaged.update_parameters(self.model)
        return output, loss

    def _schedule(self, steps_per_epoch: int) -> None:
        """Sets the learning rate of the next optimizer step (warm-up, cosine)."""
        config = self.config
        if config.schedule != "constant" or config.warmup > 0:
            total = config.epochs * steps_per_epoch
            set_lr(self.optimizer, scheduled_lr(config, self.steps_done, total))
        self.steps_done += 1

    def train_epoch(self) -> Logs:
        """One pass over the training rows in a seeded random order."""
        model, (x, y), batch = self.model, self.train, self.config.batch_size
        model.train()
        rows = x.shape[0]
        steps = math.ceil(rows / batch)
        record = _EpochRecord(rows, steps, x.device)
        order = torch.randperm(rows, generator=self.generator).to(x.device)
        for step, start in enumerate(range(0, rows, batch), start=1):
            index = order[start : start + batch]
            output, loss = self.step(x.index_select(0, index), y.index_select(0, index), steps)
            record.add(output, loss)
            for callback in self.batch_listeners:
                callback.on_batch_end(step=step, running_logs=record.running_loss)
        return record.logs(y.index_select(0, order), self.task, self.spread, self.reduce)

    def epoch(self) -> Logs:
        """Training logs and ``val_`` logs of one epoch."""
        logs = self.train_epoch()
        logs.update(
            evaluate_tensors(
                self.evaluated, self.loss_fn, *self.valid, self.task, self.spread, self.reduce
            )
        )
        return logs


@torch.inference_mode()
def evaluate_tensors(
    model,
    loss_fn,
    x: torch.Tensor,
    y: torch.Tensor,
    task: str,
    target_spread: float = 1.0,
    reduce: Reduce | None = None,
) -> Logs:
    """``val_`` loss and metrics over a whole set, in eval mode (dropout off, BN frozen)."""
    model.eval()
    output = torch.cat(
        [
            batch_outputs(model, x[start : start + INFERENCE_ROWS], task)
            for start in range(0, x.shape[0], INFERENCE_ROWS)
        ]
    )
    return _metric_logs(output, y, loss_fn(output, y), task, "val_", target_spread, reduce)


def fit(
    model: nn.Module,
    train: tuple[torch.Tensor, torch.Tensor] | StreamedRows,
    valid: tuple[torch.Tensor, torch.Tensor] | StreamedRows,
    config: TrainConfig,
    task: str,
    target_spread: float = 1.0,
    callbacks: list[Callback] | None = None,
    clock: Callable[[], float] | None = None,
    reduce: Reduce | None = None,
    class_weights: Sequence[float] | None = None,
    job_type: type[Job] | None = None,
) -> FitResult:
    """Trains ``model`` in place; returns the history and how training ended.

    ``target_spread`` converts regression metrics (mae, mse) to original units; ``loss``
    stays in model units, as in Keras. ``class_weights``: one per class, in the loss.
    ``train`` and ``valid``: tensors, or one ``StreamedRows`` with ``job_type`` ``StreamJob``.

    Example:
        >>> x = torch.randn(32, 3); y = x.sum(1); model = nn.Linear(3, 1)
        >>> result = fit(model, (x, y), (x, y), TrainConfig(epochs=2, batch_size=8), "regression")
        >>> result.epochs_run, sorted(result.history.history)
        (2, ['loss', 'mae', 'mse', 'val_loss', 'val_mae', 'val_mse'])
    """
    clock = clock or time.perf_counter
    stopper = EarlyStopping(
        config.monitor, config.min_delta, config.patience, config.restore_best_weights
    )
    history = History()
    everyone = [history, stopper, *(callbacks or [])]
    averaged = _moving_average(model, config.ema)
    for callback in everyone:  # the weights validation judges are the ones kept
        callback.set_model(model if averaged is None else averaged.module)
    job = (job_type or Job)(
        model,
        make_optimizer(model.parameters(), config),
        make_loss(config, task, _on_device(class_weights, _device_of(train))),
        torch.Generator().manual_seed(config.seed),
        train,
        valid,
        config,
        task,
        target_spread,
        # the per-batch hook runs thousands of times an epoch: call only real overrides
        [c for c in everyone if type(c).on_batch_end is not Callback.on_batch_end],
        reduce,
        averaged,
    )
    result, started = FitResult(history, stopper), clock()
    steps = math.ceil(_row_count(train) / config.batch_size)
    for callback in everyone:
        callback.on_train_begin(epochs=config.epochs, steps_per_epoch=steps, config=config)
    try:
        _run_epochs(job, everyone, result)
    except KeyboardInterrupt:
        result.stop_reason = "interrupted"
    result.seconds = clock() - started
    _end_training(everyone, model, averaged)
    return result


def _row_count(rows) -> int:
    return len(rows[0]) if isinstance(rows, tuple) else rows.train_rows  # or StreamedRows


def _end_training(everyone: list[Callback], model: nn.Module, averaged) -> None:
    """The callbacks' end (early stopping restores the best weights); with ``--ema``, the
    kept (or last) average becomes the model."""
    for callback in everyone:
        callback.on_train_end()
    if averaged is not None:
        getattr(model, "module", model).load_state_dict(averaged.module.state_dict())


def _moving_average(model: nn.Module, decay: float) -> AveragedModel | None:
    """An exponential moving average of the weights (and BatchNorm statistics), updated
    after every step with ``decay``; ``None`` when ``decay`` is 0. Under DDP, a copy of
    the wrapped module."""
    if decay <= 0:
        return None
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    inner = getattr(model, "module", model)
    return AveragedModel(inner, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def _device_of(rows) -> torch.device:
    return rows[0].device if isinstance(rows, tuple) else rows.device


def _on_device(weights: Sequence[float] | None, device: torch.device) -> torch.Tensor | None:
    if weights is None:
        return None
    return torch.tensor([float(w) for w in weights], dtype=torch.float32, device=device)


def _run_epochs(job: Job, everyone: list[Callback], result: FitResult) -> None:
    """Epochs until the last one, a non-finite loss or a callback's stop flag."""
    for epoch in range(1, job.config.epochs + 1):
        for callback in everyone:
            callback.on_epoch_begin(epoch=epoch)
        logs = job.epoch()
        if not (math.isfinite(logs["loss"]) and math.isfinite(logs["val_loss"])):
            result.stop_reason = "non_finite"
            result.extra["epoch"] = epoch
            return
        result.epochs_run = epoch
        for callback in everyone:
            callback.on_epoch_end(epoch=epoch, logs=logs)
        if any(callback.stop_training for callback in everyone):
            result.stop_reason = "early_stopping"
            return
