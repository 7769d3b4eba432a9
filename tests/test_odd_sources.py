"""DATA that is not a plain CSV file (issue: hardening, item 14): a named pipe, a device, a
symlink loop, a compressed file or archive, a headerless file; and --keep-all next to an
input that already has a y_input column."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import threading
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import Cli, assert_user_error

TINY = "--layers 4 --epochs 1 --verbose 0 --recipe plain"


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.normal(size=(40, 2)).round(3), columns=["a", "b"])
    frame["y"] = frame["a"] * 2 + 1
    return frame


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory, frame) -> Path:
    where = tmp_path_factory.mktemp("run")
    frame.to_csv(where / "train.csv", index=False)
    return Cli().train(where / "train.csv", "y", where / "run", TINY)


def _odd_paths(tmp_path: Path) -> list[tuple[Path | str, str]]:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.csv"
    loop.symlink_to(tmp_path / "loop2.csv")
    (tmp_path / "loop2.csv").symlink_to(loop)
    dangling = tmp_path / "gone.csv"
    dangling.symlink_to(tmp_path / "nowhere.csv")
    return [
        ("/dev/zero", "/dev/zero is a device, not a data file; give a CSV or parquet file"),
        (loop, f"{loop} is a symlink loop; check the path"),
        (dangling, f"{dangling} is a symlink to {tmp_path / 'nowhere.csv'}, which does not"),
        (fifo, f"{fifo} is a named pipe, which can be read only once; training reads"),
    ]


def test_train_names_what_an_odd_data_path_is(cli, tmp_path):
    for path, message in _odd_paths(tmp_path):
        result = cli.line(f"train {path} --target y --out {tmp_path}/run {TINY}")
        assert_user_error(result, message)  # not "no such file"


def test_predict_names_what_an_odd_data_path_is(cli, saved_run, tmp_path):
    for path, message in _odd_paths(tmp_path)[:3]:  # a pipe is read, as stdin is
        assert_user_error(cli("predict", saved_run, path), message)


def test_predict_reads_a_named_pipe_as_a_stream(cli, saved_run, frame, tmp_path):
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    text = frame.to_csv(index=False)
    threading.Thread(target=fifo.write_text, args=(text,), daemon=True).start()
    result = cli("predict", saved_run, fifo)
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == len(frame) + 1


def _packed(frame: pd.DataFrame, tmp_path: Path) -> list[tuple[Path, str]]:
    text = frame.to_csv(index=False).encode()
    files = {
        "data.csv.bz2": (bz2.compress(text), "is bzip2-compressed; tabnet reads CSV/TSV text, "
                         "gzip-compressed CSV (.gz) and parquet: decompress it first: bunzip2"),
        "data.csv.xz": (lzma.compress(text), "is xz-compressed; tabnet reads CSV/TSV text, "
                        "gzip-compressed CSV (.gz) and parquet: decompress it first: unxz"),
        "data.csv.gzip": (gzip.compress(text), "is gzip-compressed; tabnet reads CSV/TSV "
                          "text, gzip-compressed CSV (.gz) and parquet: name it with .gz"),
        "data.zip": (None, "is a zip archive (or an .xlsx workbook); tabnet reads"),
        "data.pq": (None, "is a parquet file; tabnet reads CSV/TSV text, gzip-compressed "
                    "CSV (.gz) and parquet: name it with .parquet at the end"),
    }  # fmt: skip
    made = []
    for name, (data, message) in files.items():
        path = tmp_path / name
        if name.endswith(".zip"):
            with zipfile.ZipFile(path, "w") as archive:
                archive.writestr("data.csv", text)
        elif name.endswith(".pq"):
            pytest.importorskip("pyarrow")
            frame.to_parquet(path)
        else:
            path.write_bytes(data)
        made.append((path, f"{path} {message}"))
    return made


def test_compressed_files_and_archives_say_what_they_are(cli, saved_run, frame, tmp_path):
    for path, message in _packed(frame, tmp_path):
        result = cli.line(f"train {path} --target y --out {tmp_path}/run {TINY}")
        assert_user_error(result, message)  # not "is not UTF-8 text"
        assert_user_error(cli("predict", saved_run, path), message)


def test_a_headerless_file_says_its_first_line_looks_like_data(cli, saved_run, frame, tmp_path):
    path = tmp_path / "auto-mpg.csv"
    path.write_text(frame.to_csv(index=False, header=False))
    first = ", ".join(path.read_text().splitlines()[0].split(",")[:3])
    hint = (
        "looks like data, not column names; add a header line, or train with --no-header "
        "(columns V1, V2...) or --names a,b,..."
    )
    result = cli.line(f"train {path} --target y --out {tmp_path}/run {TINY}")
    assert_user_error(result, f"target column 'y' not found in {path}: its first line ({first})")
    assert hint in result.stderr
    assert_user_error(cli("predict", saved_run, path), hint)


def test_keep_all_next_to_an_input_column_named_like_an_output(cli, saved_run, frame, tmp_path):
    path = tmp_path / "with-y-input.csv"
    frame.assign(y_input=frame["y"] * 10).to_csv(path, index=False)
    result = cli("predict", saved_run, path, "--keep-all", "--keep", "a,a")
    assert result.exit_code == 0, result.stderr
    header = result.stdout.splitlines()[0].split(",")
    assert header == ["a", "b", "y_input_2", "y_input", "y"]
    assert len(set(header)) == len(header)
    kept = cli("predict", saved_run, path, "--keep", "a,a")
    assert kept.stdout.splitlines()[0] == "a,y"
