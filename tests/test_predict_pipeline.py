"""`tabnet predict` as a pipeline of threads (issue 22): the same bytes as reading,
scoring and writing one chunk after the other, the model run on the caller's thread on
the reader's chunks, errors of the reading thread as one line with nothing half-written,
a closed pipe still a quiet 141; and the thread helpers themselves."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import Cli, assert_user_error

from tabnet_cli.errors import DataError
from tabnet_cli.io import csv_write
from tabnet_cli.io.background import WriteBehind, read_ahead
from tabnet_cli.io.csv_write import float_cells
from tabnet_cli.io.datasets import iter_source
from tabnet_cli.run.run_dir import load_run
from tabnet_cli.score.inference import probability_columns
from tabnet_cli.score.predicting import PredictOptions, predict_to

CHUNK = 37  # rows per chunk: the 300-row tables make 9 chunks


def _table(rows: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3))
    frame = pd.DataFrame(x * [1.0, 10.0, 0.01], columns=["a", "b", "c"])
    frame["n"] = rng.integers(0, 9, rows)
    frame["colour"] = rng.choice(["red", "green", "blue"], rows)
    frame["y"] = 2 * x[:, 0] - x[:, 1] + (frame.colour == "red") + 0.1 * rng.normal(size=rows)
    frame["label"] = np.where(frame["y"] > 0, "yes", "no")
    frame["kind"] = np.select([x[:, 0] > 0.5, x[:, 1] > 0], ["alpha", "beta"], "gamma")
    return frame


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    """New rows for predict (missing values, an unseen colour) as CSV and parquet, and
    the runs trained on other rows: plain, and the default recipe (periodic embeddings,
    rank inputs, a bagged ensemble)."""
    folder = tmp_path_factory.mktemp("pipeline")
    train = folder / "train.csv"
    _table(200, seed=1).to_csv(train, index=False)
    new = _table(300)
    new.loc[::11, "a"] = np.nan
    new.loc[::13, "colour"] = None
    new.loc[5, "colour"] = "purple"
    paths = {"csv": folder / "new.csv", "parquet": folder / "new.parquet"}
    new.to_csv(paths["csv"], index=False)
    new.to_parquet(paths["parquet"], index=False)
    cli = Cli()
    for name, target, options in (
        ("regression", "y", "--layers 16,16 --epochs 2"),
        ("binary", "label", "--layers 16 --epochs 2"),
        ("multiclass", "kind", "--layers 16 --epochs 2"),
        ("auto", "kind", "--recipe auto --epochs 2 --folds 2"),
    ):
        drop = [c for c in ("y", "label", "kind") if c != target]
        table = folder / f"train-{name}.csv"
        pd.read_csv(train).drop(columns=drop).to_csv(table, index=False)
        paths[name] = cli.train(table, target, folder / f"run-{name}", options)
    return paths


def one_chunk_after_another(run_dir: Path, source: Path, options: PredictOptions) -> str:
    """What predict wrote before the pipeline: each chunk read, scored and written by
    pandas' own ``to_csv`` before the next is read (the chunks cut by the same reader)."""
    run, out, rows = load_run(run_dir), io.StringIO(), 0
    reading = run.manifest.data_config.read_options()
    for chunk in iter_source(str(source), options.chunk_rows, reading):
        raw = run.model(run.features.transform(chunk)[0])
        outputs = {run.target_name: run.target.decode(raw)}
        if options.proba:
            names = probability_columns(run.target.classes_, run.target_name)
            outputs.update(zip(names, run.target.probabilities(raw).T, strict=True))
        kept = chunk[list(options.keep)].reset_index(drop=True)
        frame = pd.concat([kept, pd.DataFrame(outputs)], axis=1)
        frame.to_csv(out, header=rows == 0, index=False, lineterminator="\n")
        rows += len(frame)
    return out.getvalue()


@pytest.mark.parametrize("kind", ["csv", "parquet"])
@pytest.mark.parametrize(
    "model, proba, keep",
    [
        ("regression", False, ("a", "colour")),
        ("binary", True, ()),
        ("multiclass", True, ("n",)),
        ("auto", True, ()),
    ],
)
def test_pipelined_output_is_byte_for_byte_one_chunk_after_another(data, kind, model, proba, keep):
    options = PredictOptions(proba, keep, chunk_rows=CHUNK)
    expected = one_chunk_after_another(data[model], data[kind], options)
    flags = ["--proba"] * proba + ["--keep", ",".join(keep)] * bool(keep)
    result = Cli()("predict", data[model], data[kind], "--batch-size", CHUNK, *flags)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == expected
    assert len(expected.splitlines()) == 301 and "Warning: " in result.stderr  # unseen, missing


