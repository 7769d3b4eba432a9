"""Streamed reading (issue 11): CSV parsed by pyarrow block by block on a thread pool,
parquet by record batches, the same values as the whole-file reader, memory bounded, a
safe fallback where a file cannot be cut; and predictions written byte for byte as
before. Block sizes are lowered through module constants so small files make many
blocks."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_DATA

from tabnet_cli.io import chunks as table_stream
from tabnet_cli.io import csv_blocks, csv_parse
from tabnet_cli.io.csv_write import write_csv
from tabnet_cli.io.tables import iter_table, read_table
from tabnet_cli.score import predicting


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of a few KiB; returns the list of blocks parsed so far (their row counts)."""
    monkeypatch.setattr(csv_blocks, "MIN_BLOCK_BYTES", 2048)
    monkeypatch.setattr(csv_blocks, "BLOCK_BYTES", 2048)
    parsed = []
    real = csv_blocks._parse

    def counting(*args, **kwargs):
        table = real(*args, **kwargs)
        parsed.append(table.num_rows)
        return table

    monkeypatch.setattr(csv_blocks, "_parse", counting)
    return parsed


def mixed_csv(tmp_path, rows: int = 3000):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "x": rng.standard_normal(rows),
            "n": rng.integers(-5, 5, rows),
            "colour": rng.choice([" red", "green ", " ?", "NA"], rows),
            "flag": rng.choice(["True", "false"], rows),
            "y": rng.standard_normal(rows).astype(np.float32),
        }
    )
    frame.loc[::7, "x"] = np.nan
    path = tmp_path / "mixed.csv"
    frame.to_csv(path, index=False)
    return str(path)


