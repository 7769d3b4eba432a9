"""Run directories: save atomically, load strictly. No pickle anywhere.

A run directory holds ``model.safetensors`` (weights), ``model.json`` (architecture,
preprocessing, labels, schema, config, versions), ``history.csv`` and ``metrics.json``.
It is written in a hidden temporary directory beside the target and renamed into place,
so a failure or Ctrl-C never leaves a half-written run. Loading checks the format
version, every tensor's name, shape, dtype and finiteness, and refuses anything else.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from tabnet_cli.errors import ArtifactError
from tabnet_cli.io.outputs import new_directory, write_new_file
from tabnet_cli.nn.ensemble import EnsembleMLP, member_prefix, numpy_network
from tabnet_cli.nn.model import tensor_shapes
from tabnet_cli.prep.features import FeatureEncoder
from tabnet_cli.prep.targets import TargetEncoder
from tabnet_cli.run.manifest import FORMAT, RunManifest
from tabnet_cli.settings.typed import SchemaError

WEIGHTS, MANIFEST, HISTORY, METRICS = (
    "model.safetensors",
    "model.json",
    "history.csv",
    "metrics.json",
)
OUT_ADVICE = "choose another --out"


def next_free_run_dir(root: Path, name: str) -> Path:
    """``runs/NAME``, or ``runs/NAME-2``, ``-3``... when taken: never overwrite a run.

    Example:
        >>> next_free_run_dir(Path("/nonexistent/runs"), "wine")
        PosixPath('/nonexistent/runs/wine')
    """
    candidate, n = root / name, 1
    while candidate.exists():
        n += 1
        candidate = root / f"{name}-{n}"
    return candidate


def history_columns(history: dict[str, list[float]]) -> list[str]:
    """``epoch, loss, val_loss``, then each metric followed by its ``val_`` twin.

    Example:
        >>> history_columns({"loss": [], "mae": [], "val_loss": [], "val_mae": []})
        ['epoch', 'loss', 'val_loss', 'mae', 'val_mae']
    """
    metrics = [k for k in history if not k.startswith("val_") and k != "loss"]
    columns = ["epoch", "loss", "val_loss"]
    for metric in metrics:
        columns += [metric] + ([f"val_{metric}"] if f"val_{metric}" in history else [])
    return columns


def save_run(
    out_dir: Path,
    model,
    manifest: RunManifest,
    epochs: list[int],
    history: dict[str, list[float]],
    metrics: dict[str, Any],
    extra_files: dict[str, str] | None = None,
) -> Path:
    """Writes the four files (and ``extra_files``, name -> text, such as ``config.toml``)
    into ``out_dir`` atomically (see ``write_run_files``).
    """
    from safetensors.torch import save  # the file's bytes (written below)

    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    files = {
        WEIGHTS: save(tensors, metadata={"format": FORMAT}),
        MANIFEST: json_bytes(manifest.to_json()),
        METRICS: json_bytes(metrics),
        HISTORY: history_csv(epochs, history).encode(),
        **{name: text.encode("utf-8") for name, text in (extra_files or {}).items()},
    }
    return write_run_files(out_dir, files)


def write_run_files(out_dir: Path, files: dict[str, bytes]) -> Path:
    """Writes a run directory's files (name -> bytes) into ``out_dir`` atomically: staged
    under a temporary name, then renamed; refuses an existing ``out_dir``. A failed write
    (full disk, read-only place) is one ``OutputError`` and leaves nothing.

    Example:
        >>> write_run_files(Path("/proc/runs/x"), {})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tabnet_cli.io.outputs.OutputError: cannot write /proc/runs/x: ...; choose another --out
    """
    if out_dir.exists():
        raise ArtifactError(f"{out_dir} already exists; choose another --out or remove it")
    with new_directory(out_dir, OUT_ADVICE) as staging:
        for name, data in files.items():
            write_new_file(staging / name, data)
    return out_dir


def history_csv(epochs: list[int], history: dict[str, list[float]]) -> str:
    """``history.csv``: one row per epoch, every value written exactly (``repr``).

    Example:
        >>> history_csv([1], {"loss": [0.5], "val_loss": [0.25]})
        'epoch,loss,val_loss\\r\\n1,0.5,0.25\\r\\n'
    """
    columns = history_columns(history)
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # csv's own \r\n line ends, as runs have always had
    writer.writerow(columns)
    for i, epoch in enumerate(epochs):
        writer.writerow([epoch] + [repr(history[c][i]) for c in columns[1:]])
    return buffer.getvalue()


def json_bytes(data: dict) -> bytes:
    return (json.dumps(json_safe(data), indent=2, allow_nan=False) + "\n").encode()


def json_safe(value: Any) -> Any:
    """NaN and infinities (a metric that overflowed float32) become JSON ``null``.

    Example:
        >>> json_safe({"val_mse": float("inf"), "best": [1.5, float("nan")]})
        {'val_mse': None, 'best': [1.5, None]}
    """
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


@dataclass
class LoadedRun:
    """A model rebuilt from a run directory, ready for inference."""

    path: Path
    manifest: RunManifest
    model: Any  # the NumPy forward pass (ensemble.numpy_network, EnsembleMLP)
    features: Any  # prep.features.FeatureEncoder
    target: Any  # targets.TargetEncoder

    @property
    def task(self) -> str:
        return self.manifest.task

    @property
    def target_name(self) -> str:
        return self.manifest.target

    @property
    def loss(self) -> str:
        return self.manifest.train_config.loss


def with_encoding(run: LoadedRun, encoding: str) -> LoadedRun:
    """``run``, reading data files as ``encoding`` (``--encoding`` of predict, evaluate,
    importance) instead of as its training file; an unknown encoding is a DataError.

    Example:
        >>> run = load_run("sample_data/runs/diabetes")  # doctest: +SKIP
        >>> with_encoding(run, "latin-1").manifest.data_config.encoding  # doctest: +SKIP
        'latin-1'
    """

    data_config = replace(run.manifest.data_config, encoding=encoding)
    return replace(run, manifest=replace(run.manifest, data_config=data_config))


def load_run(path: str | Path) -> LoadedRun:
    """Rebuilds model and preprocessing from ``model.json`` + ``model.safetensors`` alone.
    The model is a NumPy forward pass: loading and inference never import PyTorch.

    Example:
        >>> load_run("does/not/exist")
        Traceback (most recent call last):
        ...
        tabnet_cli.errors.ArtifactError: does/not/exist: no such run directory; give a directory ...
    """

    run = Path(path)
    if not run.is_dir():
        raise ArtifactError(
            f"{path}: no such run directory; give a directory written by tabnet train"
        )
    manifest = read_manifest(run)
    preprocessing = asdict(manifest.preprocessing)
    features = FeatureEncoder.from_state(preprocessing["features"])
    target = TargetEncoder.from_state(preprocessing["target"])
    if manifest.ensemble is not None:  # several networks in one weights file
        return LoadedRun(run, manifest, load_members(manifest, run / WEIGHTS), features, target)
    weights = read_weights(run / WEIGHTS, tensor_shapes(manifest.model))
    model = numpy_network(manifest.model, weights, manifest.task)
    check_outputs(model, manifest.model.n_inputs, run / WEIGHTS)
    return LoadedRun(run, manifest, model, features, target)


def read_manifest(run: Path) -> RunManifest:
    """``model.json``, checked strictly against the typed manifest."""

    path = run / MANIFEST
    if not path.is_file():
        raise ArtifactError(f"{path} is missing; {run} is not a tabnet run directory")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ArtifactError(f"{path} is not valid JSON ({exc})") from None
    try:
        return RunManifest.from_json(data)
    except SchemaError as exc:
        message = str(exc)
        if message.startswith(("is ", "has ")):  # about the whole file
            raise ArtifactError(f"{path} {message}") from None
        raise ArtifactError(
            f"{path}: {message}; the run is damaged or was edited by hand: retrain it"
        ) from None


def read_weights(path: Path, expected: dict[str, tuple[tuple[int, ...], str]]) -> dict:
    """Loads safetensors weights as NumPy arrays and checks every name, shape, dtype and
    value against what the architecture needs."""
    from safetensors import SafetensorError  # safetensors loads on first use, not with this module
    from safetensors.numpy import load_file  # safetensors loads on first use, not with this module

    if not path.is_file():
        raise ArtifactError(f"{path} is missing; the run directory is incomplete")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError, TypeError) as exc:
        raise ArtifactError(
            f"{path} is not a valid safetensors file ({str(exc).splitlines()[0][:120]})"
        ) from None
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        raise ArtifactError(
            f"{path} does not match the architecture in model.json "
            f"(missing tensors: {missing[:5]}, unexpected: {extra[:5]})"
        )
    for name, (shape, dtype) in expected.items():
        tensor = tensors[name]
        if tensor.shape != shape or tensor.dtype != np.dtype(dtype):
            raise ArtifactError(
                f"{path}: tensor {name!r} has shape {tensor.shape} {tensor.dtype}, "
                f"the architecture needs {shape} {dtype}"
            )
        if tensor.dtype.kind == "f" and not np.isfinite(tensor).all():
            raise ArtifactError(f"{path}: tensor {name!r} holds NaN or infinite values")
    return tensors


def load_members(manifest: RunManifest, path: Path) -> EnsembleMLP:
    """The NumPy ensemble of a run: every member's tensors checked by name, shape, dtype
    and finiteness as a single network's are."""

    assert manifest.ensemble is not None
    shapes = tensor_shapes(manifest.model)
    members = range(1, manifest.ensemble.members + 1)
    expected = {member_prefix(i) + k: v for i in members for k, v in shapes.items()}
    weights = read_weights(path, expected)
    nets = [
        numpy_network(
            manifest.model, {k: weights[member_prefix(i) + k] for k in shapes}, manifest.task
        )
        for i in members
    ]
    for net in nets:
        check_outputs(net, manifest.model.n_inputs, path)
    return EnsembleMLP(nets, manifest.task)


def check_outputs(model, n_inputs: int, path: Path) -> None:
    """The network's outputs on ordinary inputs (every input at its centre, or one
    spread above or below) are finite numbers: weights that overflow float32 there (a
    trained network never has them: training stops before the loss does) are refused
    rather than giving NaN for every row.

    Example:
        >>> import numpy as np
        >>> net = lambda x: x @ np.full((2, 1), 3e38, np.float32)  # 6e38 > float32's max
        >>> check_outputs(net, 2, Path("model.safetensors"))
        Traceback (most recent call last):
        ...
        tabnet_cli.errors.ArtifactError: model.safetensors: the weights overflow float32 ...
    """

    probe = np.array([[0.0], [1.0], [-1.0]], dtype=np.float32) * np.ones(n_inputs, np.float32)
    with np.errstate(all="ignore"):
        finite = np.isfinite(model(probe)).all()
    if not finite:
        raise ArtifactError(
            f"{path}: the weights overflow float32 on ordinary inputs (NaN or infinite "
            "outputs); the run is damaged or was edited by hand: retrain it"
        )
