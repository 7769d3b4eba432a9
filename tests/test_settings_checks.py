"""Settings that a run could not store or that say one thing twice are refused; class
labels come back as written."""

import json

import numpy as np
import pytest
from conftest import assert_user_error, streaming_budget


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            "--epochs 9223372036854775808",
            "--epochs must be in [1, 1000000], got 9223372036854775808",
        ),
        ("--patience 1000001", "--patience must be in [0, 1000000], got 1000001"),
        ("--batch-size 2147483648", "--batch-size must be in [1, 2147483647]"),
        (
            "--class-weight pos=3,pos=4",
            "--class-weight 'pos=3,pos=4': label 'pos' is given twice; give each label one weight",
        ),
        ("--class-weight 'pos=3, pos =4'", "label 'pos' is given twice"),
    ],
)
def test_settings_out_of_bounds_or_given_twice(cli, regression_csv, tmp_path, options, message):
    result = cli.line(f"train {regression_csv} --target y --out {tmp_path / 'run'} {options}")
    assert_user_error(result, message)
    assert not (tmp_path / "run").exists()


def test_a_config_file_beyond_the_bounds_is_refused(cli, regression_csv, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[data]\ntarget = 'y'\n[train]\nepochs = 5000000\n")
    result = cli("train", regression_csv, "--config", config, "--out", tmp_path / "run")
    assert_user_error(result, "--epochs must be in [1, 1000000], got 5000000")


@pytest.fixture
def coded_csv(tmp_path):
    """Class codes written with leading zeros, as identifiers often are."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=120)
    codes = np.select([x < -0.4, x < 0.4], ["001", "007"], "010")
    lines = ["x,kind"] + [f"{v:.3f},{c}" for v, c in zip(x, codes, strict=True)]
    path = tmp_path / "codes.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("streamed", [False, True])
def test_multiclass_labels_come_back_as_written(cli, coded_csv, tmp_path, streamed):
    if streamed:  # rows enough to stream: a streamed batch must fit the budget
        coded_csv.write_text(coded_csv.read_text() + "".join(coded_csv.read_text().splitlines(
            keepends=True)[1:]) * 20)  # fmt: skip
    budget = streaming_budget(coded_csv) if streamed else ""
    options = f"--task multiclass --epochs 3 --layers 8 --batch-size 16 {budget}"
    run = cli.train(coded_csv, "kind", tmp_path / "run", options)
    manifest = json.loads((run / "model.json").read_text())
    assert manifest["data"]["streamed"] is streamed
    assert manifest["preprocessing"]["target"]["classes"] == ["001", "007", "010"]
    predicted = cli("predict", run, coded_csv)
    assert predicted.exit_code == 0, predicted.stderr
    assert set(predicted.stdout.splitlines()[1:]) <= {"001", "007", "010"}
    evaluated = cli("evaluate", run, coded_csv, "--json")
    assert evaluated.exit_code == 0, evaluated.stderr


def test_numbers_as_labels_stay_numbers(cli, coded_csv, tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text(coded_csv.read_text().replace(",00", ",").replace(",010", ",10"))
    run = cli.train(plain, "kind", tmp_path / "run", "--task multiclass --epochs 3 --layers 8")
    target = json.loads((run / "model.json").read_text())["preprocessing"]["target"]
    assert target["classes"] == [1, 7, 10]  # sorted as numbers, as before
    # a run with number labels reads "007" as 7, as runs before text labels did
    written = json.loads(cli("evaluate", run, coded_csv, "--json").stdout)
    plainly = json.loads(cli("evaluate", run, plain, "--json").stdout)
    assert written["metrics"] == plainly["metrics"]


def test_continuous_numbers_are_still_not_classes(cli, tmp_path):
    path = tmp_path / "half.csv"
    path.write_text("x,y\n" + "".join(f"{i % 7},{i % 3 + 0.5}\n" for i in range(60)))
    result = cli("train", path, "--target", "y", "--task", "multiclass")
    assert_user_error(result, "target 'y' holds continuous numbers, not class labels")
