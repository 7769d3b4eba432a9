"""config.toml in every run, and `tabnet train --config FILE` reproducing it."""

from __future__ import annotations

import json

import pytest
from conftest import assert_user_error

FAST = "--recipe plain --layers 4 --epochs 2 --verbose 0"


def test_config_file_reproduces_the_run_byte_for_byte(cli, binary_csv, tmp_path):
    first = tmp_path / "first"
    result = cli.line(
        f"train {binary_csv} --target label --layers 4 --epochs 2 --verbose 0 "
        f"--dropout 0.1 --out {first}"
    )  # the auto recipe: it fills the rest
    assert result.exit_code == 0, result.stderr
    again = tmp_path / "again"
    result = cli("train", "--config", first / "config.toml", "--out", again, "--verbose", "0")
    assert result.exit_code == 0, result.stderr
    assert (again / "history.csv").read_bytes() == (first / "history.csv").read_bytes()
    assert (again / "config.toml").read_text() == (first / "config.toml").read_text()


def test_config_file_holds_every_resolved_setting(cli, regression_csv, tmp_path):
    import tomllib

    run = cli.train(regression_csv, "y", tmp_path / "run", "--layers 4 --epochs 2 --recipe auto")
    config = tomllib.loads((run / "config.toml").read_text())
    assert config["recipe"] == "auto"
    assert config["source"] == str(regression_csv.resolve())
    assert config["data"]["task"] == "regression" and config["data"]["scale"] == "robust"
    assert (config["train"]["loss"], config["train"]["huber_delta"]) == ("huber", 4.0)
    assert config["train"]["optimizer"] == "adamw"
    assert config["arch"]["layers"] == [4]
    assert set(config["train"]) >= {"lr", "batch_size", "epochs", "seed", "class_weight"}


def test_command_line_options_override_the_file_and_the_recipe_leaves_it(
    cli, regression_csv, tmp_path
):
    path = tmp_path / "settings.toml"
    path.write_text('recipe = "auto"\n[arch]\nlayers = [3]\n[train]\nepochs = 2\nlr = 0.05\n')
    out = tmp_path / "run"
    result = cli(
        "train",
        regression_csv,
        "--target",
        "y",
        "--config",
        path,
        "--lr",
        "0.01",
        "--out",
        out,
        "--verbose",
        "0",
    )
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((out / "model.json").read_text())
    assert manifest["model"]["arch"]["layers"] == [3]  # from the file, not the recipe's
    assert manifest["train_config"]["lr"] == 0.01  # the command line wins
    assert manifest["train_config"]["epochs"] == 2
    assert manifest["train_config"]["optimizer"] == "adamw"  # the recipe fills the rest
    assert set(manifest["explicit"]) >= {"layers", "epochs", "lr", "target"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[train]\nlrr = 0.1\n", "train: unknown field 'lrr'"),
        ("[train]\nlr = 'fast'\n", "train.lr: expected float, got str 'fast'"),
        ("[train]\nlr = -1.0\n", "train: --lr must be in (0.0, inf), got -1.0"),
        ("[arch]\nactivation = 'os.system'\n", "--activation 'os.system' is not one of"),
        ("[model]\nx = 1\n", "unknown key 'model'"),
        ("[train\n", "is not valid TOML"),
        ("recipe = 3\n", "recipe: expected a string"),
    ],
)
def test_bad_config_files_are_one_line_errors_naming_the_key(
    cli, regression_csv, tmp_path, content, message
):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    result = cli(
        "train",
        regression_csv,
        "--target",
        "y",
        "--config",
        path,
        *FAST.split(),
        "--out",
        tmp_path / "out",
    )
    assert_user_error(result, message)
    assert not (tmp_path / "out").exists()


def test_missing_config_file_and_missing_data(cli, tmp_path):
    assert_user_error(cli("train", "--config", tmp_path / "no.toml"), "no such file")
    path = tmp_path / "c.toml"
    path.write_text("[data]\ntarget = 'y'\n")
    assert_user_error(cli("train", "--config", path), "Missing argument 'DATA'")


def test_train_without_data_says_so_first(cli):
    assert_user_error(cli("train"), "Missing argument 'DATA'")


def _fifo_with_a_silent_writer(path):
    """A FIFO whose writer opens it as soon as someone reads, then closes it: a reader
    that waited would get an empty file instead of hanging the test."""
    import os
    import threading
    import time

    os.mkfifo(path)

    def writer():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
                return
            except OSError:  # ENXIO: no reader yet
                time.sleep(0.05)

    threading.Thread(target=writer, daemon=True).start()
    return path


def _odd_settings_files(tmp_path):
    """Settings files that are not small regular TOML files, with what the error says."""
    deep = tmp_path / "deep.toml"
    deep.write_text("[train]\nlr = " + "[" * 5000 + "]" * 5000 + "\n")
    big = tmp_path / "big.toml"
    big.write_text("#" * (2 << 20) + "\n")
    return [
        (deep, "is nested too deeply to be a settings file"),
        (big, "is larger than 1 MiB; a settings file is a few lines of TOML"),
        (_fifo_with_a_silent_writer(tmp_path / "fifo.toml"), "is a named pipe (FIFO), not a file"),
        ("/dev/zero", "is a device, not a file; give a TOML file"),
        (tmp_path, "is a directory, not a file"),
    ]


def test_config_files_that_are_not_small_regular_files_are_one_line(cli, regression_csv, tmp_path):
    for path, message in _odd_settings_files(tmp_path):
        result = cli("train", regression_csv, "--target", "y", "--config", path, *FAST.split())
        assert_user_error(result, f"--config {path} {message}")


def test_space_files_that_are_not_small_regular_files_are_one_line(cli, regression_csv, tmp_path):
    pytest.importorskip("optuna")
    for path, message in _odd_settings_files(tmp_path):
        result = cli("tune", regression_csv, "--target", "y", "--space", path, "--trials", "1")
        assert_user_error(result, f"--space {path} {message}")
    bad = tmp_path / "bad.toml"
    bad.write_text("lr = [1, 2]\n")  # a list where the run needs a number
    assert_user_error(
        cli("tune", regression_csv, "--target", "y", "--space", bad, "--trials", "1"),
        f"{bad}: lr: [1, 2] is not a valid value",
    )