def test_the_model_runs_on_the_callers_thread_on_the_readers_chunks(data):
    """The float32 results depend on how rows are grouped into matrix products and on
    BLAS's threads: the model must see the reader's chunks, on the calling thread."""
    run = load_run(data["auto"])
    forward, calls = run.model, []

    def recording(x):
        calls.append((threading.current_thread() is threading.main_thread(), len(x)))
        return forward(x)

    run.model = recording
    predict_to(run, str(data["csv"]), io.StringIO(), PredictOptions(chunk_rows=CHUNK))
    assert all(on_main for on_main, _ in calls)
    assert [rows for _, rows in calls] == [CHUNK] * 8 + [300 - 8 * CHUNK]


def _with_bad_row(data, tmp_path: Path, line: str, at: int = 100) -> Path:
    text = data["csv"].read_text().splitlines(keepends=True)
    text.insert(at, line)
    path = tmp_path / "bad.csv"
    path.write_text("".join(text))
    return path


@pytest.mark.parametrize(
    "line, message",
    [("1,2,3,4,red,5,yes,beta,9,9\n", "malformed CSV"), ("1e300,1,1,1,red,1,yes,beta\n", "1e+300")],
)
def test_an_error_in_the_third_chunk_is_one_line_and_leaves_no_output(
    data, tmp_path, line, message
):
    bad = _with_bad_row(data, tmp_path, line)
    out = tmp_path / "predictions.csv"
    result = Cli()("predict", data["regression"], bad, "--batch-size", CHUNK, "-o", out)
    assert_user_error(result, message)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]  # no output, no temp


def test_an_error_in_the_third_chunk_comes_after_the_chunks_before_it_on_stdout(data, tmp_path):
    bad = _with_bad_row(data, tmp_path, "1e300,1,1,1,red,1,yes,beta\n")
    result = Cli()("predict", data["regression"], bad, "--batch-size", CHUNK)
    assert result.exit_code == 2 and result.stderr.startswith("Error: ")
    full = one_chunk_after_another(
        data["regression"], data["csv"], PredictOptions(chunk_rows=CHUNK)
    )
    before = 99 // CHUNK * CHUNK  # the bad row is data row 100: in the third chunk
    assert result.stdout == "".join(full.splitlines(keepends=True)[: before + 1])


def test_a_closed_pipe_with_chunks_in_flight_is_a_quiet_141(data, tmp_path):
    big = tmp_path / "big.csv"
    pd.concat([pd.read_csv(data["csv"])] * 40).to_csv(big, index=False)  # 12000 rows
    script = f"{sys.executable} -m tabnet_cli predict {data['auto']} {big} --batch-size 500"
    out = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {script} | head -n 2"], capture_output=True, text=True
    )
    assert (out.returncode, out.stderr, len(out.stdout.splitlines())) == (141, "", 2)


def test_read_ahead_is_bounded_ordered_and_forwards_errors():
    made = []

    def items():
        for i in range(20):
            made.append(i)
            if i == 12:
                raise DataError("bad row 12")
            yield i

    got = []
    with pytest.raises(DataError, match="bad row 12"), read_ahead(items(), depth=2) as ahead:
        for item in ahead:
            time.sleep(0.01)
            assert len(made) <= item + 4  # the item in hand, two queued, one being made
            got.append(item)
    assert got == list(range(12))


def test_leaving_read_ahead_early_closes_the_iterator_on_its_thread():
    closed = threading.Event()

    def items():
        try:
            yield from range(1000)
        finally:
            closed.set()

    with read_ahead(items()) as ahead:
        assert next(ahead) == 0
    assert closed.wait(5)


def test_write_behind_runs_jobs_in_order_and_raises_the_first_failure():
    done = []

    def fail():
        raise OSError("disk full")

    writer = WriteBehind(depth=1)
    with pytest.raises(OSError, match="disk full"):
        writer.submit(lambda: done.append(1))
        writer.submit(fail)
        for _ in range(100):  # the jobs after the failure are dropped
            writer.submit(lambda: done.append(3))
            time.sleep(0.01)
    writer.finish()
    assert done == [1]


