"""Property tests with hostile input: random bytes, random option values and random
tables given to train, predict and evaluate. The only outcomes allowed are success or one
``Error:`` line with exit code 2: never a traceback, never an empty prediction cell."""

import io

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties import tables

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
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
def small_run(tmp_path_factory):
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
def test_random_bytes_are_refused_in_one_line(cli, small_run, tmp_path_factory, blob, suffix):
    folder, run = small_run
    path = tmp_path_factory.mktemp("bytes") / f"data{suffix}"
    path.write_bytes(blob)
    out = path.parent / "out"
    assert_clean(cli("train", str(path), "--target", "y", "--epochs", "1", "--out", str(out)))
    for command in ("predict", "evaluate"):
        assert_clean(cli(command, str(run), str(path)))


@SETTINGS
@given(options=st.lists(st.tuples(TRAIN_OPTIONS, NUMBERS), min_size=1, max_size=3))
def test_random_option_values_train_or_fail_in_one_line(cli, small_run, options):
    folder, _ = small_run
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
def test_predict_and_evaluate_on_random_tables(cli, small_run, tmp_path_factory, frame):
    _, run = small_run
    path = tmp_path_factory.mktemp("tables") / "new.csv"
    frame = frame.rename(columns={frame.columns[0]: "a"})
    frame.to_csv(path, index=False)
    predicted = cli("predict", str(run), str(path))
    assert_clean(predicted)
    if predicted.exit_code == 0:
        output = pd.read_csv(io.StringIO(predicted.stdout), keep_default_na=False)
        assert (output["y"] != "").all()  # never an empty prediction cell
    assert_clean(cli("evaluate", str(run), str(path)))
