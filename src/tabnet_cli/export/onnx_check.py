"""Checks of an exported ONNX graph against ``tabnet predict``'s NumPy pipeline, and the
helpers to feed a DataFrame to it with onnxruntime (the export's self-check and the tests).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tabnet_cli.run.run_dir import LoadedRun


def self_check(run: LoadedRun, payload: bytes, tolerance: float = 1e-4) -> float:
    """The largest difference between onnxruntime and ``predict``'s NumPy pipeline on
    probe rows; a larger one than ``tolerance`` (in model units) is a bug in the export."""
    frame = probe_rows(run)
    outputs = run_onnx(payload, onnx_feed(run, frame))
    raw = run.model(run.features.transform(frame)[0])
    if run.task == "regression":
        # compared in model units, so the check does not depend on the target's scale
        expected = raw.reshape(-1).astype(np.float64)
        got = (outputs["prediction"] - run.target.center_) / run.target.spread_
    else:
        expected, got = run.target.probabilities(raw), outputs["probabilities"]
    difference = float(np.max(np.abs(expected - got)))
    if not difference <= tolerance:
        raise RuntimeError(f"the ONNX graph differs from predict by {difference:.3g}")
    return difference


def probe_rows(run: LoadedRun):
    """Rows that exercise every path of the preprocessing: values around each median,
    far outliers, missing values, every category (padded with spaces), unseen ones."""
    import pandas as pd  # pandas loads on first use, not with this module

    numeric, categorical = run.features.numeric_, run.features.categorical_
    longest = max([len(c["categories"]) for c in categorical] + [8]) + 3
    rng = np.random.default_rng(0)
    columns: dict[str, Any] = {}
    for spec in numeric:
        values = spec["center"] + spec["spread"] * rng.normal(0, 2, longest)
        values[:3] = [np.nan, spec["center"] + 50 * spec["spread"], np.inf]
        columns[spec["name"]] = values
    for spec in categorical:
        known = [f" {c} " if i % 2 else c for i, c in enumerate(spec["categories"])]
        values = known + [None, "never seen in training"]
        columns[spec["name"]] = (values * longest)[:longest]
    return pd.DataFrame(columns)


def onnx_feed(run: LoadedRun, frame) -> dict[str, np.ndarray]:
    """A DataFrame of raw columns as the graph's inputs: numbers as float64 (anything
    unparseable as NaN), categories as text with missing values as the empty string.

    Example:
        >>> feed = onnx_feed(run, pd.read_csv("new.csv"))  # doctest: +SKIP
        >>> session.run(None, feed)  # doctest: +SKIP
    """
    import pandas as pd  # pandas loads on first use, not with this module

    feed = {}
    for spec in run.features.numeric_:
        values = pd.to_numeric(frame[spec["name"]], errors="coerce")
        feed[spec["name"]] = values.to_numpy(dtype=np.float64, na_value=np.nan).reshape(-1, 1)
    for spec in run.features.categorical_:
        column = frame[spec["name"]].astype(object)
        text = ["" if pd.isna(v) else str(v) for v in column]
        feed[spec["name"]] = np.array(text, dtype=object).reshape(-1, 1)
    return feed


def run_onnx(payload: bytes, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Runs a serialized model with onnxruntime on the CPU; outputs by name."""
    import onnxruntime  # onnxruntime loads on first use, not with this module

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: its notes are not the user's business
    session = onnxruntime.InferenceSession(payload, options, providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(names, feed), strict=True))
