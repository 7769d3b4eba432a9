"""The reading options through the CLI: saved with the run, used again by predict."""

import io
import json

import numpy as np
import pandas as pd
import pytest
from conftest import assert_user_error


def _rows(n=40):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 2))
    return x, 2 * x[:, 0] - x[:, 1]


def test_headerless_file_trains_and_predicts_with_v_names(cli, tmp_path):
    x, y = _rows()
    lines = [f"{a:.4f},{b:.4f},{t:.4f}" for (a, b), t in zip(x, y, strict=True)]
    (tmp_path / "h.csv").write_text("\n".join(lines) + "\n")
    run = cli.train(tmp_path / "h.csv", "V3", tmp_path / "run", "--no-header --epochs 2")
    manifest = json.loads((run / "model.json").read_text())
    assert manifest["schema"]["input_columns"] == ["V1", "V2"]
    assert manifest["data_config"]["header"] is False
    predicted = cli("predict", str(run), str(tmp_path / "h.csv"))
    assert predicted.exit_code == 0, predicted.stderr
    assert len(pd.read_csv(io.StringIO(predicted.stdout))) == 40  # no line taken as header


def test_names_latin1_and_decimal_comma(cli, tmp_path):
    x, y = _rows()
    text = "".join(
        f"{a:.4f};{b:.4f};{'é' if t > 0 else 'ü'};{t:.4f}\n".replace(".", ",")
        for (a, b), t in zip(x, y, strict=True)
    )
    (tmp_path / "l.csv").write_bytes(text.encode("latin-1"))
    result = cli.line(f"train {tmp_path}/l.csv --target t --epochs 1")
    assert_user_error(result, "--encoding latin-1")
    run = cli.train(
        tmp_path / "l.csv", "t", tmp_path / "run",
        "--names a,b,c,t --encoding latin-1 --decimal , --epochs 2",
    )  # fmt: skip
    manifest = json.loads((run / "model.json").read_text())
    assert [c["name"] for c in manifest["preprocessing"]["features"]["numeric"]] == ["a", "b"]
    predicted = cli("predict", str(run), str(tmp_path / "l.csv"))
    assert predicted.exit_code == 0, predicted.stderr


@pytest.mark.parametrize(("option", "kept"), [("", False), ("--no-default-na", True)])
def test_no_default_na_keeps_na_as_a_category(cli, tmp_path, option, kept):
    x, y = _rows()
    frame = pd.DataFrame({"a": x[:, 0], "code": ["NA", "US"] * 20, "y": y})
    frame.to_csv(tmp_path / "na.csv", index=False)
    run = cli.train(tmp_path / "na.csv", "y", tmp_path / "run", f"--epochs 1 {option}")
    categories = json.loads((run / "model.json").read_text())["preprocessing"]["features"][
        "categorical"
    ][0]["categories"]
    assert ("NA" in categories) is kept
