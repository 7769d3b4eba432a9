"""``train_run``: the whole ``tabnet train`` job, from a file to a saved run directory.

CSV -> read -> split -> fit preprocessing on the training rows -> tensors -> build_mlp ->
fit(callbacks) -> save_run. Messages for the user go through ``notify``; nothing prints.
"""

from __future__ import annotations

import gc
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tabnet_cli import __version__
from tabnet_cli.artifact import FORMAT, FORMAT_VERSION, next_free_run_dir, save_run
from tabnet_cli.callbacks import Callback
from tabnet_cli.config import DataConfig, ModelConfig, TrainConfig
from tabnet_cli.data import ReadOptions, read_table, require_columns, sha256_of, split_positions
from tabnet_cli.errors import DataError, TabnetError


@dataclass
class TrainSummary:
    """What the CLI tells the user after training."""

    run_dir: Path
    metrics: dict[str, Any]


def default_run_dir(data: str, root: Path = Path("runs")) -> Path:
    """``runs/<file stem>``, numbered when taken.

    Example:
        >>> default_run_dir("data/red-wine.csv", Path("/nonexistent"))
        PosixPath('/nonexistent/red-wine')
    """
    stem = "stdin" if data == "-" else Path(data).name.split(".")[0] or "run"
    return next_free_run_dir(root, stem)


def _allowed_monitors(task: str) -> list[str]:
    names = ["loss"] + (["mae", "mse"] if task == "regression" else ["accuracy"])
    return names + [f"val_{n}" for n in names]


def train_run(
    data: str,
    data_config: DataConfig,
    layers: tuple[int, ...],
    activation: str,
    dropout: float,
    batchnorm: bool,
    train_config: TrainConfig,
    out_dir: Path | None,
    callbacks: list[Callback],
    notify: Callable[[str], None],
) -> TrainSummary:
    """Trains a model on ``data`` and writes its run directory; returns where and how it went.

    Example:
        >>> summary = train_run("sample_data/diabetes.csv", DataConfig(target="progression"),
        ...     (16,), "relu", 0.0, False, TrainConfig(epochs=2), None, [], print)  # doctest: +SKIP
    """
    import numpy as np

    from tabnet_cli.preprocess import FeatureEncoder
    from tabnet_cli.targets import AUTO_LOSS, TargetEncoder, infer_task

    if out_dir is not None and out_dir.exists():
        raise TabnetError(f"{out_dir} already exists; choose another --out or remove it")
    notices: list[str] = []
    frame = read_table(data, ReadOptions(na_values=data_config.na_values), notices=notices)
    name = "<stdin>" if data == "-" else data
    target = data_config.target
    require_columns(frame, [target], "target", name)
    for option in ("drop", "features", "categorical", "numeric"):
        require_columns(frame, list(getattr(data_config, option)), f"--{option}", name)
    frame = _drop_missing_targets(frame, target, notices)
    # Rows are addressed by position: the DataFrame is never copied into train/valid parts.
    if data_config.validation_data:
        valid_frame = read_table(
            data_config.validation_data, ReadOptions(na_values=data_config.na_values)
        )
        require_columns(valid_frame, [target], "target", data_config.validation_data)
        valid_frame = _drop_missing_targets(valid_frame, target, notices)
        train_rows, valid_rows = np.arange(len(frame)), np.arange(len(valid_frame))
    else:
        valid_frame = frame
        train_rows, valid_rows = split_positions(
            len(frame), data_config.validation_split, train_config.seed
        )
    train_target = frame[target].take(train_rows)
    valid_target = valid_frame[target].take(valid_rows)
    task = infer_task(train_target, train_config.loss, data_config.task)
    loss = train_config.loss if train_config.loss != "auto" else AUTO_LOSS[task]
    train_config = replace(train_config, loss=loss)
    if train_config.monitor not in _allowed_monitors(task):
        raise TabnetError(
            f"--monitor {train_config.monitor} is not recorded for a {task} task; "
            f"choose one of {', '.join(_allowed_monitors(task))}"
        )
    chosen = data_config.features or tuple(frame.columns)
    feature_columns = [c for c in chosen if c != target and c not in data_config.drop]
    if not feature_columns:
        raise DataError(f"{name} has no feature columns besides the target {target!r}")
    features = FeatureEncoder(data_config.scale).fit(
        frame, train_rows, data_config.categorical, data_config.numeric, feature_columns
    )
    for ignored in features.ignored_:
        notices.append(f"ignored column {ignored['name']!r}: {ignored['reason']}")
    if data_config.validation_data:
        require_columns(valid_frame, features.input_columns, "feature", data_config.validation_data)
    targets = TargetEncoder(task, data_config.target_scale).fit(train_target)
    x_train = features.transform_rows(frame, train_rows)
    x_valid = features.transform_rows(valid_frame, valid_rows)
    y_train, y_valid = targets.encode(train_target), targets.encode(valid_target)
    schema = {"input_columns": features.input_columns, "columns": list(frame.columns)}
    n_rows = len(frame)
    del frame, valid_frame, train_target, valid_target  # the matrices are all training needs
    gc.collect()  # pandas' internal reference cycles would keep the table alive otherwise
    # PyTorch (about 220 MB) is imported only now: reading a large file is the memory peak
    # of a run, and it need not carry the library.
    import torch

    from tabnet_cli.model import build_mlp
    from tabnet_cli.train import fit, select_device

    device = select_device(train_config.device)
    for message in notices:  # only once the input is known to be usable: errors stand alone
        notify(message)
    model_config = ModelConfig(
        n_inputs=x_train.shape[1],
        n_outputs=targets.n_outputs,
        layers=layers,
        activation=activation,
        dropout=dropout,
        batchnorm=batchnorm,
    )
    torch.manual_seed(train_config.seed)
    model = build_mlp(model_config).to(device)

    def tensors(x: np.ndarray, y: np.ndarray):
        return torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)

    result = fit(
        model,
        tensors(x_train, y_train),
        tensors(x_valid, y_valid),
        train_config,
        task,
        target_spread=targets.spread_,
        callbacks=callbacks,
    )
    if result.epochs_run == 0:
        if result.stop_reason == "interrupted":
            raise KeyboardInterrupt
        raise TabnetError(
            "the loss became NaN or infinite in epoch 1; nothing was saved. "
            "Try a lower --lr, --scale standard or --target-scale standard"
        )
    stopper = result.early_stopping
    metrics = _metrics(result, stopper, train_config, len(train_rows), len(valid_rows))
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "task": task,
        "target": target,
        "model": model_config.to_dict(),
        "preprocessing": {"features": features.state(), "target": targets.state()},
        "schema": schema,
        "data_config": data_config.to_dict(),
        "train_config": train_config.to_dict(),
        "data": {
            "source": name,
            "sha256": sha256_of(data),
            "rows": n_rows,
            "train_rows": len(train_rows),
            "validation_rows": len(valid_rows),
            "validation_source": data_config.validation_data,
        },
        "versions": _versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    run_dir = out_dir or default_run_dir(data)
    save_run(run_dir, model.cpu(), manifest, result.history.epochs, result.history.history, metrics)
    return TrainSummary(run_dir, metrics)


