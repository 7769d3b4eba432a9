"""Streamed training against in-memory training, on generated parquet tables.

Usage:
  python bench/stream_train.py [--rows 1000000 4000000 8000000] [--budget 256MiB]
                               [--nproc 2] [--skip-growth]

Generates (once, into bench/out/stream/) a table of 8M rows x 20 float32 features with
a nonlinear target, its first 1M and 4M rows, a uniform 1M-row sample of it, and a test
table of 200k fresh rows. Then, each as a whole `tabnet train` command with the default
recipe and `--epochs 1` (wall time and peak RSS measured from outside, by bench/run.py's
launcher), it reports:

- the acceptance run: the 8M rows streamed under `--memory-budget 256MiB`, against
  in-memory training on the 1M-row sample, both scored on the test table (R2);
- with ``--nproc N``: the same streamed run on N processes (``tabnet train ... --nproc N``),
  against the single-process one: test R2 within 0.01, peak RSS per process <= 1 GiB
  (the largest of the ranks and torchrun's launcher);
- the growth table (unless ``--skip-growth``): time and peak memory at each size, in
  memory and streamed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from run import run as measured  # bench/run.py: wall time and peak RSS of a command
from run import tabnet

OUT = Path(__file__).resolve().parent / "out" / "stream"
FEATURES = 20
GROUP_ROWS = 131072  # parquet row group: the unit of the block shuffle
CHUNK = 1_000_000


def rows_of(seed: int, rows: int) -> dict[str, np.ndarray]:
    """``rows`` rows of the benchmark's table: y depends on a few features nonlinearly."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, FEATURES)).astype(np.float32)
    weights = np.linspace(1.0, -1.0, FEATURES, dtype=np.float32) / 4
    y = x @ weights + np.sin(2 * x[:, 0]) + x[:, 1] * x[:, 2] + np.abs(x[:, 3]) - 0.8
    y += rng.normal(scale=0.3, size=rows).astype(np.float32)
    columns = {f"x{i}": x[:, i] for i in range(FEATURES)}
    return {**columns, "y": y.astype(np.float32)}


def write(path: Path, parts) -> None:
    """Writes the chunks of ``parts`` (dicts of columns) as one parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    for part in parts:
        table = pa.table(part)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=GROUP_ROWS)
    writer.close()


def generate(sizes: list[int]) -> dict[str, Path]:
    """The tables (kept between runs); chunk i of every size is the same rows."""
    OUT.mkdir(parents=True, exist_ok=True)
    largest = max(sizes)
    files = {f"{n // 10**6}M": OUT / f"train-{n // 10**6}m.parquet" for n in sizes}
    files["sample"], files["test"] = OUT / "sample-1m.parquet", OUT / "test.parquet"
    for n in sizes:
        path = files[f"{n // 10**6}M"]
        if not path.exists():
            write(path, (rows_of(i, CHUNK) for i in range(n // CHUNK)))
    if not files["sample"].exists():  # one in 8 rows of each chunk of the largest table
        picks = np.random.default_rng(99).random(largest) < CHUNK / largest
        write(
            files["sample"],
            (
                {k: v[picks[i * CHUNK : (i + 1) * CHUNK]] for k, v in rows_of(i, CHUNK).items()}
                for i in range(largest // CHUNK)
            ),
        )
    if not files["test"].exists():
        write(files["test"], [rows_of(10_000, 200_000)])
    return files


def train(data: Path, name: str, extra: str) -> tuple[float, float, Path]:
    run_dir = OUT / "runs" / f"{name}-{time.monotonic_ns()}"
    command = tabnet(f"train {data} --target y --epochs 1 --verbose 0 --out {run_dir} {extra}")
    seconds, peak = measured(command)
    return seconds, peak, run_dir


def test_r2(run_dir: Path, test: Path) -> float:
    done = subprocess.run(
        tabnet(f"evaluate {run_dir} {test} --json"), capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)["metrics"]["r2"]["model"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 4_000_000, 8_000_000])
    parser.add_argument("--budget", default="256MiB")
    parser.add_argument("--nproc", type=int, default=1)
    parser.add_argument("--skip-growth", action="store_true")
    args = parser.parse_args()
    files = generate(args.rows)
    largest = f"{max(args.rows) // 10**6}M"
    print(f"tables in {OUT}; default recipe, --epochs 1; streamed: --memory-budget {args.budget}")
    s_time, s_peak, s_run = train(files[largest], "streamed", f"--memory-budget {args.budget}")
    m_time, m_peak, m_run = train(files["sample"], "sample", "")
    s_r2, m_r2 = test_r2(s_run, files["test"]), test_r2(m_run, files["test"])
    print(f"{largest} rows streamed: {s_time:.1f} s, peak {s_peak:.0f} MiB, test R2 {s_r2:.4f}")
    print(f"1M-row sample in memory: {m_time:.1f} s, peak {m_peak:.0f} MiB, test R2 {m_r2:.4f}")
    verdict = "PASS" if s_peak <= 1024 else "FAIL"
    print(f"{verdict}  peak RSS streamed {s_peak:.0f} MiB (target <= 1024 MiB)")
    verdict = "PASS" if s_r2 >= m_r2 - 0.005 else "FAIL"
    print(
        f"{verdict}  test R2 streamed {s_r2:.4f} vs in-memory sample {m_r2:.4f} "
        f"(target: not worse by more than 0.005)"
    )
    if args.nproc > 1:
        extra = f"--memory-budget {args.budget} --nproc {args.nproc}"
        d_time, d_peak, d_run = train(files[largest], "streamed-ddp", extra)
        d_r2 = test_r2(d_run, files["test"])
        print(
            f"{largest} rows streamed, --nproc {args.nproc}: {d_time:.1f} s, peak per process "
            f"{d_peak:.0f} MiB, test R2 {d_r2:.4f}; speed-up {s_time / d_time:.2f}x (whole command)"
        )
        print(
            f"{'PASS' if d_peak <= 1024 else 'FAIL'}  peak RSS per process {d_peak:.0f} MiB "
            "(target <= 1024 MiB)"
        )
        print(
            f"{'PASS' if abs(d_r2 - s_r2) <= 0.01 else 'FAIL'}  test R2 --nproc {args.nproc} "
            f"{d_r2:.4f} vs one process {s_r2:.4f} (target: within 0.01)"
        )
    if args.skip_growth:
        return
    print("\ngrowth (one epoch, whole command):")
    print(f"{'rows':>10} {'in memory s':>12} {'MiB':>7} {'streamed s':>11} {'MiB':>7}")
    for n in sorted(args.rows):
        name = f"{n // 10**6}M"
        memory = train(files[name], f"mem-{name}", "")
        streamed = (
            (s_time, s_peak)
            if name == largest
            else train(files[name], f"stream-{name}", f"--memory-budget {args.budget}")
        )
        print(
            f"{n:>10} {memory[0]:>12.1f} {memory[1]:>7.0f} {streamed[0]:>11.1f} "
            f"{streamed[1]:>7.0f}",
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())
