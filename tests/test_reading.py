"""Reading files the way users have them (issue 9): read options, headerless and
whitespace-separated files, encodings, decimal commas, missing-value markers, damaged
files and Ctrl-C; and the whole-file reader (training) agreeing with the chunked one
(predict)."""

from __future__ import annotations

import gzip
import io
import json
import re
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tabnet_cli.errors import DataError
from tabnet_cli.io import tables as data
from tabnet_cli.io.tables import iter_table, read_table


def write(tmp_path, name: str, content: str | bytes):
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return str(path)


def cells(frame: pd.DataFrame) -> dict:
    """Every value with its kind, so that 1 (number), True and '1' differ."""

    def kind(value):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return None
        if isinstance(value, bool | np.bool_):
            return ("bool", bool(value))
        if isinstance(value, int | float | np.number):
            return ("number", float(value))
        return ("text", str(value))

    return {str(c): [kind(v) for v in frame[c].astype(object).tolist()] for c in frame.columns}


def chunked(source: str, rows: int = 1000, options=None) -> pd.DataFrame:
    given = () if options is None else (options,)  # None: the default options
    return pd.concat(list(iter_table(source, rows, *given)), ignore_index=True)


def both(source: str, options=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The whole-file read and the chunked read, checked to hold the same values."""
    given = () if options is None else (options,)
    whole, streamed = read_table(source, *given), chunked(source, 2, options)
    assert cells(whole) == cells(streamed)
    return whole, streamed


def readers(source: str, options=None):
    """Both readers as callables, for errors that each must raise."""
    given = () if options is None else (options,)
    return [lambda: read_table(source, *given), lambda: chunked(source, 2, options)]


# 1. ReadOptions


def test_read_options_defaults_and_json_round_trip():
    assert data.ReadOptions().to_dict() == {
        "na_values": [],
        "default_na": True,
        "header": True,
        "names": [],
        "encoding": "utf-8",
        "decimal": ".",
        "text": [],
    }
    options = data.ReadOptions(("n.a.",), False, False, ("a", "b"), "latin-1", ",", ("y",))
    assert data.ReadOptions.from_dict(json.loads(json.dumps(options.to_dict()))) == options
    assert data.ReadOptions.from_dict({}) == data.ReadOptions()


@pytest.mark.parametrize(
    "stored",
    [
        {"sep": ";"},
        {"header": "no"},
        {"default_na": 1},
        {"names": "a,b"},
        {"na_values": [1]},
        {"encoding": 8},
        {"decimal": None},
        {"encoding": "klingon"},
        ["header"],
    ],
)
def test_read_options_from_dict_is_strict(stored):
    with pytest.raises(ValueError):
        data.ReadOptions.from_dict(stored)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"encoding": "klingon"}, "unknown --encoding 'klingon'; use e.g. utf-8, latin-1"),
        ({"encoding": "hex"}, "unknown --encoding 'hex'"),
        ({"decimal": ",,"}, "--decimal must be one mark such as . or ,"),
        ({"decimal": "1"}, "--decimal must be one mark"),
        ({"names": ("a", " a")}, "--names repeats a; give each column its own name"),
        ({"names": ("a", "")}, "--names has an empty name"),
    ],
)
def test_read_option_mistakes_are_one_line_data_errors(values, message):
    with pytest.raises(DataError, match="^" + message.replace(".", r"\.").replace("(", r"\(")):
        data.ReadOptions(**values)


def test_reading_with_default_options_still_works(tmp_path):
    path = write(tmp_path, "f.csv", "a,b\n1,x\n2,y\n")
    assert read_table(path).shape == (2, 2)
    assert read_table(path, options=data.ReadOptions()).shape == (2, 2)
    assert [len(c) for c in iter_table(path, 1)] == [1, 1]


# 2. Headerless files


def test_no_header_names_columns_v1_to_vn(tmp_path):
    path = write(tmp_path, "f.csv", "1,2,x\n3,4,y\n")
    whole, _ = both(path, data.ReadOptions(header=False))
    assert whole.columns.tolist() == ["V1", "V2", "V3"]
    assert whole["V1"].tolist() == [1, 3] and whole["V3"].tolist() == ["x", "y"]


def test_names_name_the_columns_and_the_first_line_is_data(tmp_path):
    path = write(tmp_path, "f.csv", "1,2,x\n3,4,y\n")
    whole, _ = both(path, data.ReadOptions(names=("a", "b", "label")))
    assert whole.columns.tolist() == ["a", "b", "label"] and len(whole) == 2


def test_names_must_match_the_number_of_columns(tmp_path):
    path = write(tmp_path, "f.csv", "1,2,x\n3,4,y\n")
    for read in readers(path, data.ReadOptions(names=("a", "b"))):
        with pytest.raises(DataError, match=r"--names gives 2 names but .*f.csv has 3 columns"):
            read()


# 3. Whitespace-separated files

AUTO_MPG = (
    '18.0   8   307.0      130.0      3504.      12.0   70  1\t"chevrolet chevelle malibu"\n'
    '25.0   4   98.00      ?          2046.      19.0   71  1\t"ford pinto"\n'
    '15.0   8   350.0      165.0      3693.      11.5   70  1\t"buick skylark 320"\n'
)


def test_uci_whitespace_file_is_read(tmp_path):
    path = write(tmp_path, "auto-mpg.data", AUTO_MPG)
    whole, _ = both(path, data.ReadOptions(header=False))
    assert whole.columns.tolist() == [f"V{i}" for i in range(1, 10)]
    assert whole["V4"].isna().tolist() == [False, True, False]  # "?" is missing
    assert whole["V9"].tolist() == ["chevrolet chevelle malibu", "ford pinto", "buick skylark 320"]
    assert whole["V1"].tolist() == [18.0, 25.0, 15.0]


def test_whitespace_file_with_a_header(tmp_path):
    path = write(tmp_path, "f.txt", "mpg  cyl   name\n18.0  8  chevy\n  25.0  4 ford\n")
    whole, _ = both(path)
    assert whole.columns.tolist() == ["mpg", "cyl", "name"] and whole["cyl"].tolist() == [8, 4]


@pytest.mark.parametrize(
    "content",
    ["first name,last name\nJohn Doe,Jane Roe\nAl Bo,Cy Di\n", "a, b, c\n1, 2, 3\n4, 5, 6\n"],
)
def test_separators_still_win_over_spaces(tmp_path, content):
    whole, _ = both(write(tmp_path, "f.csv", content))
    assert whole.shape == (2, len(content.splitlines()[0].split(",")))


# 4. Encodings and decimal commas


def test_latin1_file_suggests_encoding_and_is_read_with_it(tmp_path):
    path = write(tmp_path, "f.csv", "name,v\ncafé,1\nnaïve,2\n".encode("latin-1"))
    for read in readers(path):
        with pytest.raises(DataError, match="is not UTF-8 text; add --encoding latin-1"):
            read()
    whole, _ = both(path, data.ReadOptions(encoding="latin-1"))
    assert whole["name"].tolist() == ["café", "naïve"]


def test_latin1_byte_far_into_the_file_gives_the_same_advice(tmp_path):
    rows = "".join(f"{i},x\n" for i in range(12000))  # past the 64 KiB sniffed
    path = write(tmp_path, "f.csv", f"a,b\n{rows}1,é\n".encode("latin-1"))
    for read in readers(path):
        with pytest.raises(DataError, match="add --encoding latin-1"):
            read()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_with_a_bom_is_detected(tmp_path, encoding):
    text = "\ufeffa,b\n1,é\n2,x\n" if encoding == "utf-16-be" else "a,b\n1,é\n2,x\n"
    path = write(tmp_path, "f.csv", text.encode(encoding))
    whole, _ = both(path)
    assert whole.columns.tolist() == ["a", "b"] and whole["b"].tolist() == ["é", "x"]


def test_decimal_comma_option_reads_numbers(tmp_path):
    path = write(tmp_path, "f.csv", "a;b;c\n1,5;x;2\n-2,25;y;3\n")
    whole, _ = both(path, data.ReadOptions(decimal=","))
    assert whole["a"].tolist() == [1.5, -2.25] and whole["c"].tolist() == [2, 3]


@pytest.mark.parametrize("name", ["f.csv", "f.tsv"])
def test_decimal_commas_without_the_option_suggest_it(tmp_path, name):
    sep = ";" if name == "f.csv" else "\t"
    rows = "".join(f"{v}{sep}{i}\n" for i, v in enumerate(["1,5", "2", "0,25", "3", "4,75"]))
    path = write(tmp_path, name, f"x{sep}y\n{rows}")
    for read in readers(path):
        with pytest.raises(DataError, match=r"column 'x' .* comma \(like '1,5'\); add --decimal ,"):
            read()


def test_thousands_alone_are_not_taken_for_decimal_commas(tmp_path):
    whole, _ = both(write(tmp_path, "f.csv", "x;y\n1,234;1\n12,500;2\n"))
    assert whole["x"].tolist() == ["1,234", "12,500"]


# 5. Missing-value markers


MARKERS = "a,b\nNA,1\nN/A,2\nNone,3\nnull,4\n?,5\n,6\nmissing,7\n"


def test_without_default_markers_only_blanks_and_given_ones_are_missing(tmp_path):
    path = write(tmp_path, "f.csv", MARKERS)
    options = data.ReadOptions(na_values=("missing",), default_na=False)
    whole, _ = both(path, options)
    assert whole["a"].tolist()[:5] == ["NA", "N/A", "None", "null", "?"]
    assert whole["a"].isna().tolist() == [False] * 5 + [True, True]
    assert read_table(path, data.ReadOptions(na_values=("missing",)))["a"].isna().all()


# 6. Training and predict read the same values

TRICKY = {
    "spaces": "a,b,c\n 1.5 ,x , y\n2,  x,z \n",
    "question_marks": "age,workclass,y\n39, State-gov,no\n50, ?,yes\n38,?,no\n40,? ,no\n",
    "na_markers": "a,b\nNA,1\n N/A ,2\nnull,3\n1.5,NaN\n",
    "quoted": 'a,b\n"x, y",1\n"multi\nline",2\n"",3\n',
    "spaced_quotes": 'a, b\n1, "x, y"\n2, "z"\n',
    "dates": "when,v\n2014-01-01,1\n2014-01-02T10:00:00,2\n,3\n",
    "empty_strings": 'a,b,c\n,"",1\n  ,x,2\n',
    "booleans": "a,b\nTrue,1\n false,0\n TRUE ,1\n",
    "mixed": "a,b\n1,True\nx,1\n",
}


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_whole_and_chunked_readers_agree(tmp_path, name):
    whole, _ = both(write(tmp_path, f"{name}.csv", TRICKY[name]))
    assert cells(whole) == cells(chunked(str(tmp_path / f"{name}.csv"), 1000))


def test_question_mark_with_a_space_is_missing_for_training_and_predict(tmp_path):
    path = write(tmp_path, "adult.csv", TRICKY["question_marks"])
    whole, streamed = both(path)
    assert whole["workclass"].isna().tolist() == [False, True, True, True]
    assert streamed["workclass"].isna().tolist() == [False, True, True, True]
    assert whole["workclass"][0] == "State-gov"


def test_stripped_values_and_numbers_agree(tmp_path):
    whole, _ = both(write(tmp_path, "f.csv", TRICKY["spaces"]))
    assert whole["a"].tolist() == [1.5, 2.0] and whole["b"].tolist() == ["x", "x"]


TOKENS = ["1", " 2", "1.5 ", "?", " ?", "NA", " NA ", "x", " y ", "", "True", " false", "-",
          '"q, r"', '"NA"', "2014-01-01", "inf", "1,5", "null"]  # fmt: skip


@settings(max_examples=15, deadline=None)
@given(st.lists(st.lists(st.sampled_from(TOKENS), min_size=3, max_size=3), min_size=1, max_size=5))
def test_readers_agree_on_random_cells(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("agree") / "f.csv"
    path.write_text("a,b,c\n" + "".join(",".join(row) + "\n" for row in rows))
    try:
        whole = read_table(str(path))
    except DataError as exc:
        with pytest.raises(DataError, match=re.escape(str(exc)[:20])):
            chunked(str(path))
        return
    assert cells(whole) == cells(chunked(str(path)))


# 7. Unnamed leading columns and duplicated names


def test_unnamed_leading_column_holding_data_is_kept(tmp_path):
    notices = []
    path = write(tmp_path, "f.csv", ",x,y\n5,1,2\n9,3,4\n")
    assert read_table(path, notices=notices).columns.tolist() == ["Unnamed: 0", "x", "y"]
    assert notices == []
    assert chunked(path).columns.tolist() == ["Unnamed: 0", "x", "y"]


@pytest.mark.parametrize("start", [0, 1])
def test_unnamed_row_numbers_are_dropped(tmp_path, start):
    rows = "".join(f"{start + i},{i * 2}\n" for i in range(5))
    path = write(tmp_path, "f.csv", f",x\n{rows}")
    notices = []
    assert read_table(path, notices=notices).columns.tolist() == ["x"]
    assert notices == [f"ignored the unnamed index column at the start of {path}"]
    assert [c.columns.tolist() for c in iter_table(path, 2)] == [["x"]] * 3


@pytest.mark.parametrize("header", ["y,x,y", "y, x,y ", '"y",x,y'])
def test_duplicate_column_names_are_an_error(tmp_path, header):
    path = write(tmp_path, "f.csv", f"{header}\n1,2,3\n")
    for read in readers(path):
        with pytest.raises(DataError, match="duplicate column names: y; rename them"):
            read()


# 8. Damaged files


@pytest.fixture
def gz_bytes():
    return gzip.compress(("a,b\n" + "".join(f"{i},{i % 7}\n" for i in range(40000))).encode())


@pytest.mark.parametrize("damage", ["start", "middle", "end", "cut"])
def test_damaged_gzip_is_one_data_error(tmp_path, gz_bytes, damage):
    broken = bytearray(gz_bytes)
    if damage == "cut":
        broken = broken[: len(broken) * 2 // 3]
    else:
        at = {"start": 12, "middle": len(broken) // 2, "end": len(broken) - 6}[damage]
        broken[at : at + 4] = bytes(b ^ 0xFF for b in broken[at : at + 4])
    path = write(tmp_path, "f.csv.gz", bytes(broken))
    for read in (lambda: read_table(path), lambda: chunked(path, 5000)):
        with pytest.raises(DataError, match="gzip data is damaged or cut short"):
            read()


def test_parquet_nested_columns_are_dropped_with_a_notice(tmp_path):
    table = pa.table(
        {
            "x": [1.0, 2.0],
            "tags": [["a"], ["b", "c"]],
            "meta": [{"k": 1}, {"k": 2}],
            "pairs": pa.array([[("a", 1)], []], type=pa.map_(pa.string(), pa.int64())),
            "y": ["p", "q"],
        }
    )
    path = tmp_path / "f.parquet"
    pq.write_table(table, path)
    notices = []
    assert read_table(str(path), notices=notices).columns.tolist() == ["x", "y"]
    assert notices == [
        f"ignored nested column(s) in {path} (lists, structs and maps are not model inputs): "
        "tags, meta, pairs"
    ]
    assert chunked(str(path)).columns.tolist() == ["x", "y"]


def test_parquet_with_only_nested_columns_is_an_error(tmp_path):
    path = tmp_path / "f.parquet"
    pq.write_table(pa.table({"tags": [["a"], ["b"]]}), path)
    with pytest.raises(DataError, match="has only nested columns .*: tags; give a table"):
        read_table(str(path))


@pytest.mark.parametrize("damage", ["cut", "noise", "empty"])
def test_broken_parquet_is_one_data_error(tmp_path, damage):
    buffer = io.BytesIO()
    pd.DataFrame({"x": range(50), "y": ["a", "b"] * 25}).to_parquet(buffer)
    good = buffer.getvalue()
    content = {"cut": good[: len(good) // 2], "noise": b"PAR1" + bytes(300) + b"PAR1"}
    path = write(tmp_path, "f.parquet", content.get(damage, b""))
    for read in readers(path):
        with pytest.raises(DataError, match="cannot read parquet"):
            read()


# 9. Ctrl-C


class _Interrupting(io.RawIOBase):
    """stdin that gives CSV rows, then is interrupted past the sniffed bytes."""

    def __init__(self):
        self.sent = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.sent > 100_000:
            raise KeyboardInterrupt
        chunk = (b"a,b\n" if not self.sent else b"") + b"1,2\n" * 4000
        n = min(len(buffer), len(chunk))
        buffer[:n] = chunk[:n]
        self.sent += n
        return n


@pytest.mark.parametrize("reader", ["whole", "chunked"])
def test_ctrl_c_while_reading_stdin_stays_a_keyboard_interrupt(monkeypatch, reader):
    stdin = io.TextIOWrapper(io.BufferedReader(_Interrupting()))
    monkeypatch.setattr(sys, "stdin", stdin)
    with pytest.raises(KeyboardInterrupt):
        read_table("-") if reader == "whole" else list(iter_table("-", 100))


@pytest.mark.parametrize("raised", [KeyboardInterrupt, pa.ArrowCancelled])
def test_ctrl_c_in_pyarrow_stays_a_keyboard_interrupt(tmp_path, monkeypatch, raised):
    import pyarrow.csv as pv

    def interrupted(*args, **kwargs):
        raise raised("cancelled") if raised is pa.ArrowCancelled else raised

    monkeypatch.setattr(pv, "read_csv", interrupted)
    with pytest.raises(KeyboardInterrupt):  # not read again with pandas, not a DataError
        read_table(write(tmp_path, "f.csv", "a,b\n1,2\n"))


@pytest.mark.parametrize("raised", [KeyboardInterrupt, pa.ArrowCancelled])
def test_ctrl_c_in_parquet_stays_a_keyboard_interrupt(tmp_path, monkeypatch, raised):
    path = tmp_path / "f.parquet"
    pd.DataFrame({"x": [1, 2]}).to_parquet(path)

    def interrupted(*args, **kwargs):
        raise raised("cancelled") if raised is pa.ArrowCancelled else raised

    monkeypatch.setattr(pq, "ParquetFile", interrupted)
    monkeypatch.setattr(pd, "read_parquet", interrupted)
    with pytest.raises(KeyboardInterrupt):
        read_table(str(path))


def test_training_and_predict_read_question_marks_alike(cli, tmp_path):
    """Item 18: ' ?' (Adult census) was a category at training and missing at predict."""
    rng = np.random.default_rng(0)
    work = rng.choice([" Private", " State-gov", " ?"], 60)
    frame = pd.DataFrame({"age": rng.integers(20, 60, 60), "workclass": work})
    frame["y"] = frame["age"] * 2.0
    path = tmp_path / "adult.csv"
    frame.to_csv(path, index=False)
    run = tmp_path / "run"
    trained = cli.line(f"train {path} --target y --epochs 1 --out {run} --verbose 0")
    assert trained.exit_code == 0, trained.stderr
    manifest = json.loads((run / "model.json").read_text())
    categories = manifest["preprocessing"]["features"]["categorical"][0]["categories"]
    assert categories == ["(missing)", "Private", "State-gov"]
    predicted = cli("predict", run, path)
    assert predicted.exit_code == 0 and predicted.stderr == ""  # nothing unseen, nothing odd


def test_multi_word_values_in_a_tab_file_stay_whole(tmp_path):
    path = write(tmp_path, "f.txt", "home town\tnew city\nSan Jose\tNew York\nEl Paso\tLas Vegas\n")
    whole, _ = both(path)
    assert (
        whole.columns.tolist() == ["home town", "new city"] and whole["new city"][0] == "New York"
    )
