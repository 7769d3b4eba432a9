"""`tabnet tune`: optuna trials on one prepared data set, resumable, best retrained."""

from __future__ import annotations

import json
import sys

import pandas as pd
import pytest
from conftest import assert_user_error

optuna = pytest.importorskip("optuna")

SPACE = """depth = 1
width = { choices = [4, 8] }
batch_size = 32
lr = { low = 0.001, high = 0.05, log = true }
"""


@pytest.fixture
def space(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text(SPACE)
    return path


def _tune(cli, data, target, tmp_path, space, out, extra=""):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    return cli.line(
        f"tune {data} --target {target} --trials 2 --storage {storage} --space {space} "
        f"--recipe plain --epochs 3 --verbose 0 --out {out} {extra}"
    )


def test_tune_resumes_the_study_and_retrains_the_best(cli, binary_csv, tmp_path, space):
    first = _tune(cli, binary_csv, "label", tmp_path, space, tmp_path / "best-1")
    assert first.exit_code == 0, first.stderr
    assert first.stdout.strip() == str(tmp_path / "best-1")
    assert "setting" in first.stderr and "width=" in first.stderr  # the trials table
    second = _tune(cli, binary_csv, "label", tmp_path, space, tmp_path / "best-2")
    assert second.exit_code == 0, second.stderr
    study = optuna.load_study(
        study_name="tabnet-bin-label", storage=f"sqlite:///{tmp_path / 'study.db'}"
    )
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 4  # two runs of two trials accumulate
    metrics = json.loads((tmp_path / "best-2" / "metrics.json").read_text())
    assert metrics["best_value"] == pytest.approx(study.best_value, rel=1e-6)
    manifest = json.loads((tmp_path / "best-2" / "model.json").read_text())
    assert manifest["model"]["arch"]["layers"] == [study.best_params["width"]]
    assert manifest["train_config"]["lr"] == study.best_params["lr"]


def test_first_trial_is_the_recipe_setting(cli, regression_csv, tmp_path, space):
    result = _tune(cli, regression_csv, "y", tmp_path, space, tmp_path / "best", "--layers 8")
    assert result.exit_code == 0, result.stderr
    study = optuna.load_study(
        study_name="tabnet-reg-y", storage=f"sqlite:///{tmp_path / 'study.db'}"
    )
    assert study.trials[0].params["width"] == 8 and study.trials[0].params["lr"] == 0.001


def test_ctrl_c_keeps_the_finished_trials(cli, binary_csv, tmp_path, space, monkeypatch):
    assert _tune(cli, binary_csv, "label", tmp_path, space, tmp_path / "a").exit_code == 0
    import tabnet_cli.fit.train

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tabnet_cli.fit.train, "train", interrupted)
    result = _tune(cli, binary_csv, "label", tmp_path, space, tmp_path / "b")
    assert result.exit_code == 130
    assert "Run again to go on" in result.stderr and not (tmp_path / "b").exists()
    study = optuna.load_study(
        study_name="tabnet-bin-label", storage=f"sqlite:///{tmp_path / 'study.db'}"
    )
    assert sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("depthh = 2\n", "unknown parameter 'depthh'"),
        ("lr = { low = 0.1, high = 0.01 }\n", "lr: needs numbers low <= high"),
        ("width = { choices = [] }\n", "width: choices must be a non-empty list"),
        ("depth = { low = 1.5, high = 3 }\n", "depth: low and high must be whole numbers"),
    ],
)
def test_bad_space_files(cli, binary_csv, tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_text(content)
    result = _tune(cli, binary_csv, "label", tmp_path, path, tmp_path / "out")
    assert_user_error(result, message)


def test_tune_without_optuna_says_how_to_install_it(cli, binary_csv, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    result = cli("tune", binary_csv, "--target", "label")
    assert_user_error(result, "tabnet tune needs the tune extra: pip install 'tabnet-cli[tune]'")


def test_bad_storage_is_one_line(cli, binary_csv, tmp_path, space):
    result = cli.line(
        f"tune {binary_csv} --target label --trials 1 --storage nosuch://x --space {space} "
        f"--verbose 0 --out {tmp_path / 'o'}"
    )
    assert_user_error(result, "--storage nosuch://x: cannot open the study")


def test_the_search_space_covers_the_embedding_and_starts_from_the_recipe():
    from tabnet_cli.jobs.search_space import DEFAULT_SPACE, recipe_values, trial_config
    from tabnet_cli.settings.config import DataConfig, RunConfig
    from tabnet_cli.settings.recipes import resolve_before_data

    assert DEFAULT_SPACE["embedding"].choices == ("none", "periodic")
    config = resolve_before_data(RunConfig(DataConfig(target="y")))
    assert recipe_values(config, DEFAULT_SPACE)["embedding"] == "periodic"
    assert trial_config(config, {"embedding": "none"}).arch.embedding == "none"


def test_a_study_is_not_reused_for_other_data(cli, regression_csv, tmp_path, space):
    first, second = tmp_path / "a" / "data.csv", tmp_path / "b" / "data.csv"
    for path in (first, second):
        path.parent.mkdir()
    frame = pd.read_csv(regression_csv)
    frame.to_csv(first, index=False)
    frame.iloc[::-1].to_csv(second, index=False)  # the same stem, other rows' order
    result = _tune(cli, first, "y", tmp_path, space, tmp_path / "run1")
    assert result.exit_code == 0, result.stderr
    result = _tune(cli, second, "y", tmp_path, space, tmp_path / "run2")
    assert_user_error(
        result, "study 'tabnet-data-y' was made for other trials (data sha256 "
    )  # fmt: skip
    assert "give --study-name NAME to start another study" in result.stderr
    assert not (tmp_path / "run2").exists()
    result = _tune(cli, second, "y", tmp_path, space, tmp_path / "run3", "--study-name other")
    assert result.exit_code == 0, result.stderr


def test_a_study_is_not_reused_for_another_task_or_target(cli, binary_csv, tmp_path, space):
    result = _tune(cli, binary_csv, "label", tmp_path, space, tmp_path / "run1")
    assert result.exit_code == 0, result.stderr
    result = _tune(
        cli, binary_csv, "label", tmp_path, space, tmp_path / "run2", "--loss crossentropy"
    )
    assert_user_error(result, "(task 'binary', not 'multiclass'); give --study-name")
    result = _tune(
        cli,
        binary_csv,
        "colour",
        tmp_path,
        space,
        tmp_path / "run3",
        "--study-name tabnet-bin-label",
    )
    assert_user_error(result, "(target 'label', not 'colour'); give --study-name NAME")


def test_the_storage_password_is_not_shown(cli, binary_csv, tmp_path, space):
    result = cli.line(
        f"tune {binary_csv} --target label --trials 1 --space {space} --verbose 0 "
        f"--storage nosuch://bob:s3cret@db.example/optuna --out {tmp_path / 'o'}"
    )
    assert_user_error(result, "--storage nosuch://bob:***@db.example/optuna: cannot open")
    assert "s3cret" not in result.stderr
