"""Streamed reading and `tabnet predict` on a generated 1M-row CSV (586 MiB, the file of
bench/scale.py), each against a reference measured in the same run, best of 3:

- reading: pyarrow's whole-file `read_csv` (every core, the whole file in memory) against
  tabnet's block-streamed reader (`read_table`, which streams files over 256 MiB, and
  `iter_table`, the chunked reader of predict/evaluate/importance), and pandas' parser;
- predict: this checkout against commit 9a32c21 (checked out into a temporary git
  worktree), same run folder and input, with their peak RSS and whether both outputs
  are the same bytes.

Usage:
    python bench/stream_read.py [--rows 1000000] [--repeats 3]

Files go to bench/out/ (git-ignored): big.csv, the model's run (trained on its first
50,000 rows, layers 256,256) and the two predictions.
"""

from __future__ import annotations

import argparse
import filecmp
import gc
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
BASELINE = "9a32c21"
LAUNCHER = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(code)
"""


def measured(command: list[str], src: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a command importing tabnet from ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *command], capture_output=True, text=True, env=env
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed: {command}\n{done.stderr}")
    return seconds, int(done.stdout.split()[-1]) / 1024


def prepare(rows: int) -> tuple[Path, Path, Path]:
    """The CSV, a run trained on its first 50,000 rows, and the baseline's source."""
    from bench.scale import generate

    OUT.mkdir(parents=True, exist_ok=True)
    data = OUT / f"big-{rows}.csv"
    if not data.exists():
        generate(data, rows)
    run = OUT / f"run-{rows}"
    if not run.exists():
        sample = OUT / "train-sample.csv"
        with data.open() as source, sample.open("w") as target:
            target.writelines(line for _, line in zip(range(50_001), source, strict=False))
        train = ["train", str(sample), "--target", "y", "--layers", "256,256"]
        train += ["--batch-size", "1024", "--epochs", "1", "--verbose", "0", "--out", str(run)]
        measured([sys.executable, "-m", "tabnet_cli", *train], REPO / "src")
    baseline = Path("/tmp") / f"tabnet-{BASELINE}"
    if not baseline.exists():
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", str(baseline), BASELINE],
            check=True,
            capture_output=True,
        )
    return data, run, baseline / "src"


def reading(data: Path, repeats: int) -> dict[str, float]:
    """Best wall seconds of each reader, the readers taking turns."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pv

    from tabnet_cli.io.tables import iter_table, read_table

    readers = {
        "pyarrow read_csv (whole file)": lambda: pv.read_csv(data).num_rows,
        "tabnet read_table (streamed)": lambda: len(read_table(str(data))),
        "tabnet iter_table (65536-row chunks)": lambda: sum(
            len(chunk) for chunk in iter_table(str(data), 65536)
        ),
        "pandas read_csv": lambda: len(pd.read_csv(data)),
    }
    best = dict.fromkeys(readers, float("inf"))
    for _ in range(repeats):
        for name, read in readers.items():
            started = time.perf_counter()
            read()
            best[name] = min(best[name], time.perf_counter() - started)
            gc.collect()
            pa.default_memory_pool().release_unused()
    return best


def predicting(data: Path, run: Path, baseline: Path, repeats: int) -> dict[str, tuple]:
    """Best wall seconds and largest peak RSS of predict, this checkout and the baseline
    taking turns."""
    sources = {"this checkout": REPO / "src", f"baseline {BASELINE}": baseline}
    results = {name: (float("inf"), 0.0) for name in sources}
    for _ in range(repeats):
        for name, src in sources.items():
            output = OUT / f"predictions-{name.split()[0]}.csv"
            command = [sys.executable, "-m", "tabnet_cli", "predict", str(run), str(data)]
            seconds, mib = measured([*command, "--output", str(output)], src)
            results[name] = (min(results[name][0], seconds), max(results[name][1], mib))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data, run, baseline = prepare(args.rows)
    print(f"machine: {os.cpu_count()} CPUs; {args.rows} rows, "
          f"{data.stat().st_size / 2**20:.0f} MiB; best of {args.repeats}")
    best = reading(data, args.repeats)
    whole = best["pyarrow read_csv (whole file)"]
    for name, seconds in best.items():
        print(f"  read  {name:<38} {seconds:6.2f} s   speed vs pyarrow whole "
              f"{whole / seconds:4.2f}x")
    results = predicting(data, run, baseline, args.repeats)
    old = results[f"baseline {BASELINE}"][0]
    for name, (seconds, mib) in results.items():
        print(f"  predict {name:<36} {seconds:6.2f} s {mib:6.0f} MiB peak   "
              f"speed-up {old / seconds:4.2f}x")
    same = filecmp.cmp(OUT / "predictions-this.csv", OUT / "predictions-baseline.csv",
                       shallow=False)
    print(f"  predictions identical to the baseline's, byte for byte: {same}")


if __name__ == "__main__":
    sys.path[:0] = [str(REPO), str(REPO / "src")]
    main()
