"""Property-based tests: whatever small, messy table comes in, the outcome is a trained
model or a one-line user error (TabnetError, exit code 2), never another exception."""

import io
import json

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tabnet_cli.errors import TabnetError
from tabnet_cli.prep.features import FeatureEncoder

TEXT = st.text(alphabet=st.sampled_from(list("ab c,;\"'\né€ß?-1.5")), max_size=6)
CELL = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=False, width=32),
    st.integers(-5, 5),
    TEXT,
    st.booleans(),
)
NAMES = st.sampled_from(["a", "b", "c", "a", "größe", "", "y x", "1"])


@st.composite
def tables(draw):
    rows = draw(st.integers(1, 30))
    names = draw(st.lists(NAMES, min_size=1, max_size=4))
    columns = {}
    for index, name in enumerate(names):
        kind = draw(st.sampled_from(["float", "int", "text", "mixed"]))
        if kind == "float":
            values = draw(
                st.lists(st.floats(-1e6, 1e6, width=32) | st.none(), min_size=rows, max_size=rows)
            )
        elif kind == "int":
            values = draw(st.lists(st.integers(-3, 3), min_size=rows, max_size=rows))
        elif kind == "text":
            values = draw(st.lists(TEXT | st.none(), min_size=rows, max_size=rows))
        else:
            values = draw(st.lists(CELL, min_size=rows, max_size=rows))
        columns[(index, name)] = values
    frame = pd.DataFrame(columns)
    frame.columns = [name for _, name in columns]  # duplicated names allowed
    target = draw(st.sampled_from(["number", "label", "constant", "mixed"]))
    if target == "number":
        frame["y"] = draw(st.lists(st.floats(-100, 100), min_size=rows, max_size=rows))
    elif target == "label":
        frame["y"] = draw(
            st.lists(st.sampled_from(["yes", "no", "maybe"]), min_size=rows, max_size=rows)
        )
    elif target == "constant":
        frame["y"] = 1.0
    else:
        frame["y"] = draw(st.lists(CELL, min_size=rows, max_size=rows))
    return frame


@settings(max_examples=60, deadline=None)
@given(tables())
def test_feature_encoder_gives_a_finite_matrix_or_a_user_error(frame):
    features = frame.drop(columns=["y"])
    features.columns = [f"{n}#{i}" for i, n in enumerate(features.columns)]
    try:
        encoder = FeatureEncoder("standard").fit(features)
    except TabnetError:
        return
    matrix, _ = encoder.transform(features)
    assert matrix.shape == (len(frame), encoder.n_features)
    assert matrix.dtype == np.float32 and np.isfinite(matrix).all()
    clone = FeatureEncoder.from_state(encoder.state())
    assert np.array_equal(clone.transform(features)[0], matrix)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frame=tables(), writer=st.sampled_from(["csv", "semicolon", "parquet"]))
def test_train_then_predict_succeed_or_fail_with_one_line(cli, tmp_path_factory, frame, writer):
    folder = tmp_path_factory.mktemp("prop")
    if writer == "parquet":
        path = folder / "data.parquet"
        frame.columns = [f"{n}#{i}" if n != "y" else n for i, n in enumerate(frame.columns)]
        frame.astype(str).where(frame.notna(), None).to_parquet(path)
    else:
        path = folder / "data.csv"
        frame.to_csv(path, index=False, sep=";" if writer == "semicolon" else ",")
    out = folder / "run"
    result = cli.line(
        f"train {path} --target y --layers 4 --epochs 1 --batch-size 4 --out {out} --verbose 0"
    )
    assert "Traceback" not in result.stderr
    event(f"train exit {result.exit_code}: {result.stderr[:40]}")
    if result.exit_code == 2:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
        assert not out.exists()
        return
    assert result.exit_code == 0, (result.exit_code, result.stderr, result.exception)
    predicted = cli("predict", out, path)
    event(f"predict exit {predicted.exit_code}")
    assert predicted.exit_code == 0, (predicted.stderr, predicted.exception)
    assert len(pd.read_csv(io.StringIO(predicted.stdout))) == len(frame)


def test_overflowing_metrics_are_saved_as_null(cli, tmp_path):
    """Found by the property test: targets near 1e-24 make a tiny scaling spread, and
    val_mse overflows float32; the run must still be saved, with null for that figure."""
    path = tmp_path / "tiny.csv"
    pd.DataFrame(
        {"a": [np.nan, 0.0, 0.0, 1.0], "y": [1.0, 1.329455e-24, 0.0, 3.866914e-131]}
    ).to_csv(path, index=False)
    out = tmp_path / "run"
    result = cli.line(
        f"train {path} --target y --epochs 1 --layers 4 --batch-size 4 --out {out} --recipe plain"
    )
    assert result.exit_code == 0, (result.stderr, result.exception)
    metrics = json.loads((out / "metrics.json").read_text())
    assert None in metrics["best"].values()  # the overflowed figure, as null
