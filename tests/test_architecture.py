"""The train job in stages, configs as the one source of defaults and checks, and the
strict typed manifest."""

import json
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import assert_user_error

from tabnet_cli.errors import ArtifactError, TabnetError
from tabnet_cli.fit.callbacks import Callback
from tabnet_cli.run.manifest import RunManifest
from tabnet_cli.run.run_dir import load_run
from tabnet_cli.settings.config import ArchConfig, DataConfig, RunConfig, TrainConfig
from tabnet_cli.settings.typed import SchemaError

GOLDEN = Path(__file__).parent / "golden"
V1_ARCH = ("layers", "activation", "dropout", "batchnorm")
# history.csv files written by tabnet 0.1 (before the stages existed) with these options
GOLDEN_RUNS = {
    "diabetes": "sample_data/diabetes.csv --target progression --layers 16,8 --epochs 4 "
    "--seed 3 --dropout 0.1 --batchnorm",
    "bc": "sample_data/breast-cancer.csv --target diagnosis --layers 8 --epochs 3 "
    "--optimizer adamw --weight-decay 0.01",
    "digits": "sample_data/digits.csv --target digit --layers 32 --epochs 2 --optimizer sgd "
    "--lr 0.01 --batch-size 128 --validation-split 0.25 --scale minmax",
    "diab2": "sample_data/diabetes.csv --target progression --layers 16 --epochs 3 "
    "--loss huber --target-scale minmax --optimizer rmsprop",
}


@pytest.mark.parametrize("name", sorted(GOLDEN_RUNS))
def test_history_is_the_same_as_before_the_stages(cli, tmp_path, name):
    out = tmp_path / name
    # the golden files were written with PyTorch's default threads on a 2-core machine
    options = "--recipe plain --threads 2 --verbose 0"
    result = cli.line(f"train {GOLDEN_RUNS[name]} {options} --out {out}")
    assert result.exit_code == 0, result.stderr
    now, before = pd.read_csv(out / "history.csv"), pd.read_csv(GOLDEN / f"{name}.history.csv")
    assert list(now.columns) == list(before.columns)
    assert now["epoch"].tolist() == before["epoch"].tolist()
    # byte-identical on the machine that wrote the golden files; float kernels differ in
    # the last bits elsewhere, and the drift grows over the epochs (5.5e-5 of diabetes'
    # loss after 4 epochs on an AVX-512 machine); another random stream or schedule moves
    # the figures by percents
    np.testing.assert_allclose(now.to_numpy(), before.to_numpy(), rtol=2e-4, atol=1e-7)


def test_cli_defaults_come_from_the_configs(cli):
    from tabnet_cli.cli.options import run_config

    result = cli("train", "--help")
    assert result.exit_code == 0
    defaults = run_config({"target": "y", "layers": "256,256"})
    plain = RunConfig(DataConfig(target="y"))
    # the CLI adds nothing of its own
    assert (defaults.data, defaults.arch, defaults.train) == (plain.data, plain.arch, plain.train)
    assert TrainConfig().loss == "auto"


def test_stages_prepare_once_and_train_many_times():
    from tabnet_cli.fit.train import train
    from tabnet_cli.prep.prepare import holdout_split, prepare, read_source

    config = DataConfig(target="progression")
    table = read_source("sample_data/diabetes.csv", config)
    prepared = prepare(table, holdout_split(table, config, seed=0), config)
    matrices = prepared.matrices
    assert matrices.x_train.shape == (354, 10) and matrices.x_valid.shape == (88, 10)
    small = train(prepared, ArchConfig(layers=(4,)), TrainConfig(epochs=1))
    large = train(prepared, ArchConfig(layers=(16, 16)), TrainConfig(epochs=2, lr=0.01))
    assert small.model_config.n_inputs == large.model_config.n_inputs == 10
    assert (small.result.epochs_run, large.result.epochs_run) == (1, 2)
    assert large.train_config.loss == "mae"


