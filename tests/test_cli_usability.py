"""Everyday use (issue 9, items 5-8): Ctrl-C anywhere, --version, info, completion, the
training-file warning, and help that reads well at 80 columns."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import assert_user_error

from tabnet_cli.cli.train import describe_outcome
from tabnet_cli.errors import DataError


@pytest.fixture
def mixed_csv(tmp_path: Path) -> Path:
    """Numbers with gaps, a category, a constant column and a binary target."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 2))
    x[::7, 1] = np.nan
    frame = pd.DataFrame(x, columns=["num", "gappy"])
    frame["colour"] = rng.choice(["red", "green", "blue"], size=60)
    frame["const"] = 5
    frame["label"] = np.where(x[:, 0] > 0, "good", "bad")
    path = tmp_path / "mixed.csv"
    frame.to_csv(path, index=False)
    return path


def _interrupt(monkeypatch, target: str) -> None:
    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(target, ctrl_c)


@pytest.mark.parametrize(
    ("command", "target"),
    [
        ("predict", "tabnet_cli.run.run_dir.load_run"),
        ("evaluate", "tabnet_cli.run.run_dir.load_run"),
        ("info", "tabnet_cli.run.info.describe_run"),
        ("curves", "tabnet_cli.report.plots.load_history"),
    ],
)
def test_ctrl_c_in_any_command_is_one_line_and_exit_130(
    cli, monkeypatch, regression_csv, tmp_path, command, target
):
    _interrupt(monkeypatch, target)
    args = [command, tmp_path] + ([regression_csv] if command in ("predict", "evaluate") else [])
    result = cli(*args)
    assert (result.exit_code, result.stderr, result.stdout) == (130, "Interrupted\n", "")


def test_ctrl_c_that_a_reader_reports_as_malformed_csv_is_still_an_interrupt(
    cli, monkeypatch, regression_csv, tmp_path
):
    def read_source(source, config):
        try:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while a parser holds the file
        except KeyboardInterrupt:  # what some parsers do with it
            raise DataError(f"{source}: malformed CSV (Error tokenizing data)") from None

    monkeypatch.setattr("tabnet_cli.jobs.train.read_source", read_source)
    result = cli.line(f"train {regression_csv} --target y --out {tmp_path}/run")
    assert (result.exit_code, result.stderr) == (130, "Interrupted\n")
    assert not (tmp_path / "run").exists()


def test_ctrl_c_that_python_could_only_report_is_delivered_again(
    cli, monkeypatch, regression_csv, tmp_path
):
    class CallbackHitByCtrlC:  # as a weakref callback inside an import can be
        def __del__(self):
            raise KeyboardInterrupt

    def read_source(source, config):
        CallbackHitByCtrlC()  # Python prints "Exception ignored in ..." and goes on
        time.sleep(5)  # the interrupt, delivered again, cuts this short

    monkeypatch.setattr("tabnet_cli.jobs.train.read_source", read_source)
    result = cli.line(f"train {regression_csv} --target y --out {tmp_path}/run")
    assert (result.exit_code, result.stderr) == (
        130,
        "Interrupted before the run was saved; nothing was written.\n",
    )


INTERRUPTED_IMPORT = """
import runpy, sys

class CtrlC:
    def find_spec(self, name, path=None, target=None):
        if name == "typer":
            raise KeyboardInterrupt
        return None

sys.meta_path.insert(0, CtrlC())
sys.argv = ["tabnet", "--help"]
runpy.run_module("tabnet_cli", run_name="__main__", alter_sys=True)
"""


def test_ctrl_c_while_importing_at_start_up_is_quiet():
    out = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_IMPORT], capture_output=True, text=True, timeout=60
    )
    assert (out.returncode, out.stderr, out.stdout) == (130, "Interrupted\n", "")


LIGHT_START = """
import sys
from typer.testing import CliRunner
from tabnet_cli.cli import app
for args in (["--version"], ["--help"], ["info", "--help"]):
    result = CliRunner().invoke(app, args, prog_name="tabnet")
    assert result.exit_code == 0, result.output
    print(result.stdout.splitlines()[0])
heavy = sorted(m for m in ("torch", "pandas", "sklearn", "numpy") if m in sys.modules)
print("heavy:", ",".join(heavy))
"""


def test_version_and_help_import_no_heavy_library():
    out = subprocess.run(
        [sys.executable, "-c", LIGHT_START], capture_output=True, text=True, check=True
    )
    assert out.stdout.splitlines() == [
        f"tabnet {version('tabnet-cli')}",
        "Usage: tabnet [OPTIONS] COMMAND [ARGS]...",
        "Usage: tabnet info [OPTIONS] RUN",
        "heavy: ",
    ]


