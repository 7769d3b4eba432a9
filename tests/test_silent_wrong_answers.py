"""Overflow, damaged weights, stray text in a target, colliding column names and classes
that cannot be learned: each is an error or a note, never a silently wrong answer."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import assert_user_error
from safetensors.numpy import load_file, save_file


def test_a_feature_beyond_float32_is_refused_at_training(cli, regression_csv, tmp_path):
    frame = pd.read_csv(regression_csv)
    frame.loc[5, "a"] = 1e300
    frame.to_csv(tmp_path / "huge.csv", index=False)
    result = cli.line(f"train {tmp_path}/huge.csv --target y --epochs 1 --out {tmp_path}/run")
    assert_user_error(result, "column 'a' holds 1e+300, beyond the float32 range")
    assert not (tmp_path / "run").exists()


def test_a_target_beyond_float32_is_refused_at_training(cli, regression_csv, tmp_path):
    frame = pd.read_csv(regression_csv)
    frame.loc[5, "y"] = -1e300
    frame.to_csv(tmp_path / "huge.csv", index=False)
    result = cli.line(f"train {tmp_path}/huge.csv --target y --epochs 1")
    assert_user_error(result, "target 'y' holds 1e+300, beyond the float32 range")


def test_an_overflowing_value_at_predict_time_is_an_error_not_an_empty_cell(
    cli, trained_regression, regression_csv, tmp_path
):
    frame = pd.read_csv(regression_csv).head(10)
    frame.loc[3, "b"] = 1e300
    frame.to_csv(tmp_path / "new.csv", index=False)
    result = cli.line(f"predict {trained_regression} {tmp_path}/new.csv")
    assert result.exit_code == 2 and "column 'b' holds 1e+300" in result.stderr
    assert "Traceback" not in result.stderr


def test_huge_finite_weights_give_an_error_not_blanks(cli, trained_binary, binary_csv, tmp_path):
    weights_path = trained_binary / "model.safetensors"
    weights = load_file(weights_path)
    weights = {k: np.full_like(v, 3e38) for k, v in weights.items()}
    save_file(weights, weights_path)
    for command in ("predict", "evaluate"):  # refused on load (run_dir.check_outputs)
        result = cli(command, str(trained_binary), str(binary_csv))
        assert_user_error(result, "model.safetensors: the weights overflow float32")


def test_a_stray_word_in_a_numeric_target_is_an_error(cli, regression_csv, tmp_path):
    frame = pd.read_csv(regression_csv)
    frame["y"] = frame["y"].round().astype(int).astype(str)
    frame.loc[7, "y"] = "five"
    frame.to_csv(tmp_path / "typo.csv", index=False)
    result = cli.line(f"train {tmp_path}/typo.csv --target y --epochs 1 --out {tmp_path}/r")
    assert_user_error(result, "target 'y' is numeric except for values like 'five'")
    # as the message says: an explicit task treats every value as a label
    result = cli.line(
        f"train {tmp_path}/typo.csv --target y --epochs 1 --task multiclass "
        f"--validation-split 0.5 --seed 1 --out {tmp_path}/r --verbose 0"
    )
    assert result.exit_code in (0, 2), result.stderr
    assert "numeric except" not in result.stderr


def test_proba_columns_never_replace_the_prediction(cli, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 2))
    frame = pd.DataFrame(x, columns=["p", "q"])
    frame["y"] = np.where(x[:, 0] > 0, "y", "n")
    frame.to_csv(tmp_path / "yn.csv", index=False)
    run = cli.train(tmp_path / "yn.csv", "y", tmp_path / "run", "--layers 4 --epochs 2")
    result = cli("predict", str(run), str(tmp_path / "yn.csv"), "--proba")
    assert result.exit_code == 0, result.stderr
    out = pd.read_csv(pd.io.common.StringIO(result.stdout))
    assert list(out.columns) == ["y", "proba_n", "proba_y"]
    assert set(out["y"]) <= {"y", "n"}
    assert np.allclose(out["proba_n"] + out["proba_y"], 1.0)


@pytest.mark.parametrize("separate_file", [False, True])
def test_a_class_only_in_the_validation_rows_says_what_to_do(cli, tmp_path, separate_file):
    frame = pd.DataFrame({"x": np.arange(40.0), "k": ["a", "b"] * 20})
    rare = pd.DataFrame({"x": [99.0], "k": ["zebra"]})
    if separate_file:
        frame.to_csv(tmp_path / "train.csv", index=False)
        pd.concat([frame.head(5), rare]).to_csv(tmp_path / "valid.csv", index=False)
        extra = f"--validation-data {tmp_path}/valid.csv"
        expected = f"appears only in the validation file {tmp_path}/valid.csv (1 row(s))"
    else:
        rows = pd.concat([frame, rare], ignore_index=True)
        rows.to_csv(tmp_path / "train.csv", index=False)
        seed = next(s for s in range(50) if 40 not in rows.sample(frac=0.8, random_state=s).index)
        extra = f"--seed {seed}"  # a seed whose split puts the rare row in validation
        expected = "appears only in the validation rows of the split (1 row(s))"
    result = cli.line(f"train {tmp_path}/train.csv --target k --task multiclass --epochs 1 {extra}")
    assert_user_error(result, f"class 'zebra' of target 'k' {expected}")


def test_extreme_outliers_are_noted_at_training(cli, regression_csv, tmp_path):
    frame = pd.read_csv(regression_csv)
    frame.loc[:, "c"] = frame["c"] + 10
    frame.loc[0:1, "c"] = 9.6e14  # a typo, as in red-wine.csv's alcohol column
    frame.to_csv(tmp_path / "outlier.csv", index=False)
    result = cli.line(
        f"train {tmp_path}/outlier.csv --target y --epochs 1 --scale minmax --seed 1 "
        f"--out {tmp_path}/run --verbose 2"
    )
    assert result.exit_code == 0, result.stderr
    assert "Note: column 'c' has extreme values (9.6e+14) that squash 90% of its values" in (
        result.stderr
    )
    assert "column 'a'" not in result.stderr  # well-behaved columns are not noted
    manifest = json.loads((tmp_path / "run" / "model.json").read_text())
    assert manifest["preprocessing"]["features"]["numeric"]


def test_a_network_too_big_for_the_memory_is_refused_before_allocating(
    cli, regression_csv, tmp_path, monkeypatch
):
    from tabnet_cli.fit import train as fitting

    monkeypatch.setattr(fitting, "available_memory", lambda: 10 * 2**20)  # 10 MiB free
    result = cli.line(f"train {regression_csv} --target y --layers 2048,2048 --out {tmp_path}/r")
    assert_user_error(result, "GiB to train, more than the 0.0 GiB available; use smaller")
    assert not (tmp_path / "r").exists()
    result = cli.line(f"train {regression_csv} --target y --layers 70000")
    assert_user_error(result, "--layers widths above 65536 are not supported")
