"""SIGTERM (``docker stop``, Slurm, ``timeout``) is handled as Ctrl-C, with exit code 143;
signals that follow the first one do not break into the saving it started (issue:
hardening, item 5)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tabnet_cli.run.run_dir import load_run


@pytest.fixture
def tiny_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(40, 2)), columns=["a", "b"])
    frame["y"] = frame["a"] * 2 + 1
    path = tmp_path / "tiny.csv"
    frame.to_csv(path, index=False)
    return path


def _start(args: list, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tabnet_cli", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_sigterm_during_training_saves_the_run_and_exits_143(tiny_csv, tmp_path):
    out = tmp_path / "run"
    process = _start(
        ["train", tiny_csv, "--target", "y", "--layers", "4", "--epochs", "100000",
         "--patience", "0", "--recipe", "plain", "--verbose", "2", "--out", out]
    )  # fmt: skip
    try:
        first = process.stderr.readline()  # one line per finished epoch
        assert first.startswith("Epoch 1/100000"), first
        process.send_signal(signal.SIGTERM)  # as docker stop, Slurm or timeout do
        stdout, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 143, stderr
    assert stdout == f"{out}\n"
    epochs = json.loads((out / "metrics.json").read_text())["epochs_run"]
    *progress, stopped, best, written = stderr.splitlines()
    assert all(line.startswith("Epoch ") for line in progress)  # no traceback, no other line
    assert stopped == f"Interrupted after {epochs} complete epoch{'s' * (epochs > 1)}; saving."
    assert best.startswith("Best val_loss ") and written == f"Run written to {out}"
    assert load_run(out).manifest.task == "regression"


def _handles_sigterm(pid: int) -> bool:
    """Whether the process has a handler for SIGTERM (Linux: /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1)
    return False


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_sigterm_in_any_command_is_one_line_and_exit_143(tmp_path, tiny_csv):
    from conftest import Cli

    run = Cli().train(tiny_csv, "y", tmp_path / "run", "--layers 4 --epochs 1")
    process = _start(["predict", run, "-"], stdin=subprocess.PIPE)
    try:
        process.stdin.write("a,b\n1,2\n")  # then the writer goes quiet: predict waits
        process.stdin.flush()
        deadline = time.monotonic() + 60
        while not _handles_sigterm(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # into the read
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert (process.returncode, stderr, stdout) == (143, "Terminated\n", "")


def test_a_second_ctrl_c_while_saving_does_not_lose_the_run(cli, tiny_csv, tmp_path, monkeypatch):
    """Ctrl-C pressed twice: the first stops training after epoch 2, the second comes
    while the run is being saved. The run is still saved, and said to be."""
    from tabnet_cli.report.progress import KerasProgress
    from tabnet_cli.run import save

    begin, write = KerasProgress.on_epoch_begin, save.save_run

    def ctrl_c_in_epoch_3(self, *, epoch, **context):
        if epoch == 3:
            os.kill(os.getpid(), signal.SIGINT)
        begin(self, epoch=epoch, **context)

    def ctrl_c_while_saving(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)
        return write(*args, **kwargs)

    monkeypatch.setattr(KerasProgress, "on_epoch_begin", ctrl_c_in_epoch_3)
    monkeypatch.setattr(save, "save_run", ctrl_c_while_saving)
    out = tmp_path / "run"
    result = cli.line(
        f"train {tiny_csv} --target y --layers 4 --epochs 9 --recipe plain --out {out}"
    )
    assert result.exit_code == 130, result.stderr
    assert "Interrupted after 2 complete epochs; saving." in result.stderr
    assert "nothing was written" not in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == f"{out}\n"
    assert json.loads((out / "metrics.json").read_text())["epochs_run"] == 2
