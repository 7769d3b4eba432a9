"""Data-parallel scaling on one machine: one epoch of `tabnet train` on a generated
1M-row x 20-column table with one process (`--threads 2`) against `--nproc 2` (two
processes of one thread each), the two taking turns, best of N.

Usage:
    python bench/ddp_scale.py [--rows 1000000] [--repeats 2]

Reports the training time per epoch that each run records in metrics.json (reading and
preparing the data left out) and the wall time of the whole command, and the scaling
efficiency time1 / (2 x time2): 1.0 would be perfect use of two processes; on a machine
with 2 cores the single process already uses both, so about 0.5 is what to expect.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"


def generate(path: Path, rows: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pv

    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, 20), dtype=np.float32)
    columns = {f"x{i}": x[:, i] for i in range(20)}
    columns["y"] = x[:, :5].sum(axis=1) + 0.1 * rng.standard_normal(rows, dtype=np.float32)
    pv.write_csv(pa.table(columns), path)


def train(data: Path, extra: list[str], out: Path) -> tuple[float, float]:
    """Seconds per epoch (from metrics.json) and wall seconds of one training command."""
    command = [sys.executable, "-m", "tabnet_cli", "train", str(data), "--target", "y",
               "--layers", "256,256", "--batch-size", "1024", "--epochs", "1",
               "--patience", "0", "--recipe", "plain", "--verbose", "0", "--out", str(out),
               *extra]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    metrics = json.loads((out / "metrics.json").read_text())
    return metrics["seconds_per_epoch"], wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    data = OUT / f"ddp-{args.rows}.csv"
    if not data.exists():
        generate(data, args.rows)
    setups = {"1 process, --threads 2": ["--threads", "2"],
              "--nproc 2, --threads 1 each": ["--nproc", "2", "--threads", "1"]}  # fmt: skip
    best = {name: (float("inf"), float("inf")) for name in setups}
    for attempt in range(args.repeats):
        for name, extra in setups.items():
            out = OUT / f"ddp-run-{attempt}-{time.monotonic_ns()}"
            epoch, wall = train(data, extra, out)
            best[name] = (min(best[name][0], epoch), min(best[name][1], wall))
    print(f"machine: {os.cpu_count()} CPUs; {args.rows} rows x 20 columns, layers 256,256, "
          f"batch 1024, one epoch; best of {args.repeats}")
    for name, (epoch, wall) in best.items():
        print(f"  {name:<30} {epoch:6.2f} s per epoch   {wall:6.2f} s wall")
    (one, _), (two, _) = best.values()
    print(f"  speed-up {one / two:.2f}x; scaling efficiency time1 / (2 x time2) = "
          f"{one / (2 * two):.2f}")


if __name__ == "__main__":
    main()
