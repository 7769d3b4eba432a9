"""Bagged members trained side by side in forked worker processes (jobs/member_processes.py):
the same ensemble as members trained in turn, events replayed in member order, Ctrl-C and
worker errors handled as in one process."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from safetensors.numpy import load_file

import tabnet_cli.jobs.ensemble as ensemble
import tabnet_cli.jobs.member_processes as member_processes
from tabnet_cli.fit.callbacks import Callback

FAST = "--recipe plain --layers 8 --epochs 6 --folds 3 --verbose 0"


@pytest.fixture
def processes(monkeypatch):
    """Sets how many worker processes the ensemble uses (1: members in turn, here)."""

    def use(count: int) -> None:
        monkeypatch.setattr(ensemble, "member_processes", lambda *args: count)

    return use


def test_workers_train_the_same_members_as_one_process(cli, regression_csv, tmp_path, processes):
    runs = {}
    for count in (1, 2, 3):
        processes(count)
        out = tmp_path / f"p{count}"
        result = cli.line(f"train {regression_csv} --target y --out {out} {FAST} --threads 1")
        assert result.exit_code == 0, result.stderr
        runs[count] = load_file(str(out / "model.safetensors"))
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["member_processes"] == count
    for count in (2, 3):
        assert runs[count].keys() == runs[1].keys()
        for name, tensor in runs[1].items():
            assert (runs[count][name] == tensor).all(), name  # bit for bit


def test_events_are_replayed_member_after_member(cli, binary_csv, tmp_path, processes):
    processes(3)
    out = tmp_path / "events"
    result = cli.line(f"train {binary_csv} --target label --out {out} {FAST} --log-format jsonl")
    assert result.exit_code == 0, result.stderr
    events = [json.loads(line) for line in result.stderr.splitlines()]
    epochs = [(e["member"], e["epoch"]) for e in events if e["event"] == "epoch"]
    assert epochs == sorted(epochs) and {m for m, _ in epochs} == {1, 2, 3}
    begins = [e["member"] for e in events if e["event"] == "train_begin"]
    assert begins == [1, 2, 3]


def test_text_progress_keeps_each_epochs_own_time(cli, regression_csv, tmp_path, processes):
    processes(2)
    out = tmp_path / "text"
    options = FAST.replace("--verbose 0", "--verbose 2")
    result = cli.line(f"train {regression_csv} --target y --out {out} {options}")
    assert result.exit_code == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("Note: member")]
    assert [n.split()[2] for n in notes] == ["1/3:", "2/3:", "3/3:"]
    epoch_lines = [line for line in result.stderr.splitlines() if line.startswith("Epoch ")]
    assert len(epoch_lines) == 18 and all("/step" in line for line in epoch_lines)


class _CtrlCInTheParent(Callback):
    """Raises KeyboardInterrupt (what a Ctrl-C raises) while the parent replays member
    1's second epoch."""

    def on_epoch_end(self, *, epoch: int, **context) -> None:
        if context.get("member") == 1 and epoch == 2:
            raise KeyboardInterrupt


@pytest.mark.parametrize("keep_partial", [True, False])
def test_ctrl_c_stops_the_workers(regression_csv, tmp_path, processes, keep_partial):
    from tabnet_cli.settings.config import RunConfig

    processes(2)
    config = RunConfig.from_options(
        {"target": "y", "layers": (8,), "epochs": 400, "folds": 3}, recipe="plain"
    )
    run_dir = tmp_path / "stopped"
    train = ensemble.train_ensemble
    args = (str(regression_csv), config, run_dir, [_CtrlCInTheParent()])
    if not keep_partial:  # --folds asked for: an ensemble missing members is not saved
        with pytest.raises(KeyboardInterrupt):
            train(*args, keep_partial=False)
        assert not run_dir.exists()
        return
    summary = train(*args, keep_partial=True)
    metrics = summary.metrics
    assert metrics["stop_reason"] == "interrupted"
    # the members that ended an epoch before the stop (member 1 at least; a lone member
    # is saved as a single network), each stopped long before its 400 epochs
    runs = metrics.get("member_runs", [metrics])
    assert 1 <= len(runs) <= 3 and all(run["epochs_run"] < 400 for run in runs)


def test_a_workers_error_is_raised_in_the_parent(
    cli, regression_csv, tmp_path, processes, monkeypatch
):
    import tabnet_cli.fit.train as fit_train
    from tabnet_cli.errors import DataError

    def broken(*args, **kwargs):
        raise DataError("column 'q' broke in a worker")

    processes(2)
    monkeypatch.setattr(fit_train, "train", broken)  # the forked workers inherit it
    out = tmp_path / "broken"
    result = cli.line(f"train {regression_csv} --target y --out {out} {FAST}")
    assert result.exit_code == 2
    assert "column 'q' broke in a worker" in result.stderr
    assert not Path(out).exists()


