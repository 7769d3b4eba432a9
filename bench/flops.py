"""The arithmetic of the throughput targets: this machine's matrix-product rate and the
FLOPs of an MLP epoch (bench/run.py and bench/scale.py both use them)."""

from __future__ import annotations

import time


def matmul_gflops() -> float:
    """fp32 rate of a 256x512 @ 512x512 product with PyTorch's default threads."""
    import torch

    a, b = torch.randn(256, 512), torch.randn(512, 512)
    for _ in range(50):
        a @ b
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(200):
            a @ b
        best = min(best, (time.perf_counter() - started) / 200)
    return 2 * 256 * 512 * 512 / best / 1e9


def mlp_flops(n_in: int, widths: list[int], n_out: int, train_rows: int, valid_rows: int):
    """FLOPs of one epoch's matrix products: forward and backward (3x the forward) on the
    training rows, forward on the validation rows."""
    sizes = [n_in, *widths, n_out]
    macs = sum(a * b for a, b in zip(sizes, sizes[1:], strict=False))
    return 2 * macs * (3 * train_rows + valid_rows)
