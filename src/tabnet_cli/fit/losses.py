"""The loss of each task: regression losses, (label-smoothed, class-weighted) binary and
multiclass cross-entropy on logits."""

from __future__ import annotations

import torch
from torch import nn

from tabnet_cli.settings.config import TrainConfig


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
