"""Training steps in float32 and in bfloat16 (``--precision``), interleaved in one process:
the auto recipe's network (3 x 256 units, periodic embedding, tabnet's fused AdamW) at
several batch sizes, with the thread count a run would pick, best of ``--repeats``. This
is what decides ``BF16_MIN_BATCH`` in ``fit/precision.py``: the smallest batch whose step
is faster in bfloat16.

Usage:
  python bench/precision.py [--inputs 28] [--binary 4] [--batches 32 64 128 256 512]
                            [--threads 1 2] [--steps 60] [--repeats 3]

Prints, per thread count and batch, ms per step in each precision and their ratio, and
whether this CPU multiplies bfloat16 natively (AMX), which only then pays.
"""

from __future__ import annotations

import argparse

import torch
from step_parts import network, step_time

from tabnet_cli.fit.precision import cpu_has_amx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=28)
    parser.add_argument("--binary", type=int, default=4, help="0/1 inputs among --inputs")
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 64, 128, 256, 512])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"torch {torch.__version__}; AMX bfloat16 tiles: {cpu_has_amx()}")
    print("threads  batch  float32 ms  bfloat16 ms  bfloat16 / float32")
    for threads in args.threads:
        torch.set_num_threads(threads)
        for batch in args.batches:
            dropout = 0.3 if batch >= 512 else 0.0  # the recipe's dropout comes with big tables
            best = {"float32": float("inf"), "bfloat16": float("inf")}
            for _ in range(args.repeats):  # interleaved: load bursts hit both alike
                for precision in best:
                    model = network(args.inputs, "bits", False, args.inputs - args.binary, dropout)
                    seconds = step_time(model, batch, args.steps, precision)
                    best[precision] = min(best[precision], seconds)
            fp32, bf16 = best["float32"] * 1e3, best["bfloat16"] * 1e3
            print(f"{threads:>7}  {batch:>5}  {fp32:>10.2f}  {bf16:>11.2f}  {bf16 / fp32:>18.2f}")


if __name__ == "__main__":
    main()
