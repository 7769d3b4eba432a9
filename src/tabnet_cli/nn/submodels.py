"""PyTorch layers of an efficient ensemble (``--submodels K``, TabM: Gorishniy et al. 2024):
K networks trained at once as one batched network, on tensors of shape [rows, K, width].

Each hidden Dense is a BatchEnsemble layer: one weight matrix shared by the K submodels,
with a scaling of its inputs (``r``), of its outputs (``s``) and a bias per submodel; the
first layer's ``r`` starts random (so the K submodels see different views of the row from
the start) and every other scaling at 1. The output layer is one Dense per submodel. The
K submodels cost about K networks' multiply-adds per row but one network's steps: their
products are K times taller, which a CPU or GPU runs far better than K small ones.
Imported only by ``model.build_mlp`` and the training loop: inference never imports PyTorch.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class BatchLinear(nn.Module):
    """K Dense layers sharing one weight matrix: ``(x * r_k) @ weight.T * s_k + bias_k``
    for submodel k; a 2-D input [rows, n_in] is the same row for every submodel.

    Example:
        >>> layer = BatchLinear(3, 2, submodels=4)
        >>> layer(torch.zeros(5, 3)).shape
        torch.Size([5, 4, 2])
    """

    def __init__(self, n_in: int, n_out: int, submodels: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_out, n_in))
        self.r = nn.Parameter(torch.ones(submodels, n_in))
        self.s = nn.Parameter(torch.ones(submodels, n_out))
        self.bias = nn.Parameter(torch.zeros(submodels, n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            x = x.unsqueeze(1)  # broadcast over the submodels by the product with r
        return nn.functional.linear(x * self.r, self.weight) * self.s + self.bias


class SubmodelLinear(nn.Module):
    """One Dense layer per submodel: submodel k's rows [rows, n_in] times its own weights.

    Example:
        >>> layer = SubmodelLinear(3, 1, submodels=4)
        >>> layer(torch.zeros(5, 4, 3)).shape
        torch.Size([5, 4, 1])
    """

    def __init__(self, n_in: int, n_out: int, submodels: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(submodels, n_out, n_in))
        self.bias = nn.Parameter(torch.zeros(submodels, n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:  # no hidden layer: every submodel reads the row itself
            x = x.unsqueeze(1).expand(-1, self.weight.shape[0], -1)
        # [K, rows, n_in] @ [K, n_in, n_out]: one batched product for the K submodels
        out = torch.bmm(x.transpose(0, 1), self.weight.transpose(1, 2))
        return out.transpose(0, 1) + self.bias


class SubmodelBatchNorm(nn.BatchNorm1d):
    """Batch normalisation of [rows, K, width] over every submodel's rows (statistics
    shared by the submodels, as their Dense weights are); same tensors as ``BatchNorm1d``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.reshape(-1, x.shape[-1])).reshape(x.shape)


def init_submodels(modules: list[nn.Module], chunk: int) -> None:
    """TabM's start: Glorot-uniform shared and per-submodel weights (as Keras' Dense), and
    a random first scaling ``r`` so the submodels differ from their first layer on:
    N(0, 1) per input shared by its ``chunk`` embedded features (with periodic
    embeddings), random signs per feature otherwise.

    Example:
        >>> torch.manual_seed(0) and None
        >>> layer = BatchLinear(8, 2, submodels=3)
        >>> init_submodels([layer], chunk=4)
        >>> bool((layer.r[:, :4] == layer.r[:, :1]).all()), tuple(layer.r.shape)
        (True, (3, 8))
    """
    first = True
    for module in modules:
        if isinstance(module, BatchLinear):
            nn.init.xavier_uniform_(module.weight)
            if first:
                k, n_in = module.r.shape
                with torch.no_grad():
                    if chunk > 1:
                        values = torch.randn(k, n_in // chunk, 1).expand(-1, -1, chunk)
                        module.r.copy_(values.reshape(k, n_in))
                    else:
                        module.r.copy_(torch.randint(0, 2, (k, n_in)) * 2.0 - 1.0)
            first = False
        elif isinstance(module, SubmodelLinear):
            for weight in module.weight:
                nn.init.xavier_uniform_(weight)


def submodel_mean(outputs: torch.Tensor, task: str) -> torch.Tensor:
    """The K submodels' outputs [rows, K] (or [rows, K, classes]) as one network's output
    [rows] (or [rows, classes]): the mean value, the logit of the mean probability, or the
    log of the mean class probabilities (``ensemble.mean_prediction`` in NumPy).

    Example:
        >>> submodel_mean(torch.tensor([[2.0, -2.0]]), "binary").abs().item() < 1e-6
        True
    """
    if task == "regression":
        return outputs.mean(dim=1)
    if task == "binary":  # log mean p - log mean (1 - p); the log K cancels
        logsigmoid = nn.functional.logsigmoid
        return torch.logsumexp(logsigmoid(outputs), 1) - torch.logsumexp(logsigmoid(-outputs), 1)
    log_probs = torch.log_softmax(outputs, dim=-1)
    return torch.logsumexp(log_probs, dim=1) - math.log(outputs.shape[1])
