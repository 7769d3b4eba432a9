"""Loading a run is strict and safe: every kind of broken or hostile file is refused."""

import json
import pickle
import shutil

import pytest
import torch
from conftest import assert_user_error
from safetensors.torch import load_file, save_file

from tabnet_cli.errors import ArtifactError
from tabnet_cli.run.run_dir import load_run


class CreatesMarker:
    """Unpickling this would create a file: proof that a loader executed pickle code."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


@pytest.fixture
def run(tmp_path, trained_regression):
    copy = tmp_path / "copy"
    shutil.copytree(trained_regression, copy)
    return copy


def test_a_good_run_loads_and_predicts(run):
    loaded = load_run(run)
    assert loaded.task == "regression" and loaded.target_name == "y"


def test_pickle_in_place_of_weights_is_refused_without_running_it(run, tmp_path, cli):
    marker = tmp_path / "pwned"
    (run / "model.safetensors").write_bytes(pickle.dumps(CreatesMarker(marker)))
    result = cli("predict", run, "-", input="a,b,c\n1,2,3\n")
    assert_user_error(result, "model.safetensors is not a valid safetensors file")
    assert not marker.exists()


def test_torch_save_file_is_refused(run, tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"x": CreatesMarker(marker)}, run / "model.safetensors")
    with pytest.raises(ArtifactError, match="not a valid safetensors file"):
        load_run(run)
    assert not marker.exists()


def test_truncated_weights_are_refused(run):
    data = (run / "model.safetensors").read_bytes()
    (run / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ArtifactError, match="not a valid safetensors file"):
        load_run(run)


def test_corrupted_header_is_refused(run):
    data = bytearray((run / "model.safetensors").read_bytes())
    data[10:20] = b"\xff" * 10
    (run / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="not a valid safetensors file"):
        load_run(run)


def test_missing_files_are_refused(run, tmp_path):
    (run / "model.safetensors").unlink()
    with pytest.raises(ArtifactError, match="model.safetensors is missing"):
        load_run(run)
    (run / "model.json").unlink()
    with pytest.raises(ArtifactError, match="model.json is missing"):
        load_run(run)
    with pytest.raises(ArtifactError, match="no such run directory"):
        load_run(tmp_path / "nowhere")


def _edit_manifest(run, change):
    manifest = json.loads((run / "model.json").read_text())
    change(manifest)
    (run / "model.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.update(format_version=99), "has format version 99"),
        (lambda m: m.update(format="other"), "is not a tabnet model description"),
        (lambda m: m.pop("preprocessing"), "model.json: preprocessing: missing; the run is"),
        (lambda m: m["model"]["arch"].update(layers=[3]), "tensor '0.weight' has shape"),
        (lambda m: m["model"]["arch"].update(batchnorm=True), "missing tensors"),
        (lambda m: m["model"].update(n_inputs=99), "preprocessing and model disagree"),
        (
            lambda m: m["preprocessing"]["features"]["numeric"][0].update(quantiles=[2.0, 1.0]),
            "needs 2 or more increasing quantiles",
        ),
        (
            lambda m: m["preprocessing"]["features"]["numeric"][0].update(quantiles=[1.0, 2.0]),
            "quantiles exactly when the scale is quantile",
        ),
        (
            lambda m: m["model"]["arch"].update(embedding="fourier"),
            "embedding",
        ),
    ],
)
def test_inconsistent_manifest_is_refused(run, change, message):
    _edit_manifest(run, change)
    with pytest.raises(ArtifactError, match=message):
        load_run(run)


def test_malformed_json_is_refused(run):
    (run / "model.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="is not valid JSON"):
        load_run(run)


def test_unexpected_tensor_names_are_refused(run):
    tensors = load_file(run / "model.safetensors")
    tensors["extra"] = torch.zeros(1)
    save_file(tensors, run / "model.safetensors")
    with pytest.raises(ArtifactError, match="unexpected: \\['extra'\\]"):
        load_run(run)


def test_non_finite_weights_are_refused(run):
    tensors = load_file(run / "model.safetensors")
    tensors["0.bias"][0] = float("nan")
    save_file(tensors, run / "model.safetensors")
    with pytest.raises(ArtifactError, match="tensor '0.bias' holds NaN or infinite values"):
        load_run(run)


def test_wrong_dtype_is_refused(run):
    tensors = load_file(run / "model.safetensors")
    tensors["0.bias"] = tensors["0.bias"].double()
    save_file(tensors, run / "model.safetensors")
    with pytest.raises(ArtifactError, match="float64, the architecture needs"):
        load_run(run)


def test_evaluate_on_a_broken_run_is_one_line(cli, run, regression_csv):
    (run / "model.json").write_text("[]")
    result = cli("evaluate", run, regression_csv)
    assert_user_error(result, "is not a tabnet model description")
