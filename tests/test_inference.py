"""`tabnet evaluate` and `tabnet predict`: results, schema checks, consistency, pipes."""

import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import assert_user_error


def predictions(cli, run, path, *args):
    result = cli("predict", run, path, *args)
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(io.StringIO(result.stdout))


def test_predict_one_row_per_input_row_in_input_order(cli, trained_regression, regression_csv):
    frame = pd.read_csv(regression_csv)
    out = predictions(cli, trained_regression, regression_csv, "--keep", "a")
    assert list(out.columns) == ["a", "y"]
    assert out["a"].tolist() == pytest.approx(frame["a"].tolist())
    assert len(out) == len(frame)


def test_predictions_do_not_depend_on_batch_size_or_row_order(
    cli, trained_regression, regression_csv, tmp_path
):
    reference = predictions(cli, trained_regression, regression_csv)["y"].to_numpy()
    for size in ("1", "7"):
        chunked = predictions(cli, trained_regression, regression_csv, "--batch-size", size)
        assert np.allclose(chunked["y"], reference, atol=1e-6, rtol=0)
    frame = pd.read_csv(regression_csv)
    reversed_path = tmp_path / "reversed.csv"
    frame.iloc[::-1].to_csv(reversed_path, index=False)
    backwards = predictions(cli, trained_regression, reversed_path)["y"].to_numpy()
    assert np.allclose(backwards[::-1], reference, atol=1e-6, rtol=0)


def test_column_order_and_extra_columns_do_not_matter(
    cli, trained_regression, regression_csv, tmp_path
):
    frame = pd.read_csv(regression_csv).drop(columns=["y"])
    shuffled = frame[["c", "a", "constant", "b"]].assign(extra="zzz")
    path = tmp_path / "shuffled.csv"
    shuffled.to_csv(path, index=False)
    assert np.allclose(
        predictions(cli, trained_regression, path)["y"],
        predictions(cli, trained_regression, regression_csv)["y"],
        atol=1e-6,
    )


def test_missing_feature_columns_are_listed(cli, trained_regression, regression_csv, tmp_path):
    path = tmp_path / "partial.csv"
    pd.read_csv(regression_csv).drop(columns=["a", "b"]).to_csv(path, index=False)
    assert_user_error(cli("predict", trained_regression, path), "feature columns not found in")
    assert_user_error(cli("predict", trained_regression, path), "a, b")


def test_unseen_categories_and_new_missing_values_are_counted_in_one_warning(
    cli, trained_binary, binary_csv, tmp_path
):
    frame = pd.read_csv(binary_csv).head(10)
    frame.loc[0:2, "colour"] = "purple"
    frame.loc[5, "f1"] = np.nan
    path = tmp_path / "odd.csv"
    frame.to_csv(path, index=False)
    result = cli("predict", trained_binary, path)
    assert result.exit_code == 0
    assert result.stderr.strip().splitlines() == [
        "Warning: 3 unseen value(s) in 'colour'; 1 missing or non-numeric value(s) in 'f1'"
    ]
    assert len(pd.read_csv(io.StringIO(result.stdout))) == 10


def test_proba_gives_one_column_per_class_summing_to_one(cli, trained_binary, binary_csv):
    out = predictions(cli, trained_binary, binary_csv, "--proba")
    assert list(out.columns) == ["label", "bad", "good"]
    assert np.allclose(out["bad"] + out["good"], 1.0)
    assert set(out["label"]) <= {"good", "bad"}
    assert (out["label"] == np.where(out["good"] > 0.5, "good", "bad")).all()


def test_keep_all_keeps_every_input_column(cli, trained_binary, binary_csv):
    out = predictions(cli, trained_binary, binary_csv, "--keep-all")
    original = pd.read_csv(binary_csv)
    # the input's own target column is kept under another name; the prediction keeps its name
    assert list(out.columns) == [*original.columns[:-1], "label_input", "label"]


def test_stdin_and_atomic_output_file(cli, trained_regression, regression_csv, tmp_path):
    text = regression_csv.read_text()
    target = tmp_path / "preds.csv"
    result = cli("predict", trained_regression, "-", "--output", target, input=text)
    assert result.exit_code == 0 and result.stdout == ""
    assert len(pd.read_csv(target)) == len(pd.read_csv(regression_csv))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".preds")] == []


def test_failed_predict_leaves_no_output_file(cli, trained_regression, tmp_path):
    target = tmp_path / "preds.csv"
    result = cli("predict", trained_regression, "-", "--output", target, input="a,b\n1,2\n")
    assert_user_error(result, "feature column 'c' not found in <stdin>")
    assert list(tmp_path.glob("*preds*")) == []


