"""`tabnet importance`: permutation importance of every input column, NumPy only."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import Cli, assert_user_error

from tabnet_cli.run.run_dir import load_run
from tabnet_cli.score.importance import permutation_importance, render_importance


@pytest.fixture(scope="module")
def signal_and_noise(tmp_path_factory) -> tuple[Path, Path]:
    """y depends strongly on a, less on b and on the colour; `noise` is pure noise."""
    rng = np.random.default_rng(3)

    def frame(rows: int) -> pd.DataFrame:
        a, b, noise = rng.normal(size=(3, rows))
        colour = rng.choice(["red", "blue"], size=rows)
        y = 3 * a + b + np.where(colour == "red", 1.0, -1.0) + 0.05 * rng.normal(size=rows)
        return pd.DataFrame({"a": a, "b": b, "noise": noise, "colour": colour, "y": y})

    folder = tmp_path_factory.mktemp("signal")
    train, test = folder / "train.csv", folder / "test.csv"
    frame(300).to_csv(train, index=False)
    frame(200).to_csv(test, index=False)
    return train, test


@pytest.fixture(scope="module")
def trained_signal(tmp_path_factory, signal_and_noise) -> Path:
    train, _ = signal_and_noise
    out = tmp_path_factory.mktemp("runs") / "run"
    return Cli().train(train, "y", out, "--layers 16 --epochs 40 --lr 0.01 --loss mse")


def test_a_pure_noise_column_ranks_last(cli, trained_signal, signal_and_noise):
    _, test = signal_and_noise
    result = cli("importance", trained_signal, test, "--json", "--repeats", "3")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    ranking = [entry["column"] for entry in report["importance"]]
    assert ranking[0] == "a" and ranking[-1] == "noise"
    assert set(ranking) == {"a", "b", "noise", "colour"}
    assert list(report["reference"]) == ["loss", "r2", "mae"]
    noise = report["importance"][-1]
    assert abs(noise["r2"]["mean"]) < 0.02 and noise["loss"]["std"] >= 0
    assert result.stderr == ""  # held-out data: no warning


def test_table_and_chart_and_the_training_file_warning(cli, trained_signal, signal_and_noise):
    train, _ = signal_and_noise
    result = cli("importance", trained_signal, train, "--repeats", "2", "--seed", "7")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith("Warning: ") and "trained on (same sha256)" in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Permutation importance of {trained_signal} on {train}")
    assert lines[1].startswith("300 rows, 2 repeats, seed 7; unshuffled: loss ")
    assert lines[4].split() == ["rank", "column", "kind", "loss", "r2", "mae"]
    assert lines[5].split()[:3] == ["1", "a", "numeric"]
    assert "loss increase when shuffled (mse, model units)" in result.stdout
    assert "\x1b[" not in result.stdout  # not a terminal: no colour codes
    assert any(line.lstrip().startswith("noise┤") for line in lines)  # one labelled bar per column


def test_the_same_seed_gives_the_same_report(trained_signal, signal_and_noise):
    run, (_, test) = load_run(trained_signal), signal_and_noise
    first = permutation_importance(run, str(test), repeats=2, seed=5)
    again = permutation_importance(run, str(test), repeats=2, seed=5)
    assert first == again
    assert permutation_importance(run, str(test), repeats=2, seed=6) != first


def test_shuffling_slots_is_shuffling_the_raw_column(tmp_path, cli):
    """The one-hot slots and the missing indicator move with their column, exactly as if
    the raw column were shuffled before preprocessing."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "x": np.where(rng.random(60) < 0.2, np.nan, rng.normal(size=60)),
            "c": rng.choice(["p", "q", "r"], size=60),
            "y": rng.normal(size=60),
        }
    )
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    run = load_run(cli.train(path, "y", tmp_path / "run", "--layers 4 --epochs 2"))
    x = run.features.transform(frame)[0]
    order = rng.permutation(60)
    for column, slots in run.features.column_slots().items():
        shuffled = frame.assign(**{column: frame[column].to_numpy()[order]})
        expected = run.features.transform(shuffled)[0]
        by_slots = x.copy()
        by_slots[:, slots] = x[order][:, slots]
        assert np.array_equal(by_slots, expected), column
    assert run.features.column_slots() == {"x": [0, 1], "c": [2, 3, 4, 5]}


def test_classification_scores_accuracy_and_auc(cli, tmp_path, binary_csv):
    run = cli.train(binary_csv, "label", tmp_path / "run", "--layers 4 --epochs 2")
    report = permutation_importance(load_run(run), str(binary_csv), repeats=1)
    assert list(report["reference"]) == ["loss", "accuracy", "roc_auc"]
    assert {e["column"] for e in report["importance"]} == {"f1", "f2", "f3", "f4", "colour"}
    assert "Permutation importance" in render_importance(report, width=60)


def test_user_errors_are_one_line(cli, trained_signal, tmp_path):
    no_target = tmp_path / "no-target.csv"
    pd.DataFrame({"a": [1.0], "b": [2.0], "noise": [0.0], "colour": ["red"]}).to_csv(
        no_target, index=False
    )
    assert_user_error(cli("importance", trained_signal, no_target), "target column")
    assert_user_error(cli("importance", trained_signal, no_target, "--repeats", "0"), "--repeats")
    assert_user_error(cli("importance", tmp_path / "nope", no_target), "no such run directory")


IMPORTANCE_WITHOUT_TORCH = """
import sys
from typer.testing import CliRunner
from tabnet_cli.cli import app
result = CliRunner().invoke(app, ["importance", sys.argv[1], sys.argv[2], "--repeats", "1"])
assert result.exit_code == 0, result.output
print("torch" in sys.modules)
"""


def test_importance_never_imports_torch(trained_signal, signal_and_noise):
    _, test = signal_and_noise
    out = subprocess.run(
        [sys.executable, "-c", IMPORTANCE_WITHOUT_TORCH, str(trained_signal), str(test)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"
