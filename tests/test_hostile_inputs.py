"""Property tests with hostile input: random bytes, random option values and random
tables given to train, predict and evaluate. The only outcomes allowed are success or one
``Error:`` line with exit code 2: never a traceback, never an empty prediction cell."""

import io
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties import tables

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
FEW = settings(SETTINGS, max_examples=8)  # each example starts processes or streams
NUMBERS = st.sampled_from(
    ["nan", "inf", "-inf", "-1", "0", "1e308", "99999999999999999999", "0.5", "abc", "", "-0"]
)
TRAIN_OPTIONS = st.sampled_from(
    [
        "--layers",
        "--activation",
        "--dropout",
        "--loss",
        "--huber-delta",
        "--optimizer",
        "--lr",
        "--schedule",
        "--warmup",
        "--weight-decay",
        "--momentum",
        "--beta2",
        "--label-smoothing",
        "--batch-size",
        "--patience",
        "--min-delta",
        "--monitor",
        "--validation-split",
        "--scale",
        "--clip",
        "--target-scale",
        "--task",
        "--seed",
        "--threads",
        "--recipe",
        "--drop",
        "--features",
        "--categorical",
        "--numeric",
        "--na-values",
        "--device",
    ]
)  # fmt: skip  (--epochs left out: a huge value is valid and would only take long)


