"""Epochs of a streamed run: batches from ``StreamedRows``, metrics from running sums.

In memory, an epoch keeps every output to compute its metrics at the end; a streamed
epoch may see more rows than fit in memory, so each batch adds its loss, errors and hits
to a few sums on the device instead (one host sync per epoch still).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from tabnet_cli.fit.callbacks import Logs
from tabnet_cli.fit.loop import Job, batch_outputs


class RunningSums:
    """Row-weighted sums of the loss and the task's metrics over the batches seen.

    Example:
        >>> sums = RunningSums("regression")
        >>> sums.add(torch.tensor([1.0, 3.0]), torch.tensor([0.0, 0.0]), torch.tensor(5.0))
        >>> sums.logs("val_", 2.0)
        {'val_loss': 5.0, 'val_mae': 4.0, 'val_mse': 20.0}
    """

    def __init__(self, task: str):
        self.task = task
        self.sums: torch.Tensor | None = None
        self.rows = 0

    def add(self, output: torch.Tensor, target: torch.Tensor, loss: torch.Tensor) -> None:
        output, n = output.detach(), output.shape[0]
        if self.task == "regression":
            diff = output - target
            parts = [loss.detach() * n, diff.abs().sum(), diff.square().sum()]
        else:
            predicted = output > 0 if self.task == "binary" else output.argmax(dim=1)
            truth = target > 0.5 if self.task == "binary" else target
            parts = [loss.detach() * n, (predicted == truth).sum().float()]
        batch = torch.stack(parts).double()
        self.sums = batch if self.sums is None else self.sums + batch
        self.rows += n

    def running_loss(self) -> Logs:
        return {"loss": self.sums[0].item() / self.rows if self.rows else 0.0}

    def logs(self, prefix: str, target_spread: float) -> Logs:
        """Means over the rows seen; regression errors in the target's original units."""
        means = [math.nan] * 3 if self.sums is None else (self.sums / self.rows).tolist()
        if self.task == "regression":
            return {
                f"{prefix}loss": means[0],
                f"{prefix}mae": means[1] * target_spread,
                f"{prefix}mse": means[2] * target_spread**2,
            }
        return {f"{prefix}loss": means[0], f"{prefix}accuracy": means[1]}


@dataclass
class StreamJob(Job):
    """A ``Job`` whose ``train`` (and ``valid``) is a ``stream_batches.StreamedRows``."""

    def train_epoch(self) -> Logs:
        model, rows, batch = self.model, self.train, self.config.batch_size
        model.train()
        steps = math.ceil(rows.train_rows / batch)
        sums = RunningSums(self.task)
        for step, (x, y) in enumerate(rows.train_batches(batch, self.generator), start=1):
            output, loss = self.step(x, y, steps)
            sums.add(output, y, loss)
            for callback in self.batch_listeners:
                callback.on_batch_end(step=step, running_logs=sums.running_loss)
        return sums.logs("", self.spread)

    def epoch(self) -> Logs:
        logs = self.train_epoch()
        logs.update(self.validate())
        return logs

    @torch.inference_mode()
    def validate(self) -> Logs:
        model = self.evaluated
        model.eval()
        sums = RunningSums(self.task)
        for x, y in self.valid.valid_batches():
            output = batch_outputs(model, x, self.task)
            sums.add(output, y, self.loss_fn(output, y))
        return sums.logs("val_", self.spread)
