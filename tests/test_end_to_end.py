"""The whole workflow on the bundled sample data: train -> evaluate -> predict -> curves."""

import io
import json

import numpy as np
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


def test_the_course_lesson_6_command_learns_under_the_default_recipe(cli, tmp_path):
    """Lesson 6 as the course types it, without --recipe: a 4,4 network, one step an epoch
    (batch 512), patience 10 with min_delta 0.001. The auto recipe's warm-up is 5% of 1000
    epochs: patience counted inside it stopped every run at epoch 11, the loss still ln 2."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(351, 8))
    frame = pd.DataFrame(x, columns=[f"V{i}" for i in range(8)])
    frame["Class"] = np.where(x[:, 0] - x[:, 1] + 0.5 * x[:, 2] > 0, "good", "bad")
    data = tmp_path / "ion-like.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "run"
    result = cli.line(
        f"train {data} --target Class --layers 4,4 --loss bce --batch-size 512 --epochs 1000 "
        f"--patience 10 --min-delta 0.001 --validation-split 0.3 --seed 0 --verbose 0 --out {out}"
    )
    assert result.exit_code == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs_run"] > 50 + 10  # past the warm-up, then patience
    assert metrics["best"]["val_accuracy"] >= 0.85
