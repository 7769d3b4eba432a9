"""`tabnet evaluate --fail-if`: a CI gate that exits 3 exactly when a condition holds."""

import json

import pytest
from conftest import assert_user_error

from tabnet_cli.score.gate import GATE_FAILED, failures, parse_condition


def model_metrics(cli, run, data) -> dict:
    result = cli("evaluate", run, data, "--json")
    assert result.exit_code == 0, result.stderr
    return {k: v["model"] for k, v in json.loads(result.stdout)["metrics"].items()}


def test_the_gate_fails_exactly_when_a_condition_holds(cli, trained_binary, binary_csv):
    accuracy = model_metrics(cli, trained_binary, binary_csv)["accuracy"]
    passing = cli(
        "evaluate", trained_binary, binary_csv, "--fail-if", f"accuracy<{accuracy - 0.01}"
    )
    assert passing.exit_code == 0, passing.stderr
    assert "accuracy" in passing.stdout
    assert "Failed" not in passing.stderr  # only the training-file warning
    failing = cli(
        "evaluate", trained_binary, binary_csv,
        "--fail-if", f"accuracy < {accuracy + 0.01}",
        "--fail-if", "loss>1000",
        "--fail-if", f"accuracy<={accuracy}",
    )  # fmt: skip
    assert failing.exit_code == GATE_FAILED == 3
    assert "accuracy" in failing.stdout  # the report is still printed
    assert [x for x in failing.stderr.splitlines() if not x.startswith("Warning")] == [
        f"Failed: accuracy {accuracy:.4f} < {accuracy + 0.01}",
        f"Failed: accuracy {accuracy:.4f} <= {accuracy}",
    ]


def test_the_gate_with_json_and_regression_metrics(cli, trained_regression, regression_csv):
    mae = model_metrics(cli, trained_regression, regression_csv)["mae"]
    result = cli("evaluate", trained_regression, regression_csv, "--json", "--fail-if", "mae>0")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["metrics"]["mae"]["model"] == mae
    assert result.stderr.splitlines()[-1] == f"Failed: mae {mae:.4f} > 0"
    ok = cli("evaluate", trained_regression, regression_csv, "--fail-if", "r2>=1.5")
    assert ok.exit_code == 0


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("accuracy=0.9", "--fail-if 'accuracy=0.9' is not a condition; write METRIC<VALUE"),
        ("accuracy<high", "is not a condition"),
        ("<0.9", "is not a condition"),
        ("acc<0.9", "no metric 'acc' for this model; valid names: loss, accuracy, log_loss"),
        ("mae>1", "no metric 'mae' for this model; valid names: loss, accuracy"),
    ],
)
def test_bad_conditions_are_user_errors(cli, trained_binary, binary_csv, condition, message):
    result = cli("evaluate", trained_binary, binary_csv, "--fail-if", condition)
    assert_user_error(result, message)


def test_an_unavailable_metric_fails_the_gate():
    lines = failures([parse_condition("roc_auc<0.5")], {"roc_auc": {"model": None}})
    assert lines == ["Failed: roc_auc is not available on these rows (roc_auc < 0.5)"]
