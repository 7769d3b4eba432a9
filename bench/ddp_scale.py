"""Data-parallel scaling on one machine: `tabnet train` with 1 process x 1 thread against
2 processes x 1 thread (`--nproc 2 --threads 1`: the same total cores as 2 threads in
one process would use), on a generated table, in memory and streamed.

Usage:
    python bench/ddp_scale.py [--rows 1000000] [--repeats 3] [--epochs 1]
                              [--budget 256MiB] [--skip-streamed]

Each setup is a whole `tabnet train` command (`--recipe plain --layers 256,256
--batch-size 1024`); the setups take turns, `--repeats` rounds, seed = the round's number
(so the rounds also show the seed noise of the validation figure). Reported per setup:
training rows per second from metrics.json (train_rows x epochs / train_seconds, the
training stage alone, validation passes included), the best and the spread over the
rounds, val_loss (mean and range over the seeds), peak RSS of the largest process
(`ru_maxrss` of the command's children: the ranks and torchrun's launcher), and the
speed-up of 2 processes over 1 in each mode (target >= 1.7x).

It also measures, in the same run:
- the all-reduce of one step in isolation: two gloo processes of one thread each
  all-reduce a float32 tensor of the network's weight count (what DDP sends per step, in
  one bucket below 25 MB), median of 50;
- one process x 1 thread at the per-rank batch (512): how much of the 2x a rank loses to
  its smaller matrix products alone;
- the machine's ceiling: two independent 1-thread trainings at the per-rank batch, started
  together (no DDP, nothing exchanged): their summed rows/s over one alone is the most
  any 2-process run can gain here (2 vCPUs of a VM need not be 2 cores' worth), and twice
  the slower one's rows/s is the bound of a lockstep run, whose every step waits for the
  slower rank.
A clean figure needs a quiet machine: `uptime` is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out" / "ddp"
LAYERS, BATCH, FEATURES = (256, 256), 1024, 20
CEILING = "2 independent 1 x 1 at once (no DDP)"
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))


def generate(path: Path, rows: int) -> None:
    """``rows`` rows of 20 normal features and y = sum of the first five plus noise, in
    parquet row groups of 65536 rows (the streamed runs' blocks)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, FEATURES), dtype=np.float32)
    columns = {f"x{i}": x[:, i] for i in range(FEATURES)}
    columns["y"] = x[:, :5].sum(axis=1) + 0.1 * rng.standard_normal(rows, dtype=np.float32)
    pq.write_table(pa.table(columns), path, row_group_size=65536)


def train(data: Path, extra: list[str], out: Path, epochs: int, seed: int) -> dict:
    """One training command: rows per second, val_loss and peak RSS (MiB)."""
    from run import run as measured  # bench/run.py: wall time and peak RSS of a command

    layers = ",".join(map(str, LAYERS))
    command = [sys.executable, "-m", "tabnet_cli", "train", str(data), "--target", "y",
               "--recipe", "plain", "--layers", layers, "--batch-size", str(BATCH),
               "--epochs", str(epochs), "--patience", "0", "--seed", str(seed),
               "--verbose", "0", "--out", str(out), *extra]  # fmt: skip
    os.environ["PYTHONPATH"] = str(REPO / "src")
    wall, peak = measured(command)
    metrics = json.loads((out / "metrics.json").read_text())
    rows_per_s = metrics["train_rows"] * metrics["epochs_run"] / metrics["train_seconds"]
    batch = int(extra[extra.index("--batch-size") + 1]) if "--batch-size" in extra else BATCH
    steps = -(-metrics["train_rows"] // batch) * metrics["epochs_run"]
    return {"rows_s": rows_per_s, "val_loss": metrics["kept"]["val_loss"], "peak": peak,
            "wall": wall, "step_ms": 1000 * metrics["train_seconds"] / steps}  # fmt: skip


def train_pair(data: Path, extra: list[str], out: Path, epochs: int, seed: int) -> dict:
    """Two independent trainings started together: their summed rows/s."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(lambda i: train(data, extra, out / str(i), epochs, seed), (0, 1)))
    # in lockstep (DDP), every step waits for the slower of the two
    return {**done[0], "rows_s": sum(r["rows_s"] for r in done),
            "lockstep": 2 * min(r["rows_s"] for r in done),
            "peak": max(r["peak"] for r in done)}  # fmt: skip


def _all_reduce_worker(rank: int, port: int, numel: int, results) -> None:
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    store = dist.TCPStore("127.0.0.1", port, 2, rank == 0)
    dist.init_process_group("gloo", store=store, rank=rank, world_size=2)
    grads = torch.randn(numel)
    times = []
    for _ in range(60):
        dist.barrier()
        started = time.perf_counter()
        dist.all_reduce(grads)
        times.append(time.perf_counter() - started)
    dist.destroy_process_group()
    results.put(statistics.median(times[10:]))


def all_reduce_ms(numel: int) -> float:
    """Median milliseconds of one all-reduce of ``numel`` float32 between two gloo
    processes on this machine (the slower rank's figure)."""
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    context = mp.get_context("spawn")
    results = context.Queue()
    workers = [
        context.Process(target=_all_reduce_worker, args=(rank, port, numel, results))
        for rank in (0, 1)
    ]
    for worker in workers:
        worker.start()
    medians = [results.get(timeout=300) for _ in workers]
    for worker in workers:
        worker.join()
    return 1000 * max(medians)


def weights() -> int:
    from tabnet_cli.nn.model import weight_count
    from tabnet_cli.settings.config import ArchConfig, ModelConfig

    return weight_count(ModelConfig(n_inputs=FEATURES, n_outputs=1, arch=ArchConfig(layers=LAYERS)))


def summary(name: str, runs: list[dict]) -> str:
    rates = [r["rows_s"] for r in runs]
    losses = [r["val_loss"] for r in runs]
    return (f"  {name:<34} {max(rates):>9,.0f} rows/s (spread {min(rates):,.0f}-"
            f"{max(rates):,.0f})  {min(r['step_ms'] for r in runs):6.2f} ms/step  "
            f"val_loss {statistics.mean(losses):.5f} [{min(losses):.5f}, {max(losses):.5f}]  "
            f"peak {max(r['peak'] for r in runs):5.0f} MiB")  # fmt: skip


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--budget", default="256MiB")
    parser.add_argument("--skip-streamed", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    data = OUT / f"ddp-{args.rows}.parquet"
    if not data.exists():
        generate(data, args.rows)
    one, two, budget = ["--threads", "1"], ["--nproc", "2", "--threads", "1"], []
    setups = {
        "in memory, 1 process x 1 thread": one,
        "in memory, 2 processes x 1 thread": two,
        f"in memory, 1 x 1, batch {BATCH // 2}": [*one, "--batch-size", str(BATCH // 2)],
        CEILING: [*one, "--batch-size", str(BATCH // 2)],
    }
    if not args.skip_streamed:
        budget = ["--memory-budget", args.budget]
        setups["streamed, 1 process x 1 thread"] = [*one, *budget]
        setups["streamed, 2 processes x 1 thread"] = [*two, *budget]  # fmt: skip
    print(f"before: {uptime()}", flush=True)
    runs: dict[str, list[dict]] = {name: [] for name in setups}
    for attempt in range(args.repeats):
        for name, extra in setups.items():
            out = OUT / f"run-{attempt}-{time.monotonic_ns()}"
            measure = train_pair if name == CEILING else train
            runs[name].append(measure(data, extra, out, args.epochs, seed=attempt))
            print(f"    round {attempt}: {name}: {runs[name][-1]['rows_s']:,.0f} rows/s",
                  flush=True)  # fmt: skip
    reduce_ms = all_reduce_ms(weights())
    print(f"after: {uptime()}")
    print(f"machine: {os.cpu_count()} CPUs; {args.rows:,} rows x {FEATURES} columns, --recipe "
          f"plain --layers {','.join(map(str, LAYERS))} --batch-size {BATCH}, {args.epochs} "
          f"epoch(s); best of {args.repeats} rounds (seeds 0-{args.repeats - 1}); streamed: "
          f"--memory-budget {args.budget}")  # fmt: skip
    for name, found in runs.items():
        print(summary(name, found))
    best = {name: max(r["rows_s"] for r in found) for name, found in runs.items()}
    for mode in ("in memory", "streamed"):
        if f"{mode}, 1 process x 1 thread" in best:
            ratio = best[f"{mode}, 2 processes x 1 thread"] / best[f"{mode}, 1 process x 1 thread"]
            print(f"  speed-up {mode}: {ratio:.2f}x (target >= 1.7x)")
    half = best[f"in memory, 1 x 1, batch {BATCH // 2}"] / best["in memory, 1 process x 1 thread"]
    ceiling = best[CEILING] / best["in memory, 1 process x 1 thread"]
    lockstep = max(r["lockstep"] for r in runs[CEILING]) / best["in memory, 1 process x 1 thread"]
    print(
        f"  the machine's ceiling: two independent 1-thread trainings at batch {BATCH // 2}, "
        f"together, {ceiling:.2f}x the rows/s of one process at batch {BATCH}; in lockstep "
        f"(each step waits for the slower one): {lockstep:.2f}x"
    )
    step = min(r["step_ms"] for r in runs["in memory, 2 processes x 1 thread"])
    print(
        f"  all-reduce of {weights():,} float32 (one step's gradients) between 2 gloo "
        f"processes: {reduce_ms:.2f} ms per step, {100 * reduce_ms / step:.0f}% of a "
        f"2-process step ({step:.2f} ms)"
    )
    print(
        f"  one process at the per-rank batch {BATCH // 2}: {half:.2f}x the rows/s of batch "
        f"{BATCH} (the speed-up's bound from smaller matrix products: {2 * half:.2f}x)"
    )


if __name__ == "__main__":
    main()
