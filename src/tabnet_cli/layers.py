"""PyTorch building blocks of the network beyond ``torch.nn``'s own (imported only by
``model.build_mlp``, so that inference never imports PyTorch)."""

from __future__ import annotations

import torch
from torch import nn

ACTIVATION_MODULES = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "leaky_relu": nn.LeakyReLU,
    "silu": nn.SiLU,
    "mish": nn.Mish,
    "linear": nn.Identity,
}


class FeatureScale(nn.Module):
    """Multiplies each input by its own learnable factor, initially 1 (RealMLP's scaling
    layer): the network can learn how much each feature matters before mixing them.

    Example:
        >>> FeatureScale(3)(torch.ones(2, 3)).tolist()
        [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """

    def __init__(self, width: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight
