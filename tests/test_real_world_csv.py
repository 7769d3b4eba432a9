"""Messy real-world files: column kinds and overrides, missing values, odd formats, errors."""

import io
import json

import numpy as np
import pandas as pd
import pytest
from conftest import assert_user_error


@pytest.fixture
def messy_csv(tmp_path):
    """A passenger-list-like file: an ID, free-text names, a category with stray spaces,
    missing ages, a '?' marker and a numeric target."""
    rng = np.random.default_rng(5)
    n = 200
    age = rng.uniform(1, 80, n).round(1).astype(object)
    age[rng.choice(n, 20, replace=False)] = np.nan
    port = rng.choice(["S", " S", "C ", "Q"], n)
    fare = (rng.uniform(5, 100, n)).round(2).astype(object)
    fare[:3] = "?"
    frame = pd.DataFrame(
        {
            "passenger_id": np.arange(1, n + 1),
            "name": [f"Person {i} {rng.integers(1e6)}" for i in range(n)],
            "age": age,
            "port": port,
            "fare": fare,
            "first_class": rng.choice([True, False], n),
        }
    )
    frame["target"] = (
        frame["age"].fillna(30).astype(float) / 10
        + frame["first_class"] * 2
        + rng.normal(0, 0.1, n)
    )
    path = tmp_path / "passengers.csv"
    frame.to_csv(path, index=False)
    return path


def train(cli, path, out, *extra):
    result = cli("train", path, "--target", "target", "--epochs", "3", "--out", out, *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads((out / "model.json").read_text()), result.stderr


def test_column_kinds_are_decided_and_noted(cli, messy_csv, tmp_path):
    manifest, stderr = train(cli, messy_csv, tmp_path / "run", "--verbose", "2")
    features = manifest["preprocessing"]["features"]
    ignored = {c["name"]: c["reason"] for c in features["ignored"]}
    assert ignored["passenger_id"].startswith("a row identifier")
    assert ignored["name"].startswith("nearly every value distinct")
    assert "ignored column 'passenger_id'" in stderr and "ignored column 'name'" in stderr
    numeric = {c["name"]: c for c in features["numeric"]}
    assert set(numeric) == {"age", "fare"}
    assert numeric["age"]["indicator"] and numeric["fare"]["indicator"]  # NaN and '?'
    categories = {c["name"]: c["categories"] for c in features["categorical"]}
    assert categories["port"] == ["C", "Q", "S"]  # stray spaces do not make new categories
    assert categories["first_class"] == ["False", "True"]


def test_overrides(cli, messy_csv, tmp_path):
    manifest, _ = train(
        cli,
        messy_csv,
        tmp_path / "run",
        "--verbose",
        "0",
        "--features",
        "age,port,fare,passenger_id",
        "--categorical",
        "age",
        "--numeric",
        "passenger_id",
    )
    features = manifest["preprocessing"]["features"]
    assert [c["name"] for c in features["numeric"]] == ["fare", "passenger_id"]
    assert [c["name"] for c in features["categorical"]] == ["age", "port"]
    assert features["ignored"] == []


def test_unseen_and_missing_values_at_predict_time(cli, messy_csv, tmp_path):
    run = tmp_path / "run"
    train(cli, messy_csv, run, "--verbose", "0")
    rows = "passenger_id,name,age,port,fare,first_class\n1,A,,X,?,True\n2,B,30,Y,12,False\n"
    result = cli("predict", run, "-", input=rows)
    assert result.exit_code == 0, result.stderr
    assert len(pd.read_csv(io.StringIO(result.stdout))) == 2
    assert result.stderr == "Warning: 2 unseen value(s) in 'port'\n"


def test_na_values_option_is_used_in_training_and_prediction(cli, tmp_path):
    frame = pd.DataFrame({"x": [str(v) for v in np.linspace(0, 1, 60)], "y": np.arange(60.0)})
    frame.loc[5, "x"] = "n.a."
    path = tmp_path / "na.csv"
    frame.to_csv(path, index=False)
    assert_user_error(
        cli("train", path, "--target", "y"),
        "column 'x' is numeric except for values like 'n.a.'; add --na-values",
    )
    run = tmp_path / "run"
    result = cli.line(
        f"train {path} --target y --na-values n.a. --epochs 2 --out {run} --verbose 0"
    )
    assert result.exit_code == 0, result.stderr
    predicted = cli("predict", run, "-", input="x,y\nn.a.,1\n0.5,2\n")
    assert predicted.exit_code == 0 and predicted.stderr == ""  # n.a. is a known marker


def test_rows_with_missing_target_are_dropped_with_a_notice(cli, tmp_path):
    frame = pd.DataFrame({"x": np.arange(50.0), "y": np.arange(50.0)})
    frame.loc[[3, 7], "y"] = np.nan
    path = tmp_path / "gaps.csv"
    frame.to_csv(path, index=False)
    result = cli("train", path, "--target", "y", "--epochs", "1", "--out", tmp_path / "r")
    assert "dropped 2 row(s) whose target 'y' is missing" in result.stderr


@pytest.mark.parametrize(
    ("name", "writer"),
    [
        ("semicolon.csv", lambda f, p: f.to_csv(p, sep=";", index=False)),
        ("tabs.tsv", lambda f, p: f.to_csv(p, sep="\t", index=False)),
        ("packed.csv.gz", lambda f, p: f.to_csv(p, index=False)),
        ("columnar.parquet", lambda f, p: f.to_parquet(p)),
        ("exported.csv", lambda f, p: f.to_csv(p)),  # unnamed index column
        ("bom.csv", lambda f, p: p.write_bytes(b"\xef\xbb\xbf" + f.to_csv(index=False).encode())),
        ("quoted.csv", lambda f, p: f.assign(note="a, b\nc").to_csv(p, index=False)),
    ],
)
def test_file_formats(cli, tmp_path, name, writer):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"u": rng.normal(size=80), "v": rng.normal(size=80)})
    frame["y"] = frame.u * 2
    path = tmp_path / name
    writer(frame, path)
    out = tmp_path / "run"
    result = cli("train", path, "--target", "y", "--epochs", "2", "--out", out, "--verbose", "0")
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((out / "model.json").read_text())
    assert manifest["preprocessing"]["features"]["numeric"][0]["name"] == "u"
    assert cli("predict", out, path).exit_code == 0


