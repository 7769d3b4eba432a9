"""--submodels K: K networks trained at once as one batched network (TabM's efficient
ensemble): the same forward in PyTorch, NumPy and ONNX, the loss the submodels' mean,
predictions the mean of their probabilities, strict loading, and K = 1 unchanged."""

import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import assert_user_error
from safetensors.numpy import load_file, save_file
from torch import nn

from tabnet_cli.fit.losses import SmoothedBCEWithLogits, submodel_loss
from tabnet_cli.nn.ensemble import mean_prediction, numpy_network
from tabnet_cli.nn.model import build_mlp, layer_plan, row_work, tensor_shapes, weight_count
from tabnet_cli.nn.numpy_forward import NumpyMLP
from tabnet_cli.nn.submodels import submodel_mean
from tabnet_cli.run.run_dir import load_run
from tabnet_cli.settings.config import ArchConfig, ConfigError, ModelConfig

FAST = "--layers 8,8 --epochs 3 --batch-size 32"
TASKS = {"regression": 1, "binary": 1, "multiclass": 3}


def _trained_net(config: ModelConfig, seed: int = 0) -> nn.Module:
    """A network with non-trivial scalings, biases and batch-norm statistics."""
    torch.manual_seed(seed)
    model = build_mlp(config)
    with torch.no_grad():
        for name, tensor in model.named_parameters():
            if name.endswith((".s", ".bias", ".r")) and tensor.dim() == 2:
                tensor.add_(torch.randn_like(tensor) * 0.3)
            if name.endswith(".weight") and tensor.dim() == 3:  # zero-initialised heads
                tensor.normal_(0, 0.5)
    model.train()
    for _ in range(3):
        model(torch.randn(32, config.n_inputs) * 2 + 1)
    return model.eval()


@pytest.mark.parametrize(
    "arch",
    [
        ArchConfig(layers=(16, 8), submodels=3),
        ArchConfig(layers=(16,), submodels=4, batchnorm=True, dropout=0.2, activation="gelu"),
        ArchConfig(
            layers=(8, 8),
            submodels=2,
            embedding="periodic",
            feature_scale=True,
            zero_init_last=True,
        ),
        ArchConfig(layers=(), submodels=3),
    ],
)
@pytest.mark.parametrize("task", TASKS)
def test_numpy_forward_matches_torch(arch, task):
    config = ModelConfig(n_inputs=5, n_outputs=TASKS[task], arch=arch)
    model = _trained_net(config)
    weights = {k: v.numpy() for k, v in model.state_dict().items()}
    assert {k: (tuple(v.shape), str(v.dtype)) for k, v in weights.items()} == tensor_shapes(config)
    x = torch.randn(50, 5)
    with torch.no_grad():
        raw = model(x)
    assert raw.shape == (50, arch.submodels, TASKS[task])
    got = NumpyMLP(config, weights)(x.numpy())
    np.testing.assert_allclose(got, raw.numpy(), rtol=1e-5, atol=1e-5)
    squeezed = raw.squeeze(-1) if task != "multiclass" else raw
    combined = submodel_mean(squeezed, task).numpy()
    network = numpy_network(config, weights, task)
    predicted = network(x.numpy())
    np.testing.assert_allclose(predicted.reshape(combined.shape), combined, rtol=1e-5, atol=1e-5)
    network.rows = 7  # a few rows at a time: the same predictions
    np.testing.assert_allclose(network(x.numpy()), predicted, rtol=1e-6, atol=1e-6)


def test_the_submodels_start_different_and_share_their_hidden_weights():
    config = ModelConfig(4, 1, ArchConfig(layers=(8, 8), submodels=3, embedding="periodic"))
    torch.manual_seed(0)
    model = build_mlp(config)
    first = model[1]
    assert first.r.shape == (3, 16) and not torch.allclose(first.r[0], first.r[1])
    assert torch.equal(first.r[:, 0:4], first.r[:, 0:1].expand(-1, 4))  # one per input
    assert torch.equal(model[3].r, torch.ones(3, 8)) and model[3].weight.shape == (8, 8)
    assert tuple(model[5].weight.shape) == (3, 1, 8)  # an output layer per submodel
    kinds = [kind for _, kind, _ in layer_plan(config)]
    assert kinds == ["periodic", "batch_linear", "activation", "batch_linear", "activation",
                     "submodel_linear"]  # fmt: skip
    # each of the 3 submodels' rows goes through the two shared matrices
    assert row_work(config) == weight_count(config) + 2 * (16 * 8 + 8 * 8)


