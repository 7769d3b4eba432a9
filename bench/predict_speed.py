"""`tabnet predict` on 1M rows x 20 float columns (CSV and parquet) against a baseline
commit, in the same run, the two taking turns, best of 3; both outputs compared byte for
byte. Two models trained on the file's first 20,000 rows: `--recipe plain --layers
256,256` and the default recipe (robust scaling and smooth clipping, rank inputs, periodic
embeddings, 3 x 256). Also: pyarrow's raw read of the same file, and how the new path's
time splits into reading, preprocessing, the model and writing (the stages timed one
after the other in one process, as predict would run them without threads).

Usage:
    python bench/predict_speed.py [--rows 1000000] [--repeats 3] [--baseline 2189c60]

Files go to bench/out/ (git-ignored): f20-<rows>.csv / .parquet, the two runs and the
predictions; the baseline is checked out into a temporary `git worktree` in /tmp.
"""

from __future__ import annotations

import argparse
import filecmp
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
COLUMNS, TRAIN_ROWS = 20, 20_000
MODELS = {"plain 256,256": ["--recipe", "plain", "--layers", "256,256"], "default recipe": []}
LAUNCHER = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(usage.ru_maxrss, usage.ru_utime + usage.ru_stime)
sys.exit(code)
"""


def generate(rows: int) -> dict[str, Path]:
    """The CSV and parquet files (numbers with 4 decimals, as measurements are written)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pv
    import pyarrow.parquet as pq

    paths = {kind: OUT / f"f20-{rows}.{kind}" for kind in ("csv", "parquet")}
    if all(path.exists() for path in paths.values()):
        return paths
    rng = np.random.default_rng(0)
    x = np.round(rng.standard_normal((rows, COLUMNS)) * rng.uniform(0.5, 100, COLUMNS), 4)
    y = np.sin(x[:, 0] / 50) + 0.01 * x[:, 1] - 2e-5 * x[:, 2] * x[:, 3]
    y = np.round(y + 0.1 * rng.standard_normal(rows), 5)
    table = pa.table({**{f"x{i + 1}": x[:, i] for i in range(COLUMNS)}, "y": y})
    pv.write_csv(table, paths["csv"])
    pq.write_table(table, paths["parquet"])
    return paths


def train(paths: dict[str, Path], rows: int, src: Path) -> dict[str, Path]:
    """The two runs, trained by the baseline (``src``) on the CSV's first rows (2 epochs:
    the architecture, not the fit, is what predict's time depends on). The baseline's
    model files load in every later version; a newer file names settings (such as
    ``submodels``) that an older version's strict check refuses."""
    sample = OUT / f"f20-{rows}-first-{TRAIN_ROWS}.csv"
    if not sample.exists():
        with paths["csv"].open() as source, sample.open("w") as target:
            target.writelines(line for _, line in zip(range(TRAIN_ROWS + 1), source, strict=False))
    runs = {}
    for name, options in MODELS.items():
        run = OUT / f"run-f20-{rows}-{name.split()[0]}-baseline"
        if not run.exists():
            command = ["train", str(sample), "--target", "y", "--epochs", "2", "--verbose", "0"]
            measured(
                [sys.executable, "-m", "tabnet_cli", *command, *options, "--out", str(run)], src
            )
        runs[name] = run
    return runs


def baseline_source(commit: str) -> Path:
    folder = Path("/tmp") / f"tabnet-{commit}"
    if not folder.exists():
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", str(folder), commit],
            check=True,
            capture_output=True,
        )
    return folder / "src"


def measured(command: list[str], src: Path = REPO / "src") -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MiB) and CPU seconds (user + system, every thread) of a
    command importing tabnet from ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    env.pop("OPENBLAS_THREAD_TIMEOUT", None)  # each version's own default
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *command], capture_output=True, text=True, env=env
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed: {command}\n{done.stderr}")
    peak, cpu = done.stdout.split()[-2:]
    return seconds, int(peak) / 1024, float(cpu)


def predicting(runs, paths, sources: dict[str, Path], repeats: int) -> dict:
    """Best wall seconds, largest peak RSS and least CPU seconds per (model, file,
    version), the versions taking turns; and whether each pair of outputs is the same
    bytes."""
    results: dict = {}
    for _ in range(repeats):
        for model, run in runs.items():
            for kind, data in paths.items():
                for version, src in sources.items():
                    output = OUT / f"predictions-{model.split()[0]}-{kind}-{version}.csv"
                    command = [sys.executable, "-m", "tabnet_cli", "predict", str(run), str(data)]
                    seconds, mib, cpu = measured([*command, "--output", str(output)], src)
                    best = results.get((model, kind, version), (float("inf"), 0.0, float("inf")))
                    results[model, kind, version] = (
                        min(best[0], seconds),
                        max(best[1], mib),
                        min(best[2], cpu),
                    )
    for model in runs:
        for kind in paths:
            pair = [OUT / f"predictions-{model.split()[0]}-{kind}-{v}.csv" for v in sources]
            results[model, kind, "same"] = filecmp.cmp(*pair, shallow=False)
    return results


