"""Scale targets of the benchmark: a generated CSV of N rows x 50 numeric + 5 text columns.

Called by bench/run.py; measures reading speed against pandas' default parser, the epoch
time of `--layers 256,256 --batch-size 1024` against the compute bound, training and
prediction memory, and how epoch time grows with rows and width.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

TABNET = [sys.executable, "-m", "tabnet_cli"]
LEVELS = 8  # distinct values per text column


def generate(path: Path, rows: int, seed: int = 0) -> int:
    """Writes the CSV; returns the width of the model input (numbers + one-hot slots)."""
    import pyarrow as pa
    import pyarrow.csv as pv

    rng = np.random.default_rng(seed)
    numbers = rng.standard_normal((rows, 50), dtype=np.float32)
    columns = {f"x{i}": numbers[:, i] for i in range(50)}
    target = numbers[:, :10].sum(axis=1)
    for j in range(5):
        codes = rng.integers(0, LEVELS, rows)
        columns[f"c{j}"] = pa.DictionaryArray.from_arrays(
            codes.astype(np.int32), pa.array([f"level_{k}" for k in range(LEVELS)])
        ).cast(pa.string())
        target = target + (codes - LEVELS / 2) * 0.1
    columns["y"] = target + 0.1 * rng.standard_normal(rows, dtype=np.float32)
    pv.write_csv(pa.table(columns), path)
    return 50 + 5 * (LEVELS + 1)


def timed(function) -> tuple[float, object]:
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, value


def scale_targets(rows: int, gflops: float, results: list, tmp: Path, run, report) -> None:
    import pandas as pd

    from bench.flops import mlp_flops
    from tabnet_cli.io.tables import read_table

    path = tmp / "big.csv"
    n_inputs = generate(path, rows)
    print(f"      generated {rows} rows, {path.stat().st_size / 2**20:.0f} MiB")
    pandas_s, _ = timed(lambda: pd.read_csv(path))
    ours_s, _ = timed(lambda: read_table(str(path)))
    report(
        "5a reading speed vs pandas' default parser",
        f"{pandas_s / ours_s:.1f}x faster ({ours_s:.2f} s vs {pandas_s:.2f} s)",
        ">= 3x",
        pandas_s / ours_s >= 3,
        results,
    )

    base = [
        *TABNET,
        "train",
        str(path),
        "--target",
        "y",
        "--layers",
        "256,256",
        "--batch-size",
        "1024",
        "--patience",
        "0",
        "--verbose",
        "0",
    ]
    one_s, peak_mib = run(base + ["--epochs", "1", "--out", str(tmp / "big1")])
    three_s, _ = run(base + ["--epochs", "3", "--out", str(tmp / "big3")])
    epoch_s = (three_s - one_s) / 2
    train_rows = round(0.8 * rows)
    bound = mlp_flops(n_inputs, [256, 256], 1, train_rows, rows - train_rows) / (gflops * 1e9)
    report(
        "5b epoch time vs compute bound (256,256, batch 1024)",
        f"{epoch_s:.2f} s = {epoch_s / bound:.2f}x the bound of {bound:.2f} s",
        "<= 1.5x",
        epoch_s / bound <= 1.5,
        results,
    )

    tiny = tmp / "tiny.csv"
    tiny.write_text(
        "".join(path.open().readline() for _ in range(1))
        + "".join(line for _, line in zip(range(200), _data_lines(path), strict=False))
    )
    _, baseline_mib = run(
        [
            *TABNET,
            "train",
            str(tiny),
            "--target",
            "y",
            "--epochs",
            "1",
            "--verbose",
            "0",
            "--out",
            str(tmp / "tiny-run"),
        ]
    )
    matrix_mib = rows * n_inputs * 4 / 2**20
    limit = 2.5 * matrix_mib + baseline_mib
    report(
        "5c training peak memory",
        f"{peak_mib:.0f} MiB (features {matrix_mib:.0f} MiB, "
        f"interpreter and libraries {baseline_mib:.0f} MiB)",
        f"<= 2.5 x features + baseline = {limit:.0f} MiB",
        peak_mib <= limit,
        results,
    )

    predict_s, predict_mib = run(
        [*TABNET, "predict", str(tmp / "big1"), str(path), "--output", str(tmp / "predictions.csv")]
    )
    report(
        "5d predict peak memory (streamed)",
        f"{predict_mib:.0f} MiB in {predict_s:.1f} s",
        "< 1024 MiB",
        predict_mib < 1024,
        results,
    )
    growth(gflops)


def _data_lines(path: Path):
    with path.open() as handle:
        next(handle)
        yield from handle


def growth(gflops: float) -> None:
    """Time per epoch against rows and width, in-process on random tensors."""
    import torch

    from bench.flops import mlp_flops
    from tabnet_cli.fit.batches import TensorRows
    from tabnet_cli.fit.loop import fit
    from tabnet_cli.nn.model import build_mlp
    from tabnet_cli.settings.config import ModelConfig, TrainConfig

    def epoch_time(rows: int, width: int) -> float:
        x, y = torch.randn(rows, 95), torch.randn(rows)
        valid = (x[: rows // 5], y[: rows // 5])
        model = build_mlp(ModelConfig(n_inputs=95, n_outputs=1, layers=(width, width)))
        config = TrainConfig(epochs=2, batch_size=1024, patience=0)
        result = fit(model, TensorRows((x, y), valid), config, "regression")
        return result.seconds / 2

    print("      growth: time per epoch (batch 1024, two hidden layers, 95 inputs)")
    print("      rows       width  s/epoch   us/row  % of matmul rate")
    for rows, width in [
        (10_000, 256),
        (100_000, 256),
        (1_000_000, 256),
        (100_000, 64),
        (100_000, 512),
        (100_000, 1024),
    ]:
        seconds = epoch_time(rows, width)
        flops = mlp_flops(95, [width, width], 1, rows, rows // 5)
        print(
            f"      {rows:>9}  {width:>5}  {seconds:7.3f}  {seconds / rows * 1e6:7.2f}  "
            f"{flops / seconds / 1e9 / gflops:6.0%}"
        )
