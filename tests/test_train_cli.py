"""`tabnet train` through the CLI: the run directory, the contract, and every user error."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import assert_user_error


def test_train_writes_a_complete_run_directory(cli, regression_csv, tmp_path):
    out = tmp_path / "run"
    result = cli.line(
        f"train {regression_csv} --target y --layers 8,4 --epochs 4 --out {out} --verbose 2 "
        "--recipe plain"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(out)  # the run directory is the command's result
    assert sorted(p.name for p in out.iterdir()) == [
        "config.toml",
        "history.csv",
        "metrics.json",
        "model.json",
        "model.safetensors",
    ]
    history = pd.read_csv(out / "history.csv")
    assert list(history.columns) == [
        "epoch",
        "loss",
        "val_loss",
        "mae",
        "val_mae",
        "mse",
        "val_mse",
    ]
    assert history["epoch"].tolist() == [1, 2, 3, 4]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs_run"] == 4
    assert metrics["best_epoch"] == int(history.loc[history.val_loss.idxmin(), "epoch"])
    assert metrics["best"]["val_loss"] == pytest.approx(history.val_loss.min())
    assert metrics["train_seconds"] > 0
    manifest = json.loads((out / "model.json").read_text())
    assert manifest["format_version"] == 2
    assert manifest["task"] == "regression"
    assert manifest["model"]["arch"]["layers"] == [8, 4]
    assert manifest["train_config"]["loss"] == "mae"  # auto loss for regression
    assert manifest["train_config"]["seed"] == 0
    assert len(manifest["data"]["sha256"]) == 64
    assert "torch" in manifest["versions"]
    # the constant column is dropped, with a notice on stderr
    assert {"name": "constant", "reason": "constant"} in manifest["preprocessing"]["features"][
        "ignored"
    ]
    assert "ignored column 'constant': constant" in result.stderr


def test_mae_metrics_are_in_original_units_and_loss_in_scaled_units(cli, regression_csv, tmp_path):
    out = tmp_path / "run"
    cli.line(
        f"train {regression_csv} --target y --layers 8 --epochs 3 --target-scale minmax --out "
        f"{out} --verbose 0 --recipe plain"
    )
    manifest = json.loads((out / "model.json").read_text())
    spread = manifest["preprocessing"]["target"]["spread"]
    history = pd.read_csv(out / "history.csv")
    # with --loss mae the scaled loss times the target's range is the MAE in y units
    assert history["val_mae"].tolist() == pytest.approx((history["val_loss"] * spread).tolist())


def test_same_seed_same_history(cli, binary_csv, tmp_path):
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name
        result = cli.line(
            f"train {binary_csv} --target label --layers 16 --epochs 4 --dropout 0.2 --seed 7 "
            f"--out {out} --verbose 0"
        )
        assert result.exit_code == 0, result.stderr
        runs.append((out / "history.csv").read_text())
    assert runs[0] == runs[1]


def test_binary_string_labels_and_accuracy(cli, binary_csv, tmp_path):
    out = tmp_path / "run"
    result = cli.line(
        f"train {binary_csv} --target label --layers 8 --epochs 3 --out {out} --verbose 0"
    )
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((out / "model.json").read_text())
    assert manifest["task"] == "binary"
    assert manifest["train_config"]["loss"] == "bce"
    assert manifest["preprocessing"]["target"]["classes"] == ["bad", "good"]
    assert list(pd.read_csv(out / "history.csv").columns) == [
        "epoch",
        "loss",
        "val_loss",
        "accuracy",
        "val_accuracy",
    ]


def test_multiclass_with_crossentropy(cli, multiclass_csv, tmp_path):
    out = tmp_path / "run"
    result = cli.line(
        f"train {multiclass_csv} --target kind --layers 8 --epochs 3 --batchnorm --optimizer "
        f"sgd --out {out} --verbose 0"
    )
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((out / "model.json").read_text())
    assert manifest["task"] == "multiclass"
    assert manifest["model"]["n_outputs"] == 3


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd", "rmsprop"])
@pytest.mark.parametrize("loss", ["mae", "mse", "huber"])
def test_every_optimizer_and_regression_loss_trains(cli, regression_csv, tmp_path, optimizer, loss):
    out = tmp_path / "run"
    result = cli.line(
        f"train {regression_csv} --target y --layers 4 --epochs 2 --optimizer {optimizer} "
        f"--loss {loss} --activation gelu --out {out} --verbose 0"
    )
    assert result.exit_code == 0, result.stderr


def test_validation_data_file_replaces_the_split(cli, regression_csv, tmp_path):
    frame = pd.read_csv(regression_csv)
    frame.iloc[:90].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[90:].to_csv(tmp_path / "valid.csv", index=False)
    out = cli.train(
        tmp_path / "train.csv",
        "y",
        tmp_path / "run",
        f"--validation-data {tmp_path / 'valid.csv'} --epochs 2",
    )
    data = json.loads((out / "model.json").read_text())["data"]
    assert (data["train_rows"], data["validation_rows"]) == (90, 30)


def test_early_stopping_stops_and_reports(cli, regression_csv, tmp_path):
    out = tmp_path / "run"
    # an absurd min_delta means no epoch after the first ever counts as an improvement
    result = cli.line(
        f"train {regression_csv} --target y --layers 8 --epochs 50 --patience 3 --min-delta "
        f"100 --folds 1 --out {out} --verbose 2"
    )
    assert result.exit_code == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    # the auto recipe warms up for 5% of 50 epochs (3): they spend no patience, then 3 more
    assert (metrics["best_epoch"], metrics["epochs_run"]) == (1, 6)
    assert metrics["stop_reason"] == "early_stopping"
    assert "Stopped early after 6 epochs" in result.stderr
    assert "Best val_loss" in result.stderr and "at epoch 1; restored" in result.stderr


def test_piped_stderr_has_one_plain_line_per_epoch(cli, regression_csv, tmp_path):
    result = cli(
        "train",
        regression_csv,
        "--target",
        "y",
        "--layers",
        "4",
        "--epochs",
        "3",
        "--folds",
        "1",
        "--out",
        tmp_path / "run",
    )
    epoch_lines = [line for line in result.stderr.splitlines() if line.startswith("Epoch ")]
    assert [line.split(" - ")[0] for line in epoch_lines] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert "\r" not in result.stderr and "\x1b" not in result.stderr


def test_verbose_zero_is_silent(cli, regression_csv, tmp_path):
    result = cli(
        "train",
        regression_csv,
        "--target",
        "y",
        "--epochs",
        "2",
        "--verbose",
        "0",
        "--out",
        tmp_path / "run",
    )
    assert result.exit_code == 0 and result.stderr == ""


def test_default_run_directory_is_never_overwritten(cli, regression_csv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = cli("train", regression_csv, "--target", "y", "--epochs", "1", "--verbose", "0")
    second = cli("train", regression_csv, "--target", "y", "--epochs", "1", "--verbose", "0")
    assert first.stdout.strip() == str(Path("runs") / "reg")
    assert second.stdout.strip() == str(Path("runs") / "reg-2")


# ---- user errors: one line, exit code 2, nothing written ----------------------------------


def _no_run_written(tmp_path: Path) -> bool:
    return not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.*"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "yy"], "target column 'yy' not found in"),
        (["--target", "nothing_like_it"], "available columns: a, b, c, constant, y"),
        (["--target", "y", "--layers", "64,x"], "--layers '64,x' is not a list of positive widths"),
        (
            ["--target", "y", "--layers", "64,-2"],
            "--layers '64,-2' is not a list of positive widths",
        ),
        (["--target", "y", "--validation-split", "0"], "--validation-split must be in (0.0, 1.0)"),
        (
            ["--target", "y", "--validation-split", "1.5"],
            "--validation-split must be in (0.0, 1.0)",
        ),
        (
            ["--target", "y", "--loss", "bce"],
            "needs a target with two values; 'y' has 96 distinct values",
        ),
        (["--target", "y", "--loss", "crossentropy"], "holds continuous numbers, not class labels"),
        (["--target", "y", "--loss", "hinge"], "Invalid value for '--loss'"),
        (["--target", "y", "--epochs", "0"], "--epochs must be in [1, 1000000], got 0"),
        (["--target", "y", "--lyers", "4"], "No such option: --lyers"),
        (["--target", "y", "--monitor", "val_accuracy"], "--monitor val_accuracy is not recorded"),
        (["--target", "y", "--drop", "zz"], "--drop column 'zz' not found"),
        (["--target", "y", "--device", "cuda"], "cuda"),
        (["--target", "y", "--dropout", "1"], "--dropout must be in [0.0, 1.0)"),
        (["--target", "y", "--ema", "1"], "--ema must be in [0.0, 1.0)"),
        (["--target", "y", "--embedding", "fourier"], "Invalid value for '--embedding'"),
    ],
)
def test_user_errors_are_one_line(cli, regression_csv, tmp_path, args, message):
    import torch

    if "cuda" in args and torch.cuda.is_available():
        pytest.skip("a GPU is present")
    result = cli("train", regression_csv, *args, "--out", tmp_path / "out")
    assert_user_error(result, message)
    assert _no_run_written(tmp_path)


def test_missing_target_option(cli, regression_csv):
    assert_user_error(cli("train", regression_csv), "Missing option '--target'")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("a,b,y\n", "has a header but no data rows"),
        ("a,b,y\n1,2,3\n4,5,6,7,8\n", "malformed CSV"),
        ("\x00\x01\x02binary", "is not a text file"),
    ],
)
def test_bad_files(cli, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert_user_error(cli("train", path, "--target", "y", "--out", tmp_path / "out"), message)
    assert _no_run_written(tmp_path)


def test_missing_file(cli, tmp_path):
    assert_user_error(cli("train", tmp_path / "nope.csv", "--target", "y"), "no such file")


def test_existing_out_is_refused_before_training(cli, regression_csv, tmp_path):
    (tmp_path / "out").mkdir()
    result = cli("train", regression_csv, "--target", "y", "--out", tmp_path / "out")
    assert_user_error(result, "already exists; choose another --out or remove it")


def test_single_class_target(cli, tmp_path):
    path = tmp_path / "one.csv"
    pd.DataFrame({"x": range(20), "y": ["a"] * 20}).to_csv(path, index=False)
    assert_user_error(cli("train", path, "--target", "y"), "has a single value")


def test_too_few_rows_for_the_split(cli, tmp_path):
    path = tmp_path / "tiny.csv"
    pd.DataFrame({"x": [1.0, 2.0], "y": [1.0, 2.0]}).to_csv(path, index=False)
    assert_user_error(cli("train", path, "--target", "y"), "too few for --validation-split")


def _ctrl_c_in_epoch(monkeypatch, interrupted: int) -> None:
    """Makes the progress callback raise KeyboardInterrupt, as Ctrl-C does, in ``epoch``.
    The recipe's bagged members train in turn here: a Ctrl-C then interrupts the member in
    training at that epoch (beside worker processes, it stops them wherever they are:
    tests/test_member_processes.py)."""
    import tabnet_cli.jobs.ensemble as ensemble
    from tabnet_cli.report.progress import KerasProgress

    monkeypatch.setattr(ensemble, "member_processes", lambda *args: 1)

    original = KerasProgress.on_epoch_begin

    def on_epoch_begin(self, *, epoch: int, **context):
        if epoch == interrupted:
            raise KeyboardInterrupt
        original(self, epoch=epoch, **context)

    monkeypatch.setattr(KerasProgress, "on_epoch_begin", on_epoch_begin)


def test_ctrl_c_saves_the_completed_epochs_and_exits_130(
    cli, regression_csv, tmp_path, monkeypatch
):
    _ctrl_c_in_epoch(monkeypatch, 3)
    out = tmp_path / "run"
    result = cli.line(f"train {regression_csv} --target y --epochs 9 --out {out}")
    assert result.exit_code == 130
    assert "Interrupted after 2 complete epochs; saving." in result.stderr
    assert result.stdout.strip() == str(out)
    assert json.loads((out / "metrics.json").read_text())["epochs_run"] == 2


def test_ctrl_c_in_the_first_epoch_writes_nothing(cli, regression_csv, tmp_path, monkeypatch):
    _ctrl_c_in_epoch(monkeypatch, 1)
    result = cli.line(f"train {regression_csv} --target y --out {tmp_path}/run")
    assert result.exit_code == 130
    assert result.stderr.splitlines()[-1] == (
        "Interrupted before the run was saved; nothing was written."
    )
    assert not (tmp_path / "run").exists() and not list(tmp_path.glob(".run.*"))


def test_nan_loss_after_some_epochs_keeps_the_best_and_says_so(
    cli, regression_csv, tmp_path, monkeypatch
):
    import torch

    from tabnet_cli.report.progress import KerasProgress

    original = KerasProgress.on_epoch_end

    def poison_after_epoch_2(self, *, epoch, logs, **context):
        original(self, epoch=epoch, logs=logs, **context)
        if epoch == 2:
            with torch.no_grad():
                for parameter in self.model.parameters():
                    parameter.fill_(float("nan"))

    monkeypatch.setattr(KerasProgress, "on_epoch_end", poison_after_epoch_2)
    out = tmp_path / "run"
    result = cli.line(
        f"train {regression_csv} --target y --epochs 9 --folds 1 --out {out} --verbose 2"
    )
    assert result.exit_code == 0, result.stderr
    assert "Stopped after 2 epochs: the loss became NaN or infinite in the next one" in (
        result.stderr
    )
    assert json.loads((out / "metrics.json").read_text())["stop_reason"] == "non_finite"
    assert cli.line(f"predict {out} {regression_csv}").exit_code == 0  # finite weights kept


def test_validation_file_missing_a_feature(cli, regression_csv, tmp_path):
    pd.read_csv(regression_csv).drop(columns=["a"]).to_csv(tmp_path / "v.csv", index=False)
    result = cli.line(f"train {regression_csv} --target y --validation-data {tmp_path}/v.csv")
    assert_user_error(result, f"feature column 'a' not found in {tmp_path}/v.csv")
