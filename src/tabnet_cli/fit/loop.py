"""The training loop: one ``fit`` over any batch source, and its ``Job``.

Never prints: progress and messages are callbacks' and the CLI's business. In memory,
streamed or on one rank's shard, training differs only in the batch source it reads
(``batches``); outputs and losses stay on the device and the epoch's metrics are
accumulated one way (``epoch_metrics``), so an epoch costs one host sync for its logs, not
one per batch, and a step is the forward pass, the backward pass and the optimizer's step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from tabnet_cli.fit.batches import Batches
from tabnet_cli.fit.callbacks import Callback, EarlyStopping, History, Logs
from tabnet_cli.fit.epoch_metrics import EpochMetrics, Reduce
from tabnet_cli.fit.losses import make_loss, submodel_loss
from tabnet_cli.fit.optim import make_optimizer, scheduled_lr, set_lr
from tabnet_cli.fit.precision import step_arithmetic
from tabnet_cli.nn.submodels import submodel_mean
from tabnet_cli.settings.config import TrainConfig


@dataclass
class FitResult:
    """What happened during ``fit``: the history and why training ended."""

    history: History
    early_stopping: EarlyStopping
    epochs_run: int = 0
    stop_reason: str = "completed"  # completed | early_stopping | non_finite | interrupted
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)


def batch_outputs(model: nn.Module, x: torch.Tensor, task: str) -> torch.Tensor:
    """The model's raw outputs: [rows] ([rows, classes] for multiclass), or [rows, K]
    ([rows, K, classes]) for a network of K submodels."""
    out = model(x)
    return out.squeeze(-1) if task != "multiclass" else out


@dataclass
class Job:
    """What every epoch of one ``fit`` call works with: the one loop over whatever batch
    source ``data`` is (in memory, streamed, a rank's shard)."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    loss_fn: nn.Module
    generator: torch.Generator
    data: Batches
    config: TrainConfig
    task: str
    spread: float
    batch_listeners: list[Callback]
    reduce: Reduce | None = None
    averaged: AveragedModel | None = None  # the weights' moving average (``--ema``)
    steps_done: int = 0
    # K > 1: the model's outputs are K submodels' ([rows, K, ...], --submodels): the loss is
    # the mean of theirs, the metrics and validation are of their mean prediction
    submodels: int = 1
    # the context of every step's forward pass (fit/precision.py): built once, entered per step
    arithmetic: AbstractContextManager = field(init=False)

    def __post_init__(self) -> None:
        self.arithmetic = step_arithmetic(self.config.precision, self.data.device)

    @property
    def evaluated(self) -> nn.Module:
        """The weights validation judges and early stopping keeps: the moving average
        when there is one."""
        return self.model if self.averaged is None else self.averaged.module

    @property
    def with_auc(self) -> bool:
        """ROC AUC is logged when early stopping watches it (its histogram costs little,
        but the course's binary histories keep Keras' columns)."""
        return self.config.monitor.endswith("auc")

    def predictions(self, outputs: torch.Tensor) -> torch.Tensor:
        """One output per row: the submodels' mean prediction when there are several."""
        return outputs if self.submodels == 1 else submodel_mean(outputs.detach(), self.task)

    def step(self, x: torch.Tensor, y: torch.Tensor):
        """One optimizer step on a batch; returns its outputs and loss (for submodels, their
        mean prediction and the mean of their losses)."""
        with self.arithmetic:
            output = batch_outputs(self.model, x, self.task)
        output = output.float()  # the loss and the metrics in float32 (a no-op without autocast)
        if self.submodels == 1:
            loss = self.loss_fn(output, y)
        else:
            loss = submodel_loss(self.loss_fn, output, y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        if self.averaged is not None:
            self.averaged.update_parameters(self.model)
        return self.predictions(output), loss

    def epoch_rates(self, steps: int) -> list[float] | None:
        """The learning rates of an epoch's ``steps`` optimizer steps (warm-up, cosine),
        computed once per epoch, or ``None`` when the rate stays the optimizer's; counts
        the steps as done."""
        config, done = self.config, self.steps_done
        self.steps_done += steps
        if config.schedule == "constant" and config.warmup <= 0:
            return None
        total = config.epochs * steps
        return [scheduled_lr(config, step, total) for step in range(done, done + steps)]

    def train_epoch(self) -> Logs:
        """One pass over the training batches; the per-batch work is the step alone."""
        model, data, batch = self.model, self.data, self.config.batch_size
        model.train()
        metrics = EpochMetrics(self.task, data.metric_rows, auc=self.with_auc)
        rates = self.epoch_rates(data.epoch_steps(batch))
        listeners, optimizer = self.batch_listeners, self.optimizer
        for step, (x, y) in enumerate(data.train_batches(batch, self.generator), start=1):
            if rates is not None:
                set_lr(optimizer, rates[step - 1])
            output, loss = self.step(x, y)
            metrics.add(output, y, loss)
            for callback in listeners:
                callback.on_batch_end(step=step, running_logs=metrics.running_loss)
        return metrics.logs("", self.spread, self.reduce)

    @torch.inference_mode()
    def validate(self) -> Logs:
        """``val_`` loss and metrics in eval mode (dropout off, BN frozen), of the
        prediction (the submodels' mean: what early stopping should judge)."""
        model = self.evaluated
        model.eval()
        metrics = EpochMetrics(self.task, self.data.metric_rows, self.loss_fn, auc=self.with_auc)
        for x, y in self.data.valid_batches():
            metrics.add(self.predictions(batch_outputs(model, x, self.task)), y)
        return metrics.logs("val_", self.spread, self.reduce)

    def epoch(self) -> Logs:
        """Training logs and ``val_`` logs of one epoch."""
        logs = self.train_epoch()
        logs.update(self.validate())
        return logs


def fit(
    model: nn.Module,
    data: Batches,
    config: TrainConfig,
    task: str,
    target_spread: float = 1.0,
    callbacks: list[Callback] | None = None,
    clock: Callable[[], float] | None = None,
    reduce: Reduce | None = None,
    class_weights: Sequence[float] | None = None,
    submodels: int = 1,
) -> FitResult:
    """Trains ``model`` in place on the batches of ``data``; returns the history and how
    training ended. ``submodels``: K > 1 when ``model`` is K submodels (see ``Job``).

    ``target_spread`` converts regression metrics (mae, mse) to original units; ``loss``
    stays in model units, as in Keras. ``class_weights``: one per class, in the loss.
    ``reduce``: turns one rank's means into means over every rank's rows (DDP).

    Example:
        >>> from tabnet_cli.fit.batches import TensorRows
        >>> x = torch.randn(32, 3); y = x.sum(1); model = nn.Linear(3, 1)
        >>> config = TrainConfig(epochs=2, batch_size=8)
        >>> result = fit(model, TensorRows((x, y), (x, y)), config, "regression")
        >>> result.epochs_run, sorted(result.history.history)
        (2, ['loss', 'mae', 'mse', 'val_loss', 'val_mae', 'val_mse'])
    """
    clock = clock or time.perf_counter
    stopper = early_stopping(config)
    history = History()
    everyone = [history, stopper, *(callbacks or [])]
    averaged = _moving_average(model, config.ema)
    for callback in everyone:  # the weights validation judges are the ones kept
        callback.set_model(model if averaged is None else averaged.module)
    job = Job(
        model,
        make_optimizer(model.parameters(), config),
        make_loss(config, task, _on_device(class_weights, data.device)),
        torch.Generator().manual_seed(config.seed),
        data,
        config,
        task,
        target_spread,
        # the per-batch hook runs thousands of times an epoch: call only real overrides
        [c for c in everyone if type(c).on_batch_end is not Callback.on_batch_end],
        reduce,
        averaged,
        submodels=submodels,
    )
    result, started = FitResult(history, stopper), clock()
    steps = data.epoch_steps(config.batch_size)
    for callback in everyone:
        callback.on_train_begin(epochs=config.epochs, steps_per_epoch=steps, config=config)
    try:
        _run_epochs(job, everyone, result)
    except KeyboardInterrupt:
        result.stop_reason = "interrupted"
    result.seconds = clock() - started
    _end_training(everyone, model, averaged)
    return result


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
    inner = getattr(model, "module", model)
    return AveragedModel(inner, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


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


def early_stopping(config: TrainConfig) -> EarlyStopping:
    """The run's early stopping, which spends no patience in the warm-up."""
    return EarlyStopping(
        config.monitor,
        config.min_delta,
        config.patience,
        config.restore_best_weights,
        start_from_epoch=warmup_epochs(config),
    )


def warmup_epochs(config: TrainConfig) -> int:
    """The epochs the learning-rate warm-up lasts (``--warmup`` is a share of all steps,
    hence of the epochs); early stopping spends no patience in them: the loss barely
    moves while the rate is tiny (the course's lesson 6 stopped inside a 50-epoch warm-up).

    Example:
        >>> warmup_epochs(TrainConfig(warmup=0.05, epochs=1000)), warmup_epochs(TrainConfig())
        (50, 0)
    """
    return math.ceil(config.warmup * config.epochs)
