"""`tabnet train --log-format jsonl`: one JSON event per line on stderr, nothing else."""

import io
import json

from tabnet_cli.report.events import EpochEvents, JsonLines, outcome_events


def events_of(stderr: str) -> list[dict]:
    return [json.loads(line) for line in stderr.splitlines()]  # every line must parse


def test_one_epoch_event_per_epoch_and_the_run_path_on_stdout(cli, regression_csv, tmp_path):
    out = tmp_path / "run"
    result = cli.line(
        f"train {regression_csv} --target y --recipe plain --layers 4 --epochs 2 "
        f"--verbose 2 --log-format jsonl --out {out}"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{out}\n"
    events = events_of(result.stderr)
    names = [e["event"] for e in events]
    assert names == ["start", "note", "train_begin", "epoch", "epoch", "saved"]
    assert [e["epoch"] for e in events if e["event"] == "epoch"] == [1, 2]
    assert set(events[3]["logs"]) == {"loss", "mae", "mse", "val_loss", "val_mae", "val_mse"}
    start = events[0]
    assert start["config"]["arch"]["layers"] == [4] and start["recipe"] == "plain"
    assert "constant" in events[1]["message"]  # the ignored column's note, as an event
    assert events[2]["train_config"]["loss"] == "mae"  # resolved from the task
    assert events[-1]["path"] == str(out) and events[-1]["metrics"]["epochs_run"] == 2
    assert all(isinstance(e["time"], float) for e in events)


def test_early_stop_event(cli, regression_csv, tmp_path):
    result = cli.line(
        f"train {regression_csv} --target y --recipe plain --layers 4 --epochs 20 "
        f"--patience 1 --min-delta 100 --log-format jsonl --out {tmp_path}/run"
    )
    assert result.exit_code == 0, result.stderr
    events = events_of(result.stderr)
    stop = [e for e in events if e["event"] == "early_stop"]
    assert len(stop) == 1 and stop[0]["epoch"] == 2 and stop[0]["best_epoch"] == 1
    assert [e["event"] for e in events][-2:] == ["early_stop", "saved"]


def test_a_user_error_is_an_error_event(cli, regression_csv, tmp_path):
    result = cli.line(f"train {regression_csv} --target nope --log-format jsonl --out {tmp_path}/r")
    assert result.exit_code == 2 and result.stdout == ""
    events = events_of(result.stderr)
    assert events[-1]["event"] == "error" and "'nope' not found" in events[-1]["message"]
    assert not (tmp_path / "r").exists()


def test_plot_is_refused_in_jsonl_mode(cli, regression_csv, tmp_path):
    result = cli.line(f"train {regression_csv} --target y --log-format jsonl --plot")
    assert result.exit_code == 2
    assert events_of(result.stderr)[-1]["event"] == "error"


def test_non_finite_logs_are_null_and_outcomes_are_ordered():
    out = io.StringIO()
    events = EpochEvents(JsonLines(out, clock=lambda: 2.0))
    events.on_train_begin(epochs=3, steps_per_epoch=2, fold=1)  # unknown context is fine
    events.on_epoch_end(epoch=1, logs={"loss": float("inf")})
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines == [
        {"event": "train_begin", "time": 2.0, "epochs": 3, "steps_per_epoch": 2},
        {"event": "epoch", "time": 2.0, "epoch": 1, "logs": {"loss": None}},
    ]
    completed = outcome_events({"stop_reason": "completed"}, "runs/x")
    assert completed == [("saved", {"path": "runs/x", "metrics": {"stop_reason": "completed"}})]


def test_the_start_event_shows_the_recipe_and_members_are_named(cli, regression_csv, tmp_path):
    result = cli.line(
        f"train {regression_csv} --target y --layers 4 --epochs 1 --log-format jsonl "
        f"--out {tmp_path}/run"
    )  # the auto recipe: a bagged ensemble of 5 on so few rows
    assert result.exit_code == 0, result.stderr
    events = events_of(result.stderr)
    start = events[0]
    assert start["recipe"] == "auto"
    train = start["config"]["train"]
    assert (train["optimizer"], train["lr"], train["schedule"]) == ("adamw", 0.002, "cosine")
    assert start["from_data"] == ["loss", "batch_size", "label_smoothing", "patience"]
    assert train["batch_size"] is None and train["epochs"] == 1  # given: not from the data
    begins = [e for e in events if e["event"] == "train_begin"]
    assert [e["member"] for e in begins] == [1, 2, 3, 4, 5]
    assert begins[0]["train_config"]["batch_size"] == 32  # resolved from the rows
    assert begins[0]["train_config"]["patience"] == 10  # no dropout on so few rows
    epochs = [(e["member"], e["epoch"]) for e in events if e["event"] == "epoch"]
    assert epochs == [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1)]


def test_a_single_network_has_no_member(cli, regression_csv, tmp_path):
    result = cli.line(
        f"train {regression_csv} --target y --recipe plain --layers 4 --epochs 1 "
        f"--log-format jsonl --out {tmp_path}/run"
    )
    events = events_of(result.stderr)
    assert events[0]["from_data"] == ["loss"] and events[0]["config"]["train"]["loss"] is None
    assert all("member" not in e for e in events)