def test_processes_follow_the_free_cores(monkeypatch):
    import torch

    from tabnet_cli.settings.config import TrainConfig

    monkeypatch.setattr(member_processes, "usable_cpus", lambda: 8)
    monkeypatch.setattr(member_processes, "busy_elsewhere", lambda: 3)
    monkeypatch.setattr(member_processes.sys, "platform", "linux")
    cpu, auto = torch.device("cpu"), TrainConfig(threads=0)
    assert member_processes.member_processes(5, cpu, auto) == 5
    assert member_processes.member_processes(9, cpu, auto) == 5  # 8 cores, 3 busy
    assert member_processes.member_processes(5, cpu, TrainConfig(threads=2)) == 1
    assert member_processes.member_processes(5, torch.device("cuda"), auto) == 1
    monkeypatch.setattr(member_processes, "busy_elsewhere", lambda: 8)
    assert member_processes.member_processes(5, cpu, auto) == 1
    monkeypatch.setattr(member_processes, "busy_elsewhere", lambda: 0)
    monkeypatch.setattr(member_processes.multiprocessing.current_process(), "daemon", True)
    assert member_processes.member_processes(5, cpu, auto) == 1  # a pool's worker
    monkeypatch.undo()
    monkeypatch.setattr(member_processes.sys, "platform", "darwin")
    monkeypatch.setattr(member_processes, "busy_elsewhere", lambda: 0)
    assert member_processes.member_processes(5, cpu, auto) == 1


class _BrokenDisplay(Callback):
    def on_epoch_end(self, **context) -> None:
        raise RuntimeError("the display broke")


def test_an_error_in_the_parent_ends_the_workers(regression_csv, tmp_path, processes):
    import multiprocessing

    from tabnet_cli.settings.config import RunConfig

    processes(2)
    config = RunConfig.from_options(
        {"target": "y", "layers": (8,), "epochs": 400, "folds": 3}, recipe="plain"
    )
    with pytest.raises(RuntimeError, match="the display broke"):
        ensemble.train_ensemble(str(regression_csv), config, tmp_path / "r", [_BrokenDisplay()])
    assert multiprocessing.active_children() == []  # terminated, not left training
    assert not (tmp_path / "r").exists()


# a `tabnet` whose bagged members always train in 2 worker processes
_TWO_WORKERS = (
    "import sys, tabnet_cli.jobs.ensemble as e\n"
    "e.member_processes = lambda *args: 2\n"
    "from tabnet_cli.cli import main\n"
    "sys.argv[0] = 'tabnet'\n"
    "main()\n"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the workers fork on Linux")
@pytest.mark.parametrize(
    ("signum", "code", "asked"),
    [("SIGINT", 130, False), ("SIGINT", 130, True), ("SIGTERM", 143, False)],
)
def test_a_signal_to_the_process_group(tmp_path, signum, code, asked):
    """A terminal's Ctrl-C (or Slurm's and systemd's SIGTERM) reaches the command and its
    workers: the workers leave it to the command, which stops them, exit 130 (143). The
    recipe's bagging saves the members trained; an ensemble asked for with --folds writes
    nothing, as in one process."""
    import os
    import signal
    import subprocess

    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 2)), columns=["a", "b"])
    frame["y"] = frame["a"] * 2 + 1
    data, out = tmp_path / "tiny.csv", tmp_path / "run"
    frame.to_csv(data, index=False)
    options = "--layers 4 --epochs 100000 --patience 0 --verbose 2" + " --folds 3" * asked
    process = subprocess.Popen(
        [sys.executable, "-c", _TWO_WORKERS, "train", str(data), "--target", "y",
         "--out", str(out), *options.split()],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    try:
        while not process.stderr.readline().startswith("Epoch 3/"):
            pass
        os.killpg(process.pid, getattr(signal, signum))  # the whole group
        stdout, stderr = process.communicate(timeout=120)
    finally:
        os.killpg(process.pid, signal.SIGKILL) if process.poll() is None else None
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr, stderr[-2000:]
    if asked:
        last = stderr.splitlines()[-1]
        assert last == "Interrupted before the run was saved; nothing was written."
        assert stdout == "" and not out.exists()
        return
    assert stdout == f"{out}\n", stderr[-2000:]
    assert "Interrupted; saving " in stderr or "Interrupted after " in stderr  # 2+ members or 1
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["stop_reason"] == "interrupted"
    runs = metrics.get("member_runs", [metrics])
    assert 1 <= len(runs) < 5 and 3 <= runs[0]["epochs_run"] < 100000


def test_a_signal_while_a_message_is_read_loses_nothing():
    """A Ctrl-C or SIGTERM that lands while the command reads a worker's message (a
    member's trained weights) only asks the workers to stop: raised there as a
    KeyboardInterrupt, it would drop the message, and the command would wait for a member
    that never comes back. The command's own handler hears of it once collected."""
    import os
    import queue
    import signal
    import threading

    outcome = member_processes.MemberOutcome(0, None)

    class SignalledWhileRead:
        def __init__(self):
            self.items = [outcome]

        def get(self, timeout):
            if not self.items:
                raise queue.Empty
            item = self.items.pop()  # read from the pipe, not yet handed back
            os.kill(os.getpid(), signal.SIGINT)
            return item

        def empty(self):
            return not self.items

    heard = []

    def command_handler(signum, frame):  # as the command's InterruptWatch does
        heard.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, command_handler)
    try:
        stop = threading.Event()
        replay = member_processes._InOrder(1, lambda member: [], lambda member: None)
        outcomes = member_processes._collect(SignalledWhileRead(), [], stop, replay, 1)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert outcomes == {0: outcome}
    assert stop.is_set()  # the workers were asked to stop
    assert heard == [signal.SIGINT]  # and the command knows it was interrupted
