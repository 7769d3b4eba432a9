"""The whole workflow on the bundled sample data: train -> evaluate -> predict -> curves."""

import io
import json

import pandas as pd
from conftest import SAMPLE_DATA


def test_train_evaluate_predict_curves_on_sample_data(cli, tmp_path):
    data = SAMPLE_DATA / "breast-cancer.csv"
    run = tmp_path / "cancer"
    trained = cli.line(
        f"train {data} --target diagnosis --layers 32,16 --epochs 15 --patience 5 --out {run} "
        f"--plot"
    )
    assert trained.exit_code == 0, trained.stderr
    assert trained.stdout.strip() == str(run)
    assert "cancer: loss" in trained.stderr  # --plot draws the curves on stderr

    evaluated = cli("evaluate", run, data, "--json")
    report = json.loads(evaluated.stdout)
    accuracy = report["metrics"]["accuracy"]
    assert accuracy["model"] > 0.9 > accuracy["baseline"]

    predicted = cli("predict", run, "-", "--proba", "--keep", "mean radius", input=data.read_text())
    frame = pd.read_csv(io.StringIO(predicted.stdout))
    assert list(frame.columns) == ["mean radius", "diagnosis", "benign", "malignant"]
    assert len(frame) == len(pd.read_csv(data))
    truth = pd.read_csv(data)["diagnosis"]
    assert (frame["diagnosis"] == truth).mean() == accuracy["model"]

    drawn = cli("curves", run, "--width", "70", "--height", "24")
    assert drawn.exit_code == 0
    assert "cancer: loss" in drawn.stdout and "cancer: accuracy" in drawn.stdout


def test_digits_multiclass_sample(cli, tmp_path):
    run = tmp_path / "digits"
    result = cli(
        "train",
        SAMPLE_DATA / "digits.csv",
        "--target",
        "digit",
        "--layers",
        "64",
        "--loss",
        "crossentropy",
        "--batch-size",
        "32",
        "--epochs",
        "10",
        "--out",
        run,
        "--verbose",
        "0",
    )
    assert result.exit_code == 0, result.stderr
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["members"] == 5  # the auto recipe bags a table this small
    assert metrics["out_of_fold"]["val_accuracy"] > 0.9
