"""--class-weight: weights in the loss, recorded in model.json, per-class recall in evaluate."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import assert_user_error

FAST = "--recipe plain --layers 4 --epochs 2"


@pytest.fixture
def imbalanced(tmp_path):
    rng = np.random.default_rng(5)
    paths = []
    for name, rows in (("train", 200), ("valid", 100)):
        x = rng.normal(size=(rows, 3))
        frame = pd.DataFrame(x, columns=["a", "b", "c"])
        frame["y"] = np.where(x[:, 0] + 0.3 * rng.normal(size=rows) > 1.2, "rare", "common")
        frame["k"] = np.select([x[:, 0] > 1.2, x[:, 1] > 0.3], ["p", "q"], "r")
        paths.append(tmp_path / f"{name}.csv")
        frame.to_csv(paths[-1], index=False)
    return paths


@pytest.mark.parametrize(
    ("target", "spec"), [("y", "balanced"), ("y", "rare=5,common=1"), ("k", "balanced")]
)
def test_weighted_val_loss_is_what_evaluate_reports(cli, imbalanced, tmp_path, target, spec):
    train, valid = imbalanced
    out = cli.train(
        train,
        target,
        tmp_path / "run",
        f"--recipe auto --layers 4 --epochs 3 --validation-data {valid} --class-weight {spec}",
    )
    manifest = json.loads((out / "model.json").read_text())
    assert manifest["train_config"]["class_weight"] == spec
    kept = json.loads((out / "metrics.json").read_text())["kept"]
    report = json.loads(cli("evaluate", out, valid, "--json").stdout)
    assert report["metrics"]["loss"]["model"] == pytest.approx(kept["val_loss"], rel=1e-5)


def test_balanced_weights_raise_minority_recall(cli, imbalanced, tmp_path):
    train, valid = imbalanced
    recall = {}
    for spec in ("none", "balanced"):
        out = cli.train(
            train, "y", tmp_path / spec, f"--layers 8 --epochs 30 --lr 0.01 --class-weight {spec}"
        )
        result = cli("evaluate", out, valid, "--json")
        recall[spec] = json.loads(result.stdout)["per_class_recall"]["rare"]["model"]
        table = cli("evaluate", out, valid).stdout
        assert "recall of rare" in table and "recall of common" in table
    assert recall["balanced"] > recall["none"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--class-weight", "rare"], "--class-weight 'rare': write balanced, none or LABEL=WEIGHT"),
        (["--class-weight", "rare=0"], "weight of 'rare' must be a positive number"),
        (["--class-weight", "nope=2"], "--class-weight names 'nope', not a class"),
    ],
)
def test_bad_class_weights(cli, imbalanced, tmp_path, args, message):
    result = cli(
        "train", imbalanced[0], "--target", "y", *FAST.split(), *args, "--out", tmp_path / "out"
    )
    assert_user_error(result, message)


def test_class_weight_on_a_regression_is_refused(cli, regression_csv, tmp_path):
    result = cli(
        "train",
        regression_csv,
        "--target",
        "y",
        *FAST.split(),
        "--class-weight",
        "balanced",
        "--out",
        tmp_path / "out",
    )
    assert_user_error(result, "--class-weight needs a classification target")