def test_one_submodel_is_the_network_of_before():
    arch = ArchConfig(layers=(8, 4), embedding="periodic", batchnorm=True)
    assert arch.submodels == 1
    config = ModelConfig(3, 2, arch)
    assert all(kind not in ("batch_linear", "submodel_linear") for _, kind, _ in layer_plan(config))
    assert row_work(config) == weight_count(config)
    torch.manual_seed(0)
    model = build_mlp(config)
    assert [type(m).__name__ for m in model] == [
        "PeriodicEmbedding", "Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU",
        "Linear",
    ]  # fmt: skip
    with pytest.raises(ConfigError, match=r"--submodels must be in \[1, 64\], got 0"):
        ArchConfig(submodels=0)


@pytest.mark.parametrize(
    ("loss_fn", "task"),
    [
        (nn.MSELoss(), "regression"),
        (nn.L1Loss(), "regression"),
        (nn.HuberLoss(delta=0.5), "regression"),
        (nn.BCEWithLogitsLoss(), "binary"),
        (SmoothedBCEWithLogits(0.1, torch.tensor([1.0, 3.0])), "binary"),
        (nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5]), label_smoothing=0.1),
         "multiclass"),
    ],
)  # fmt: skip
def test_the_loss_is_the_mean_of_the_submodels_losses(loss_fn, task):
    torch.manual_seed(0)
    rows, k = 10, 4
    if task == "multiclass":
        output, target = torch.randn(rows, k, 3), torch.randint(0, 3, (rows,))
    else:
        output = torch.randn(rows, k)
        target = torch.randn(rows) if task == "regression" else torch.randint(0, 2, (rows,)) * 1.0
    each = [loss_fn(output[:, i], target) for i in range(k)]
    assert torch.allclose(submodel_loss(loss_fn, output, target), torch.stack(each).mean())


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_predictions_are_the_mean_of_the_submodels_probabilities(task):
    rng = np.random.default_rng(0)
    outputs = rng.normal(size=(6, 5, 1 if task == "binary" else 3)) * 4
    combined = mean_prediction(outputs, task, axis=1)
    torch_combined = submodel_mean(torch.tensor(outputs).squeeze(-1), task).numpy()
    if task == "binary":
        expected = (1 / (1 + np.exp(-outputs))).mean(axis=1)
        np.testing.assert_allclose(1 / (1 + np.exp(-combined)), expected, rtol=1e-12)
        np.testing.assert_allclose(torch_combined, combined[:, 0], rtol=1e-10)
    else:
        probabilities = np.exp(outputs) / np.exp(outputs).sum(axis=2, keepdims=True)
        got = np.exp(combined) / np.exp(combined).sum(axis=1, keepdims=True)
        np.testing.assert_allclose(got, probabilities.mean(axis=1), rtol=1e-12)
        np.testing.assert_allclose(torch_combined, combined, rtol=1e-10)
    regression = mean_prediction(outputs, "regression", axis=1)
    np.testing.assert_allclose(regression, outputs.mean(axis=1))


def test_a_run_of_submodels_predicts_their_mean(cli, binary_csv, tmp_path):
    run = cli.train(binary_csv, "label", tmp_path / "run", f"{FAST} --submodels 4")
    loaded = load_run(run)
    assert loaded.manifest.model.arch.submodels == 4
    x = loaded.features.transform(pd.read_csv(binary_csv))[0]
    weights = load_file(str(run / "model.safetensors"))
    each = NumpyMLP(loaded.manifest.model, weights)(x)  # [rows, 4, 1]
    expected = (1 / (1 + np.exp(-each.astype(np.float64)))).mean(axis=1)[:, 0]
    result = cli("predict", run, binary_csv, "--proba")
    assert result.exit_code == 0, result.stderr
    proba = pd.read_csv(io.StringIO(result.stdout))["good"].to_numpy()
    np.testing.assert_allclose(proba, expected, atol=1e-6)
    info = cli("info", run)
    assert "4 submodels trained as one (TabM)" in " ".join(info.stdout.split())


