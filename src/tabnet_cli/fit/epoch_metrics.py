"""The one way the loss and metrics of an epoch (or a validation pass) are accumulated:
in memory or streamed, alone or on one rank of several.

Each batch's outputs, targets and training loss are kept as they are, on the device (a
list append per batch, no copy), until ``capacity`` rows are held; these then become one
*part*: the means of the loss and of the task's metrics over those rows, float32 tensors
computed on the device without a sync. At the end the parts combine as
``sum(mean * rows) / sum(rows)`` in float64, with one host sync for the whole epoch.

In memory the capacity is the whole epoch, so there is one part, and
``(m * n) / n == m`` exactly for a float32 ``m`` and ``n < 2**29``: the logs are the
float32 means over the epoch's outputs, as Keras reports them. A streamed epoch holds a
bounded number of rows at a time. The training loss is the batch losses' mean weighted by
batch size (Keras' running ``loss``; every batch but the epoch's last is full); a
validation pass, which has no batch losses, takes the loss over each part's outputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from tabnet_cli.fit.callbacks import Logs

# Means over one process's rows -> means over all processes' rows (distributed.reduce_means)
Reduce = Callable[[torch.Tensor, int], torch.Tensor]

# ROC AUC (binary, when asked for): each part keeps the share of its rows per logit bin,
# positives and negatives apart, so parts and ranks combine like any other mean (Keras'
# AUC metric likewise counts at fixed thresholds); bins of 1/64 over logits in [-16, 16)
AUC_BINS, AUC_LOGIT_RANGE = 2048, 16.0


class EpochMetrics:
    """Loss and metrics of the batches added, summarised every ``capacity`` rows.

    Example:
        >>> metrics = EpochMetrics("regression", capacity=2)
        >>> metrics.add(torch.tensor([0.0, 3.0]), torch.tensor([0.0, 0.0]), torch.tensor(5.0))
        >>> metrics.add(torch.tensor([3.0]), torch.tensor([0.0]), torch.tensor(2.0))
        >>> metrics.logs("", target_spread=2.0)  # two parts: (5 * 2 + 2 * 1) / 3 = 4
        {'loss': 4.0, 'mae': 4.0, 'mse': 24.0}
    """

    def __init__(
        self, task: str, capacity: int, loss_fn: Callable | None = None, auc: bool = False
    ):
        self.task, self.capacity, self.loss_fn = task, capacity, loss_fn
        self.auc = auc and task == "binary"
        self.outputs: list[torch.Tensor] = []
        self.targets: list[torch.Tensor] = []
        self.losses: list[torch.Tensor] = []
        self.parts: list[tuple[torch.Tensor, int]] = []  # (float32 means, rows)
        self.held = self.first_size = self.last_size = 0

    def add(
        self, output: torch.Tensor, target: torch.Tensor, loss: torch.Tensor | None = None
    ) -> None:
        """A batch's outputs and targets, and its mean loss in training."""
        n = output.shape[0]
        if loss is not None:
            if self.last_size < self.first_size:
                raise ValueError("a batch after a smaller one: only the last may be smaller")
            self.losses.append(loss.detach())
            self.first_size = self.first_size or n
            self.last_size = n
        self.outputs.append(output.detach())
        self.targets.append(target)
        self.held += n
        if self.held >= self.capacity:
            self._summarise()

    def _summarise(self) -> None:
        """The batches held become one part: their means, still on the device."""
        output, target = torch.cat(self.outputs), torch.cat(self.targets)
        loss = self._batch_loss() if self.losses else self.loss_fn(output, target)
        means = part_means(output, target, loss, self.task)
        if self.auc:
            means = torch.cat([means, auc_histogram(output, target)])
        self.parts.append((means, self.held))
        self.outputs, self.targets, self.losses = [], [], []
        self.held = self.first_size = self.last_size = 0

    def _batch_loss(self) -> torch.Tensor:
        """The held batches' losses weighted by their sizes, in float32 on the device."""
        losses = torch.stack(self.losses)
        full = losses[:-1].sum() * self.first_size
        return (full + losses[-1] * self.last_size) / self.held

    def means(self) -> tuple[torch.Tensor, int]:
        """The float64 means over every row added (NaN without rows), and the row count."""
        if self.held:
            self._summarise()
        rows = sum(n for _, n in self.parts)
        if not rows:
            width = (3 if self.task == "regression" else 2) + 2 * AUC_BINS * self.auc
            return torch.full((width,), torch.nan), 0
        return sum(means.double() * n for means, n in self.parts) / rows, rows

    def logs(self, prefix: str, target_spread: float, reduce: Reduce | None = None) -> Logs:
        """The logs, with one host sync; ``reduce`` turns this rank's means into means
        over every rank's rows (data-parallel training)."""
        means, rows = self.means()
        values = (reduce(means, rows) if reduce else means).tolist()
        return named_logs(values, self.task, prefix, target_spread)

    def running_loss(self) -> Logs:
        """The loss of the batches so far (it syncs: for a progress bar's redraws)."""
        parts = [(means[0].double(), n) for means, n in self.parts]
        if self.losses:
            parts.append((self._batch_loss().double(), self.held))
        rows = sum(n for _, n in parts)
        return {"loss": float(sum(loss * n for loss, n in parts) / rows) if rows else 0.0}


