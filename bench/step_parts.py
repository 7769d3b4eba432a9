"""Where a training step of the auto recipe's big-table network goes, and what the cheaper
dropout masks (their bits drawn by torch's generator, then by NumPy's SFC64; the mask by
comparison, then by arithmetic), the fused periodic embedding and the embedding of 0/1
inputs from their two ends save: the same step (3 x 256 units, dropout 0.3, periodic
embedding of 64 inputs of which the last 32 are 0/1, batch 512, tabnet's fused AdamW) in
each variant, in the same run, interleaved, best of ``--repeats``.

Usage:
  python bench/step_parts.py [--inputs 64] [--binary 32] [--batch 512] [--steps 100]
                             [--repeats 5] [--dropout 0.3] [--threads N]

A small table's bagged member (no dropout, batch 32, one thread a member):
  python bench/step_parts.py --inputs 10 --binary 6 --batch 32 --dropout 0 --threads 1

Prints ms per step of each variant and its ratio to the earlier step (torch's dropout,
earlier embedding), then the dropout layers and the embedding alone.
"""

from __future__ import annotations

import argparse
import time

import torch

from tabnet_cli.fit.optim import FunctionalAdam
from tabnet_cli.fit.precision import step_arithmetic
from tabnet_cli.nn.layers import BitsDropout, PeriodicEmbedding
from tabnet_cli.nn.model import build_mlp
from tabnet_cli.settings.config import ArchConfig, ModelConfig


class EarlierPeriodic(PeriodicEmbedding):
    """The embedding's formula before session 8: three passes over [rows, inputs, k] and
    an einsum that copies it into the batched product's layout."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        waves = torch.cos(2 * torch.pi * (x.unsqueeze(-1) * self.frequency + self.phase))
        mixed = torch.einsum("bfk,fkd->bfd", waves, self.weight) + self.bias
        return torch.cat([x.unsqueeze(-1), mixed], dim=-1).flatten(1)


class TorchBitsDropout(BitsDropout):
    """BitsDropout as first written in session 8: its bits from torch's own generator."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.threshold == -32768:
            return x
        words = (x.numel() + 3) // 4
        bits = torch.randint(-(2**63), 2**63 - 1, (words,), dtype=torch.int64)
        draws = bits.view(torch.int16)[: x.numel()].view(x.shape)
        return x * (draws >= self.threshold).to(x.dtype).mul_(self.scale)


class ComparedBitsDropout(BitsDropout):
    """BitsDropout as in session 9: NumPy's bits, the mask by comparing the int16 draws with
    the threshold and converting the booleans (slow CPU kernels)."""

    def _mask(self, draws: torch.Tensor) -> torch.Tensor:
        return (draws >= self.threshold).to(torch.float32).mul_(self.scale)


# the frozen earlier dropout layers a sampler name stands for
EARLIER_DROPOUT = {"torch-bits": TorchBitsDropout, "compared-bits": ComparedBitsDropout}


def network(
    inputs: int,
    sampler: str,
    earlier_embedding: bool,
    binary_from: int | None = None,
    dropout: float = 0.3,
) -> torch.nn.Sequential:
    """The auto recipe's network (its dropout is 0.3 from 8k rows, none below), seeded;
    inputs from ``binary_from`` on are computed as 0/1 inputs (one-hot slots). ``sampler``:
    torch, bits, torch-bits (BitsDropout drawing from torch's generator) or compared-bits
    (the mask by comparison)."""
    torch.manual_seed(0)
    arch = ArchConfig(
        layers=(256, 256, 256),
        dropout=dropout,
        dropout_sampler="bits" if sampler in EARLIER_DROPOUT else sampler,
        feature_scale=True,
        zero_init_last=True,
        embedding="periodic",
    )
    model = build_mlp(ModelConfig(inputs, 1, arch), binary_from)
    if earlier_embedding:
        earlier = EarlierPeriodic(inputs, 16, 4)
        earlier.load_state_dict(model[0].state_dict())
        model[0] = earlier
    if sampler in EARLIER_DROPOUT:
        for index, layer in enumerate(model):
            if isinstance(layer, BitsDropout):
                model[index] = EARLIER_DROPOUT[sampler](layer.rate)
    return model