def test_validation_judges_the_submodels_mean_prediction(regression_csv, tmp_path):
    from tabnet_cli.fit.train import train
    from tabnet_cli.prep.prepare import holdout_split, prepare, read_source
    from tabnet_cli.settings.config import DataConfig, TrainConfig

    data = DataConfig(target="y")
    table = read_source(str(regression_csv), data)
    prepared = prepare(table, holdout_split(table, data, 0), data)
    fitted = train(
        prepared,
        ArchConfig(layers=(8,), submodels=3),
        TrainConfig(epochs=2, patience=0, restore_best_weights=False, loss="mse"),
    )
    x_valid = torch.from_numpy(prepared.matrices.x_valid)
    y_valid = prepared.matrices.y_valid
    with torch.no_grad():
        mean = submodel_mean(fitted.model.eval()(x_valid).squeeze(-1), "regression").numpy()
    history = fitted.result.history.history
    spread = prepared.targets.spread_
    assert history["val_mse"][-1] == pytest.approx(
        float(np.mean((mean - y_valid) ** 2)) * spread**2, rel=1e-5
    )


def test_loading_refuses_weights_of_another_shape(cli, binary_csv, tmp_path):
    run = cli.train(binary_csv, "label", tmp_path / "run", f"{FAST} --submodels 3")
    path = run / "model.safetensors"
    tensors = load_file(str(path))
    manifest = json.loads((run / "model.json").read_text())
    manifest["model"]["arch"]["submodels"] = 4
    (run / "model.json").write_text(json.dumps(manifest))
    assert_user_error(
        cli("predict", run, binary_csv),
        "'0.r' has shape (3, 7) float32, the architecture needs (4, 7)",
    )
    manifest["model"]["arch"]["submodels"] = 1
    (run / "model.json").write_text(json.dumps(manifest))
    assert_user_error(cli("predict", run, binary_csv), "unexpected: ['0.r', '0.s'")
    manifest["model"]["arch"]["submodels"] = 3
    (run / "model.json").write_text(json.dumps(manifest))
    save_file({**tensors, "4.bias": np.zeros((2, 1), np.float32)}, str(path))
    assert_user_error(cli("predict", run, binary_csv), "tensor '4.bias' has shape (2, 1)")
    save_file({k: v for k, v in tensors.items() if k != "2.s"}, str(path))
    assert_user_error(cli("predict", run, binary_csv), "missing tensors: ['2.s']")


def test_submodels_user_errors(cli, binary_csv, tmp_path):
    result = cli("train", binary_csv, "--target", "label", "--submodels", "65",
                 "--out", tmp_path / "out")  # fmt: skip
    assert_user_error(result, "--submodels must be in [1, 64], got 65")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("fixture", "target", "options"),
    [
        ("binary_csv", "label", "--batchnorm --embedding periodic --feature-scale"),
        ("multiclass_csv", "kind", "--folds 2"),
        ("regression_csv", "y", "--dropout 0.1 --zero-init-last"),
    ],
)
def test_onnx_export_matches_predict(cli, tmp_path, request, fixture, target, options):
    pytest.importorskip("onnxruntime")
    from test_export_onnx import TOLERANCE, export_and_compare

    data = request.getfixturevalue(fixture)
    run = cli.train(data, target, tmp_path / "run", f"{FAST} --submodels 3 {options}")
    assert export_and_compare(cli, run, data, tmp_path) <= TOLERANCE


def test_streamed_training_with_submodels(cli, tmp_path):
    # a table above the budget (so it streams) whose batches still fit in it
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(4000, 4)), columns=["a", "b", "c", "d"])
    frame["y"] = frame.a - 2 * frame.b + 0.1 * rng.normal(size=4000)
    data = tmp_path / "parts"
    data.mkdir()
    for i in range(2):
        frame.iloc[i * 2000 : (i + 1) * 2000].to_csv(data / f"part-{i}.csv", index=False)
    run = cli.train(data, "y", tmp_path / "run", f"{FAST} --submodels 3 --memory-budget 300KiB")
    loaded = load_run(run)
    assert loaded.manifest.data.streamed and loaded.manifest.model.arch.submodels == 3
    assert cli("evaluate", run, data / "part-1.csv").exit_code == 0


def test_two_processes_train_one_network_of_submodels(regression_csv, tmp_path):
    out = tmp_path / "run"
    command = [
        sys.executable, "-m", "tabnet_cli", "train", str(regression_csv), "--target", "y",
        "--layers", "8", "--epochs", "2", "--batch-size", "16", "--submodels", "3",
        "--validation-split", "0.2", "--verbose", "0", "--nproc", "2", "--out", str(out),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    loaded = load_run(out)
    assert loaded.manifest.model.arch.submodels == 3
    assert pd.read_csv(out / "history.csv")["val_loss"].notna().all()