def test_proba_on_regression_and_unknown_keep_column(cli, trained_regression, regression_csv):
    assert_user_error(
        cli("predict", trained_regression, regression_csv, "--proba"),
        "--proba needs a classification model",
    )
    assert_user_error(
        cli("predict", trained_regression, regression_csv, "--keep", "id"),
        "--keep column 'id' not found",
    )


def test_evaluate_regression_json_reproduces_the_validation_loss(cli, regression_csv, tmp_path):
    out = tmp_path / "run"
    cli.line(
        f"train {regression_csv} --target y --layers 8 --epochs 40 --lr 0.01 "
        f"--validation-split 0.3 --seed 3 --out {out} --verbose 0"
    )
    frame = pd.read_csv(regression_csv)
    valid = frame.drop(frame.sample(frac=0.7, random_state=3).index)
    valid.to_csv(tmp_path / "valid.csv", index=False)
    result = cli("evaluate", out, tmp_path / "valid.csv", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    metrics = json.loads((out / "metrics.json").read_text())
    history = pd.read_csv(out / "history.csv").set_index("epoch")
    assert report["metrics"]["loss"]["model"] == pytest.approx(
        history.loc[metrics["best_epoch"], "val_loss"], abs=1e-6
    )
    assert report["metrics"]["mae"]["model"] == pytest.approx(
        history.loc[metrics["best_epoch"], "val_mae"], rel=1e-5
    )
    assert set(report["metrics"]) == {"loss", "mae", "mse", "rmse", "r2"}
    assert report["metrics"]["r2"]["model"] > report["metrics"]["r2"]["baseline"]
    assert report["rows"] == len(valid)


def test_evaluate_binary_has_classification_metrics_and_confusion_matrix(
    cli, trained_binary, binary_csv
):
    result = cli("evaluate", trained_binary, binary_csv, "--json")
    report = json.loads(result.stdout)
    assert set(report["metrics"]) == {
        "loss",
        "accuracy",
        "log_loss",
        "precision",
        "recall",
        "f1",
        "roc_auc",
    }
    assert report["metrics"]["roc_auc"]["baseline"] == 0.5
    assert report["metrics"]["accuracy"]["baseline"] == pytest.approx(
        pd.read_csv(binary_csv)["label"].value_counts(normalize=True).max(), abs=0.05
    )
    matrix = report["confusion_matrix"]
    assert matrix["labels"] == ["bad", "good"]
    assert sum(map(sum, matrix["matrix"])) == 150


def test_evaluate_multiclass_table(cli, multiclass_csv, tmp_path):
    out = tmp_path / "run"
    cli.line(f"train {multiclass_csv} --target kind --layers 8 --epochs 3 --out {out} --verbose 0")
    result = cli("evaluate", out, multiclass_csv)
    assert result.exit_code == 0, result.stderr
    for word in ("macro_f1", "log_loss", "accuracy", "baseline", "alpha", "gamma"):
        assert word in result.stdout
    report = json.loads(cli("evaluate", out, multiclass_csv, "--json").stdout)
    assert report["confusion_matrix"]["labels"] == ["alpha", "beta", "gamma"]


def test_evaluate_needs_the_target_column(cli, trained_regression, regression_csv, tmp_path):
    path = tmp_path / "no-target.csv"
    pd.read_csv(regression_csv).drop(columns=["y"]).to_csv(path, index=False)
    assert_user_error(cli("evaluate", trained_regression, path), "target column 'y' not found")


def test_evaluate_refuses_labels_the_model_never_saw(cli, trained_binary, binary_csv, tmp_path):
    frame = pd.read_csv(binary_csv)
    frame.loc[0, "label"] = "ugly"
    frame.to_csv(tmp_path / "new.csv", index=False)
    assert_user_error(
        cli("evaluate", trained_binary, tmp_path / "new.csv"), "labels the model never saw: ugly"
    )


def test_predict_into_a_closed_pipe_ends_quietly(trained_regression, regression_csv, tmp_path):
    big = tmp_path / "big.csv"
    frame = pd.read_csv(regression_csv)
    pd.concat([frame] * 300).to_csv(big, index=False)  # 36000 rows: more than a pipe buffer
    script = f"{sys.executable} -m tabnet_cli predict {trained_regression} - < {big} | head -n 2"
    out = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {script}"], capture_output=True, text=True
    )
    assert out.stdout.splitlines()[0] == "y"
    assert out.stderr == ""
    assert out.returncode == 141  # killed by SIGPIPE, like `cat big | head`
