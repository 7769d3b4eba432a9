"""`tabnet export --format onnx`: one graph with the preprocessing and the network, scoring
raw rows as `tabnet predict` does (checked with onnxruntime)."""

import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_DATA, assert_user_error

from tabnet_cli.io.tables import read_table
from tabnet_cli.run.run_dir import load_run
from tabnet_cli.settings.config import ACTIVATIONS

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from tabnet_cli.export.onnx_check import onnx_feed, run_onnx  # noqa: E402

TOLERANCE = 1e-5


def export_and_compare(cli, run: Path, data: Path, tmp_path: Path) -> float:
    """Exports ``run``, scores ``data`` with onnxruntime and with ``tabnet predict``, and
    returns the largest difference: probabilities for classifiers, predictions in model
    units (the scaled target) for regressions; classifier labels must be equal."""
    model_path = tmp_path / "model.onnx"
    result = cli("export", run, "--format", "onnx", "-o", model_path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(model_path)
    loaded = load_run(run)
    classifier = loaded.task != "regression"
    predicted = cli("predict", run, data, *(["--proba"] if classifier else []))
    assert predicted.exit_code == 0, predicted.stderr
    expected = pd.read_csv(io.StringIO(predicted.stdout), dtype=str if classifier else None)
    frame = read_table(str(data), loaded.manifest.data_config.read_options())
    got = run_onnx(model_path.read_bytes(), onnx_feed(loaded, frame))
    target = loaded.target_name
    if not classifier:
        return float(np.max(np.abs(got["prediction"] - expected[target])) / loaded.target.spread_)
    assert got["prediction"].tolist() == expected[target].tolist()
    probabilities = expected.drop(columns=[target]).astype(float).to_numpy()
    return float(np.max(np.abs(got["probabilities"] - probabilities)))


@pytest.mark.parametrize("members", [1, 5])  # 5: the auto recipe's bagged ensemble
@pytest.mark.parametrize(
    ("name", "target"),
    [("diabetes", "progression"), ("breast-cancer", "diagnosis"), ("digits", "digit")],
)
def test_parity_with_predict_on_the_sample_sets(cli, tmp_path, name, target, members):
    data = SAMPLE_DATA / f"{name}.csv"
    run = cli.train(data, target, tmp_path / "run", f"--layers 4 --epochs 2 --folds {members}")
    ensemble = load_run(run).manifest.ensemble
    assert (1 if ensemble is None else ensemble.members) == members
    assert export_and_compare(cli, run, data, tmp_path) <= TOLERANCE


@pytest.fixture
def mixed_csv(tmp_path: Path) -> tuple[Path, Path]:
    """Numbers with gaps and outliers, categories with gaps and padding; the scoring file
    holds an unseen category, padded known ones and values far outside training."""
    rng = np.random.default_rng(4)
    rows = 160
    size = rng.normal(10, 3, rows)
    size[rng.random(rows) < 0.15] = np.nan
    colour = rng.choice(["red", "green", "blue", None], size=rows, p=[0.4, 0.3, 0.2, 0.1])
    shape = rng.choice(["round", "square"], size=rows)
    y = np.nan_to_num(size, nan=10) + np.where(colour == "red", 3.0, 0.0) + rng.normal(size=rows)
    train = pd.DataFrame({"size": size, "colour": colour, "shape": shape, "y": y})
    score = train.head(40).copy()
    score.loc[0:4, "colour"] = ["purple", " red ", "green  ", None, "(missing)"]
    score.loc[5:7, "size"] = [1e6, -1e9, np.nan]
    score.loc[8, "shape"] = "triangle"
    paths = tmp_path / "mixed.csv", tmp_path / "score.csv"
    train.to_csv(paths[0], index=False)
    score.to_csv(paths[1], index=False)
    return paths


@pytest.mark.parametrize("recipe", ["plain", "auto"])
def test_categories_missing_values_and_unseen_values_as_in_predict(
    cli, tmp_path, mixed_csv, recipe
):
    train, score = mixed_csv
    run = cli.train(train, "y", tmp_path / "run", f"--recipe {recipe} --layers 4 --epochs 2")
    features = load_run(run).manifest.preprocessing.features
    assert "(missing)" in features.categorical[0].categories
    assert features.numeric[0].indicator
    if recipe == "auto":  # robust scaling, smooth clipping and the per-input scale layer
        assert (features.scale, features.clip, features.ranks) == ("robust", "smooth", True)
        assert load_run(run).manifest.model.arch.feature_scale
    assert export_and_compare(cli, run, score, tmp_path) <= TOLERANCE


def test_an_unseen_category_goes_to_the_other_slot(cli, tmp_path, mixed_csv):
    train, _ = mixed_csv
    run = load_run(cli.train(train, "y", tmp_path / "run", "--layers 4 --epochs 2"))
    rows = pd.DataFrame({"size": [10.0] * 3, "colour": ["purple", "teal", " red"]})
    rows["shape"] = "round"
    from tabnet_cli.export.onnx import build_model

    got = run_onnx(build_model(run).SerializeToString(), onnx_feed(run, rows))["prediction"]
    assert got[0] == pytest.approx(got[1], abs=1e-12)  # both unseen: the same "other" slot
    expected = run.target.decode(run.model(run.features.transform(rows)[0]))
    assert np.allclose(got, expected, atol=TOLERANCE * run.target.spread_, rtol=0)


@pytest.mark.parametrize("embedding", ["none", "periodic"])
def test_periodic_embeddings_with_the_scale_layer_as_in_predict(
    cli, tmp_path, mixed_csv, embedding
):
    train, score = mixed_csv
    options = f"--recipe auto --layers 8 --epochs 2 --embedding {embedding}"
    run = cli.train(train, "y", tmp_path / "run", options)
    assert load_run(run).manifest.model.arch.embedding == embedding
    assert export_and_compare(cli, run, score, tmp_path) <= TOLERANCE


def test_quantile_scaling_with_ties_and_a_heavy_tail_as_in_predict(cli, tmp_path):
    rng = np.random.default_rng(7)
    rows = 400
    pending = np.where(rng.random(rows) < 0.7, 0, rng.integers(1, 5000, rows))  # 70% zeros
    size = rng.pareto(1.0, rows)
    y = np.log1p(pending) + np.log1p(size) + rng.normal(size=rows)
    frame = pd.DataFrame({"pending": pending, "size": size, "y": y})
    frame.loc[::17, "size"] = np.nan
    data = tmp_path / "tail.csv"
    frame.to_csv(data, index=False)
    score = tmp_path / "score.csv"  # the training values (ties), and beyond their range
    pd.concat([frame, pd.DataFrame({"pending": [-1, 0, 10**7], "size": [-3.0, 0.0, 1e12]})]).to_csv(
        score, index=False
    )
    run = cli.train(
        data,
        "y",
        tmp_path / "run",
        "--recipe auto --scale quantile --clip none --layers 8 --epochs 2 --folds 1",
    )
    assert load_run(run).manifest.preprocessing.features.scale == "quantile"
    assert export_and_compare(cli, run, score, tmp_path) <= TOLERANCE


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_with_batchnorm_and_dropout(cli, tmp_path, binary_csv, activation):
    options = f"--layers 8,4 --epochs 2 --activation {activation} --batchnorm --dropout 0.2"
    run = cli.train(binary_csv, "label", tmp_path / "run", options)
    assert export_and_compare(cli, run, binary_csv, tmp_path) <= TOLERANCE


def test_the_graph_names_its_inputs_outputs_and_classes(cli, tmp_path, binary_csv):
    run = cli.train(binary_csv, "label", tmp_path / "run", "--layers 4 --epochs 1")
    path = tmp_path / "m.onnx"
    assert cli("export", run, "-o", path).exit_code == 0
    model = onnx.load(str(path))
    inputs = {i.name: i.type.tensor_type.elem_type for i in model.graph.input}
    assert inputs == {f"f{i}": onnx.TensorProto.DOUBLE for i in range(1, 5)} | {
        "colour": onnx.TensorProto.STRING
    }
    assert [o.name for o in model.graph.output] == ["prediction", "probabilities"]
    assert [(o.domain, o.version) for o in model.opset_import] == [("", 20)]
    props = {p.key: p.value for p in model.metadata_props}
    assert props["classes"] == '["bad", "good"]' and props["target"] == "label"


def test_without_the_onnx_extra_one_line_error(cli, tmp_path, binary_csv, monkeypatch):
    run = cli.train(binary_csv, "label", tmp_path / "run", "--layers 4 --epochs 1")
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` now raises ImportError
    result = cli("export", run, "--format", "onnx", "-o", tmp_path / "m.onnx")
    assert_user_error(result, "tabnet export needs the onnx extra: pip install 'tabnet-cli[onnx]'")
    assert not (tmp_path / "m.onnx").exists()


def test_export_user_errors(cli, tmp_path, binary_csv):
    assert_user_error(cli("export", tmp_path / "nope", "-o", tmp_path / "m.onnx"), "no such run")
    run = cli.train(binary_csv, "label", tmp_path / "run", "--layers 4 --epochs 1")
    assert_user_error(cli("export", run, "-o", tmp_path), "is a directory; give a file name")
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert_user_error(cli("export", run, "-o", blocked / "m.onnx"), f"cannot write {blocked}")
    result = cli("export", tmp_path / "nope", "--format", "pmml", "-o", tmp_path / "m")
    assert_user_error(result, "'pmml' is not one of 'onnx'")
