"""Dropout's two mask samplers: torch.nn.Dropout (the plain recipe's, whose draws the
golden histories hold) and BitsDropout (the auto recipe's: 16 random bits a unit)."""

import pytest
import torch

from tabnet_cli.nn.layers import BitsDropout
from tabnet_cli.nn.model import build_mlp
from tabnet_cli.settings.config import ArchConfig, ConfigError, DataConfig, ModelConfig, RunConfig
from tabnet_cli.settings.recipes import resolve_training


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5, 0.9])
def test_bits_dropout_drops_at_the_rate_and_keeps_the_mean(rate):
    torch.manual_seed(0)
    x = torch.ones(400, 1000)
    out = BitsDropout(rate)(x)
    dropped = float((out == 0).float().mean())
    assert abs(dropped - rate) < 0.005  # 400k draws: the standard error is below 0.001
    assert abs(float(out.mean()) - 1.0) < 0.01  # kept units are scaled by 1 / keep rate
    kept = out[out != 0]
    assert torch.allclose(kept, torch.full_like(kept, 65536 / (65536 - round(rate * 65536))))


def test_bits_dropout_masks_differ_between_units_calls_and_follow_the_seed():
    layer = BitsDropout(0.5)
    x = torch.ones(64, 256)
    torch.manual_seed(1)
    first, second = layer(x), layer(x)
    torch.manual_seed(1)
    assert torch.equal(layer(x), first)  # the global generator's seed decides the masks
    assert not torch.equal(first, second)
    # no pattern along rows or columns (the 4 draws of a 64-bit word land side by side)
    assert (first == 0).float().mean(0).std() < 0.1 and (first == 0).float().mean(1).std() < 0.1


def test_bits_dropout_is_the_identity_at_inference_and_at_rate_zero():
    x = torch.randn(8, 5)
    layer = BitsDropout(0.4).eval()
    assert layer(x) is x
    assert torch.equal(BitsDropout(0.0)(x), x)


def test_bits_dropout_backward_passes_the_kept_units_scaled():
    torch.manual_seed(0)
    x = torch.randn(32, 16, requires_grad=True)
    out = BitsDropout(0.25)(x)
    out.sum().backward()
    expected = torch.where(out != 0, torch.tensor(4 / 3), torch.tensor(0.0))
    assert torch.allclose(x.grad, expected)


def test_the_auto_recipe_draws_bits_and_plain_keeps_torch_dropout():
    auto = resolve_training(RunConfig(DataConfig(target="y")), 20_000, "binary").arch
    plain = RunConfig(DataConfig(target="y"), recipe="plain").arch
    assert (auto.dropout, auto.dropout_sampler) == (0.3, "bits")
    assert plain.dropout_sampler == "torch"
    kinds = {
        sampler: [type(m).__name__ for m in build_mlp(ModelConfig(4, 1, arch))]
        for sampler, arch in (("bits", auto), ("torch", ArchConfig(dropout=0.3)))
    }
    assert kinds["bits"].count("BitsDropout") == 3 and "Dropout" not in kinds["bits"]
    assert kinds["torch"].count("Dropout") == 2


def test_an_unknown_sampler_is_refused(cli):
    with pytest.raises(ConfigError, match="--dropout-sampler .fast. is not one of: torch, bits"):
        ArchConfig(dropout_sampler="fast")
    result = cli("train", "x.csv", "--target", "y", "--dropout-sampler", "fast")
    assert result.exit_code == 2
    assert "fast" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("rate", [1 / 65536, 0.3, 0.5, 65535 / 65536])
def test_bits_dropout_mask_is_the_comparison_of_the_draws_with_the_threshold(rate):
    # the mask is computed by clamping and shifting the int16 draws (cheaper than comparing
    # on CPU): it must equal the comparison, scale for kept units and 0 for the others,
    # over every possible draw
    layer = BitsDropout(rate)
    draws = torch.arange(-32768, 32768, dtype=torch.int32).to(torch.int16)
    expected = (draws >= layer.threshold).to(torch.float32) * layer.scale
    assert torch.equal(layer._mask(draws), expected)
