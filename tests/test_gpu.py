"""Training, streaming, data-parallel (NCCL) and prediction on a CUDA GPU. Marked ``gpu``:
skipped where PyTorch sees no GPU (every test machine of this project so far); on a GPU
machine, ``pytest -m gpu`` runs them."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pandas as pd
import pytest
import torch

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU"),
]
TINY = "--recipe plain --layers 16 --epochs 2 --verbose 0 --device cuda"


def _trained_on_cuda(out) -> bool:
    return json.loads((out / "model.json").read_text())["train_config"]["device"] == "cuda"


def test_train_on_cuda_then_predict_matches_on_the_cpu(cli, regression_csv, tmp_path):
    out = tmp_path / "run"
    result = cli.line(f"train {regression_csv} --target y {TINY} --out {out}")
    assert result.exit_code == 0, result.stderr
    assert _trained_on_cuda(out)
    predicted = cli("predict", out, regression_csv)  # NumPy: no GPU needed
    assert predicted.exit_code == 0, predicted.stderr
    assert pd.read_csv(io.StringIO(predicted.stdout))["y"].notna().all()


def test_streamed_training_on_cuda(cli, binary_csv, tmp_path):
    out = tmp_path / "run"
    result = cli.line(f"train {binary_csv} --target label {TINY} --memory-budget 1KiB --out {out}")
    assert result.exit_code == 0, result.stderr
    assert json.loads((out / "model.json").read_text())["data"]["streamed"]
    assert _trained_on_cuda(out)


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="data-parallel needs 2 GPUs")
def test_two_gpus_train_one_run_with_nccl(regression_csv, tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "tabnet_cli", "train", str(regression_csv), "--target",
               "y", *TINY.split(), "--nproc", "2", "--out", str(out)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out) and _trained_on_cuda(out)
