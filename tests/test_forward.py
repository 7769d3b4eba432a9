"""The NumPy inference pass gives PyTorch's outputs, for every layer kind."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from tabnet_cli.nn.model import build_mlp, tensor_shapes
from tabnet_cli.nn.numpy_forward import NumpyMLP
from tabnet_cli.settings.config import ACTIVATIONS, ArchConfig, ModelConfig


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize(
    ("batchnorm", "dropout", "feature_scale", "embedding"),
    [(False, 0.0, False, "none"), (True, 0.3, True, "none"), (True, 0.3, True, "periodic")],
)
def test_numpy_forward_matches_torch(activation, batchnorm, dropout, feature_scale, embedding):
    arch = ArchConfig(
        layers=(16, 8),
        activation=activation,
        batchnorm=batchnorm,
        dropout=dropout,
        feature_scale=feature_scale,
        embedding=embedding,
    )
    config = ModelConfig(n_inputs=7, n_outputs=3, arch=arch)
    torch.manual_seed(0)
    model = build_mlp(config)
    if feature_scale:
        with torch.no_grad():  # learned scales are not all 1
            model[1 if embedding == "periodic" else 0].weight.uniform_(-2, 2)
    x = torch.randn(64, 7)
    model.train()
    for _ in range(3):  # give batch norm non-trivial running statistics
        model(x * 3 + 1)
    model.eval()
    with torch.no_grad():
        expected = model(x).numpy()
    weights = {k: v.numpy() for k, v in model.state_dict().items()}
    assert set(weights) == set(tensor_shapes(config))
    got = NumpyMLP(config, weights)(x.numpy())
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_predict_and_evaluate_never_import_torch(trained_regression, regression_csv):
    code = f"""
import sys
from typer.testing import CliRunner
from tabnet_cli.cli import app
run, data = {str(trained_regression)!r}, {str(regression_csv)!r}
for command in ("predict", "evaluate"):
    result = CliRunner().invoke(app, [command, run, data])
    assert result.exit_code == 0, result.output
