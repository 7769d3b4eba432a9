"""Outputs that would destroy an input are refused (issue: hardening, item 2), and writing
results to a standard output that fails is one line, or a quiet 141 for a reader that went
away, on every command (item 8)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import Cli, assert_user_error

from tabnet_cli.run.run_dir import load_run


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
    run = tmp_path_factory.mktemp("runs") / "run"
    return Cli().train(data_csv, "y", run, "--layers 4 --epochs 2")


def _run_files(run: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(run.iterdir())}


def test_predict_refuses_to_write_over_its_data_file(cli, saved_run, data_csv, tmp_path):
    before = data_csv.read_bytes()
    assert_user_error(
        cli("predict", saved_run, data_csv, "-o", data_csv),
        f"--output {data_csv} is an input of this command: writing it would destroy the "
        "input; choose another --output",
    )
    # the same file under another name: a symlink, a hard link
    link, hard = tmp_path / "link.csv", tmp_path / "hard.csv"
    link.symlink_to(data_csv)
    os.link(data_csv, hard)
    for other in (link, hard):
        assert_user_error(
            cli("predict", saved_run, data_csv, "-o", other),
            f"is an input of this command (the same file as {data_csv})",
        )
    # a file of a directory given as DATA
    assert_user_error(
        cli("predict", saved_run, data_csv.parent, "-o", data_csv),
        "is an input of this command",
    )
    assert data_csv.read_bytes() == before


@pytest.mark.parametrize("name", ["model.json", "model.safetensors", "preds.csv", "."])
def test_predict_and_export_refuse_a_place_inside_the_run(cli, saved_run, data_csv, name):
    before = _run_files(saved_run)
    target = saved_run / name
    commands = [["predict", saved_run, data_csv, "-o", target], ["export", saved_run, "-o", target]]
    for args in commands:
        if args[0] == "export" and name == ".":
            continue  # a directory: refused as such
        assert_user_error(
            cli(*args),
            f"--output {target} is inside {saved_run}, which this command reads; writing "
            "there could destroy it; choose another --output",
        )
    assert _run_files(saved_run) == before
    load_run(saved_run)


def test_curves_refuses_to_write_over_a_history_it_draws(cli, saved_run, tmp_path):
    before = _run_files(saved_run)
    history = saved_run / "history.csv"
    result = cli("curves", saved_run, "--table", "-o", history)
    assert_user_error(result, "which this command reads")
    copy = tmp_path / "history.csv"
    copy.write_bytes(history.read_bytes())
    assert_user_error(
        cli("curves", copy, saved_run, "--table", "-o", copy), "is an input of this command"
    )
    assert copy.read_bytes() == history.read_bytes() and _run_files(saved_run) == before
    # a run symlinked elsewhere is the same run
    alias = tmp_path / "alias"
    alias.symlink_to(saved_run)
    assert_user_error(cli("curves", alias, "--table", "-o", saved_run / "x.txt"), "inside")
    result = cli("curves", saved_run, "--table", "-o", tmp_path / "fine.txt")
    assert result.exit_code == 0, result.stderr
