"""`tabnet cv` and `tabnet tune` take train's options: their help reads like train's, and
the train options they cannot honour are refused, not ignored."""

import pytest
from conftest import assert_user_error

from tabnet_cli.cli import app


@pytest.mark.parametrize("command", ["cv", "tune"])
def test_help_is_plain_and_fits_80_columns(cli, command):
    result = cli.runner.invoke(
        app, [command, "--help"], env={"COLUMNS": "80"}, terminal_width=80, prog_name="tabnet"
    )
    assert result.exit_code == 0
    text = result.stdout
    for placeholder in ("<bool>", "<str>", "<int", "<float", "<path>", "<list", "…", "\\["):
        assert placeholder not in text, placeholder
    assert max(len(line) for line in text.splitlines()) <= 80
    for refused in ("--nproc", "--log-format", "--plot"):
        assert refused not in text.split("Options:")[1], refused  # not listed as taken


@pytest.mark.parametrize("command", ["cv", "tune"])
@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--nproc", "2"], "--nproc is an option of tabnet train; tabnet {command} trains in one"),
        (["--log-format", "jsonl"], "--log-format is an option of tabnet train; tabnet {command}"),
        (
            ["--memory-budget", "1KB"],
            "in memory, and tabnet {command} does not stream yet; train on a sample of the rows",
        ),
    ],
)
def test_train_options_they_cannot_honour_are_refused(
    cli, regression_csv, tmp_path, command, option, message
):
    pytest.importorskip("optuna")
    out = tmp_path / "out"
    result = cli(command, regression_csv, "--target", "y", "--out", out, *option)
    assert_user_error(result, message.format(command=command))
    assert not out.exists()