def test_shell_completion_is_offered_and_completes_commands(cli):
    assert "--install-completion" in cli("--help").stdout
    result = cli.runner.invoke(
        cli_app(),
        [],
        env={"_TABNET_COMPLETE": "complete_bash", "COMP_WORDS": "tabnet ev", "COMP_CWORD": "1"},
        prog_name="tabnet",
    )
    assert (result.exit_code, result.stdout) == (0, "evaluate\n")


def cli_app():
    from tabnet_cli.cli import app

    return app


def test_info_describes_inputs_options_training_and_data(cli, mixed_csv, tmp_path):
    result = cli.line(
        f"train {mixed_csv} --target label --out {tmp_path}/run --layers 4 --epochs 1 --folds 1"
    )
    assert "Trained 1 epoch." in result.stderr  # not "1 epochs"
    text = cli("info", tmp_path / "run")
    assert text.exit_code == 0, text.stderr
    lines = text.stdout.splitlines()
    assert f"run         {tmp_path / 'run'}" in lines
    assert "task        binary, target 'label'; classes bad, good" in lines
    assert any(
        line.split() == ["colour", "categorical", "one-hot:", "3", "categories", "+", "other"]
        for line in lines
    )
    assert any(
        line.split()[:2] == ["gappy", "numeric"] and "missing indicator" in line for line in lines
    )
    assert any(line.split()[:1] == ["const"] for line in lines[lines.index("ignored (1)") :])
    assert f"data        {mixed_csv}: 60 rows (48 training, 12 validation)" in lines
    assert any(line.startswith("training    best epoch 1 of 1 epoch run") for line in lines)
    assert len(lines) < 40  # one screen; only the lines with paths may be wider than 88
    assert max(len(line) for line in lines if str(tmp_path) not in line) <= 88
    document = json.loads(cli("info", tmp_path / "run", "--json").stdout)
    assert document["options"]["train"]["loss"] == "bce"
    assert document["options"]["arch"]["layers"] == [4]
    assert [c["kind"] for c in document["inputs"]] == ["numeric", "numeric", "categorical"]
    assert document["training"]["best_epoch"] == 1 and "val_loss" in document["training"]["best"]
    assert document["data"]["sha256"] and document["data"]["size"] == mixed_csv.stat().st_size
    assert document["versions"]["tabnet"]


def test_info_on_a_missing_run_is_one_line(cli, tmp_path):
    assert_user_error(cli("info", tmp_path / "nope"), "no such run directory")


def test_evaluating_on_the_training_file_warns_and_hashes_only_when_sizes_match(
    cli, trained_regression, regression_csv, tmp_path, monkeypatch
):
    import tabnet_cli.io.tables

    result = cli("evaluate", trained_regression, regression_csv)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        f"Warning: {regression_csv} is the file this model was trained on (same sha256): these "
        "figures are optimistic, the model saw these rows; evaluate on data it never saw"
    )
    hashed = []
    monkeypatch.setattr(tabnet_cli.io.tables, "sha256_of", lambda path: hashed.append(path))
    other = tmp_path / "other.csv"
    pd.read_csv(regression_csv).head(50).to_csv(other, index=False)
    result = cli("evaluate", trained_regression, other)
    assert result.exit_code == 0 and "Warning" not in result.stderr
    assert hashed == []  # another size: no need to read the file twice


@pytest.mark.parametrize(
    "command",
    ["", "train", "evaluate", "predict", "curves", "info", "importance", "export", "cv", "tune"],
)
def test_help_is_plain_and_fits_80_columns(cli, command):
    args = [command, "--help"] if command else ["--help"]
    result = cli.runner.invoke(
        cli_app(), args, env={"COLUMNS": "80"}, terminal_width=80, prog_name="tabnet"
    )
    assert result.exit_code == 0
    text = result.stdout
    assert text.startswith("Usage: tabnet")  # no blank first line
    for placeholder in ("<bool>", "<str>", "<int", "<float>", "<path>", "<list", "…", "\\["):
        assert placeholder not in text, placeholder
    assert max(len(line) for line in text.splitlines()) <= 80
    if command == "train":
        assert "--restore-best-weights / --no-restore-best-weights" in text


def test_outcome_messages_use_the_singular_for_one():
    metrics = {
        "epochs_run": 1,
        "stop_reason": "early_stopping",
        "best_epoch": 1,
        "monitor": "val_loss",
        "best_value": 0.5,
        "restored_best_weights": True,
    }
    assert describe_outcome(metrics, patience=1)[0] == (
        "Stopped early after 1 epoch (no improvement in val_loss for 1 epoch)."
    )
    interrupted = describe_outcome({**metrics, "stop_reason": "interrupted"}, patience=2)
    assert interrupted[0] == "Interrupted after 1 complete epoch; saving."
