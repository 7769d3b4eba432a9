"""Peak memory of streamed training against `--memory-budget`: the budget is a bound.

Usage:
    python bench/stream_memory.py [--rows 2000000] [--budget 256MiB] [--batches 512 4096]

A streamed run's peak RSS must stay within the budget plus the fixed cost of a run (the
interpreter, PyTorch, pandas, pyarrow, the network and its optimizer state). The fixed
cost is measured here as the peak of the same command on tiny data (5,000 rows in row
groups of 500) with a 1 MiB budget and a 16-row batch (32 with 2 processes); then the
streamed runs of a generated table (bench/stream_train.py's rows, 20 float32 features,
row groups of 131072 rows) at each batch size, one process and `--nproc 2`, two epochs
each (the second holds the validation cache too), default recipe. Peak RSS is
`ru_maxrss` of the command's children (bench/run.py's launcher): with `--nproc 2`, the
largest of the two ranks and torchrun's launcher, i.e. the peak per rank.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
OUT = BENCH / "out" / "stream-memory"


def tables(rows: int) -> tuple[Path, Path]:
    """The tiny table and the big one (kept between runs)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from stream_train import CHUNK, rows_of, write

    OUT.mkdir(parents=True, exist_ok=True)
    tiny, big = OUT / "tiny-5k.parquet", OUT / f"train-{rows}.parquet"
    if not tiny.exists():
        pq.write_table(pa.table(rows_of(7, 5000)), tiny, row_group_size=500)
    if not big.exists():
        sizes = [min(CHUNK, rows - start) for start in range(0, rows, CHUNK)]
        write(big, (rows_of(i, n) for i, n in enumerate(sizes)))
    return tiny, big


def peak(data: Path, options: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one streamed training command."""
    from run import run as measured  # bench/run.py: wall time and peak RSS of a command
    from run import tabnet

    out = OUT / f"run-{time.monotonic_ns()}"
    return measured(tabnet(f"train {data} --target y --verbose 0 --out {out} {options}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--budget", default="256MiB")
    parser.add_argument("--batches", type=int, nargs="+", default=[512, 4096])
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = str(BENCH.parent / "src")
    from tabnet_cli.system.memory import parse_size

    budget = parse_size(args.budget) / 2**20
    tiny, big = tables(args.rows)
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"{load}\n{args.rows:,} rows x 20 float32 columns; --memory-budget {args.budget}; "
          "default recipe, 2 epochs")  # fmt: skip
    for nproc in (1, 2):
        launch = f"--nproc {nproc}" if nproc > 1 else ""
        _, fixed = peak(tiny, f"--memory-budget 1MiB --batch-size {16 * nproc} --epochs 1 {launch}")
        print(f"  {nproc} process(es): fixed cost (tiny data, 1 MiB budget) {fixed:.0f} MiB")
        for batch in args.batches:
            options = f"--memory-budget {args.budget} --batch-size {batch} --epochs 2 {launch}"
            seconds, found = peak(big, options)
            verdict = "PASS" if found <= budget + fixed else "FAIL"
            above = f"fixed + {found - fixed:.0f} MiB (budget {budget:.0f} MiB)"
            line = f"batch {batch:>5}: peak {found:.0f} MiB = {above} {verdict}"
            print(f"    {line}  [{seconds:.0f} s]", flush=True)


if __name__ == "__main__":
    main()