def part_means(
    output: torch.Tensor, target: torch.Tensor, loss: torch.Tensor, task: str
) -> torch.Tensor:
    """``[loss, mae, mse]`` (regression) or ``[loss, accuracy]`` over some rows."""
    if task == "regression":
        diff = output - target
        return torch.stack([loss, diff.abs().mean(), diff.square().mean()])
    predicted = output > 0 if task == "binary" else output.argmax(dim=1)
    truth = target > 0.5 if task == "binary" else target
    return torch.stack([loss, (predicted == truth).float().mean()])


def auc_histogram(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The shares of rows per logit bin, ``AUC_BINS`` for the positives then as many for
    the negatives (see ``AUC_BINS``): what ``histogram_auc`` needs, as means over rows."""
    scaled = (output.float() + AUC_LOGIT_RANGE) * (AUC_BINS / (2 * AUC_LOGIT_RANGE))
    bins = scaled.floor().clamp(0, AUC_BINS - 1).long()
    positive = target > 0.5
    counts = torch.cat(
        [
            torch.bincount(bins[positive], minlength=AUC_BINS),
            torch.bincount(bins[~positive], minlength=AUC_BINS),
        ]
    )
    return counts.float() / max(output.shape[0], 1)


def histogram_auc(positives: list[float], negatives: list[float]) -> float:
    """ROC AUC of binned scores: the chance that a positive scores above a negative, ties
    (the same bin) counting half; NaN without both classes.

    Example:
        >>> histogram_auc([0, 1, 1], [1, 1, 0])  # 3 of 4 pairs ordered, 1 tied: 3.5 / 4
        0.875
    """
    total_pos, total_neg = sum(positives), sum(negatives)
    if total_pos <= 0 or total_neg <= 0:
        return math.nan
    below = wins = 0.0
    for pos, neg in zip(positives, negatives, strict=True):
        wins += pos * (below + neg / 2)
        below += neg
    return wins / (total_pos * total_neg)


def named_logs(values: list[float], task: str, prefix: str, target_spread: float) -> Logs:
    """Means by name; regression errors in the target's original units; ``auc`` when the
    values carry its histogram.

    Example:
        >>> named_logs([0.5, 0.75], "binary", "val_", 1.0)
        {'val_loss': 0.5, 'val_accuracy': 0.75}
    """
    if task == "regression":
        return {
            f"{prefix}loss": values[0],
            f"{prefix}mae": values[1] * target_spread,
            f"{prefix}mse": values[2] * target_spread**2,
        }
    logs = {f"{prefix}loss": values[0], f"{prefix}accuracy": values[1]}
    if len(values) == 2 + 2 * AUC_BINS:
        positives, negatives = values[2 : 2 + AUC_BINS], values[2 + AUC_BINS :]
        logs[f"{prefix}auc"] = histogram_auc(positives, negatives)
    return logs