def test_boolean_target(cli, tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=60)})
    frame["ok"] = frame.x > 0
    frame.to_csv(tmp_path / "b.csv", index=False)
    out = cli.train(tmp_path / "b.csv", "ok", tmp_path / "run", "--epochs 2")
    manifest = json.loads((out / "model.json").read_text())
    assert manifest["task"] == "binary"
    assert manifest["preprocessing"]["target"]["classes"] == [False, True]


def test_ragged_rows_name_the_line(cli, tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,y\n1,2,3\n4,5,6\n7,8,9,10\n")
    assert_user_error(cli("train", path, "--target", "y"), "line 4")


def test_no_usable_feature_names_the_ignored_columns_and_the_way_to_keep_one(cli, tmp_path):
    path = tmp_path / "useless.csv"
    frame = pd.DataFrame({"k": [1.0] * 30, "row": np.arange(30), "y": np.arange(30.0) % 7})
    frame.to_csv(path, index=False)
    result = cli("train", path, "--target", "y")
    assert_user_error(result, "no usable feature column")
    message = result.stderr
    assert "ignored 'k': constant" in message
    assert "ignored 'row': a row identifier" in message
    assert "--numeric NAME or --categorical NAME" in message
    # the way out the message gives works: a column named by the user is not ignored
    kept = cli(
        "train",
        path,
        "--target",
        "y",
        "--numeric",
        "row",
        "--epochs",
        "1",
        "--verbose",
        "0",
        "--out",
        tmp_path / "run",
    )
    assert kept.exit_code == 0, kept.stderr


def test_infinite_values(cli, tmp_path):
    path = tmp_path / "inf.csv"
    pd.DataFrame({"x": [1.0, np.inf] * 20, "y": np.arange(40.0)}).to_csv(path, index=False)
    assert_user_error(cli("train", path, "--target", "y"), "column 'x' has infinite values")


def test_unknown_override_column(cli, messy_csv):
    assert_user_error(
        cli("train", messy_csv, "--target", "target", "--categorical", "prt"),
        "--categorical column 'prt' not found",
    )


def test_dates_are_read_alike_for_training_and_prediction(cli, tmp_path):
    rng = np.random.default_rng(3)
    days = pd.date_range("2014-01-01", periods=10).strftime("%Y-%m-%dT%H:%M:%S")
    frame = pd.DataFrame({"sold": rng.choice(days, 80), "size": rng.uniform(50, 200, 80)})
    frame["price"] = frame["size"] * 3
    path = tmp_path / "sales.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "run"
    result = cli.line(f"train {path} --target price --epochs 2 --out {out} --verbose 0")
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((out / "model.json").read_text())
    categories = manifest["preprocessing"]["features"]["categorical"][0]["categories"]
    assert categories[0] == "2014-01-01T00:00:00"  # the file's text, not a parsed timestamp
    result = cli("predict", out, path)
    assert result.exit_code == 0 and result.stderr == ""  # no value looks unseen
