"""A hand-edited ``model.json`` or weights file is refused on load with the field's path,
by every command that reads a run, instead of a traceback or NaN predictions later."""

import json
import shutil

import pytest
from conftest import assert_user_error
from safetensors.numpy import load_file, save_file


@pytest.fixture
def binary_run(tmp_path, trained_binary):
    copy = tmp_path / "copy-bin"
    shutil.copytree(trained_binary, copy)
    return copy


@pytest.fixture
def regression_run(tmp_path, trained_regression):
    copy = tmp_path / "copy-reg"
    shutil.copytree(trained_regression, copy)
    return copy


def _edit(run, change):
    manifest = json.loads((run / "model.json").read_text())
    change(manifest)
    (run / "model.json").write_text(json.dumps(manifest))


def _features(m):
    return m["preprocessing"]["features"]


def _target(m):
    return m["preprocessing"]["target"]


def _commands(run, data, tmp_path):
    return [
        ["predict", run, data],
        ["evaluate", run, data],
        ["export", run, "--format", "onnx", "--output", tmp_path / "m.onnx"],
        ["info", run],
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda m: _features(m)["categorical"][0].update(categories=["green", "green"]),
            "preprocessing.features.categorical[0]: column 'colour' lists category 'green' twice",
        ),
        (
            lambda m: _target(m).update(classes=["bad", "bad"]),
            "preprocessing.target: the classes list 'bad' twice",
        ),
        (
            lambda m: _target(m).update(classes=[1, "1"]),
            "preprocessing.target: the classes list '1' twice",
        ),
        (
            lambda m: _features(m)["numeric"][1].update(name=""),
            "preprocessing.features: the preprocessing has an empty column name",
        ),
        (
            lambda m: _features(m)["numeric"][1].update(name="f1"),
            "preprocessing.features: the preprocessing names column 'f1' twice",
        ),
        (
            lambda m: m["schema"].update(input_columns=["f1", "f1", "f3", "f4", "colour"]),
            "schema.input_columns names column 'f1' twice",
        ),
        (lambda m: _target(m).update(spread=2.0), "a classifier's target has centre 0"),
    ],
)
def test_classifier_holes_are_refused(cli, binary_run, binary_csv, tmp_path, change, message):
    _edit(binary_run, change)
    for command in _commands(binary_run, binary_csv, tmp_path):
        assert_user_error(cli(*command), message)
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda m: _target(m).update(center=1e308),
            "preprocessing.target: the target's centre and baseline must be within the "
            "float32 range",
        ),
        (
            lambda m: _target(m).update(spread=1e-30),
            "preprocessing.target: the target has a spread of 1e-30, below the resolution",
        ),
        (
            lambda m: _features(m)["numeric"][0].update(spread=1e-30),
            "preprocessing.features.numeric[0]: column 'a' has a spread of 1e-30, below",
        ),
        (
            lambda m: _features(m)["numeric"][0].update(center=-1e300),
            "column 'a' statistics must be within the float32 range",
        ),
        (lambda m: m.update(target=" "), "the target column has no name"),
    ],
)
def test_regression_holes_are_refused(
    cli, regression_run, regression_csv, tmp_path, change, message
):
    _edit(regression_run, change)
    for command in _commands(regression_run, regression_csv, tmp_path):
        assert_user_error(cli(*command), message)


def test_weights_that_overflow_are_refused(cli, regression_run, regression_csv, tmp_path):
    tensors = load_file(regression_run / "model.safetensors")
    tensors["0.weight"][:] = 3e38
    save_file(tensors, regression_run / "model.safetensors", metadata={"format": "tabnet-run"})
    for command in _commands(regression_run, regression_csv, tmp_path)[:3]:  # info: no weights
        assert_user_error(cli(*command), "model.safetensors: the weights overflow float32")


def test_an_ensemble_member_that_overflows_is_refused(cli, regression_csv, tmp_path):
    run = cli.train(regression_csv, "y", tmp_path / "ens", "--layers 4 --epochs 1 --folds 2")
    tensors = load_file(run / "model.safetensors")
    tensors["member2.0.weight"][:] = -3e38
    save_file(tensors, run / "model.safetensors", metadata={"format": "tabnet-run"})
    result = cli("predict", run, regression_csv)
    assert_user_error(result, "model.safetensors: the weights overflow float32")