def step_time(model: torch.nn.Module, batch: int, steps: int, precision: str = "float32") -> float:
    """Seconds per optimizer step (forward under ``precision``, as ``fit/loop.py`` runs it,
    MSE, backward, AdamW) on one random batch."""
    inputs = model[0].frequency.shape[0]
    binary_from = model[0].binary_from or inputs
    x, y = torch.randn(batch, inputs), torch.randn(batch, 1)
    x[:, binary_from:] = (x[:, binary_from:] > 1).float()  # one-hot-like 0/1 inputs
    optimizer = FunctionalAdam(model.parameters(), lr=1e-3, weight_decay=0.02, decoupled=True)
    model.train()
    start = 0.0
    for index in range(steps + 10):  # 10 warm-up steps
        if index == 10:
            start = time.perf_counter()
        optimizer.zero_grad()
        with step_arithmetic(precision, x.device):
            output = model(x)
        torch.nn.functional.mse_loss(output.float(), y).backward()
        optimizer.step()
    return (time.perf_counter() - start) / steps


def part_time(run, steps: int) -> float:
    """Seconds per call of ``run`` (forward and backward of one layer)."""
    for _ in range(5):
        run()
    start = time.perf_counter()
    for _ in range(steps):
        run()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=64)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--binary",
        type=int,
        default=32,
        help="0/1 inputs among --inputs (bench/timing.py's "
        "table: 16 numeric columns and their ranks, 32 one-hot slots)",
    )
    parser.add_argument("--dropout", type=float, default=0.3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    binary_from = args.inputs - args.binary
    variants = {
        "earlier step (torch dropout, earlier embedding)": ("torch", True, None),
        "bits dropout, earlier embedding": ("bits", True, None),
        "torch dropout, fused embedding": ("torch", False, None),
        "bits dropout, fused embedding": ("bits", False, None),
        "torch's bits, fused, 0/1 inputs from two ends": ("torch-bits", False, binary_from),
        "NumPy's bits, compared mask, fused, two ends": ("compared-bits", False, binary_from),
        "today's step (mask by arithmetic)": ("bits", False, binary_from),
    }
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(args.repeats):  # interleaved: a burst of load hits every variant alike
        for name, (sampler, earlier, binary) in variants.items():
            model = network(args.inputs, sampler, earlier, binary, args.dropout)
            best[name] = min(best[name], step_time(model, args.batch, args.steps))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}")
    reference = best[next(iter(variants))]
    for name, seconds in best.items():
        print(f"  {name:<48} {seconds * 1e3:6.2f} ms/step  {reference / seconds:5.2f}x")
    hidden = torch.randn(args.batch, 256, requires_grad=True)
    parts = {
        f"torch.nn.Dropout(0.3) on {args.batch} x 256": torch.nn.Dropout(0.3),
        f"BitsDropout(0.3), torch's bits, on {args.batch} x 256": TorchBitsDropout(0.3),
        f"BitsDropout(0.3), compared mask, on {args.batch} x 256": ComparedBitsDropout(0.3),
        f"BitsDropout(0.3) on {args.batch} x 256": BitsDropout(0.3),
    }
    for name, layer in parts.items():
        seconds = part_time(lambda layer=layer: layer(hidden).sum().backward(), args.steps)
        print(f"  {name:<48} {seconds * 1e3:6.2f} ms forward + backward")
    x = torch.randn(args.batch, args.inputs, requires_grad=True)
    for name, layer in (
        ("earlier periodic embedding", EarlierPeriodic(args.inputs, 16, 4)),
        ("fused periodic embedding", PeriodicEmbedding(args.inputs, 16, 4)),
    ):
        seconds = part_time(lambda layer=layer: layer(x).sum().backward(), args.steps)
        print(f"  {name:<48} {seconds * 1e3:6.2f} ms forward + backward")


if __name__ == "__main__":
    main()