def raw_reads(paths: dict[str, Path], repeats: int) -> dict[str, float]:
    """pyarrow's whole-file readers (every core), best of ``repeats``."""
    import pyarrow.csv as pv
    import pyarrow.parquet as pq

    readers = {
        "csv": lambda: pv.read_csv(paths["csv"]),
        "parquet": lambda: pq.read_table(paths["parquet"]),
    }
    best = dict.fromkeys(readers, float("inf"))
    for _ in range(repeats):
        for kind, read in readers.items():
            started = time.perf_counter()
            read()
            best[kind] = min(best[kind], time.perf_counter() - started)
    return best


def stages(run: str, data: str) -> dict[str, float]:
    """Seconds of each stage of this checkout's predict, run one after the other (in a
    process of its own: OpenBLAS reads its settings when NumPy loads)."""
    from tabnet_cli.cli.predict import quiet_blas_threads

    quiet_blas_threads()  # as predict does, before NumPy loads
    import pandas  # noqa: F401 (imported before the clock starts, as predict has it)
    import pyarrow.csv  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from tabnet_cli.io.datasets import iter_source
    from tabnet_cli.run.run_dir import load_run
    from tabnet_cli.score.inference import model_outputs
    from tabnet_cli.score.predicting import PredictOptions, kept_columns, write_chunk

    loaded, sink, options = load_run(run), io.StringIO(), PredictOptions()
    times = dict.fromkeys(["read", "transform", "forward", "write"], 0.0)
    chunks = iter_source(data, options.chunk_rows, loaded.manifest.data_config.read_options())
    clock, header = time.perf_counter, True
    while True:
        begin = clock()
        chunk = next(chunks, None)
        read = clock()
        times["read"] += read - begin
        if chunk is None:
            return times
        x = loaded.features.transform(chunk)[0]
        transformed = clock()
        raw = model_outputs(loaded, x)
        scored = clock()
        write_chunk(loaded, kept_columns(chunk, options), raw, options, sink, header)
        for stage, seconds in zip(
            ["transform", "forward", "write"],
            [transformed - read, scored - transformed, clock() - scored],
            strict=True,
        ):
            times[stage] += seconds
        sink.seek(0)
        sink.truncate()
        header = False


def stage_split(run: Path, data: Path) -> dict[str, float]:
    command = [sys.executable, __file__, "--stages", str(run), str(data)]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    env.pop("OPENBLAS_THREAD_TIMEOUT", None)
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline", default="2189c60")
    parser.add_argument("--stages", nargs=2, metavar=("RUN", "DATA"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stages:
        print(json.dumps(stages(*args.stages)))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    paths = generate(args.rows)
    sources = {"new": REPO / "src", "baseline": baseline_source(args.baseline)}
    runs = train(paths, args.rows, sources["baseline"])
    sizes = ", ".join(f"{k} {p.stat().st_size / 2**20:.0f} MiB" for k, p in paths.items())
    print(
        f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; {args.rows} rows "
        f"x {COLUMNS} floats ({sizes}); best of {args.repeats}, baseline {args.baseline}"
    )
    raw = raw_reads(paths, args.repeats)
    results = predicting(runs, paths, sources, args.repeats)
    for model, run in runs.items():
        for kind, data in paths.items():
            new, mib, cpu = results[model, kind, "new"]
            old, old_mib, old_cpu = results[model, kind, "baseline"]
            print(
                f"  {model:<15} {kind:<8} baseline {old:6.2f} s {old_mib:4.0f} MiB "
                f"{old_cpu:5.1f} CPU-s   new {new:6.2f} s {mib:4.0f} MiB {cpu:5.1f} CPU-s   "
                f"speed-up {old / new:4.2f}x (CPU {old_cpu / cpu:4.2f}x)   "
                f"{args.rows / new / 1e3:4.0f}k rows/s   identical: "
                f"{results[model, kind, 'same']}"
            )
            split = stage_split(run, data)
            total = sum(split.values())
            shares = "  ".join(f"{k} {v:5.2f} s {v / total:4.0%}" for k, v in split.items())
            print(
                f"      stages one after another: {shares}; pyarrow raw read "
                f"{raw[kind]:.2f} s = {raw[kind] / new:4.0%} of new predict"
            )
    print(f"  load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    sys.path[:0] = [str(REPO), str(REPO / "src")]
    main()
