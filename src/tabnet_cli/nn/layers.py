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


class PeriodicEmbedding(nn.Module):
    """Each input x becomes ``dims`` features: x itself and ``dims - 1`` learned mixtures of
    ``cos(2 pi (f x + p))`` at ``frequencies`` learned frequencies f and phases p (RealMLP's
    PBLD embedding, after Gorishniy et al. 2022): a smooth, learnable basis in which one
    Dense layer can draw the steps and bumps that trees find in a feature.

    Example:
        >>> torch.manual_seed(0) and None
        >>> PeriodicEmbedding(3, 16, 4)(torch.zeros(2, 3)).shape
        torch.Size([2, 12])
    """

    def __init__(self, width: int, frequencies: int, dims: int, sigma: float = 1.0):
        super().__init__()
        # frequencies start ~N(0, sigma): 1.0 beat 0.1 and 3.0 on the suite's tables (inputs
        # are robust-scaled and clipped to about +-3, so a few periods over their range)
        self.frequency = nn.Parameter(torch.randn(width, frequencies) * sigma)
        self.phase = nn.Parameter(torch.rand(width, frequencies) * 2 - 1)
        bound = frequencies**-0.5
        self.weight = nn.Parameter((torch.rand(width, frequencies, dims - 1) * 2 - 1) * bound)
        self.bias = nn.Parameter((torch.rand(width, dims - 1) * 2 - 1) * bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        waves = torch.cos(2 * torch.pi * (x.unsqueeze(-1) * self.frequency + self.phase))
        mixed = torch.einsum("bfk,fkd->bfd", waves, self.weight) + self.bias
        return torch.cat([x.unsqueeze(-1), mixed], dim=-1).flatten(1)
