"""Outputs that would destroy an input are refused (issue: hardening, item 2), and writing
results to a standard output that fails is one line, or a quiet 141 for a reader that went
away, on every command (item 8)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import assert_user_error

from tabnet_cli.run.run_dir import load_run


def _run_files(run: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(run.iterdir())}


def test_predict_refuses_to_write_over_its_data_file(cli, small_run, small_csv, tmp_path):
    before = small_csv.read_bytes()
    assert_user_error(
        cli("predict", small_run, small_csv, "-o", small_csv),
        f"--output {small_csv} is an input of this command: writing it would destroy the "
        "input; choose another --output",
    )
    # the same file under another name: a symlink, a hard link
    link, hard = tmp_path / "link.csv", tmp_path / "hard.csv"
    link.symlink_to(small_csv)
    os.link(small_csv, hard)
    for other in (link, hard):
        assert_user_error(
            cli("predict", small_run, small_csv, "-o", other),
            f"is an input of this command (the same file as {small_csv})",
        )
    # a file of a directory given as DATA
    assert_user_error(
        cli("predict", small_run, small_csv.parent, "-o", small_csv),
        "is an input of this command",
    )
    assert small_csv.read_bytes() == before


@pytest.mark.parametrize("name", ["model.json", "model.safetensors", "preds.csv", "."])
def test_predict_and_export_refuse_a_place_inside_the_run(cli, small_run, small_csv, name):
    before = _run_files(small_run)
    target = small_run / name
    commands = [
        ["predict", small_run, small_csv, "-o", target],
        ["export", small_run, "-o", target],
    ]
    for args in commands:
        if args[0] == "export" and name == ".":
            continue  # a directory: refused as such
        assert_user_error(
            cli(*args),
            f"--output {target} is inside {small_run}, which this command reads; writing "
            "there could destroy it; choose another --output",
        )
    assert _run_files(small_run) == before
    load_run(small_run)


def test_curves_refuses_to_write_over_a_history_it_draws(cli, small_run, tmp_path):
    before = _run_files(small_run)
    history = small_run / "history.csv"
    result = cli("curves", small_run, "--table", "-o", history)
    assert_user_error(result, "which this command reads")
    copy = tmp_path / "history.csv"
    copy.write_bytes(history.read_bytes())
    assert_user_error(
        cli("curves", copy, small_run, "--table", "-o", copy), "is an input of this command"
    )
    assert copy.read_bytes() == history.read_bytes() and _run_files(small_run) == before
    # a run symlinked elsewhere is the same run
    alias = tmp_path / "alias"
    alias.symlink_to(small_run)
    assert_user_error(cli("curves", alias, "--table", "-o", small_run / "x.txt"), "inside")
    result = cli("curves", small_run, "--table", "-o", tmp_path / "fine.txt")
    assert result.exit_code == 0, result.stderr


# --- standard output that fails: a full device, a reader that went away -------------------

FULL = (
    "Error: cannot write <stdout>: No space left on device; "
    "free space or redirect the output elsewhere"
)


@pytest.fixture(scope="module")
def other_csv(tmp_path_factory, small_csv) -> Path:
    """Data the run was not trained on (no 'trained on this file' warning)."""
    path = tmp_path_factory.mktemp("other") / "other.csv"
    pd.read_csv(small_csv).iloc[::-1].to_csv(path, index=False)
    return path


def _commands(run: Path, data: Path, out: Path) -> dict[str, list]:
    tiny = ["--target", "y", "--layers", "4", "--epochs", "1", "--verbose", "0"]
    return {
        "help": ["--help"],
        "version": ["--version"],
        "info": ["info", run],
        "evaluate": ["evaluate", run, data],
        "importance": ["importance", run, data, "--repeats", "1"],
        "curves": ["curves", run, "--width", "40", "--height", "10"],
        "predict": ["predict", run, data],
        "export": ["export", run, "-o", out / "m.onnx"],
        "train": ["train", data, *tiny, "--out", out / "run"],
        "cv": ["cv", data, *tiny, "--folds", "2"],
    }


def _tabnet(args: list, stdout, buffered: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if not buffered:  # every write reaches the device at once, inside the command
        env["PYTHONUNBUFFERED"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "tabnet_cli", *map(str, args)],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        timeout=300,
    )


CASES = [(name, False) for name in _commands(Path(), Path(), Path())] + [
    ("help", True),
    ("info", True),
]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize(("name", "buffered"), CASES)
def test_a_full_standard_output_is_one_error_line(small_run, other_csv, tmp_path, name, buffered):
    if name == "export":
        pytest.importorskip("onnxruntime")
    args = _commands(small_run, other_csv, tmp_path)[name]
    with open("/dev/full", "w") as full:
        out = _tabnet(args, full, buffered)
    lines = out.stderr.splitlines()
    assert (out.returncode, lines[-1:]) == (2, [FULL]), out.stderr
    assert [line for line in lines if line.startswith("Error")] == [FULL]
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(("name", "buffered"), CASES)
def test_a_reader_that_went_away_ends_quietly_with_141(
    small_run, other_csv, tmp_path, name, buffered
):
    if name == "export":
        pytest.importorskip("onnxruntime")
    args = _commands(small_run, other_csv, tmp_path)[name]
    reader, writer = os.pipe()
    os.close(reader)  # `| head` that has already exited
    try:
        out = _tabnet(args, writer, buffered)
    finally:
        os.close(writer)
    # what a shell reports: 141 for an exit with 141 or for death by SIGPIPE
    status = 128 - out.returncode if out.returncode < 0 else out.returncode
    assert status == 141, out.stderr
    assert "Traceback" not in out.stderr and "Error" not in out.stderr, out.stderr


def test_predict_into_a_full_device_is_one_error_line(cli, small_run, other_csv):
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    assert_user_error(
        cli("predict", small_run, other_csv, "-o", "/dev/full"),
        "cannot write /dev/full: No space left on device; free space or choose another --output",
    )