def test_after_an_error_of_the_caller_queued_writes_are_still_done():
    done = []
    with pytest.raises(DataError), WriteBehind() as writer:
        writer.submit(lambda: (time.sleep(0.05), done.append(1)))
        writer.submit(lambda: done.append(2))
        raise DataError("chunk 3 is bad")
    assert done == [1, 2]


def test_float_cells_are_reprs_text_at_every_magnitude(monkeypatch):
    rng = np.random.default_rng(0)
    values = np.concatenate(
        [
            rng.standard_normal(20_000) * 10.0 ** rng.integers(-8, 20, 20_000),
            rng.standard_normal(5_000).astype(np.float32).astype(np.float64),
            rng.integers(-(10**12), 10**12, 1_000).astype(np.float64),
            [0.0, -0.0, 1e-4, np.nextafter(1e-4, 0), 1e10, np.nextafter(1e10, 0), 5e-324],
            [np.nan, np.inf, -np.inf, 1.7976931348623157e308],
        ]
    )
    expected = ["" if v != v else repr(v) for v in values.tolist()]
    assert float_cells(values).to_pylist() == expected
    csv_write._arrow_writes_repr.cache_clear()
    monkeypatch.setattr(csv_write, "_SHORTEST_RANGE", (1e-4, 1e16))  # a pyarrow laying out
    assert not csv_write._arrow_writes_repr()  # 1.5e+10 otherwise is noticed: repr for all
    assert float_cells(values).to_pylist() == expected
    csv_write._arrow_writes_repr.cache_clear()


def test_quantile_ranks_are_the_same_bits_as_interpolating_in_input_order():
    from tabnet_cli.prep.scaling import fit_quantiles, normal_scores, quantile_normal

    def in_input_order(values, quantiles):  # the formula before sorting
        points, scores = np.asarray(quantiles), normal_scores(len(quantiles))
        up = np.interp(values, points, scores)
        down = -np.interp(-values, -points[::-1], -scores[::-1])
        return 0.5 * (up + down)

    rng = np.random.default_rng(0)
    for trial in range(60):
        train = rng.standard_normal(3000) * 10.0 ** rng.uniform(-3, 3)
        if trial % 3 == 1:  # a mostly-zero column: repeated quantiles
            train = np.where(rng.random(3000) < 0.7, 0.0, train)
        if trial % 3 == 2:
            train = rng.integers(0, 5, 3000).astype(float)
        quantiles = fit_quantiles(train)
        values = np.concatenate(
            [rng.choice(train, 500), rng.standard_normal(500) * 50, quantiles, [-0.0, 1e300]]
        )
        ours, theirs = quantile_normal(values, quantiles), in_input_order(values, quantiles)
        assert np.array_equal(ours.view(np.uint64), theirs.view(np.uint64))


@pytest.mark.parametrize("rows", [1, 7, 4099])
def test_periodic_embedding_is_the_same_bits_as_whole_array_operations(rows):
    from tabnet_cli.nn.numpy_forward import PeriodicNumpy

    rng = np.random.default_rng(rows)
    width, k, dims = 5, 16, 4
    weights = {
        "0.frequency": rng.standard_normal((width, k)).astype(np.float32),
        "0.phase": rng.uniform(-1, 1, (width, k)).astype(np.float32),
        "0.weight": rng.uniform(-0.25, 0.25, (width, k, dims - 1)).astype(np.float32),
        "0.bias": rng.uniform(-0.25, 0.25, (width, dims - 1)).astype(np.float32),
    }
    layer = PeriodicNumpy(weights, "0")
    for scale in (1.0, 30.0, 1e5):
        x = (rng.standard_normal((rows, width)) * scale).astype(np.float32)
        angle = x[:, :, None] * layer.frequency + layer.phase  # the formula before
        waves = np.cos(np.float32(2 * np.pi) * angle)
        mixed = np.matmul(waves.transpose(1, 0, 2), layer.weight).transpose(1, 0, 2)
        mixed += layer.bias
        before = np.concatenate([x[:, :, None], mixed], axis=2).reshape(rows, -1)
        assert np.array_equal(layer(x).view(np.uint32), before.view(np.uint32))
