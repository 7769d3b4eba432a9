"""`tabnet cv`: K folds, stratified and seeded, preprocessing fitted inside each fold."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import assert_user_error

FAST = "--recipe plain --layers 4 --epochs 2 --verbose 0"


def test_cv_json_has_every_fold_and_a_summary(cli, binary_csv):
    result = cli.line(f"cv {binary_csv} --target label --folds 3 --json {FAST}")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert [f["fold"] for f in report["folds"]] == [1, 2, 3]
    assert sum(f["test_rows"] for f in report["folds"]) == 150
    accuracies = [f["metrics"]["accuracy"] for f in report["folds"]]
    assert report["summary"]["accuracy"]["mean"] == pytest.approx(np.mean(accuracies))
    assert report["summary"]["accuracy"]["std"] == pytest.approx(np.std(accuracies))
    assert set(report["summary"]) >= {"loss", "accuracy", "f1", "roc_auc"}


def test_cv_table_and_stratified_folds(cli, multiclass_csv):
    result = cli.line(f"cv {multiclass_csv} --target kind --folds 4 {FAST}")
    assert result.exit_code == 0, result.stderr
    assert (
        "mean ± std" in result.stdout and "fold 4" in result.stdout and "macro_f1" in result.stdout
    )


def test_no_fold_scaler_saw_its_test_rows(cli, regression_csv, tmp_path):
    from tabnet_cli.jobs.folds import fold_splits
    from tabnet_cli.prep.prepare import read_source
    from tabnet_cli.settings.config import DataConfig

    out = tmp_path / "folds"
    result = cli.line(f"cv {regression_csv} --target y --folds 3 --scale minmax {FAST} --out {out}")
    assert result.exit_code == 0, result.stderr
    config = DataConfig(target="y")
    table = read_source(str(regression_csv), config)
    column = table.frame["a"].to_numpy()
    splits = fold_splits(table, config, "auto", 3, seed=0)
    moved = 0
    for fold, split in enumerate(splits, start=1):
        manifest = json.loads((out / f"fold-{fold}" / "model.json").read_text())
        state = {c["name"]: c for c in manifest["preprocessing"]["features"]["numeric"]}["a"]
        train, test = column[split.train_rows], column[split.valid_rows]
        assert not set(split.train_rows) & set(split.valid_rows)
        assert state["center"] == pytest.approx(train.min())  # the training rows' min...
        assert state["spread"] == pytest.approx(train.max() - train.min())
        moved += test.min() < train.min() or test.max() > train.max()
    assert moved  # ...which some fold's test rows go beyond: they were not seen


def test_cv_folds_are_seeded(cli, binary_csv):
    runs = [
        cli.line(f"cv {binary_csv} --target label --folds 3 --json --seed {s} {FAST}")
        for s in (1, 1, 2)
    ]
    metrics = [[f["metrics"] for f in json.loads(r.stdout)["folds"]] for r in runs]
    assert metrics[0] == metrics[1] and metrics[0] != metrics[2]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--folds", "1"], "Invalid value for '--folds'"),
        (["--folds", "200"], "--folds must be in [2, 75] for 150 rows"),
        (["--validation-data", "x.csv"], "drop --validation-data"),
        (["--layers", "x"], "--layers 'x' is not a list"),
    ],
)
def test_cv_user_errors(cli, binary_csv, args, message):
    result = cli("cv", binary_csv, "--target", "label", *FAST.split(), *args)
    assert_user_error(result, message)


def test_cv_class_with_fewer_rows_than_folds(cli, tmp_path):
    path = tmp_path / "few.csv"
    path.write_text("x,y\n" + "".join(f"{i},{'a' if i < 2 else 'b'}\n" for i in range(20)))
    result = cli("cv", path, "--target", "y", "--folds", "3", *FAST.split())
    assert_user_error(result, "class 'a' of target 'y' has 2 row(s), fewer than --folds 3")


def test_cv_takes_a_runs_config_file(cli, binary_csv, tmp_path):
    run = cli.train(binary_csv, "label", tmp_path / "run", "--layers 4 --epochs 2")
    result = cli("cv", "--config", run / "config.toml", "--folds", "2", "--json", "--verbose", "0")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["folds"]) == 2


@pytest.mark.parametrize("folds", [2, 3, 5])
def test_folds_partition_the_rows_and_hold_every_class_evenly(folds):
    from tabnet_cli.jobs.folds import assign_folds

    labels = np.array(["a"] * 37 + ["b"] * 11 + ["c"] * 6)
    fold_of_row = assign_folds(labels, folds, seed=3)
    sizes = np.bincount(fold_of_row, minlength=folds)
    assert sizes.sum() == len(labels) and sizes.max() - sizes.min() <= 1
    for label in "abc":
        per_fold = np.bincount(fold_of_row[labels == label], minlength=folds)
        assert per_fold.max() - per_fold.min() <= 1  # stratified: within one row
    assert not np.array_equal(fold_of_row, assign_folds(labels, folds, seed=4))


def test_folds_do_not_load_scikit_learn():
    # scikit-learn's model_selection pulls in SciPy: about a second before a bagged run's
    # first step, for a split NumPy makes in microseconds
    import subprocess
    import sys

    code = (
        "import sys, pandas as pd\n"
        "from tabnet_cli.jobs.folds import fold_splits\n"
        "from tabnet_cli.prep.types import Table\n"
        "from tabnet_cli.settings.config import DataConfig\n"
        "table = Table('t.csv', pd.DataFrame({'y': ['a', 'b'] * 5, 'x': range(10)}))\n"
        "fold_splits(table, DataConfig(target='y'), 'auto', 5, 0)\n"
        "print('sklearn' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
