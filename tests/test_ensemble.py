"""`tabnet train --folds K`: a bagged ensemble in one run directory, strict to load."""

from __future__ import annotations

import json
from io import StringIO

import numpy as np
import pandas as pd
import pytest
from conftest import assert_user_error
from safetensors.numpy import load_file, save_file

FAST = "--recipe plain --layers 4 --epochs 2"


def _member_outputs(run, x):
    """Each member's raw output, run through PyTorch from the saved tensors."""
    import torch

    from tabnet_cli.nn.model import build_mlp
    from tabnet_cli.run.run_dir import read_manifest

    manifest = read_manifest(run)
    tensors = load_file(str(run / "model.safetensors"))
    outputs = []
    for i in range(1, manifest.ensemble.members + 1):
        net = build_mlp(manifest.model)
        prefix = f"member{i}."
        state = {
            k[len(prefix) :]: torch.from_numpy(v)
            for k, v in tensors.items()
            if k.startswith(prefix)
        }
        net.load_state_dict(state)
        net.eval()
        with torch.inference_mode():
            outputs.append(net(torch.from_numpy(x)).numpy().astype(np.float64))
    return outputs


@pytest.mark.parametrize(
    ("fixture", "target"),
    [("binary_csv", "label"), ("multiclass_csv", "kind"), ("regression_csv", "y")],
)
def test_prediction_averages_the_members(cli, tmp_path, request, fixture, target):
    from tabnet_cli.run.run_dir import load_run

    data = request.getfixturevalue(fixture)
    run = cli.train(data, target, tmp_path / "ens", f"{FAST} --folds 3")
    manifest = json.loads((run / "model.json").read_text())
    assert manifest["ensemble"] == {"members": 3}
    assert {k.split(".")[0] for k in load_file(str(run / "model.safetensors"))} == {
        "member1",
        "member2",
        "member3",
    }
    loaded = load_run(run)
    x, _ = loaded.features.transform(pd.read_csv(data))
    outputs = _member_outputs(run, x)
    result = cli("predict", run, data, "--proba" if target != "y" else "--keep-all")
    assert result.exit_code == 0, result.stderr
    predicted = pd.read_csv(StringIO(result.stdout))
    if target == "y":
        expected = np.mean(outputs, axis=0).ravel() * loaded.target.spread_ + loaded.target.center_
        # float32 sums: relative to the target's spread, not to a value near zero
        tolerance = 1e-5 * float(loaded.target.spread_)
        assert predicted["y"].to_numpy() == pytest.approx(expected, rel=1e-5, abs=tolerance)
        return
    probabilities = [loaded.target.probabilities(o) for o in outputs]
    names = [str(c) for c in loaded.target.classes_]
    assert predicted[names].to_numpy() == pytest.approx(np.mean(probabilities, axis=0), abs=1e-6)
    report = json.loads(cli("evaluate", run, data, "--json").stdout)
    assert report["rows"] == len(predicted) and "accuracy" in report["metrics"]


def test_ensemble_metrics_and_history(cli, binary_csv, tmp_path):
    run = cli.train(binary_csv, "label", tmp_path / "ens", f"{FAST} --folds 3")
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["members"] == 3 and len(metrics["member_runs"]) == 3
    assert sum(m["validation_rows"] for m in metrics["member_runs"]) == 150
    assert set(metrics["out_of_fold"]) == {"val_loss", "val_accuracy"}
    assert pd.read_csv(run / "history.csv")["epoch"].tolist() == [1, 2]
    again = tmp_path / "again"
    result = cli("train", "--config", run / "config.toml", "--out", again, "--verbose", "0")
    assert result.exit_code == 0, result.stderr
    assert (again / "history.csv").read_bytes() == (run / "history.csv").read_bytes()


def test_info_describes_the_members(cli, binary_csv, tmp_path):
    run = cli.train(binary_csv, "label", tmp_path / "ens", f"{FAST} --folds 3")
    text = cli("info", run)
    assert text.exit_code == 0, text.stderr
    assert "; a bagged ensemble of 3" in text.stdout
    assert "members kept epochs " in text.stdout and "out of fold: val_loss" in text.stdout
    described = json.loads(cli("info", run, "--json").stdout)
    assert described["model"]["members"] == 3 and len(described["training"]["kept_epoch"]) == 3


def test_ensemble_loading_is_strict(cli, binary_csv, tmp_path):
    run = cli.train(binary_csv, "label", tmp_path / "ens", f"{FAST} --folds 2")
    tensors = load_file(str(run / "model.safetensors"))
    tensors.pop("member2.0.bias")
    save_file(tensors, str(run / "model.safetensors"))
    assert_user_error(cli("predict", run, binary_csv), "missing tensors: ['member2.0.bias']")
    manifest = json.loads((run / "model.json").read_text())
    manifest["ensemble"] = {"members": 1}
    (run / "model.json").write_text(json.dumps(manifest))
    assert_user_error(cli("predict", run, binary_csv), "two or more members")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--folds", "0"], "--folds must be in [1, inf), got 0"),
        (["--folds", "3", "--validation-data", "v.csv"], "drop --validation-data"),
        # typed beside --folds, the split would be silently unused
        (["--folds", "3", "--validation-split", "0.3"], "--validation-split would not be used"),
        (["--folds", "500"], "--folds must be in [2, 75] for 150 rows"),
    ],
)
def test_ensemble_user_errors(cli, binary_csv, tmp_path, args, message):
    result = cli(
        "train", binary_csv, "--target", "label", *FAST.split(), *args, "--out", tmp_path / "out"
    )
    assert_user_error(result, message)
    assert not (tmp_path / "out").exists()


def test_a_bagged_runs_saved_config_trains_again(cli, binary_csv, tmp_path):
    """Its config.toml holds both folds and validation_split: only typed options clash."""
    first = tmp_path / "first"
    assert cli("train", binary_csv, "--target", "label", *FAST.split(), "--folds", "3",
               "--out", first).exit_code == 0  # fmt: skip
    again = cli("train", "--config", first / "config.toml", "--out", tmp_path / "again")
    assert again.exit_code == 0, again.stderr
    assert json.loads((tmp_path / "again" / "model.json").read_text())["ensemble"]["members"] == 3
