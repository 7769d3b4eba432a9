"""The recipes: each piece of the auto recipe, explicit options winning over it, and the
plain recipe reproducing the course's Keras workflow."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from tabnet_cli.fit.losses import make_loss
from tabnet_cli.fit.optim import scheduled_lr
from tabnet_cli.nn.model import build_mlp
from tabnet_cli.prep.features import FeatureEncoder, smooth_clip
from tabnet_cli.settings.config import ArchConfig, DataConfig, ModelConfig, RunConfig, TrainConfig
from tabnet_cli.settings.recipes import (
    AUTO_MEMBERS,
    BAG_BUDGET,
    auto_batch_and_epochs,
    auto_members,
    bagged_members,
    resolve_data,
    resolve_training,
)


def test_smooth_clip_is_the_identity_near_zero_and_bounded_by_three():
    x = np.array([-1e12, -3.0, -0.01, 0.0, 0.01, 3.0, 1e12])
    y = smooth_clip(x)
    assert np.all(np.abs(y) <= 3.0) and np.all(np.diff(y) > 0)
    assert y[2:5] == pytest.approx(x[2:5], abs=1e-5)
    assert y[-1] == pytest.approx(3.0) and y[0] == pytest.approx(-3.0)


def test_robust_scaling_ignores_outliers_and_clipping_bounds_them():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 5.0, 9.6e14]})
    encoder = FeatureEncoder("robust", "smooth").fit(frame)
    spec = encoder.numeric_[0]
    assert (spec["center"], spec["spread"]) == (3.5, 2.5)  # median, interquartile range
    x, _ = encoder.transform(frame)
    assert x[:5, 0] == pytest.approx(smooth_clip((np.arange(1, 6) - 3.5) / 2.5), abs=1e-6)
    assert x[5, 0] == pytest.approx(3.0, abs=1e-6)
    restored = FeatureEncoder.from_state(json.loads(json.dumps(encoder.state())))
    assert np.array_equal(restored.transform(frame)[0], x)


def test_cosine_schedule_warms_up_then_decays_to_near_zero():
    config = TrainConfig(lr=0.01, schedule="cosine", warmup=0.1)
    rates = [scheduled_lr(config, step, 100) for step in range(100)]
    assert rates[:10] == pytest.approx([0.001 * (i + 1) for i in range(10)])
    assert max(rates) == pytest.approx(0.01) and rates[10] == pytest.approx(0.01)
    assert all(a >= b for a, b in zip(rates[10:], rates[11:], strict=False))
    assert rates[-1] < 0.0001
    assert scheduled_lr(TrainConfig(lr=0.01), 50, 100) == 0.01  # constant by default


def test_zero_initialised_output_layer_and_feature_scale():
    arch = ArchConfig(layers=(8,), feature_scale=True, zero_init_last=True)
    model = build_mlp(ModelConfig(n_inputs=3, n_outputs=2, arch=arch))
    assert torch.equal(model[0].weight, torch.ones(3))  # the per-input scale starts at 1
    assert torch.count_nonzero(model[-1].weight) == 0
    assert torch.count_nonzero(model[1].weight) > 0  # hidden layers keep their init
    assert torch.equal(model(torch.randn(5, 3)), torch.zeros(5, 2))


def test_label_smoothing_losses():
    smooth = TrainConfig(label_smoothing=0.2)
    binary = make_loss(smooth, "binary")
    logits, target = torch.tensor([2.0, -1.0]), torch.tensor([1.0, 0.0])
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, torch.tensor([0.9, 0.1])
    )
    assert binary(logits, target).item() == pytest.approx(expected.item())
    assert make_loss(smooth, "multiclass").label_smoothing == 0.2


def test_auto_recipe_fills_only_what_the_user_did_not_give():
    given = RunConfig.from_options({"target": "y", "lr": 0.05, "scale": "minmax"})
    resolved = resolve_training(resolve_data(given), rows=1000, task="regression")
    assert resolved.train.lr == 0.05 and resolved.data.scale == "minmax"  # explicit wins
    assert resolved.data.clip == "smooth" and resolved.train.loss == "huber"
    assert resolved.train.schedule == "cosine" and resolved.arch.feature_scale
    assert resolved.data.rank_inputs and resolved.arch.embedding == "periodic"
    for options in ({"rank_inputs": False}, {"scale": "quantile"}):  # ranks once at most
        assert not resolve_data(RunConfig.from_options({"target": "y", **options})).data.rank_inputs
    # patience: 10 without dropout (fewer rows), 20 with it; --patience wins
    assert (resolved.train.patience, resolved.arch.dropout) == (10, 0.0)
    big = resolve_training(resolve_data(given), rows=8000, task="regression")
    assert (big.train.patience, big.arch.dropout) == (20, 0.3)
    chosen = RunConfig.from_options({"target": "y", "patience": 3})
    assert resolve_training(resolve_data(chosen), 1000, "regression").train.patience == 3
    plain = RunConfig.from_options({"target": "y"}, recipe="plain")
    assert resolve_training(resolve_data(plain), 1000, "regression") == plain


def test_auto_regression_loss_is_huber_at_4_sd_unless_the_user_chose():
    def resolved(options, recipe="auto"):
        config = RunConfig.from_options({"target": "y", **options}, recipe=recipe)
        return resolve_training(resolve_data(config), rows=1000, task="regression").train

    assert (resolved({}).loss, resolved({}).huber_delta) == ("huber", 4.0)
    assert resolved({"loss": "mse"}).loss == "mse"  # the user's loss wins
    # ... and records no threshold it does not use
    assert (resolved({"loss": "mae"}).loss, resolved({"loss": "mae"}).huber_delta) == ("mae", 1.0)
    chosen = resolved({"huber_delta": 1.5})
    assert (chosen.loss, chosen.huber_delta) == ("huber", 1.5)
    # the threshold is in standard deviations: another target scale keeps squared error
    assert resolved({"target_scale": "minmax"}).loss == "mse"
    assert resolved({}, recipe="plain").loss == "auto"  # plain: MAE, as the course


@pytest.mark.parametrize(
    ("fixture", "target", "metric"),
    [
        ("regression_csv", "y", "mae"),
        ("binary_csv", "label", "accuracy"),
        ("multiclass_csv", "kind", "accuracy"),
    ],
)
def test_auto_recipe_end_to_end(cli, tmp_path, request, fixture, target, metric):
    data = request.getfixturevalue(fixture)
    out = tmp_path / "run"
    result = cli.line(f"train {data} --target {target} --epochs 3 --out {out} --verbose 0")
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((out / "model.json").read_text())
    assert manifest["recipe"] == "auto" and manifest["explicit"] == ["epochs", "target"]
    assert manifest["train_config"]["schedule"] == "cosine"
    assert manifest["data_config"]["clip"] == "smooth"
    assert manifest["preprocessing"]["features"]["ranks"]
    assert manifest["model"]["arch"]["embedding"] == "periodic"
    report = json.loads(cli("evaluate", str(out), str(data), "--json").stdout)
    assert report["metrics"][metric]["model"] is not None
    history = pd.read_csv(out / "history.csv")
    assert len(history) == 3
    predictions = cli("predict", str(out), str(data))
    assert predictions.exit_code == 0 and len(predictions.stdout.splitlines()) == (
        len(pd.read_csv(data)) + 1
    )


def test_evaluate_reproduces_val_loss_with_label_smoothing(cli, binary_csv, tmp_path):
    out, valid = tmp_path / "run", tmp_path / "valid.csv"
    valid.write_bytes(binary_csv.read_bytes())  # the same rows (the file itself is refused)
    result = cli.line(
        f"train {binary_csv} --target label --epochs 2 --out {out} --verbose 0 "
        f"--validation-data {valid} --label-smoothing 0.1"
    )
    assert result.exit_code == 0, result.stderr
    history = pd.read_csv(out / "history.csv")
    kept = json.loads((out / "metrics.json").read_text())["kept_epoch"]
    report = json.loads(cli("evaluate", str(out), str(valid), "--json").stdout)
    expected = history.loc[history.epoch == kept, "val_loss"].item()
    assert report["metrics"]["loss"]["model"] == pytest.approx(expected, rel=1e-4)


def test_outlier_at_predict_time_is_clipped_under_the_auto_recipe(cli, regression_csv, tmp_path):
    out = cli.train(regression_csv, "y", tmp_path / "run", "--recipe auto --epochs 2")
    frame = pd.read_csv(regression_csv).head(5)
    frame.loc[0, "a"] = 1e300
    frame.to_csv(tmp_path / "new.csv", index=False)
    result = cli("predict", str(out), str(tmp_path / "new.csv"))
    assert result.exit_code == 0, result.stderr
    assert np.isfinite(pd.read_csv(pd.io.common.StringIO(result.stdout))["y"]).all()


def test_plain_recipe_keeps_the_course_defaults():
    config = RunConfig(DataConfig(target="y"), recipe="plain")
    assert config.arch == ArchConfig() and config.train.optimizer == "adam"
    assert config.data.scale == "standard" and config.train.schedule == "constant"


def test_bagging_while_five_members_fit_the_row_pass_budget():
    for rows in (300, 1_600, 5_000, 8_000, 10_000, 16_000, 20_000, 50_000, 1_000_000):
        fit_rows = rows * 4 // 5
        batch, epochs = auto_batch_and_epochs(fit_rows)
        passes = AUTO_MEMBERS * epochs * -(-fit_rows // batch) * batch
        assert auto_members(rows) == (AUTO_MEMBERS if passes <= BAG_BUDGET else 1)
    assert [auto_members(r) for r in (351, 4_331, 10_000, 16_000, 17_000, 54_000)] == [
        5,
        5,
        5,
        5,
        1,
        1,
    ]


def test_bagging_yields_to_explicit_folds_validation_and_the_plain_recipe():
    assert bagged_members(RunConfig.from_options({"target": "y"}), 500) == 5
    for given in ({"folds": 1}, {"validation_split": 0.3}, {"validation_data": "v.csv"}):
        config = RunConfig.from_options({"target": "y", **given})
        assert bagged_members(config, 500) == 1
    assert bagged_members(RunConfig.from_options({"target": "y"}, recipe="plain"), 500) == 1


@pytest.mark.parametrize(
    ("extra", "members"),
    [("--recipe auto", 5), ("--recipe auto --folds 1", None), ("--recipe plain", None)],
)
def test_a_small_table_trains_a_bagged_ensemble_by_default(
    cli, tmp_path, binary_csv, extra, members
):
    out = cli.train(binary_csv, "label", tmp_path / "run", f"--epochs 2 {extra}")
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics.get("members") == members
    manifest = json.loads((out / "model.json").read_text())
    assert (manifest.get("ensemble") or {}).get("members") == members
    assert cli("predict", str(out), str(binary_csv), "--proba").exit_code == 0
