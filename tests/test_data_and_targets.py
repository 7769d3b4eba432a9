"""Reading, splitting, task inference and preprocessing, without training."""

import numpy as np
import pandas as pd
import pytest

from tabnet_cli.errors import DataError
from tabnet_cli.io.tables import iter_table, read_table
from tabnet_cli.prep.features import FeatureEncoder
from tabnet_cli.prep.split import split_positions
from tabnet_cli.prep.targets import TargetEncoder, infer_task


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_split_matches_pandas_sample_row_for_row(seed):
    frame = pd.DataFrame({"x": np.arange(1599) * 2.5, "y": np.arange(1599) % 7, "z": "text"})
    train, valid = split_positions(len(frame), 0.3, seed)
    expected = frame.sample(frac=0.7, random_state=seed)
    assert train.tolist() == expected.index.tolist()
    assert valid.tolist() == frame.drop(expected.index).index.tolist()


def test_reader_sniffs_separators_and_drops_unnamed_index(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text(",a;b\n".replace(",", "") + "1;?\n2;3\n")
    frame = read_table(str(path))
    assert frame.columns.tolist() == ["a", "b"] and frame["b"].isna().sum() == 1
    indexed = tmp_path / "indexed.csv"
    pd.DataFrame({"v": [1, 2]}).to_csv(indexed)  # writes an unnamed index column
    notices = []
    assert read_table(str(indexed), notices=notices).columns.tolist() == ["v"]
    assert notices == [f"ignored the unnamed index column at the start of {indexed}"]


def test_reader_handles_gzip_and_bom(tmp_path):
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    frame.to_csv(tmp_path / "f.csv.gz", index=False)
    (tmp_path / "bom.csv").write_bytes("\ufeffa,b\n1,x\n".encode())
    read = read_table(str(tmp_path / "f.csv.gz"))
    assert read.astype(str).equals(frame.astype(str))  # text may arrive as Categorical
    assert read_table(str(tmp_path / "bom.csv")).columns.tolist() == ["a", "b"]


def test_chunked_reader_returns_all_rows(tmp_path):
    path = tmp_path / "big.csv"
    pd.DataFrame({"a": range(1000)}).to_csv(path, index=False)
    chunks = list(iter_table(str(path), 300))
    assert [len(c) for c in chunks] == [300, 300, 300, 100]


@pytest.mark.parametrize(
    ("values", "loss", "task", "expected"),
    [
        (["good", "bad", "good"], "auto", "auto", "binary"),
        ([3, 5, 6, 8, 5], "auto", "auto", "regression"),  # wine quality is a quantity
        (list(range(10)) * 3, "auto", "auto", "multiclass"),  # digit codes 0..9
        ([0.5, 1.5, 2.5], "auto", "auto", "regression"),
        (["a", "b", "c"], "auto", "auto", "multiclass"),
        ([3, 5, 6, 8], "crossentropy", "auto", "multiclass"),
        ([0, 1, 1, 0], "mse", "auto", "regression"),
        (["a", "b"], "crossentropy", "auto", "multiclass"),
    ],
)
def test_task_inference(values, loss, task, expected):
    assert infer_task(pd.Series(values, name="t"), loss, task) == expected


def test_target_encoder_round_trips_labels_and_units():
    labels = TargetEncoder("multiclass").fit(pd.Series([2, 10, 1, 2]))
    assert labels.classes_ == [1, 2, 10]  # numeric labels sort numerically
    assert labels.encode(pd.Series([10, 1.0])).tolist() == [2, 0]
    assert labels.decode(np.array([[0.1, 0.9, 0.0]])).tolist() == [2]
    with pytest.raises(DataError, match="labels the model never saw: 7"):
        labels.encode(pd.Series([7], name="t"))
    quantity = TargetEncoder("regression", "minmax").fit(pd.Series([3.0, 8.0]))
    assert quantity.encode(pd.Series([3.0, 5.5])).tolist() == [0.0, 0.5]
    assert quantity.decode(np.array([[0.5]])).tolist() == [5.5]


def test_feature_encoder_is_fitted_on_given_rows_only():
    train = pd.DataFrame({"x": [0.0, 10.0], "c": ["a", "b"]})
    encoder = FeatureEncoder("minmax").fit(train)
    x, report = encoder.transform(pd.DataFrame({"x": [20.0, np.nan], "c": [" a ", "zzz"]}))
    # min-max from the training rows: 20 -> 2.0; NaN imputed with the training median (5)
    assert x[:, 0].tolist() == [2.0, 0.5]
    # stray spaces do not make a new category; "zzz" falls in the unknown slot
    assert x[:, 1:].tolist() == [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    assert report.unseen["c"] == 1 and report.missing["x"] == 1


def test_missing_values_get_an_indicator_when_training_had_them():
    encoder = FeatureEncoder("none").fit(pd.DataFrame({"x": [1.0, np.nan, 3.0]}))
    x, _ = encoder.transform(pd.DataFrame({"x": [np.nan, 5.0]}))
    assert x.tolist() == [[2.0, 1.0], [5.0, 0.0]]


def test_state_round_trip_gives_identical_transform():
    frame = pd.DataFrame({"x": [1.0, 2.0, 4.0], "c": ["u", "v", "u"]})
    encoder = FeatureEncoder("standard").fit(frame)
    clone = FeatureEncoder.from_state(encoder.state())
    assert np.array_equal(encoder.transform(frame)[0], clone.transform(frame)[0])


def test_infinite_values_are_refused():
    with pytest.raises(DataError, match="column 'x' has infinite values"):
        FeatureEncoder().fit(pd.DataFrame({"x": [1.0, np.inf, 2.0]}))


def test_labels_are_keyed_per_distinct_value_and_mixed_types_row_by_row():
    # the keys are computed once per distinct value; True and 1 hash alike in pandas but
    # are different labels ("True", "1"), so columns of mixed types are keyed row by row
    mixed = pd.Series([True, 1, 1.0, "1", True], dtype=object)
    encoder = TargetEncoder("multiclass").fit(mixed)
    assert [str(c) for c in encoder.classes_] == ["1", "True"]
    assert encoder.encode(mixed).tolist() == [1, 0, 0, 0, 1]
    assert encoder.baseline_ == [0.6, 0.4]
    text = pd.Series(["b", "a", " b", "b"] * 1000)
    binary = TargetEncoder("binary").fit(text)
    assert binary.encode(text)[:4].tolist() == [1.0, 0.0, 1.0, 1.0]
    assert binary.baseline_ == [0.25, 0.75]
