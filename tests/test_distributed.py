"""Data-parallel training: two local processes under torchrun write one complete run."""

import subprocess
import sys

import pandas as pd

from tabnet_cli.cli.train import _without_nproc


def test_two_processes_write_one_complete_run(regression_csv, tmp_path):
    out = tmp_path / "run"
    command = [
        sys.executable, "-m", "tabnet_cli", "train", str(regression_csv), "--target", "y",
        "--recipe", "plain", "--layers", "4", "--epochs", "3", "--batch-size", "16",
        "--verbose", "2", "--nproc", "2", "--out", str(out),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)  # one path: only rank 0 reports
    assert done.stderr.count("Run written to") == 1
    assert done.stderr.count("Epoch 3/3") == 1
    history = pd.read_csv(out / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3]
    assert sorted(p.name for p in out.iterdir()) == [
        "config.toml", "history.csv", "metrics.json", "model.json", "model.safetensors",
    ]  # fmt: skip
    assert history["val_loss"].notna().all()


def test_nproc_is_taken_out_of_the_command_torchrun_runs():
    assert _without_nproc(["train", "d.csv", "--nproc", "2", "--target", "y"]) == [
        "train", "d.csv", "--target", "y",
    ]  # fmt: skip
