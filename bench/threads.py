"""Thread policy: default threads against pinned 1 and 2 threads, alone and three at once.

Usage: python bench/threads.py [--rows 30000] [--epochs 3] [--repeats 2]

Generates a census-like table (numbers and text columns, binary target), then times
whole `tabnet train` commands (wall clock, best of --repeats):
  alone:      default threads vs --threads 1 vs --threads 2
  concurrent: three default runs started together vs three --threads 1 runs together
and prints the ratios the issue's targets are about. Run it on an otherwise idle machine:
the policy reads the load, so other work changes what it chooses.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def make_table(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(rows, 6)), columns=[f"x{i}" for i in range(6)])
    for i, levels in enumerate((9, 16, 7, 42)):
        frame[f"c{i}"] = rng.choice([f"v{k}" for k in range(levels)], size=rows)
    logit = frame["x0"] - 0.5 * frame["x1"] + (frame["c0"] == "v1") - 1.2
    frame["income"] = np.where(rng.random(rows) < 1 / (1 + np.exp(-logit)), ">50K", "<=50K")
    frame.to_csv(path, index=False)


def command(data: Path, out: Path, epochs: int, batch: int, threads: str) -> list[str]:
    extra = [] if threads == "default" else ["--threads", threads]
    return [
        sys.executable,
        "-m",
        "tabnet_cli",
        "train",
        str(data),
        "--target",
        "income",
        "--epochs",
        str(epochs),
        "--batch-size",
        str(batch),
        "--verbose",
        "0",
        "--out",
        str(out),
        *extra,
    ]


def timed(commands: list[list[str]]) -> tuple[float, list[int]]:
    """Wall time of running ``commands`` together, and the threads each run chose."""
    started = time.perf_counter()
    processes = [subprocess.Popen(c, stdout=subprocess.DEVNULL) for c in commands]
    for process in processes:
        if process.wait() != 0:
            raise SystemExit(f"failed: {' '.join(process.args)}")
    elapsed = time.perf_counter() - started
    chosen = [
        json.loads((Path(c[c.index("--out") + 1]) / "metrics.json").read_text())["threads"]
        for c in commands
    ]
    return elapsed, chosen


def best(make, repeats: int, scratch: Path) -> tuple[float, list[int]]:
    results = []
    for r in range(repeats):
        results.append(timed(make(scratch / f"r{r}-{time.monotonic_ns()}")))
    return min(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        data = scratch / "census.csv"
        make_table(data, args.rows)

        def runs(threads: str, count: int):
            return lambda base: [
                command(data, base / f"run{i}", args.epochs, args.batch_size, threads)
                for i in range(count)
            ]

        alone = {t: best(runs(t, 1), args.repeats, scratch) for t in ("default", "1", "2")}
        together = {t: best(runs(t, 3), args.repeats, scratch) for t in ("default", "1")}
    fastest = min(alone["1"][0], alone["2"][0])
    print(f"{args.rows} rows, {args.epochs} epochs, batch {args.batch_size}")
    for name, (seconds, chosen) in alone.items():
        print(f"  alone, threads {name:>7}: {seconds:6.2f} s (chose {chosen})")
    for name, (seconds, chosen) in together.items():
        print(f"  3 at once, threads {name:>7}: {seconds:6.2f} s (chose {chosen})")
    ratio_alone = alone["default"][0] / fastest
    ratio_together = together["default"][0] / together["1"][0]
    verdict = "PASS" if ratio_alone <= 1.05 else "FAIL"
    print(
        f"{verdict}  alone: default / faster of 1 and 2 threads = {ratio_alone:.2f} "
        "(target <= 1.05)"
    )
    verdict = "PASS" if ratio_together <= 1.2 else "FAIL"
    print(f"{verdict}  3 at once: default / 1-thread = {ratio_together:.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()
