"""Writing results safely (issue 9, items 1-4): the output place is checked before any
work, write failures are one line, ``-o`` writes through FIFOs and symlinks, modes follow
the umask, and temporary files of killed writers are cleaned up."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import assert_user_error

from tabnet_cli.io import outputs

TINY = "--layers 4 --epochs 1 --verbose 0"


@pytest.fixture(scope="module")
def data_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "small.csv"
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(40, 2)), columns=["a", "b"])
    frame["y"] = frame["a"] * 2 + 1
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory, data_csv) -> Path:
    """One tiny run shared by the tests that only read it (training costs a second)."""
    from conftest import Cli

    run = tmp_path_factory.mktemp("runs") / "run"
    return Cli().train(data_csv, "y", run, "--layers 4 --epochs 2")  # two epochs: a curve


def _temps(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(outputs.TEMP_PREFIX))


def _never_read(monkeypatch) -> None:
    """Makes reading the training data fail loudly: the checks must come before it."""

    def read_source(*args, **kwargs):
        raise AssertionError("the data was read before the output place was checked")

    monkeypatch.setattr("tabnet_cli.jobs.train.read_source", read_source)


def test_out_below_a_regular_file_fails_before_reading_data(
    cli, regression_csv, tmp_path, monkeypatch
):
    _never_read(monkeypatch)
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a directory\n")
    out = blocker / "runs" / "x"
    result = cli.line(f"train {regression_csv} --target y --out {out} {TINY}")
    assert_user_error(
        result,
        f"cannot write {out}: {blocker} is a file, not a directory; choose another --out",
    )
    assert blocker.read_text() == "not a directory\n"


def test_read_only_place_fails_before_reading_data_and_leaves_no_parents(
    cli, regression_csv, tmp_path, monkeypatch
):
    _never_read(monkeypatch)

    def read_only(path):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(outputs, "create_file", read_only)
    out = tmp_path / "new" / "deeper" / "run"
    result = cli.line(f"train {regression_csv} --target y --out {out} {TINY}")
    assert_user_error(result, f"cannot write {out}: Read-only file system; choose another --out")
    assert list(tmp_path.iterdir()) == [regression_csv]  # the parents it made are gone


def test_full_disk_while_saving_is_one_error_and_leaves_nothing(
    cli, regression_csv, tmp_path, monkeypatch
):
    def full_disk(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("tabnet_cli.run.run_dir.write_new_file", full_disk)
    out = tmp_path / "runs" / "x"
    result = cli.line(f"train {regression_csv} --target y --out {out} {TINY}")
    assert_user_error(
        result, f"cannot write {out}: No space left on device; free space or choose another --out"
    )
    assert not out.parent.exists()  # neither the run, its temporary, nor the parent it made


def test_full_disk_while_writing_predictions_keeps_the_old_file(
    cli, saved_run, data_csv, tmp_path, monkeypatch
):
    class FullDisk:
        def __init__(self, descriptor, *args, **kwargs):
            os.close(descriptor)

        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            return None

    target = tmp_path / "preds.csv"
    target.write_text("old\n")
    monkeypatch.setattr(outputs, "open", FullDisk, raising=False)
    result = cli("predict", saved_run, data_csv, "-o", target)
    assert_user_error(
        result,
        f"cannot write {target}: No space left on device; free space or choose another --output",
    )
    assert target.read_text() == "old\n" and _temps(tmp_path) == []


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_predict_to_a_full_stdout_is_one_error_line(saved_run, data_csv):
    with open("/dev/full", "w") as full:
        out = subprocess.run(
            [sys.executable, "-m", "tabnet_cli", "predict", saved_run, data_csv],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
        )
    assert out.returncode == 2
    assert out.stderr == (
        "Error: cannot write <stdout>: No space left on device; "
        "free space or redirect the output elsewhere\n"
    )


def test_curves_output_onto_a_directory_or_below_a_file(cli, saved_run, tmp_path):
    assert_user_error(
        cli("curves", saved_run, "-o", tmp_path),
        f"cannot write {tmp_path}: it is a directory; choose another --output",
    )
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert_user_error(
        cli("curves", saved_run, "-o", blocker / "plot.txt"),
        f"{blocker} is a file, not a directory; choose another --output",
    )


def test_predict_and_curves_write_through_a_fifo(cli, saved_run, data_csv, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    commands = {
        "a,y\n": ["predict", saved_run, data_csv, "--keep", "a", "-o", fifo],
        "epoch": ["curves", saved_run, "--table", "-o", fifo],
    }
    for start, args in commands.items():
        received: list[str] = []
        # a daemon thread: should tabnet never open the pipe, the test fails instead of hanging
        reader = threading.Thread(target=_read_into, args=(fifo, received), daemon=True)
        reader.start()
        result = cli(*args)
        reader.join(timeout=30)
        assert result.exit_code == 0, result.stderr
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still the pipe, not a regular file
        assert received and received[0].lstrip().startswith(start), received


def _read_into(path: Path, received: list[str]) -> None:
    received.append(path.read_text())


def test_predict_through_a_symlink_replaces_the_target_and_keeps_the_link(
    cli, saved_run, data_csv, tmp_path
):
    real = tmp_path / "data" / "preds.csv"
    real.parent.mkdir()
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "latest.csv"
    link.symlink_to(real)
    result = cli("predict", saved_run, data_csv, "-o", link)
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert len(pd.read_csv(real)) == len(pd.read_csv(data_csv))
    assert stat.S_IMODE(real.stat().st_mode) == 0o640  # an existing file keeps its mode, as cp


@pytest.mark.parametrize("umask", [0o022, 0o077], ids=["022", "077"])
def test_created_files_and_directories_follow_the_umask(cli, data_csv, tmp_path, umask):
    previous = os.umask(umask)
    try:
        run = cli.train(data_csv, "y", tmp_path / "runs" / "r", "--layers 4 --epochs 1")
        preds = tmp_path / "preds.csv"
        result = cli("predict", run, data_csv, "-o", preds)
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.stderr
    for directory in (run, run.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o777 & ~umask
    for file in [*run.iterdir(), preds]:
        assert stat.S_IMODE(file.stat().st_mode) == 0o666 & ~umask, file.name


KILLED_WRITER = """
import os, sys, time
from pathlib import Path
from tabnet_cli.io.outputs import temp_name
where = Path(sys.argv[1])
staging = where / temp_name("run")
staging.mkdir()
(staging / "model.json").write_text("{")
(where / temp_name("preds.csv")).write_text("half a row")
print("ready", flush=True)
time.sleep(60)
"""


def test_temporary_files_of_killed_writers_are_removed_on_the_next_write(
    cli, saved_run, data_csv, tmp_path
):
    where = tmp_path / "out"
    where.mkdir()
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, where], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout.readline() == "ready\n"
    writer.send_signal(signal.SIGKILL)  # as the OOM killer or `kill -9` would
    writer.wait()
    assert len(_temps(where)) == 2
    live = where / outputs.temp_name("mine.csv")  # this process is alive: kept
    live.write_text("")
    others = [where / ".tabnet-tmp-notours", where / ".preds.csv.abc123"]
    for path in others:
        path.write_text("")
    result = cli("predict", saved_run, data_csv, "-o", where / "preds.csv")
    assert result.exit_code == 0, result.stderr
    assert _temps(where) == sorted([live.name, others[0].name])
    assert all(path.exists() for path in others)


def test_a_killed_save_is_cleaned_up_by_the_next_train(cli, data_csv, tmp_path):
    stale = tmp_path / f".tabnet-tmp-{outputs.HOST}-{_dead_pid()}-0123abcd-run"
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"half")
    cli.train(data_csv, "y", tmp_path / "run", "--layers 4 --epochs 1")
    assert not stale.exists()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid
