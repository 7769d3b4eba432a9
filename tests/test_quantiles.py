"""Quantile scaling (``--scale quantile``): ranks onto normal scores, ties at the middle,
saved with the run and reproduced by predict and the ONNX export."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import assert_user_error

from tabnet_cli.prep.features import FeatureEncoder
from tabnet_cli.prep.scaling import MAX_QUANTILES, fit_quantiles, normal_scores, quantile_normal


def test_quantiles_grow_with_the_rows_up_to_a_cap():
    assert len(fit_quantiles(np.arange(100.0))) == 10
    assert len(fit_quantiles(np.arange(3000.0))) == 100
    assert len(fit_quantiles(np.arange(1e6))) == MAX_QUANTILES


def test_the_map_is_monotone_flat_outside_training_and_symmetric():
    rng = np.random.default_rng(0)
    train = rng.lognormal(size=3000)
    quantiles = fit_quantiles(train)
    x = np.sort(np.r_[train, -5.0, 1e9])
    y = quantile_normal(x, quantiles)
    assert np.all(np.diff(y) >= 0)
    ends = normal_scores(len(quantiles))[[0, -1]]
    assert y[0] == ends[0] and y[-1] == ends[-1]  # beyond the training range: the end scores
    assert abs(np.median(quantile_normal(train, quantiles))) < 0.02  # the median goes to 0
    assert normal_scores(7) == pytest.approx(-normal_scores(7)[::-1])


def test_a_value_shared_by_many_rows_goes_to_the_middle_of_its_scores():
    column = np.r_[np.zeros(750), np.arange(1.0, 251.0)]  # 75% zeros, as a queue length
    quantiles = fit_quantiles(column)
    scores = normal_scores(len(quantiles))
    zeros = np.flatnonzero(np.asarray(quantiles) == 0)
    assert quantile_normal(np.array([0.0]), quantiles)[0] == pytest.approx(
        (scores[zeros[0]] + scores[zeros[-1]]) / 2
    )


def test_a_heavy_tail_is_spread_instead_of_squashed():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"size": rng.pareto(1.0, 5000)})
    tail = frame["size"] > frame["size"].quantile(0.99)
    spreads = {}
    for scale, clip in (("robust", "smooth"), ("quantile", "none")):
        x = FeatureEncoder(scale, clip).fit(frame).transform(frame)[0][:, 0]
        spreads[scale] = (x[tail].max() - x[tail].min()) / (x.max() - x.min())
    # the top 1% of rows keep about a tenth of the range by rank (0.097); robust scaling
    # and smooth clipping press them together just below +3 (0.0024)
    assert spreads["quantile"] > 0.05 > 0.005 > spreads["robust"]


def test_the_fitted_quantiles_survive_a_save_and_load():
    frame = pd.DataFrame({"x": np.r_[np.zeros(50), np.arange(50.0)], "c": ["a", "b"] * 50})
    encoder = FeatureEncoder("quantile").fit(frame)
    restored = FeatureEncoder.from_state(json.loads(json.dumps(encoder.state())))
    assert np.array_equal(restored.transform(frame)[0], encoder.transform(frame)[0])
    assert encoder.numeric_[0]["quantiles"] == fit_quantiles(frame["x"].to_numpy())


def test_rank_inputs_put_each_numeric_columns_rank_after_the_values():
    frame = pd.DataFrame(
        {"x": [1.0, 2.0, None, 50.0] * 10, "z": np.arange(40.0), "c": ["a", "b"] * 20}
    )
    encoder = FeatureEncoder("robust", "smooth", ranks=True).fit(frame)
    x, _ = encoder.transform(frame)
    assert encoder.column_slots() == {"x": [0, 2, 4], "z": [1, 3], "c": [5, 6, 7]}
    assert x.shape == (40, encoder.n_features) == (40, 8)
    for column, slot in (("x", 2), ("z", 3)):
        values = frame[column].fillna(frame[column].median()).to_numpy()
        expected = quantile_normal(values, fit_quantiles(frame[column].dropna().to_numpy()))
        assert x[:, slot] == pytest.approx(expected, abs=1e-6)
    assert x[:, 4].tolist() == [0.0, 0.0, 1.0, 0.0] * 10  # the missing indicator after ranks
    restored = FeatureEncoder.from_state(json.loads(json.dumps(encoder.state())))
    assert np.array_equal(restored.transform(frame)[0], x)


def test_rank_inputs_with_quantile_scaling_is_one_line(cli, regression_csv):
    result = cli.line(f"train {regression_csv} --target y --scale quantile --rank-inputs")
    assert_user_error(result, "--rank-inputs with --scale quantile")