def same_values(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert a.columns.tolist() == b.columns.tolist()
    for column in a.columns:
        left = a[column].reset_index(drop=True).astype(object)
        right = b[column].reset_index(drop=True).astype(object)
        assert left.equals(right), column


def test_iter_table_in_many_blocks_gives_read_tables_values(tmp_path, small_blocks):
    path = mixed_csv(tmp_path)
    chunks = list(iter_table(path, 500))
    assert len(small_blocks) > 10  # really parsed in many blocks
    assert [len(c) for c in chunks] == [500] * 6
    same_values(pd.concat(chunks), read_table(path))
    assert pd.concat(chunks)["colour"].isna().sum() > 0  # " ?" and NA are missing


def test_blocks_in_flight_are_bounded(tmp_path, small_blocks):
    chunks = iter_table(mixed_csv(tmp_path, 20_000), 50)
    next(chunks)
    # the first block, the workers' blocks and one read ahead: not the ~250 of the file
    assert len(small_blocks) <= 2 + 2 * 4
    chunks.close()


def test_large_file_path_of_read_table_uses_blocks(tmp_path, small_blocks, monkeypatch):
    path = mixed_csv(tmp_path)
    whole = read_table(path)
    small_blocks.clear()
    monkeypatch.setattr(csv_parse, "STREAM_BYTES", 0)
    streamed = read_table(path)
    assert len(small_blocks) > 20
    same_values(streamed, whole)


def test_quoted_newlines_fall_back_to_pandas_with_the_same_values(tmp_path, small_blocks):
    rows = [f'{i},"line {i}\nstill {i}, with a comma",{i * 0.5}\n' for i in range(400)]
    path = tmp_path / "quoted.csv"
    path.write_text("id,text,v\n" + "".join(rows))
    chunks = list(iter_table(str(path), 64))
    frame = pd.concat(chunks, ignore_index=True)
    assert frame["text"].tolist() == [f"line {i}\nstill {i}, with a comma" for i in range(400)]
    assert frame["id"].tolist() == list(range(400)) and max(len(c) for c in chunks) <= 64
    same_values(frame, read_table(str(path)))


def test_a_later_block_disagreeing_on_a_type(tmp_path, small_blocks, monkeypatch):
    lines = [f"{i},{i % 3}\n" for i in range(2000)] + ["2000,high\n"]
    path = tmp_path / "late.csv"
    path.write_text("id,level\n" + "".join(lines))
    whole = read_table(str(path))
    monkeypatch.setattr(csv_parse, "STREAM_BYTES", 0)
    same_values(read_table(str(path)), whole)  # read again as a whole: text throughout
    chunks = list(iter_table(str(path), 1000))
    assert sum(len(c) for c in chunks) == 2001
    assert chunks[-1]["level"].iloc[-1] == "high"  # that chunk is text, as pandas gives


def test_a_malformed_row_far_into_the_file_is_one_data_error(tmp_path, small_blocks):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n" + "1,2\n" * 3000 + "1,2,3\n")
    with pytest.raises(Exception, match="malformed CSV") as caught:
        list(iter_table(str(path), 100))
    assert type(caught.value).__name__ == "DataError"


def test_parquet_is_streamed_by_record_batches(tmp_path):
    frame = pd.DataFrame({"a": np.arange(1000) * 0.5, "b": ["x", "y"] * 500})
    path = tmp_path / "t.parquet"
    frame.to_parquet(path, row_group_size=100)
    chunks = list(iter_table(str(path), 300))
    assert [len(c) for c in chunks] == [300, 300, 300, 100]
    same_values(pd.concat(chunks), read_table(str(path)))


def test_whitespace_files_still_use_pandas(tmp_path, monkeypatch):
    path = tmp_path / "uci.data"
    path.write_text("a b c\n1.0 2  3\n4 5.5 6\n")
    monkeypatch.setattr(csv_blocks, "parsed_blocks", None)  # would fail if called
    assert pd.concat(iter_table(str(path), 1)).shape == (2, 3)


@pytest.mark.parametrize("options", ["", "--proba", "--keep f1 --keep colour"])
def test_predict_output_is_byte_for_byte_the_old_one(
    cli, trained_binary, binary_csv, monkeypatch, options
):
    new = cli.line(f"predict {trained_binary} {binary_csv} {options}")
    assert new.exit_code == 0, new.stderr

    def old_writer(frame, stream, header):
        frame.to_csv(stream, header=header, index=False, lineterminator="\n")

    monkeypatch.setattr(predicting, "write_csv", old_writer)
    monkeypatch.setattr(table_stream, "arrow_setup", lambda form, options: None)  # pandas
    old = cli.line(f"predict {trained_binary} {binary_csv} {options}")
    assert new.stdout == old.stdout


def test_predict_regression_output_is_byte_for_byte_the_old_one(cli, tmp_path, monkeypatch):
    run = cli.train(SAMPLE_DATA / "diabetes.csv", "progression", tmp_path / "run", "--epochs 2")
    new = cli("predict", run, SAMPLE_DATA / "diabetes.csv", "--keep-all")
    monkeypatch.setattr(
        predicting,
        "write_csv",
        lambda f, s, header: f.to_csv(s, header=header, index=False, lineterminator="\n"),
    )
    monkeypatch.setattr(table_stream, "arrow_setup", lambda form, options: None)
    old = cli("predict", run, SAMPLE_DATA / "diabetes.csv", "--keep-all")
    assert new.exit_code == 0 and new.stdout == old.stdout


FRAMES = {
    "floats": pd.DataFrame({"y": [0.1, -0.0, 1e16, 1e-5, 123.0, np.nan, np.inf, 5e-324]}),
    "labels": pd.DataFrame({"a": [1.5, 2.0], "y": np.array(["yes", None], dtype=object)}),
    "needs quotes": pd.DataFrame({"y": ["a,b", 'say "hi"']}),
    "lone blank": pd.DataFrame({"y": [np.nan, 1.0]}),
    "ints and bools": pd.DataFrame({"i": [1, -2], "b": [True, False], "o": [3, True]}),
    "categories": pd.DataFrame({"c": pd.Categorical(["p", "q"])}),
    "no rows": pd.DataFrame({"a": [], "b": []}),
}


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_fast_writer_writes_what_pandas_writes(name):
    for header in (True, False):
        ours, theirs = io.StringIO(), io.StringIO()
        write_csv(FRAMES[name], ours, header)
        FRAMES[name].to_csv(theirs, header=header, index=False, lineterminator="\n")
        assert ours.getvalue() == theirs.getvalue()


def test_random_floats_are_written_as_pandas_writes_them():
    rng = np.random.default_rng(0)
    values = rng.standard_normal(5000) * 10.0 ** rng.integers(-30, 30, 5000)
    frame = pd.DataFrame({"y": np.concatenate([values, values.astype(np.float32)])})
    ours, theirs = io.StringIO(), io.StringIO()
    write_csv(frame, ours, True)
    frame.to_csv(theirs, index=False, lineterminator="\n")
    assert ours.getvalue() == theirs.getvalue()
