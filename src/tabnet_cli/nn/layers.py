"""PyTorch building blocks of the network beyond ``torch.nn``'s own (imported only by
``model.build_mlp``, so that inference never imports PyTorch)."""

from __future__ import annotations

import numpy as np
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


# 0/1 cells a batch from which computing 0/1 inputs from their two ends pays: the path
# costs ~0.6 ms of extra operations a step, and saves the cosines of those cells. Measured
# forward + backward, one thread (bench/README.md, "Cheaper steps"): 0.5-0.7x the time of the
# plain formula at batch 32-64 with 4-16 such inputs (titanic's bagged members: 20% slower
# epochs), 1.1-1.3x around 4096 cells, 1.7-2.1x from 8192 on
TWO_ENDS_FROM_CELLS = 4096


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
        # inputs from this position on are 0 or 1 on every row (missing-value indicators and
        # one-hot slots: the encoder puts them last); None when unknown. Not saved: it
        # changes how the layer computes, not what
        self.binary_from: int | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        start = x.shape[1] if self.binary_from is None else self.binary_from
        if x.shape[0] * (x.shape[1] - start) < TWO_ENDS_FROM_CELLS:
            return self._embed(x, slice(None))
        # an input that is only ever 0 or 1 has two embeddings, and the row's is the line
        # through them: exact, at the cost of two rows instead of a batch of cosines (the
        # gradients too: each row sends its share to the end it sits at)
        tail = slice(start, None)
        zero_one = torch.tensor([[0.0], [1.0]], dtype=x.dtype, device=x.device)
        ends = self._embed(zero_one.expand(2, x.shape[1] - start), tail)
        ends = ends.unflatten(1, (-1, self.weight.shape[2] + 1))
        binary = torch.addcmul(ends[0], x[:, tail].unsqueeze(-1), ends[1] - ends[0])
        return torch.cat([self._embed(x[:, :start], slice(0, start)), binary.flatten(1)], dim=1)

    def _embed(self, x: torch.Tensor, inputs: slice) -> torch.Tensor:
        """The embedding of ``x``, whose columns are the layer's ``inputs``."""
        # cos((2 pi f) x + 2 pi p) on [inputs, rows, frequencies]: one fused multiply-add on
        # the large tensor instead of three passes, and the layout the batched product over
        # the inputs reads without a copy (1.3x faster forward and backward on CPU)
        columns = x.t().unsqueeze(-1)
        frequency, phase = self.frequency[inputs], self.phase[inputs]
        angles = torch.addcmul(
            (2 * torch.pi * phase).unsqueeze(1), columns, (2 * torch.pi * frequency).unsqueeze(1)
        )
        mixed = torch.baddbmm(
            self.bias[inputs].unsqueeze(1), torch.cos(angles), self.weight[inputs]
        )
        return torch.cat([columns, mixed], dim=-1).transpose(0, 1).flatten(1)


class BitsDropout(nn.Module):
    """Dropout whose masks come from 16 random bits per unit (``random_words``), not from
    ``torch.nn.Dropout``'s Bernoulli draws, which cost 3x as much on CPU: 2.9 ms against
    0.9 ms forward and backward for a 512 x 256 batch (bench/step_parts.py), where torch's
    draws took a quarter of a training step of the auto recipe's network. The rate is ``rate``
    rounded to a multiple of 1/65536, and the kept units are scaled by the inverse of the
    exact keep rate, so the expected activation is unchanged; at inference (``eval()``) it
    is the identity. The bits follow torch's generator: ``torch.manual_seed`` decides them.

    Example:
        >>> torch.manual_seed(0) and None
        >>> dropped = BitsDropout(0.25)(torch.ones(100_000))
        >>> round(float((dropped == 0).float().mean()), 2), sorted(set(dropped.tolist()))
        (0.25, [0.0, 1.3333333730697632])
    """

    def __init__(self, rate: float):
        super().__init__()
        self.rate = rate
        dropped = min(round(rate * 65536), 65535)  # of the 65536 values of 16 bits
        # int16 draws are uniform on [-32768, 32767]: those below this threshold drop
        self.threshold = dropped - 32768
        self.scale = 65536 / (65536 - dropped)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.threshold == -32768:
            return x
        words = random_words((x.numel() + 3) // 4, x.device)  # 4 draws of 16 bits a word
        draws = words.view(torch.int16)[: x.numel()].view(x.shape)
        return x * self._mask(draws).to(x.dtype)

    def _mask(self, draws: torch.Tensor) -> torch.Tensor:
        """``scale`` where ``draws >= threshold``, else 0 (float32), by arithmetic: the draws
        clamped to [threshold - 1, threshold] and shifted are exactly 0 or 1. The same
        values as comparing, at a quarter of the cost on CPU, whose int16 comparison and
        bool -> float conversion are slow kernels (512 x 256: 0.38 ms against 0.09 ms on
        one thread, bench/step_parts.py)."""
        below = self.threshold - 1
        keep = draws.clamp(below, self.threshold).to(torch.float32).sub_(below)
        return keep.mul_(self.scale)

    def extra_repr(self) -> str:
        return f"rate={self.rate}"


def random_words(count: int, device: torch.device) -> torch.Tensor:
    """``count`` 64-bit words of uniformly random bits on ``device``, drawn from torch's
    generator: on CPU through NumPy's SFC64 seeded by one draw of it (torch's mt19937 takes
    2.5x as long for the same bits: 0.46 ms against 0.19 ms for 32768 words, seeding
    included; a tenth of a big-table step for its three dropout layers), elsewhere by
    torch itself (CUDA's Philox is fast).

    Example:
        >>> torch.manual_seed(0) and None
        >>> first = random_words(4, torch.device("cpu"))
        >>> torch.manual_seed(0) and None
        >>> first.dtype, torch.equal(first, random_words(4, torch.device("cpu")))
        (torch.int64, True)
    """
    if device.type != "cpu":
        return torch.randint(-(2**63), 2**63 - 1, (count,), dtype=torch.int64, device=device)
    seed = int(torch.randint(0, 2**63 - 1, ()))
    return torch.from_numpy(np.random.SFC64(seed).random_raw(count).view(np.int64))


def dropout_layer(rate: float, sampler: str) -> nn.Module:
    """Dropout at ``rate`` whose masks come from ``sampler`` (``ArchConfig.dropout_sampler``):
    ``"bits"`` for :class:`BitsDropout`, ``"torch"`` for ``torch.nn.Dropout``.

    Example:
        >>> dropout_layer(0.3, "bits"), dropout_layer(0.3, "torch")
        (BitsDropout(rate=0.3), Dropout(p=0.3, inplace=False))
    """
    return BitsDropout(rate) if sampler == "bits" else nn.Dropout(rate)