def test_callbacks_accept_context_they_do_not_know():
    class Counting(Callback):
        epochs = 0

        def on_epoch_end(self, *, epoch, logs, **context):
            self.epochs += 1

    callback = Counting()
    callback.on_epoch_end(epoch=1, logs={}, fold=2, rank=0)  # new context breaks nobody
    for hook in ("on_train_begin", "on_epoch_begin", "on_batch_end", "on_train_end"):
        getattr(Callback(), hook)(
            epochs=1, steps_per_epoch=1, epoch=1, step=1, running_logs=dict, fold=3
        )
    assert callback.epochs == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("--seed -1", "--seed must be in [0, 4294967295], got -1"),
        ("--seed 99999999999999999999", "--seed must be in [0, 4294967295]"),
        ("--validation-split nan", "--validation-split must be in (0.0, 1.0), got nan"),
        ("--dropout nan", "--dropout must be in [0.0, 1.0), got nan"),
        ("--dropout 1", "--dropout must be in [0.0, 1.0), got 1.0"),
        ("--weight-decay -10", "--weight-decay must be in [0.0, inf), got -10.0"),
        ("--momentum -5", "--momentum must be in [0.0, 1.0), got -5.0"),
        ("--huber-delta 0", "--huber-delta must be in (0.0, inf), got 0.0"),
        ("--lr inf", "--lr must be in (0.0, inf), got inf"),
        ("--batch-size 0", "--batch-size must be in [1, 2147483647], got 0"),
        ("--patience -1", "--patience must be in [0, 1000000], got -1"),
    ],
)
def test_out_of_range_options_are_one_line(cli, regression_csv, tmp_path, options, message):
    result = cli.line(f"train {regression_csv} --target y {options} --out {tmp_path}/run")
    assert_user_error(result, message)
    assert not (tmp_path / "run").exists()


def test_config_files_get_the_same_checks_as_options():
    with pytest.raises(SchemaError, match=r"train: --momentum must be in \[0.0, 1.0\)"):
        TrainConfig.from_dict({"momentum": -5}, "train")
    with pytest.raises(SchemaError, match="unknown field 'learning_rate'"):
        TrainConfig.from_dict({"learning_rate": 0.1})
    with pytest.raises(TabnetError, match="--activation 'swish' is not one of"):
        ArchConfig(activation="swish")


@pytest.fixture
def manifest_run(trained_regression, tmp_path):
    """A copy of a trained run whose model.json a test may edit."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(trained_regression, copy)
    return copy


def _edit(run: Path, change) -> None:
    path = run / "model.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m["model"]["arch"].update(activation="os.system"), "--activation 'os.system'"),
        (lambda m: m.update(task="banana"), "task: expected one of"),
        (lambda m: m.update(target=["x"]), "target: expected str, got list"),
        (lambda m: m["schema"].update(input_columns=[1, 2]), r"input_columns\[0\]: expected str"),
        (lambda m: m.update(format_version=True), "has format version True"),
        (lambda m: m.update(format_version=1.0), "has format version 1.0"),
        (lambda m: m["train_config"].update(loss="banana"), "--loss 'banana' is not one of"),
        (lambda m: m["train_config"].update(epochs="5"), "epochs: expected int, got str"),
        (lambda m: m["train_config"].update(seed=True), "seed: expected int, got bool"),
        (lambda m: m.update(extra=1), "unknown field 'extra'"),
        (
            lambda m: m["preprocessing"]["features"]["numeric"][0].update(spread=None),
            r"numeric\[0\].spread: expected float, got NoneType",
        ),
        (
            lambda m: m["preprocessing"]["features"]["numeric"][0].update(spread=0),
            "has a spread <= 0",
        ),
        (lambda m: m["preprocessing"]["target"].update(center=1e400), "must be finite"),
        (lambda m: m["train_config"].update(loss="auto"), "must be resolved"),
    ],
)
def test_a_hostile_or_damaged_manifest_is_refused(manifest_run, change, message):
    _edit(manifest_run, change)
    with pytest.raises(ArtifactError, match=message):
        load_run(manifest_run)


def test_a_damaged_manifest_is_one_line_through_the_cli(cli, manifest_run, regression_csv):
    _edit(manifest_run, lambda m: m.update(task="banana"))
    result = cli("predict", str(manifest_run), str(regression_csv))
    assert_user_error(result, "task: expected one of 'regression', 'binary', 'multiclass'")


def test_runs_of_format_1_still_load(manifest_run, regression_csv):
    def to_version_1(manifest):  # as tabnet 0.1 wrote it: no setting added since
        arch = manifest["model"].pop("arch")
        manifest["model"].update({k: arch[k] for k in V1_ARCH})
        manifest["data_config"].pop("clip")
        manifest["preprocessing"]["features"].pop("clip")
        for key in ("schedule", "warmup", "beta2", "label_smoothing"):
            manifest["train_config"].pop(key)
        manifest.pop("recipe")
        manifest.pop("explicit")
        manifest["format_version"] = 1

    before = load_run(manifest_run)
    _edit(manifest_run, to_version_1)
    after = load_run(manifest_run)
    assert after.manifest == replace(before.manifest, explicit=())


def test_manifest_round_trips_through_json(trained_regression):
    manifest = load_run(trained_regression).manifest
    assert RunManifest.from_json(json.loads(json.dumps(manifest.to_json()))) == manifest
    assert {f.name for f in fields(RunManifest)} <= set(manifest.to_json())
