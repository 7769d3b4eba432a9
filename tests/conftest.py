"""Shared fixtures: tiny data sets written on the fly, and a CLI runner helper."""

from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tabnet_cli.cli import app

REPO = Path(__file__).resolve().parent.parent
SAMPLE_DATA = REPO / "sample_data"


@pytest.fixture
def regression_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 3))
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["constant"] = 1.0
    frame["y"] = 3 * x[:, 0] - 2 * x[:, 1] + 0.1 * rng.normal(size=120) + 10
    path = tmp_path / "reg.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def binary_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(150, 4))
    frame = pd.DataFrame(x, columns=["f1", "f2", "f3", "f4"])
    frame["colour"] = rng.choice(["red", "green"], size=150)
    frame["label"] = np.where(x[:, 0] + x[:, 1] > 0, "good", "bad")
    path = tmp_path / "bin.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def multiclass_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(180, 2))
    frame = pd.DataFrame(x, columns=["u", "v"])
    frame["kind"] = np.select([x[:, 0] > 0.5, x[:, 1] > 0], ["alpha", "beta"], "gamma")
    path = tmp_path / "multi.csv"
    frame.to_csv(path, index=False)
    return path


class Cli:
    """Runs ``tabnet`` in-process with separate stdout and stderr."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None):
        return self.runner.invoke(app, [str(a) for a in args], input=input)

    def line(self, command: str, input: str | None = None):
        """Runs a shell-like command line: ``cli.line(f"train {csv} --target y")``."""
        return self(*shlex.split(command), input=input)

    def train(self, data: Path, target: str, out: Path, options: str = "") -> Path:
        """Trains quietly and returns the run directory; with the plain recipe (the
        course's Keras defaults) unless ``options`` name another."""
        if "--recipe" not in options:
            options += " --recipe plain"
        result = self.line(f"train {data} --target {target} --out {out} --verbose 0 {options}")
        assert result.exit_code == 0, result.stderr
        return out


@pytest.fixture
def cli() -> Cli:
    return Cli()


def assert_user_error(result, message: str) -> None:
    """Exit code 2, exactly one stderr line starting with ``Error:`` that contains
    ``message``, no traceback, nothing on stdout."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines
    assert message in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.fixture
def trained_regression(tmp_path: Path, regression_csv: Path, cli) -> Path:
    return cli.train(regression_csv, "y", tmp_path / "run-reg", "--layers 8 --epochs 5")


@pytest.fixture
def trained_binary(tmp_path: Path, binary_csv: Path, cli) -> Path:
    return cli.train(binary_csv, "label", tmp_path / "run-bin", "--layers 8 --epochs 5")


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory) -> Path:
    """40 rows of ``a``, ``b`` and ``y = 2a + 1``, shared by a module's tests."""
    path = tmp_path_factory.mktemp("data") / "small.csv"
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(40, 2)), columns=["a", "b"])
    frame["y"] = frame["a"] * 2 + 1
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def small_run(tmp_path_factory, small_csv) -> Path:
    """One tiny run on ``small_csv`` shared by the tests that only read it (training costs
    a second); two epochs, so that it has a curve."""
    run = tmp_path_factory.mktemp("runs") / "run"
    return Cli().train(small_csv, "y", run, "--layers 4 --epochs 2")


def streaming_budget(source: Path | str) -> str:
    """``--memory-budget`` just below what in-memory training of ``source`` would need:
    training streams, with as much memory as a streamed run of it can have (a tiny
    budget would refuse the batch: a batch's rows and activations are in the budget)."""
    from tabnet_cli.io.datasets import BlockSource

    return f"--memory-budget {BlockSource.open(str(source)).in_memory_bytes() - 1}"
