"""Streamed training (--memory-budget): sources, the hash split, the sample, batches,
running metrics, and the command line end to end on tiny tables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import assert_user_error, streaming_budget
from hypothesis import given, settings
from hypothesis import strategies as st

from tabnet_cli.fit.epoch_metrics import EpochMetrics
from tabnet_cli.fit.streamed_batches import StreamedRows, shuffled_batches
from tabnet_cli.io.datasets import BlockSource, read_whole, table_files
from tabnet_cli.prep.hash_split import BottomKSample, is_validation, unit_hash
from tabnet_cli.prep.streamed import prepare_streamed, should_stream
from tabnet_cli.settings.config import DataConfig
from tabnet_cli.system.memory import parse_size

TINY_BUDGET = "--memory-budget 1KiB"  # any table is above it: training streams (or refuses)


def _table(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3))
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["colour"] = rng.choice(["red", "green", "blue"], size=rows)
    frame["y"] = 2 * x[:, 0] - x[:, 1] + (frame.colour == "red") + 0.05 * rng.normal(size=rows)
    return frame


@pytest.fixture
def parquet_file(tmp_path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "big.parquet"
    pq.write_table(
        pa.Table.from_pandas(_table(3000), preserve_index=False), path, row_group_size=500
    )
    return path


@pytest.fixture
def csv_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "parts"
    folder.mkdir()
    frame = _table(900)
    for i in range(3):
        frame.iloc[i * 300 : (i + 1) * 300].to_csv(folder / f"part-{i}.csv", index=False)
    (folder / "_SUCCESS").write_text("")
    return folder


def test_parse_size_units_and_errors():
    assert parse_size("256MiB") == 256 * 2**20
    assert parse_size("2G") == 2 * 2**30
    assert parse_size("500MB") == 500 * 10**6
    assert parse_size("4096") == 4096
    for bad in ("lots", "-5MB", "0", "12 parsecs"):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_unit_hash_is_uniform_deterministic_and_seeded():
    positions = np.arange(200_000)
    values = unit_hash(positions, 0, 1)
    assert np.array_equal(values, unit_hash(positions, 0, 1))
    assert not np.array_equal(values, unit_hash(positions, 1, 1))
    counts = np.histogram(values, bins=10, range=(0, 1))[0]
    assert counts.min() > 19_000 and counts.max() < 21_000
    held = is_validation(positions, 0.25, seed=3)
    assert abs(held.mean() - 0.25) < 0.005


def test_bottom_k_sample_does_not_depend_on_chunking():
    frame = pd.DataFrame({"v": np.arange(10_000)})
    samples = []
    for cut in (97, 1000, 10_000):
        sample = BottomKSample(300, seed=5)
        for start in range(0, len(frame), cut):
            sample.add(frame.iloc[start : start + cut], np.arange(start, min(start + cut, 10_000)))
        samples.append(sample.frame().v.tolist())
    assert samples[0] == samples[1] == samples[2]
    assert len(samples[0]) == 300
    assert 3500 < np.mean(samples[0]) < 6500  # spread over the whole stream, not its start


def test_sources_list_row_groups_and_folders(parquet_file, csv_folder):
    blocks = BlockSource.open(str(parquet_file))
    assert len(blocks.blocks) == 6 and sum(b.rows for b in blocks.blocks) == 3000
    assert blocks.in_memory_bytes() > 0
    assert [Path(f).name for f in table_files(str(csv_folder))] == [
        "part-0.csv",
        "part-1.csv",
        "part-2.csv",
    ]
    assert read_whole(str(csv_folder / "part-*.csv")).shape == (900, 5)


def test_should_stream_compares_the_estimate_with_the_budget(parquet_file):
    assert not should_stream(str(parquet_file), DataConfig(target="y"))[0]
    config = DataConfig(target="y", memory_budget="1KiB")
    streamed, reason = should_stream(str(parquet_file), config)
    assert streamed and "more than the --memory-budget of 1.0 KiB" in reason


def test_every_training_row_once_per_epoch_in_a_new_order(parquet_file):
    config = DataConfig(target="y", memory_budget="1MiB")
    prepared = prepare_streamed(str(parquet_file), config, seed=0)
    assert prepared.provenance.train_rows + prepared.provenance.validation_rows == 3000
    assert 500 < prepared.provenance.validation_rows < 700
    rows = StreamedRows(prepared, torch.device("cpu"), 64)
    generator = torch.Generator().manual_seed(0)
    epochs = [list(rows.train_batches(64, generator)) for _ in range(2)]
    for batches in epochs:
        assert all(len(y) == 64 for _, y in batches[:-1])
        assert sum(len(y) for _, y in batches) == prepared.provenance.train_rows
    first, second = (torch.cat([y for _, y in batches]) for batches in epochs)
    assert torch.equal(first.sort().values, second.sort().values)  # the same rows
    assert not torch.equal(first, second)  # in another order
    valid = torch.cat([y for _, y in rows.valid_batches()])
    assert len(valid) == prepared.provenance.validation_rows
    cached = torch.cat([y for _, y in rows.valid_batches()])  # from memory the 2nd time
    assert torch.equal(valid, cached)


# blocks (files, row groups), each read in chunks of some rows (0: all went to validation)
BLOCKS = st.lists(st.lists(st.integers(0, 40), max_size=4), max_size=6)


@settings(max_examples=300, deadline=None)
@given(BLOCKS, st.integers(1, 50), st.integers(1, 120), st.integers(0, 2**16))
def test_shuffled_batches_hand_out_every_row_once_in_full_batches(blocks, batch, fill, seed):
    sizes = [n for chunks in blocks for n in chunks]
    ids = np.arange(sum(sizes))
    cuts = np.cumsum([0, *sizes])
    spans = zip(cuts[:-1], cuts[1:], strict=True)
    chunks = [(ids[a:b, None].astype(np.float32), ids[a:b]) for a, b in spans]
    generator = torch.Generator().manual_seed(seed)
    batches = list(shuffled_batches(chunks, batch, fill, generator))
    assert all(len(y) > 0 for _, y in batches)  # no empty batch
    assert all(len(y) == batch for _, y in batches[:-1])  # every batch but the last is full
    assert len(batches) == -(-len(ids) // batch)  # ceil(rows / batch) steps, as in memory
    seen = np.concatenate([y for _, y in batches]) if batches else np.array([], int)
    assert np.array_equal(np.sort(seen), ids)  # every training row exactly once
    assert all(np.array_equal(x[:, 0], y) for x, y in batches)  # rows stay whole


def test_epoch_metrics_in_parts_equal_the_whole_set_metrics():
    torch.manual_seed(0)
    output, target = torch.randn(100), torch.randn(100)
    loss = torch.nn.functional.mse_loss

    def metrics(capacity, batch, training):
        accumulator = EpochMetrics("regression", capacity, None if training else loss)
        for start in range(0, 100, batch):
            out, y = output[start : start + batch], target[start : start + batch]
            accumulator.add(out, y, loss(out, y) if training else None)
        return accumulator.logs("val_", 2.0)

    whole = {"val_loss": loss(output, target).item(), "val_mae": 0.0, "val_mse": 0.0}
    whole["val_mae"] = (output - target).abs().mean().item() * 2.0
    whole["val_mse"] = (output - target).square().mean().item() * 4.0
    assert metrics(100, 100, training=False) == whole  # one part: the float32 means, exactly
    for capacity, batch, training in [(30, 10, True), (1, 7, False), (45, 30, True)]:
        for key, value in metrics(capacity, batch, training).items():
            assert value == pytest.approx(whole[key], rel=1e-5), (capacity, batch, key)
    logits, labels = torch.randn(50, 3), torch.randint(0, 3, (50,))
    accumulator = EpochMetrics("multiclass", 20, torch.nn.functional.cross_entropy)
    accumulator.add(logits[:20], labels[:20])
    accumulator.add(logits[20:], labels[20:])
    accuracy = (logits.argmax(1) == labels).float().mean().item()
    assert accumulator.logs("", 1.0)["accuracy"] == pytest.approx(accuracy)


def test_the_training_loss_is_the_batch_losses_weighted_by_batch_size():
    accumulator = EpochMetrics("binary", capacity=10**6)
    for size, loss in [(4, 1.0), (4, 2.0), (2, 4.0)]:
        accumulator.add(torch.zeros(size), torch.zeros(size), torch.tensor(loss))
        if size == 4:
            assert accumulator.running_loss()["loss"] == pytest.approx(1.0 if loss == 1 else 1.5)
    assert accumulator.logs("", 1.0) == {"loss": 2.0, "accuracy": 1.0}  # (4 + 8 + 8) / 10
    accumulator = EpochMetrics("binary", capacity=10**6)
    accumulator.add(torch.zeros(4), torch.zeros(4), torch.tensor(0.0))
    accumulator.add(torch.zeros(2), torch.zeros(2), torch.tensor(0.0))
    with pytest.raises(ValueError, match="only the last may be smaller"):  # the formula's premise
        accumulator.add(torch.zeros(4), torch.zeros(4), torch.tensor(0.0))


def test_a_class_missing_from_the_sample_is_still_a_class(tmp_path, monkeypatch):
    monkeypatch.setattr("tabnet_cli.prep.streamed.SAMPLE_ROWS", 50)
    frame = _table(2000)
    frame["kind"] = np.where(frame.a > 0, "up", "down")
    frame.loc[frame.index[::400], "kind"] = "rare"  # 5 rows: hardly ever in a 50-row sample
    path = tmp_path / "k.csv"
    frame.drop(columns="y").to_csv(path, index=False)
    prepared = prepare_streamed(str(path), DataConfig(target="kind", memory_budget="1KiB"), 0)
    assert prepared.targets.classes_ == ["down", "rare", "up"]
    assert prepared.targets.baseline_[1] == pytest.approx(
        sum(label == "rare" for label in frame.kind[~is_validation(np.arange(2000), 0.2, 0)])
        / prepared.provenance.train_rows
    )


def _test_r2(cli, run: Path, test: Path) -> float:
    return json.loads(cli.line(f"evaluate {run} {test} --json").stdout)["metrics"]["r2"]["model"]


def test_cli_trains_streamed_and_the_run_predicts(cli, parquet_file, tmp_path):
    out, options = tmp_path / "run", "--epochs 4 --batch-size 32 --lr 0.01 --layers 32"
    result = cli.line(
        f"train {parquet_file} --target y {options} --verbose 2 {streaming_budget(parquet_file)} "
        f"--out {out}"
    )
    assert result.exit_code == 0, result.stderr
    assert "Note: streaming" in result.stderr
    assert result.stderr.count("Epoch ") == 4
    manifest = json.loads((out / "model.json").read_text())
    assert manifest["data"]["streamed"] is True
    assert manifest["data_config"]["memory_budget"] == streaming_budget(parquet_file).split()[1]
    assert "streamed" in cli.line(f"info {out}").stdout
    history = pd.read_csv(out / "history.csv")
    assert len(history) == 4 and history.val_loss.iloc[-1] < history.val_loss.iloc[0]
    test = tmp_path / "test.csv"
    _table(400, seed=9).to_csv(test, index=False)
    in_memory = cli.train(parquet_file, "y", tmp_path / "in-memory", f"{options} --recipe auto")
    streamed_r2, in_memory_r2 = _test_r2(cli, out, test), _test_r2(cli, in_memory, test)
    assert streamed_r2 > 0.9 and streamed_r2 > in_memory_r2 - 0.03, (streamed_r2, in_memory_r2)
    predictions = cli.line(f"predict {out} {test}").stdout.splitlines()
    assert predictions[0] == "y" and len(predictions) == 401


def test_cli_streams_a_folder_with_a_validation_file(cli, csv_folder, tmp_path):
    valid = tmp_path / "valid.csv"
    _table(200, seed=4).to_csv(valid, index=False)
    out = tmp_path / "run"
    result = cli.line(
        f"train {csv_folder} --target y --epochs 2 --layers 8 --verbose 0 --recipe plain "
        f"--validation-data {valid} {streaming_budget(csv_folder)} --out {out}"
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads((out / "model.json").read_text())["data"]
    assert (data["rows"], data["train_rows"], data["validation_rows"]) == (900, 900, 200)
    predictions = cli.line(f"predict {out} '{csv_folder}/part-*.csv'").stdout.splitlines()
    assert predictions[0] == "y" and len(predictions) == 901  # every file, in name order
    scores = json.loads(cli.line(f"evaluate {out} {csv_folder} --json").stdout)
    assert scores["rows"] == 900


def test_cli_streams_rows_that_divide_evenly_into_batches(cli, tmp_path):
    # 4400 training rows, 80 full batches of 55, through a shuffle buffer of some hundred
    # rows: the fills hand out 79 of them, and the last one waits for the end
    folder, valid, out = tmp_path / "parts", tmp_path / "valid.csv", tmp_path / "run"
    folder.mkdir()
    frame = _table(4400)
    for i in range(2):
        frame.iloc[i * 2200 : (i + 1) * 2200].to_csv(folder / f"part-{i}.csv", index=False)
    _table(100, seed=4).to_csv(valid, index=False)
    result = cli.line(
        f"train {folder} --target y --epochs 2 --layers 4 --batch-size 55 --verbose 0 "
        f"--recipe plain --validation-data {valid} --memory-budget 300KiB --out {out}"
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads((out / "model.json").read_text())["data"]["train_rows"] == 4400
    assert pd.read_csv(out / "history.csv")["loss"].notna().sum() == 2


def test_a_folder_under_the_budget_trains_in_memory(cli, csv_folder, tmp_path):
    out = tmp_path / "run"
    result = cli.line(
        f"train {csv_folder}/part-*.csv --target y --epochs 2 --layers 8 --verbose 0 --out {out}"
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads((out / "model.json").read_text())["data"]
    assert data["streamed"] is False and data["rows"] == 900


def test_streaming_user_errors(cli, tmp_path, csv_folder, parquet_file):
    assert_user_error(
        cli.line(f"train {parquet_file} --target y --memory-budget lots"),
        "--memory-budget 'lots' is not a size; write e.g. 256MiB",
    )
    assert_user_error(
        cli.line(f"train '{tmp_path}/nothing-*.parquet' --target y"), "names no table files"
    )
    (csv_folder / "extra.parquet").write_bytes(parquet_file.read_bytes())
    assert_user_error(cli.line(f"train {csv_folder} --target y"), "mixes parquet and CSV")
    other = tmp_path / "other"
    other.mkdir()
    _table(50).to_csv(other / "a.csv", index=False)
    _table(50).rename(columns={"c": "d"}).to_csv(other / "b.csv", index=False)
    assert_user_error(cli.line(f"train {other} --target y {TINY_BUDGET}"), "has other columns than")
    assert_user_error(
        cli.line(f"train {other} --target nope {TINY_BUDGET}"), "target column 'nope' not found"
    )
    assert_user_error(
        cli.line(f"train {parquet_file} --target y --folds 3 {TINY_BUDGET}"),
        "and --folds does not stream yet; train without it, or raise",
    )
