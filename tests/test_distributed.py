"""Data-parallel training: two local processes under torchrun write one complete run
(streamed runs and two "nodes" on one machine: tests/test_streamed_ddp.py)."""

import json
import subprocess
import sys

import pandas as pd
import pytest
from conftest import assert_user_error

from tabnet_cli.cli.train import without_nproc
from tabnet_cli.errors import TabnetError


def _torchrun(data, *options):
    command = [sys.executable, "-m", "tabnet_cli", "train", str(data), "--nproc", "2", *options]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


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
    assert "OMP_NUM_THREADS" not in done.stderr  # torchrun's banner is not the user's
    assert done.stderr.count("Run written to") == 1
    assert done.stderr.count("Epoch 3/3") == 1
    history = pd.read_csv(out / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3]
    assert sorted(p.name for p in out.iterdir()) == [
        "config.toml", "history.csv", "metrics.json", "model.json", "model.safetensors",
    ]  # fmt: skip
    assert history["val_loss"].notna().all()


def test_nproc_is_taken_out_of_the_command_torchrun_runs():
    assert without_nproc(["train", "d.csv", "--nproc", "2", "--target", "y"]) == [
        "train", "d.csv", "--target", "y",
    ]  # fmt: skip


def test_options_named_like_torchruns_reach_the_ranks(regression_csv, tmp_path):
    # argparse took --monitor for an abbreviation of torchrun's --monitor-interval and
    # printed torchrun's usage (found by test_hostile_inputs' random options)
    out = tmp_path / "run"
    options = ["--target", "y", "--recipe", "plain", "--layers", "4", "--epochs", "2"]
    done = _torchrun(regression_csv, *options, "--monitor", "val_mae", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert 'monitor = "val_mae"' in (out / "config.toml").read_text()
    done = _torchrun(regression_csv, *options, "--monitor", "nan", "--out", str(tmp_path / "b"))
    assert done.returncode == 2
    assert done.stderr.startswith("Error: --monitor") and len(done.stderr.splitlines()) == 1


def test_a_user_error_in_the_ranks_is_one_line(regression_csv, tmp_path):
    done = _torchrun(regression_csv, "--target", "nope", "--out", str(tmp_path / "run"))
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"Error: target column 'nope' not found in {regression_csv}; "
        "available columns: a, b, c, constant, y"
    ]
    assert done.stdout == "" and not (tmp_path / "run").exists()


def test_json_events_come_from_rank_0_only(regression_csv, tmp_path):
    out = tmp_path / "run"
    done = _torchrun(
        regression_csv, "--target", "y", "--recipe", "plain", "--layers", "4", "--epochs", "2",
        "--log-format", "jsonl", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{out}\n"
    events = [json.loads(line)["event"] for line in done.stderr.splitlines()]
    assert events == ["start", "note", "train_begin", "epoch", "epoch", "saved"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["-", "--target", "y"], "--nproc 2 starts 2 processes that each read DATA; give a file"),
        (["{csv}", "--target", "y", "--folds", "2"], "leave out --nproc or --folds"),
        (["{csv}", "--target", "y", "--memory-budget", "lots"], "--memory-budget"),
        (["{csv}", "--target", "y", "--epochs", "0"], "--epochs must be in"),
        (["nowhere.csv", "--target", "y"], "nowhere.csv: no such file"),
    ],
)
def test_refused_before_the_ranks_start(cli, regression_csv, options, message):
    args = [a.replace("{csv}", str(regression_csv)) for a in options]
    result = cli("train", *args, "--nproc", "2", input="a,y\n1,2\n")
    assert_user_error(result, message)


def test_gpus_for_every_rank_are_checked_before_the_ranks_start(cli, regression_csv):
    import torch

    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    nproc = str(gpus + 1)
    result = cli("train", regression_csv, "--target", "y", "--nproc", nproc, "--device", "cuda")
    if gpus:
        assert_user_error(result, f"this machine has {gpus}; give --nproc {gpus} or fewer")
    else:
        assert_user_error(result, "--device cuda asked for, but no CUDA GPU is available")


def test_an_error_only_another_rank_met_is_raised_by_the_launcher(tmp_path):
    from tabnet_cli.system.distributed import failure_code

    assert failure_code([-9, -15], str(tmp_path)) == 1  # killed by signals: a failure
    assert failure_code([-15, 3], str(tmp_path)) == 3
    (tmp_path / "rank-1").write_text("a user error")
    with pytest.raises(TabnetError, match="^a user error$"):
        failure_code([-15, 2], str(tmp_path))
    (tmp_path / "rank-0").write_text("a user error")  # rank 0 printed it
    assert failure_code([2, -15], str(tmp_path)) == 2
