"""Text encodings (issue: hardening, item 11): UTF-16 without a byte-order mark, odd codecs
and a file in another encoding than the run's are one line, never a traceback; predict,
evaluate and importance take --encoding (default: the run's)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import assert_user_error


def _frame(rows: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"x": rng.normal(size=rows)})
    frame["city"] = rng.choice(["Zürich", "Genève", "Málaga"], size=rows)
    frame["y"] = frame["x"] * 2 + frame["city"].map({"Zürich": 1, "Genève": 2, "Málaga": 3})
    return frame


def _write(frame: pd.DataFrame, path: Path, encoding: str) -> Path:
    path.write_bytes(frame.to_csv(index=False).encode(encoding))
    return path


TINY = "--layers 4 --epochs 2 --verbose 0 --recipe plain"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le"])
def test_utf16_and_utf32_without_a_byte_order_mark(cli, tmp_path, codec):
    data = _write(_frame(), tmp_path / "data.csv", codec)
    wide = codec[:6]  # utf-16 or utf-32: the name people give
    run = tmp_path / "run"
    result = cli.line(f"train {data} --target y --encoding {wide} --out {run} {TINY}")
    assert result.exit_code == 0, result.stderr
    predicted = cli("predict", run, data)
    assert predicted.exit_code == 0, predicted.stderr
    assert predicted.stderr == "" and len(predicted.stdout.splitlines()) == 61


@pytest.mark.parametrize("codec", ["punycode", "undefined", "utf-16"])
def test_a_codec_that_cannot_read_the_file_is_one_line(cli, tmp_path, codec):
    data = _write(_frame().assign(city="Bern"), tmp_path / "data.csv", "utf-8")
    result = cli.line(f"train {data} --target y --encoding {codec} --out {tmp_path}/r {TINY}")
    assert_user_error(result, "give the file's encoding with --encoding")
    assert not (tmp_path / "r").exists()


def test_a_file_in_another_encoding_than_the_runs_is_one_line(cli, tmp_path):
    frame = _frame()
    run = tmp_path / "run"
    source = _write(frame, tmp_path / "train.csv", "utf-16")  # with a byte-order mark
    cli.train(source, "y", run, f"{TINY} --encoding utf-16")
    utf8 = _write(frame, tmp_path / "new.csv", "utf-8")
    for command in ("predict", "evaluate", "importance"):
        assert_user_error(
            cli(command, run, utf8), "new.csv is not UTF-16 text (it has no byte-order mark"
        )
        result = cli(command, run, utf8, "--encoding", "utf-8")
        assert result.exit_code == 0, (command, result.stderr)
        assert "unseen" not in result.stderr
    assert_user_error(cli("predict", run, utf8, "--encoding", "klingon"), "unknown --encoding")


def test_utf8_data_for_a_latin1_run_is_read_with_encoding_or_flagged(cli, tmp_path):
    frame = _frame()
    run = tmp_path / "run"
    cli.train(
        _write(frame, tmp_path / "train.csv", "latin-1"), "y", run, f"{TINY} --encoding latin-1"
    )
    latin = _write(frame, tmp_path / "latin.csv", "latin-1")
    utf8 = _write(frame, tmp_path / "utf8.csv", "utf-8")
    expected = cli("predict", run, latin)
    assert (expected.exit_code, expected.stderr) == (0, "")
    given = cli("predict", run, utf8, "--encoding", "utf-8")
    assert (given.exit_code, given.stderr, given.stdout) == (0, "", expected.stdout)
    flagged = cli("predict", run, utf8)  # read as latin-1: every city unseen
    assert flagged.exit_code == 0
    assert flagged.stderr.splitlines()[0] == (
        f"Warning: {utf8} looks like UTF-8 text, but this run reads its data as latin-1 "
        "(the encoding it was trained with); if the file is UTF-8, add --encoding utf-8"
    )
