"""A folder or glob of files trains only when every file gives each column the same kind
of values; a column of numbers in one file and text in another is refused, both named."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import assert_user_error, streaming_budget


def _part(rows: int, seed: int, **columns) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    frame = pd.DataFrame({"x": x, "y": 2 * x + 0.1 * rng.normal(size=rows)})
    for name, values in columns.items():
        frame[name] = values
    return frame


def _write(frame: pd.DataFrame, path) -> None:
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("budget", ["auto", "1KB"])  # in memory, and streamed
def test_numbers_in_one_file_and_text_in_another_are_refused(cli, tmp_path, suffix, budget):
    folder = tmp_path / "parts"
    folder.mkdir()
    rng = np.random.default_rng(0)
    _write(_part(40, 1, c=rng.normal(size=40)), folder / f"a{suffix}")
    _write(_part(40, 2, c=rng.choice(["lo", "hi"], size=40)), folder / f"b{suffix}")
    out = tmp_path / "run"
    for source in (folder, f"{folder}/*{suffix}"):
        result = cli(
            "train", source, "--target", "y", "--out", out, "--memory-budget", budget
        )  # fmt: skip
        assert_user_error(
            result,
            f"column 'c' holds text in {folder}/b{suffix} but numbers in {folder}/a{suffix}; "
            "give files whose columns hold the same kind of values",
        )
        assert not out.exists()


def test_files_whose_kinds_agree_train(cli, tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    # integers and floats are both numbers; a column with no value fits any kind; booleans
    # with a gap (an object column) are booleans as those without one are
    # (400 rows each: enough to stream, a streamed batch must fit the budget)
    _write(_part(400, 1, n=range(400), e=[None] * 400, b=[True, None] * 200), folder / "a.csv")
    _write(_part(400, 2, n=np.linspace(0, 1, 400), e=["u", "v"] * 200, b=[True, False] * 200),
           folder / "b.csv")  # fmt: skip
    for streamed, budget in ((False, ""), (True, streaming_budget(folder))):
        options = f"--epochs 1 --recipe plain --layers 8 --batch-size 16 {budget}"
        out = cli.train(folder, "y", tmp_path / f"run-{streamed}", options)
        manifest = json.loads((out / "model.json").read_text())
        assert manifest["data"]["streamed"] is streamed