print("torch" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_periodic_embedding_keeps_each_input_beside_its_cosines():
    from tabnet_cli.nn.layers import PeriodicEmbedding

    torch.manual_seed(0)
    layer = PeriodicEmbedding(width=3, frequencies=16, dims=4)
    x = torch.randn(5, 3)
    out = layer(x)
    assert out.shape == (5, 12)
    assert torch.equal(out[:, ::4], x)  # input f sits at 4 f, its 3 mixtures after it
    with torch.no_grad():  # zero frequencies: every row gets the same mixtures
        layer.frequency.zero_()
    flat = layer(x).reshape(5, 3, 4)[:, :, 1:]
    assert torch.allclose(flat, flat[:1].expand_as(flat))
    assert 0.9 < PeriodicEmbedding(200, 16, 4).frequency.std().item() < 1.1  # ~N(0, 1)


def test_numpy_periodic_embedding_is_the_whole_array_formula_bit_for_bit():
    # predict's output must not change with the layout the embedding is computed in:
    # the same float32 operations, element by element, as on whole (rows, inputs, k) arrays
    from tabnet_cli.nn.numpy_forward import PeriodicNumpy

    rng = np.random.default_rng(0)
    rows, width, k, d = 1000, 7, 16, 3
    weights = {
        "0.frequency": rng.standard_normal((width, k)).astype(np.float32),
        "0.phase": rng.uniform(-1, 1, (width, k)).astype(np.float32),
        "0.weight": rng.uniform(-0.25, 0.25, (width, k, d)).astype(np.float32),
        "0.bias": rng.uniform(-0.25, 0.25, (width, d)).astype(np.float32),
    }
    x = (3 * rng.standard_normal((rows, width))).astype(np.float32)
    waves = x[:, :, None] * weights["0.frequency"] + weights["0.phase"]
    waves = np.cos(waves * np.float32(2 * np.pi))
    mixed = np.matmul(waves.transpose(1, 0, 2), weights["0.weight"]).transpose(1, 0, 2)
    expected = np.concatenate([x[:, :, None], mixed + weights["0.bias"]], axis=2)
    found = PeriodicNumpy(weights, "0")(x)
    assert found.dtype == np.float32
    assert np.array_equal(found, expected.reshape(rows, -1))


def test_binary_inputs_are_embedded_as_the_line_between_their_two_ends():
    # the training network computes 0/1 inputs (indicators, one-hot slots) from their two
    # embeddings: the same values and gradients as the cosines of every row
    import copy

    from tabnet_cli.nn.layers import PeriodicEmbedding

    torch.manual_seed(0)
    every_row = PeriodicEmbedding(width=9, frequencies=16, dims=4)
    two_ends = copy.deepcopy(every_row)
    two_ends.binary_from = 4
    # 1000 rows x 5 binary inputs: past TWO_ENDS_FROM_CELLS, where the two ends pay
    x = torch.cat([torch.randn(1000, 4) * 3, (torch.rand(1000, 5) < 0.3).float()], dim=1)
    expected, found = every_row(x), two_ends(x)
    assert found.shape == expected.shape == (1000, 36)
    assert not torch.equal(found, expected)  # computed the other way, to rounding
    torch.testing.assert_close(found, expected, rtol=1e-5, atol=1e-6)
    upstream = torch.randn_like(expected)
    expected.backward(upstream)
    found.backward(upstream)
    for name, parameter in every_row.named_parameters():
        got = dict(two_ends.named_parameters())[name].grad
        torch.testing.assert_close(got, parameter.grad, rtol=1e-4, atol=1e-4)
    two_ends.binary_from = 9  # no binary inputs: the cosines of every row
    torch.testing.assert_close(two_ends(x), every_row(x), rtol=0, atol=0)
    two_ends.binary_from = 0  # only binary inputs (a table of text columns)
    flags = x[:, 4:].repeat(1, 2)[:, :9]
    assert not torch.equal(two_ends(flags), every_row(flags))
    torch.testing.assert_close(two_ends(flags), every_row(flags), rtol=1e-5, atol=1e-6)


def test_small_batches_embed_binary_inputs_with_the_cosines_of_every_row():
    # under TWO_ENDS_FROM_CELLS 0/1 cells a batch the extra operations of the two ends
    # cost more than the cosines they save (titanic's batches of 32): the plain formula
    import copy

    from tabnet_cli.nn.layers import TWO_ENDS_FROM_CELLS, PeriodicEmbedding

    torch.manual_seed(0)
    every_row = PeriodicEmbedding(width=9, frequencies=16, dims=4)
    two_ends = copy.deepcopy(every_row)
    two_ends.binary_from = 4
    rows = TWO_ENDS_FROM_CELLS // 5 - 1
    x = torch.cat([torch.randn(rows, 4), (torch.rand(rows, 5) < 0.3).float()], dim=1)
    assert torch.equal(two_ends(x), every_row(x))
    x = torch.cat([x, x[:2]])  # at the threshold: the two ends
    assert not torch.equal(two_ends(x), every_row(x))


def test_the_training_network_knows_where_the_binary_inputs_start(tmp_path):
    import pandas as pd

    from tabnet_cli.fit.train import train
    from tabnet_cli.prep.prepare import holdout_split, prepare, read_source
    from tabnet_cli.settings.config import DataConfig, TrainConfig

    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {
            "x": np.where(rng.random(120) < 0.2, np.nan, rng.normal(size=120)),
            "n": rng.integers(0, 5, 120),
            "c": rng.choice(["a", "b", "c", None], 120),
            "y": rng.normal(size=120),
        }
    )
    table.to_csv(tmp_path / "mixed.csv", index=False)
    config = DataConfig(target="y", rank_inputs=True)
    table = read_source(str(tmp_path / "mixed.csv"), config)
    prepared = prepare(table, holdout_split(table, config, seed=0), config)
    first = prepared.features.first_binary_input
    assert first == 4  # x and n, then their ranks; then x's indicator and c's slots
    x_train = prepared.matrices.x_train
    assert x_train.shape[1] == 4 + 1 + 5  # c: a, b, c, its gaps, "other"
    assert set(np.unique(x_train[:, first:])) == {0.0, 1.0}
    assert not set(np.unique(x_train[:, :first])) <= {0.0, 1.0}
    arch = ArchConfig(layers=(8,), embedding="periodic")
    fitted = train(prepared, arch, TrainConfig(epochs=1))
    assert fitted.model[0].binary_from == first
