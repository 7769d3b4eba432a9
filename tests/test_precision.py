"""--precision: bfloat16 matrix products in the training steps (mixed precision), float32
weights and evaluation; auto picks bfloat16 only where it was measured to pay."""

import json

import pytest
import torch
import torch.distributed as dist
from conftest import SAMPLE_DATA
from torch import nn

from tabnet_cli.fit import precision
from tabnet_cli.fit.batches import TensorRows
from tabnet_cli.fit.loop import fit
from tabnet_cli.fit.train import train
from tabnet_cli.prep.prepare import holdout_split, prepare, read_source
from tabnet_cli.settings.config import ArchConfig, ConfigError, DataConfig, RunConfig, TrainConfig
from tabnet_cli.settings.recipes import resolve_before_data
from tabnet_cli.system.distributed import Rank

CPU = torch.device("cpu")


ROWS = precision.BF16_ROWS_PER_THREAD


@pytest.mark.parametrize(
    ("amx", "batch", "threads", "expected"),
    [
        (True, ROWS, 1, "bfloat16"),
        (True, 2 * ROWS, 2, "bfloat16"),
        (True, ROWS - 1, 1, "float32"),  # small steps: the casts cost more than they save
        (True, ROWS, 2, "float32"),  # split over two threads, the products are small again
        (False, 4 * ROWS, 1, "float32"),  # emulated bfloat16 is slower than float32
    ],
)
def test_auto_uses_bfloat16_on_amx_cpus_at_big_batches(monkeypatch, amx, batch, threads, expected):
    monkeypatch.setattr(precision, "cpu_has_amx", lambda: amx)
    assert precision.choose_precision("auto", CPU, batch, threads) == expected


def test_an_explicit_precision_wins_and_gpus_keep_float32_under_auto(monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_amx", lambda: True)
    assert precision.choose_precision("float32", CPU, 512, 1) == "float32"
    assert precision.choose_precision("bfloat16", CPU, 8, 2) == "bfloat16"
    assert precision.choose_precision("auto", torch.device("cuda"), 512, 0) == "float32"


def test_the_auto_recipe_asks_for_auto_and_plain_keeps_float32():
    data = DataConfig(target="y")
    assert resolve_before_data(RunConfig(data)).train.precision == "auto"
    assert resolve_before_data(RunConfig(data, recipe="plain")).train.precision == "float32"
    explicit = RunConfig(data, TrainConfig(precision="float32"), explicit=("precision",))
    assert resolve_before_data(explicit).train.precision == "float32"
    with pytest.raises(ConfigError, match="--precision 'half' is not one of"):
        TrainConfig(precision="half")


def _fit(arithmetic: str):
    torch.manual_seed(0)
    x = torch.randn(256, 8)
    y = (x @ torch.linspace(-1, 1, 8)).sin()
    model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 1))
    config = TrainConfig(epochs=3, batch_size=32, loss="mse", precision=arithmetic)
    result = fit(model, TensorRows((x[:192], y[:192]), (x[192:], y[192:])), config, "regression")
    return model, result, (x[192:], y[192:])


def test_bfloat16_steps_train_differently_and_validation_stays_float32():
    bf16_model, bf16, (x_valid, y_valid) = _fit("bfloat16")
    fp32_model, fp32, _ = _fit("float32")
    pairs = zip(bf16_model.parameters(), fp32_model.parameters(), strict=True)
    assert not all(torch.equal(a, b) for a, b in pairs)  # the steps ran in another arithmetic
    assert all(p.dtype == torch.float32 for p in bf16_model.parameters())
    # the kept (last) epoch's val_loss is the float32 loss of the float32 weights
    with torch.no_grad():
        val_loss = nn.functional.mse_loss(bf16_model(x_valid).squeeze(-1), y_valid).item()
    assert bf16.history.history["val_loss"][-1] == pytest.approx(val_loss, rel=1e-5)
    # and the training loss follows the float32 run closely (the products lose ~3 digits)
    assert bf16.history.history["loss"][0] == pytest.approx(
        fp32.history.history["loss"][0], rel=0.05
    )


def test_precision_option_is_used_and_recorded(cli, regression_csv, tmp_path):
    out = cli.train(
        regression_csv, "y", tmp_path / "run", "--layers 8 --epochs 2 --precision bfloat16"
    )
    assert json.loads((out / "metrics.json").read_text())["precision"] == "bfloat16"
    assert 'precision = "bfloat16"' in (out / "config.toml").read_text()
    predicted = cli.line(f"predict {out} {regression_csv}")
    assert predicted.exit_code == 0, predicted.stderr
    result = cli.line(f"train {regression_csv} --target y --precision half")
    assert result.exit_code == 2 and "--precision" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def one_process_group(tmp_path):
    """A gloo process group of this process alone: DDP and the metric reductions run as
    under torchrun, while the ``Rank`` handed to ``train`` says how the batch is shared."""
    dist.init_process_group(
        "gloo", init_method=f"file://{tmp_path / 'rendezvous'}", rank=0, world_size=1
    )
    yield
    dist.destroy_process_group()


@pytest.mark.parametrize(("batch", "expected"), [(2 * ROWS, "bfloat16"), (ROWS, "float32")])
def test_under_torchrun_auto_decides_on_each_ranks_share_of_the_batch(
    monkeypatch, one_process_group, batch, expected
):
    monkeypatch.setattr(precision, "cpu_has_amx", lambda: True)
    data = DataConfig(target="progression")
    table = read_source(str(SAMPLE_DATA / "diabetes.csv"), data)
    prepared = prepare(table, holdout_split(table, data, 0), data)
    config = TrainConfig(epochs=1, batch_size=batch, threads=1, precision="auto", loss="mse")
    # two ranks share each batch: a global batch of ROWS gives each rank ROWS / 2 rows, too
    # few for bfloat16, though one process with the same batch would choose it
    fitted = train(prepared, ArchConfig(layers=(8,)), config, rank=Rank(0, 2, 0))
    assert fitted.train_config.precision == expected
    alone = precision.choose_precision("auto", CPU, batch, threads=1)
    assert alone == "bfloat16"