def _drop_missing_targets(frame, target: str, notices: list[str]):
    missing = frame[target].isna()
    if missing.any():
        notices.append(f"dropped {int(missing.sum())} row(s) whose target {target!r} is missing")
        frame = frame[~missing]
    if len(frame) == 0:
        raise DataError(f"every row's target {target!r} is missing")
    return frame


def _metrics(result, stopper, config: TrainConfig, n_train: int, n_valid: int) -> dict:
    history = result.history
    kept = stopper.best_epoch if stopper.restored else history.epochs[-1]
    row = history.epochs.index(kept)
    best_row = history.epochs.index(stopper.best_epoch) if stopper.best_epoch else row
    return {
        "best_epoch": stopper.best_epoch,
        "kept_epoch": kept,
        "epochs_run": result.epochs_run,
        "stop_reason": result.stop_reason,
        "restored_best_weights": stopper.restored,
        "monitor": config.monitor,
        "best_value": stopper.best,
        "train_seconds": round(result.seconds, 4),
        "seconds_per_epoch": round(result.seconds / max(result.epochs_run, 1), 6),
        "train_rows": n_train,
        "validation_rows": n_valid,
        "best": {k: v[best_row] for k, v in history.history.items()},
        "kept": {k: v[row] for k, v in history.history.items()},
    }


def _versions() -> dict[str, str]:
    """Library versions, read from package metadata (importing scikit-learn only to ask
    its version would cost ~70 MB and a second)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"tabnet": __version__, "python": platform.python_version()}
    for package in ("torch", "numpy", "pandas", "scikit-learn", "safetensors", "pyarrow"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found