def assert_clean(result) -> None:
    """Success, or exactly one ``Error:`` line and exit 2; never a traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    if result.exit_code == 2:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
        return
    assert result.exit_code == 0, (result.exit_code, result.stderr, result.exception)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    from conftest import Cli

    folder = tmp_path_factory.mktemp("hostile")
    frame = pd.DataFrame(
        {"a": [0.1, 0.5, 0.9, 0.3] * 10, "c": ["x", "y"] * 20, "y": ["p", "q", "q", "p"] * 10}
    )
    frame.to_csv(folder / "train.csv", index=False)
    run = Cli().train(folder / "train.csv", "y", folder / "run", "--layers 4 --epochs 1")
    return folder, run


@SETTINGS
@given(blob=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".csv.gz", ".parquet"]))
def test_random_bytes_are_refused_in_one_line(cli, hostile_run, tmp_path_factory, blob, suffix):
    folder, run = hostile_run
    path = tmp_path_factory.mktemp("bytes") / f"data{suffix}"
    path.write_bytes(blob)
    out = path.parent / "out"
    assert_clean(cli("train", str(path), "--target", "y", "--epochs", "1", "--out", str(out)))
    for command in ("predict", "evaluate"):
        assert_clean(cli(command, str(run), str(path)))


@SETTINGS
@given(options=st.lists(st.tuples(TRAIN_OPTIONS, NUMBERS), min_size=1, max_size=3))
def test_random_option_values_train_or_fail_in_one_line(cli, hostile_run, options):
    folder, _ = hostile_run
    args = ["train", str(folder / "train.csv"), "--target", "y", "--epochs", "1"]
    args += ["--layers", "4", "--verbose", "0", "--out", str(folder / "never-kept")]
    for name, value in options:
        args += [name, value]
    result = cli(*args)
    assert_clean(result)
    if result.exit_code == 0:
        import shutil

        shutil.rmtree(folder / "never-kept")


@SETTINGS
@given(frame=tables())
def test_predict_and_evaluate_on_random_tables(cli, hostile_run, tmp_path_factory, frame):
    _, run = hostile_run
    path = tmp_path_factory.mktemp("tables") / "new.csv"
    frame = frame.rename(columns={frame.columns[0]: "a"})
    frame.to_csv(path, index=False)
    predicted = cli("predict", str(run), str(path))
    assert_clean(predicted)
    if predicted.exit_code == 0:
        output = pd.read_csv(io.StringIO(predicted.stdout), keep_default_na=False)
        assert (output["y"] != "").all()  # never an empty prediction cell
    assert_clean(cli("evaluate", str(run), str(path)))


@FEW
@given(frame=tables(), files=st.integers(1, 3), batch=st.integers(1, 40))
def test_streamed_training_on_random_tables_trains_or_fails_in_one_line(
    cli, tmp_path_factory, frame, files, batch
):
    """A folder of random CSVs trained under a budget that forces streaming."""
    folder = tmp_path_factory.mktemp("streamed")
    for index, part in enumerate(np.array_split(np.arange(len(frame)), files)):
        frame.iloc[part].to_csv(folder / f"part-{index}.csv", index=False)
    out = tmp_path_factory.mktemp("out") / "run"
    result = cli(
        "train", str(folder), "--target", "y", "--memory-budget", "1KiB", "--epochs", "1",
        "--batch-size", str(batch), "--layers", "4", "--recipe", "plain", "--verbose", "0",
        "--out", str(out),
    )  # fmt: skip
    assert_clean(result)
    assert result.exit_code != 0 or (out / "model.json").exists()


EXPORT_TARGETS = st.sampled_from(["new", "existing", "fifo", "link", "folder", "in-run", "run"])


@SETTINGS
@given(target=EXPORT_TARGETS)
def test_export_targets_are_written_safely_or_refused_in_one_line(
    cli, hostile_run, tmp_path_factory, target
):
    pytest.importorskip("onnx")
    _, run = hostile_run
    place = tmp_path_factory.mktemp("export")
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    path = {
        "new": place / "model.onnx", "existing": place / "old.onnx", "fifo": place / "pipe",
        "link": place / "link.onnx", "folder": place, "in-run": run / "model.onnx", "run": run,
    }[target]  # fmt: skip
    if target == "existing":
        path.write_bytes(b"old")
    elif target == "link":
        (place / "real.onnx").write_bytes(b"old")
        path.symlink_to(place / "real.onnx")
    if target == "fifo":  # a reader, or writing through the FIFO would wait forever
        os.mkfifo(path)
        reader = subprocess.Popen(["cat", str(path)], stdout=subprocess.DEVNULL)
    assert_clean(cli("export", str(run), "-o", str(path)))
    if target == "fifo":
        reader.wait(timeout=30)
        assert path.is_fifo()
    if target == "link":
        assert path.is_symlink()
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before  # the run is intact


COMMANDS = st.sampled_from([["--version"], ["--help"], ["info", "{run}"], ["curves", "{run}",
    "--table"], ["predict", "{run}", "{data}"], ["evaluate", "{run}", "{data}"]])  # fmt: skip


@FEW
@given(command=COMMANDS, failure=st.sampled_from(["full", "closed"]))
def test_a_failing_stdout_is_one_line_or_a_quiet_141(hostile_run, command, failure):
    folder, run = hostile_run
    args = [a.format(run=run, data=folder / "train.csv") for a in command]
    argv = [sys.executable, "-m", "tabnet_cli", *args]
    if failure == "full":
        with open("/dev/full", "w") as full:
            done = subprocess.run(argv, stdout=full, stderr=subprocess.PIPE, text=True)
        errors = [line for line in done.stderr.splitlines() if not line.startswith("Warning: ")]
        assert done.returncode == 2, done.stderr
        assert len(errors) == 1 and errors[0].startswith("Error: cannot write <stdout>")
        return
    reader, writer = os.pipe()
    os.close(reader)  # the reader went away before the command wrote anything
    done = subprocess.run(argv, stdout=writer, stderr=subprocess.PIPE, text=True)
    os.close(writer)
    assert done.returncode == 141, done.stderr  # quiet: at most the command's own warnings
    assert all(line.startswith("Warning: ") for line in done.stderr.splitlines())


@FEW
@given(options=st.lists(st.tuples(TRAIN_OPTIONS, NUMBERS), min_size=1, max_size=2))
def test_nproc_with_random_option_values_trains_or_fails_in_one_line(hostile_run, options):
    """Under --nproc, what a rank would refuse is one line from the launcher, too."""
    folder, _ = hostile_run
    out = folder / "nproc-run"
    args = ["train", str(folder / "train.csv"), "--target", "y", "--epochs", "1", "--nproc", "2"]
    args += ["--layers", "4", "--verbose", "0", "--device", "cpu", "--out", str(out)]
    for name, value in options:
        args += [name, value]
    done = subprocess.run(
        [sys.executable, "-m", "tabnet_cli", *args], capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in done.stderr, done.stderr
    if done.returncode == 2:
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    else:
        assert done.returncode == 0, done.stderr
        import shutil

        shutil.rmtree(out)
