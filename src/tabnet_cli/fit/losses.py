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


def submodel_loss(loss_fn: nn.Module, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The mean over K submodels of each one's loss, for outputs [rows, K] (or [rows, K,
    classes]): every submodel is trained as a network of its own (TabM), not their mean
    prediction. With one target per row, the loss over the K x rows outputs is that mean,
    weighted losses included (each submodel's rows carry the same weights).

    Example:
        >>> loss = submodel_loss(nn.MSELoss(), torch.tensor([[1.0, 3.0]]), torch.tensor([0.0]))
        >>> loss.item()  # (1 + 9) / 2
        5.0
    """
    submodels = output.shape[1]
    return loss_fn(output.flatten(0, 1), target.repeat_interleave(submodels))
