"""One data path: in-memory and streamed preparation make the same checks, notes and
errors (``prepare_seen``), and a prepared run holds only the rows it has."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import assert_user_error

from tabnet_cli.errors import DataError
from tabnet_cli.prep.prepare import holdout_split, prepare, read_source
from tabnet_cli.prep.streamed import prepare_streamed
from tabnet_cli.prep.types import Matrices, StreamPlan
from tabnet_cli.settings.config import DataConfig


def _frame(rows: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(rows, 2)), columns=["a", "b"])
    frame["constant"] = 1.0
    frame["k"] = np.where(frame.a > 0, "up", "down")
    frame["y"] = 2 * frame.a - frame.b
    return frame


def _in_memory(source: Path, config: DataConfig):
    table = read_source(str(source), config)
    return prepare(table, holdout_split(table, config, 0), config)


def _streamed(source: Path, config: DataConfig):
    return prepare_streamed(str(source), config, 0)


def _both_refuse(source: Path, config: DataConfig) -> str:
    """The message both preparations refuse ``source`` with: it must be the same."""
    messages = []
    for prepared in (_in_memory, _streamed):
        with pytest.raises(DataError) as refused:
            prepared(source, config)
        messages.append(str(refused.value))
    assert messages[0] == messages[1]
    return messages[0]


def test_no_feature_columns_is_the_same_error(tmp_path):
    path = tmp_path / "t.csv"
    _frame()[["a", "y"]].to_csv(path, index=False)
    message = _both_refuse(path, DataConfig(target="y", drop=("a",)))
    assert message == f"{path} has no feature columns besides the target 'y'"


def test_a_class_only_in_the_validation_file_is_the_same_error(tmp_path):
    frame = _frame()
    frame.to_csv(tmp_path / "train.csv", index=False)
    valid = pd.concat([frame.head(5), frame.head(2).assign(k="zebra")])
    valid.to_csv(tmp_path / "valid.csv", index=False)
    config = DataConfig(target="k", drop=("y",), validation_data=str(tmp_path / "valid.csv"))
    message = _both_refuse(tmp_path / "train.csv", config)
    assert message == (
        f"class 'zebra' of target 'k' appears only in the validation file {tmp_path}/valid.csv "
        "(2 row(s)), so the model cannot learn it; add rows of that class to the training "
        "file or remove them from the validation file"
    )


def test_a_validation_file_without_a_feature_is_the_same_error(tmp_path):
    _frame().to_csv(tmp_path / "train.csv", index=False)
    _frame(20).drop(columns="b").to_csv(tmp_path / "valid.csv", index=False)
    config = DataConfig(target="y", validation_data=str(tmp_path / "valid.csv"))
    message = _both_refuse(tmp_path / "train.csv", config)
    assert message.startswith(f"feature column 'b' not found in {tmp_path}/valid.csv")


def test_a_file_without_any_target_is_the_same_error(tmp_path):
    path = tmp_path / "t.csv"
    _frame().assign(y=np.nan).to_csv(path, index=False)
    assert _both_refuse(path, DataConfig(target="y")) == "every row's target 'y' is missing"


def test_both_preparations_say_the_same_notices(tmp_path):
    frame = _frame()
    frame.loc[[3, 7], "y"] = np.nan
    frame.to_csv(tmp_path / "train.csv", index=False)
    valid = _frame(20)
    valid.loc[0, "y"] = np.nan
    valid.to_csv(tmp_path / "valid.csv", index=False)
    config = DataConfig(target="y", drop=("k",), validation_data=str(tmp_path / "valid.csv"))
    in_memory = _in_memory(tmp_path / "train.csv", config)
    streamed = _streamed(tmp_path / "train.csv", config)
    assert (
        in_memory.notices
        == streamed.notices
        == [
            "dropped 2 row(s) whose target 'y' is missing",
            "dropped 1 row(s) whose target 'y' is missing",
            "ignored column 'constant': constant",
        ]
    )
    assert in_memory.task == streamed.task and in_memory.loss == streamed.loss == "mae"
    assert in_memory.schema == streamed.schema


def test_a_prepared_run_holds_matrices_or_a_plan_never_both(tmp_path):
    path = tmp_path / "t.csv"
    _frame().to_csv(path, index=False)
    config = DataConfig(target="y")
    in_memory, streamed = _in_memory(path, config), _streamed(path, config)
    assert isinstance(in_memory.rows, Matrices) and not in_memory.streamed
    assert in_memory.matrices.x_train.shape[0] == in_memory.provenance.train_rows
    assert isinstance(streamed.rows, StreamPlan) and streamed.streamed
    assert streamed.provenance.streamed and not in_memory.provenance.streamed
    with pytest.raises(TypeError, match="a streamed Prepared has no matrices"):
        streamed.matrices  # noqa: B018
    with pytest.raises(TypeError, match="an in-memory Prepared has no stream plan"):
        in_memory.plan  # noqa: B018


def test_the_cli_streams_into_the_same_validation_error(cli, tmp_path):
    frame = _frame()
    frame.to_csv(tmp_path / "train.csv", index=False)
    frame.head(3).assign(k="zebra").to_csv(tmp_path / "valid.csv", index=False)
    result = cli.line(
        f"train {tmp_path}/train.csv --target k --drop y --validation-data "
        f"{tmp_path}/valid.csv --memory-budget 1KiB --epochs 1"
    )
    assert_user_error(
        result,
        f"class 'zebra' of target 'k' appears only in the validation file {tmp_path}/valid.csv"
        " (3 row(s)), so the model cannot learn it; add rows of that class",
    )


@pytest.mark.parametrize("option", ["--drop", "--features", "--categorical", "--numeric"])
@pytest.mark.parametrize("budget", ["auto", "1KiB"])  # in memory, streamed
def test_an_option_naming_the_target_is_one_line(cli, regression_csv, tmp_path, option, budget):
    result = cli.line(
        f"train {regression_csv} --target y {option} a,y --memory-budget {budget} --epochs 1 "
        f"--out {tmp_path / 'run'}"
    )
    hint = " (--task multiclass makes a target classes)" if option == "--categorical" else ""
    assert_user_error(
        result,
        f"{option} names the target 'y', which is never an input; leave it out of {option}{hint}",
    )
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("budget", ["auto", "1KiB"])
def test_validation_data_that_is_the_training_file_is_one_line(
    cli, regression_csv, tmp_path, budget
):
    link = tmp_path / "same.csv"
    link.symlink_to(regression_csv)
    result = cli.line(
        f"train {regression_csv} --target y --validation-data {link} --memory-budget {budget} "
        f"--epochs 1 --out {tmp_path / 'run'}"
    )
    assert_user_error(
        result,
        f"--validation-data {link} is the training file itself: validating on the rows the "
        "network learns hides overfitting; give a file of other rows, or leave it out to "
        "validate on a --validation-split of the training file",
    )
