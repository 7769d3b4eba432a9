"""`tabnet curves`: plots compared exactly against snapshots, tables, and errors.

To refresh a snapshot after a deliberate change of the picture, delete the file under
tests/snapshots/ and run the tests once: the missing snapshot is written (and the test fails
so that the new picture is looked at).
"""

from pathlib import Path

import pytest
from conftest import assert_user_error

SNAPSHOTS = Path(__file__).parent / "snapshots"

HISTORY_A = """epoch,loss,val_loss,accuracy,val_accuracy
1,0.69,0.70,0.50,0.48
2,0.60,0.62,0.62,0.60
3,0.52,0.55,0.71,0.69
4,0.45,0.50,0.78,0.75
5,0.40,0.48,0.82,0.79
6,0.36,0.47,0.85,0.80
7,0.33,0.48,0.87,0.80
8,0.30,0.50,0.89,0.79
"""

HISTORY_B = """epoch,loss,val_loss,accuracy,val_accuracy
1,0.68,0.69,0.55,0.52
2,0.50,0.56,0.70,0.66
3,0.40,0.49,0.80,0.76
4,0.31,0.47,0.86,0.81
5,0.25,0.49,0.90,0.80
"""


@pytest.fixture
def runs(tmp_path):
    paths = []
    for name, text, best in (("small", HISTORY_A, 6), ("big", HISTORY_B, 4)):
        run = tmp_path / name
        run.mkdir()
        (run / "history.csv").write_text(text)
        (run / "metrics.json").write_text(f'{{"best_epoch": {best}, "kept_epoch": {best}}}')
        paths.append(run)
    return paths


def check_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if not path.exists():
        path.write_text(text)
        pytest.fail(f"wrote new snapshot {path}; look at it and run again")
    assert text == path.read_text()


def test_one_run_loss_and_accuracy_panels(cli, runs):
    result = cli("curves", runs[0], "--width", "60", "--height", "30")
    assert result.exit_code == 0, result.stderr
    check_snapshot("one_run.txt", result.stdout)
    assert "small: loss" in result.stdout and "small: accuracy" in result.stdout
    assert "│ best epoch 6" in result.stdout


def test_two_runs_overlay_with_a_key(cli, runs):
    result = cli("curves", *runs, "--metrics", "loss", "--width", "60", "--height", "16")
    assert result.exit_code == 0, result.stderr
    check_snapshot("two_runs.txt", result.stdout)
    assert "small vs big: loss" in result.stdout
    assert "small: • training  + validation  │ best epoch 6" in result.stdout
    assert "big: o training  x validation  │ best epoch 4" in result.stdout


def test_plain_text_without_escape_codes_when_not_a_terminal(cli, runs, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    result = cli("curves", runs[0], "--width", "50", "--height", "20")
    assert "\x1b" not in result.stdout


def test_log_scale_and_from_epoch(cli, runs):
    result = cli.line(
        f"curves {runs[0]} --metrics loss --from-epoch 3 --log-y --width 60 --height 14"
    )
    assert result.exit_code == 0, result.stderr
    assert "(log scale)" in result.stdout
    axis_line = [line for line in result.stdout.splitlines() if line.strip().startswith("3")]
    assert axis_line, result.stdout  # the x axis starts at epoch 3


def test_output_file(cli, runs, tmp_path):
    target = tmp_path / "plot.txt"
    result = cli("curves", runs[0], "--width", "60", "--height", "30", "--output", target)
    assert result.exit_code == 0 and result.stdout == ""
    assert target.read_text() == (SNAPSHOTS / "one_run.txt").read_text()


def test_table(cli, runs):
    result = cli("curves", runs[0], "--table", "--metrics", "loss", "--from-epoch", "5")
    assert result.stdout == (
        "epoch  loss    val_loss\n"
        "5      0.4000  0.4800\n"
        "6*     0.3600  0.4700\n"
        "7      0.3300  0.4800\n"
        "8      0.3000  0.5000\n"
    )


def test_keras_csv_logger_history(cli, tmp_path):
    path = tmp_path / "training.log"  # CSVLogger: 0-based epochs, no metrics.json
    path.write_text(
        "epoch,accuracy,loss,val_accuracy,val_loss\n0,0.5,0.9,0.5,0.8\n"
        "1,0.6,0.7,0.6,0.6\n2,0.7,0.5,0.6,0.65\n"
    )
    result = cli("curves", path, "--table")
    assert [line.split() for line in result.stdout.splitlines()] == [
        ["epoch", "loss", "val_loss", "accuracy", "val_accuracy"],
        ["1", "0.9000", "0.8000", "0.5000", "0.5000"],
        ["2*", "0.7000", "0.6000", "0.6000", "0.6000"],  # lowest val_loss: the best epoch
        ["3", "0.5000", "0.6500", "0.7000", "0.6000"],
    ]


def test_errors(cli, runs, tmp_path):
    assert_user_error(cli("curves", tmp_path / "nope"), "no such run directory or history CSV")
    assert_user_error(
        cli("curves", runs[0], "--metrics", "mae"),
        "small has no metric 'mae'; available: loss, accuracy",
    )
    single = tmp_path / "single.csv"
    single.write_text("epoch,loss,val_loss\n1,0.5,0.6\n")
    assert_user_error(cli("curves", single), "fewer than two epochs")
    assert cli("curves", single, "--table").exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("loss,val_loss\n0.5,0.6\n")
    assert_user_error(cli("curves", bad), "is not a history CSV")


def _history(tmp_path, rows: str) -> Path:
    path = tmp_path / "history.csv"
    path.write_text("epoch,loss,val_loss\n" + rows)
    return path


def test_values_a_linear_plot_cannot_hold_are_left_out_with_a_note(cli, tmp_path):
    path = _history(tmp_path, "1,1e308,-1e308\n2,0.5,0.4\n3,0.3,0.2\n4,0.2,0.25\n")
    result = cli("curves", path, "--width", "40", "--height", "12")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "Note: left out 2 values beyond +-1e+300 (--table lists them)\n"
    assert "history: loss" in result.stdout
    table = cli("curves", path, "--table")
    assert table.stdout.splitlines()[1].split() == ["1*", "1.0000e+308", "-1.0000e+308"]


def test_log_y_leaves_out_zero_and_negative_values_with_a_note(cli, tmp_path):
    path = _history(tmp_path, "1,1.0,0\n2,0.5,-0.4\n3,0.3,0.2\n4,0.2,0.1\n")
    result = cli("curves", path, "--log-y", "--width", "40", "--height", "12")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        "Note: left out 2 values <= 0, which a log scale cannot show (--table lists them)\n"
    )
    assert "(log scale)" in result.stdout
    nothing = _history(tmp_path, "1,0,0\n2,-1,0.5\n3,0.5,0.2\n")
    assert_user_error(
        cli("curves", nothing, "--log-y"),
        "history has fewer than two positive values of loss from epoch 1: no curve to draw",
    )


def test_plotexts_own_warning_is_a_plain_note(cli, tmp_path, monkeypatch):
    """plotext warns in colour on stderr when values are too close to tell apart; with
    NO_COLOR (and stderr not a terminal) it must be plain, and one of ours."""
    monkeypatch.setenv("NO_COLOR", "1")
    close = "1e16,1e16\n2,10000000000000002,10000000000000002\n3,10000000000000004,1e16\n"
    result = cli("curves", _history(tmp_path, "1," + close), "--log-y", "--width", "40")
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stderr and "\x1b" not in result.stdout
    assert result.stderr.startswith("Note: the values on the left y axis are too close")
