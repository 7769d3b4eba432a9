"""What saving a run needs is checked before training: no training is lost to a value
that ``model.json`` or ``config.toml`` cannot hold."""

import decimal
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import assert_user_error, streaming_budget


@pytest.fixture
def decimal_parquet(tmp_path):
    """A parquet file whose target and one feature are decimal128 columns."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=800)  # enough rows to stream: a streamed batch must fit the budget
    y = 3 * x + 0.1 * rng.normal(size=800)
    table = pa.table(
        {
            "x": x,
            "d": pa.array([decimal.Decimal(f"{v:.1f}") for v in x], pa.decimal128(10, 1)),
            "y": pa.array([decimal.Decimal(f"{v:.2f}") for v in y], pa.decimal128(10, 2)),
        }
    )
    path = tmp_path / "prices.parquet"
    pq.write_table(table, path)
    return path


@pytest.mark.parametrize("options", ["", "--task regression", "streamed"])
def test_a_decimal_target_is_a_number(cli, decimal_parquet, tmp_path, options):
    if options == "streamed":
        options = f"{streaming_budget(decimal_parquet)} --batch-size 16"
    out = cli.train(decimal_parquet, "y", tmp_path / "run", f"--epochs 1 --layers 4 {options}")
    manifest = json.loads((out / "model.json").read_text())
    assert manifest["task"] == "regression"
    assert manifest["data"]["streamed"] is ("--memory-budget" in options)
    assert [c["name"] for c in manifest["preprocessing"]["features"]["numeric"]] == ["x", "d"]
    predicted = cli("predict", out, decimal_parquet)
    assert predicted.exit_code == 0, predicted.stderr
    assert len(predicted.stdout.splitlines()) == 801
    assert cli("evaluate", out, decimal_parquet).exit_code == 0


def test_decimal_class_codes_are_classes(cli, tmp_path):
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 3, size=90)
    table = pa.table(
        {
            "x": codes + 0.1 * rng.normal(size=90),
            "k": pa.array([decimal.Decimal(int(c)) for c in codes], pa.decimal128(5, 0)),
        }
    )
    pq.write_table(table, tmp_path / "codes.parquet")
    out = cli.train(tmp_path / "codes.parquet", "k", tmp_path / "run", "--epochs 1 --layers 4")
    target = json.loads((out / "model.json").read_text())["preprocessing"]["target"]
    assert target["classes"] == [0, 1, 2]


def test_infinite_class_labels_are_refused_before_training(cli, tmp_path):
    path = tmp_path / "inf.csv"
    rows = "".join(f"{(i * 7) % 11 / 3},{'inf' if i % 2 else 1}\n" for i in range(40))
    path.write_text("x,y\n" + rows)
    result = cli("train", path, "--target", "y", "--task", "binary", "--out", tmp_path / "run")
    assert_user_error(result, "target 'y' has infinite values")
    assert not (tmp_path / "run").exists()


def test_a_run_that_could_not_be_read_back_fails_before_training(
    cli, regression_csv, tmp_path, monkeypatch
):
    from tabnet_cli.fit import train as fit_train
    from tabnet_cli.prep.targets import TargetEncoder

    state = TargetEncoder.state
    monkeypatch.setattr(TargetEncoder, "state", lambda self: {**state(self), "scale": "log"})

    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(fit_train, "train", no_training)
    out = tmp_path / "run"
    for extra in ([], ["--folds", "2"]):
        result = cli("train", regression_csv, "--target", "y", "--out", out, *extra)
        assert_user_error(result, "could not be saved or read back (target.scale: ")
        assert not out.exists()
    result = cli("cv", regression_csv, "--target", "y", "--folds", "2", "--verbose", "0")
    assert_user_error(result, "could not be saved or read back (target.scale: ")
