"""Time of `tabnet train` with default options (plus --tabnet-args) against the number of
rows: generated tables of N rows x 20 columns (16 numeric, 4 text with 8 levels each), a
binary target and a regression target, whole commands (start-up and reading included).

Usage:
  python bench/timing.py [--rows 5000 20000 50000] [--tabnet-args "..."] [--repeats 1]

Prints one line per table size and task: wall time (best of --repeats), epochs run, the
members of an ensemble and the time per epoch. Target (issue 10): 50k rows in <= 60 s on
2 cores.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
from contenders import tabnet_command, training_figures

OUT = Path(__file__).resolve().parent / "out" / "timing"
NUMERIC, TEXT, LEVELS = 16, 4, 8


def generate(path: Path, rows: int, seed: int = 0) -> None:
    """A table whose targets depend non-linearly on some numbers and on the text columns."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, NUMERIC))
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(NUMERIC)])
    signal = np.sin(2 * x[:, 0]) + x[:, 1] * x[:, 2] + np.abs(x[:, 3]) + 0.5 * x[:, 4:8].sum(1)
    for j in range(TEXT):
        codes = rng.integers(0, LEVELS, rows)
        frame[f"c{j}"] = [f"level_{k}" for k in codes]
        signal += 0.2 * (codes % 3 - 1)
    noisy = signal + 0.5 * rng.standard_normal(rows)
    frame["y_reg"] = noisy.round(4)
    frame["y_bin"] = np.where(noisy > np.median(noisy), "yes", "no")
    frame.to_csv(path, index=False)


def time_train(data: Path, target: str, drop: str, extra: str) -> tuple[float, dict]:
    run_dir = OUT / f"run-{data.stem}-{target}"
    subprocess.run(["rm", "-rf", str(run_dir)], check=True)
    command = [*tabnet_command(), "train", str(data), "--target", target, "--drop", drop,
               "--verbose", "0", "--out", str(run_dir), *shlex.split(extra)]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - started
    return wall, training_figures(json.loads((run_dir / "metrics.json").read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[5000, 20000, 50000])
    parser.add_argument("--tabnet-args", default="")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for rows in args.rows:
        data = OUT / f"table-{rows}.csv"
        if not data.exists():
            generate(data, rows)
        for target, drop in (("y_bin", "y_reg"), ("y_reg", "y_bin")):
            runs = [time_train(data, target, drop, args.tabnet_args) for _ in range(args.repeats)]
            wall, figures = min(runs, key=lambda run: run[0])
            members = figures.get("members", 1)
            print(f"{rows:>7} rows x 20, {target}: {wall:6.1f} s, {figures['epochs']} epochs "
                  f"({members} member{'s' * (members > 1)}), "
                  f"{figures['s_per_epoch']:.3f} s/epoch", flush=True)


if __name__ == "__main__":
    main()
