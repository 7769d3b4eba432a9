"""Writing a trained run: its typed manifest, its resolved ``config.toml``, its metrics."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from dataclasses import dataclass, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tabnet_cli.errors import DataError, TabnetError
from tabnet_cli.run.manifest import FeatureState, Preprocessing, RunManifest, TargetState
from tabnet_cli.run.run_dir import json_bytes, save_run
from tabnet_cli.settings.config import ModelConfig, RunConfig, TrainConfig
from tabnet_cli.settings.config_file import CONFIG_FILE, SECTIONS, dump_config
from tabnet_cli.settings.typed import SchemaError, build
from tabnet_cli.version import __version__

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

if TYPE_CHECKING:
    from tabnet_cli.fit.train import Fitted
    from tabnet_cli.prep.types import Prepared


@dataclass
class TrainSummary:
    """What the CLI tells the user after training."""

    run_dir: Path | None  # None in the ranks of a data-parallel run that do not write
    metrics: dict[str, Any]


def write_run(
    run_dir: Path, source: str, prepared: Prepared, fitted: Fitted, config: RunConfig
) -> dict[str, Any]:
    """Saves a fitted model as a run directory (with its ``config.toml``); returns the
    run's metrics."""
    from tabnet_cli.fit.train import summarize  # torch loads on first use, not with this module

    size = os.stat(source).st_size if os.path.isfile(source) else None  # not stdin, globs
    metrics = summarize(fitted, prepared)
    manifest = build_manifest(prepared, fitted, config, size)
    history = fitted.result.history
    files = {CONFIG_FILE: dump_config(resolved_config(config, prepared, fitted), source)}
    save_run(run_dir, fitted.model, manifest, history.epochs, history.history, metrics, files)
    return metrics


def resolved_config(config: RunConfig, prepared: Prepared, fitted: Fitted) -> RunConfig:
    """The settings the run used: the task and the loss decided, for ``config.toml``."""
    return _resolved(config, prepared, fitted.train_config)


def _resolved(config: RunConfig, prepared: Prepared, train_config: TrainConfig) -> RunConfig:
    return replace(config, data=replace(config.data, task=prepared.task), train=train_config)


def build_manifest(
    prepared: Prepared, fitted: Fitted, config: RunConfig, size: int | None = None
) -> RunManifest:
    """The typed ``model.json`` of a trained run (validated like a loaded one); ``size``
    is the training file's byte count, which lets ``evaluate`` spot that file cheaply."""
    return _manifest(prepared, fitted.model_config, fitted.train_config, config, size)


def check_savable(
    source: str,
    prepared: Prepared,
    model_config: ModelConfig,
    train_config: TrainConfig,
    config: RunConfig,
) -> None:
    """Builds what saving writes from the data and the settings alone (``model.json``
    but the weights, ``config.toml``) and reads it back as ``load_run`` and ``--config``
    would: a run that could not be saved or loaded fails before training, not after."""

    try:
        manifest = _manifest(prepared, model_config, train_config, config)
        text = dump_config(_resolved(config, prepared, train_config), source)
        RunManifest.from_json(json.loads(json_bytes(manifest.to_json())))
        _read_config_text(text)
    except (SchemaError, ValueError, TabnetError) as exc:
        raise DataError(
            f"a run of these data could not be saved or read back ({exc}); nothing was "
            "trained: check the column or setting that field comes from"
        ) from None


def _read_config_text(text: str) -> None:
    """``config.toml`` read back through the configs' own checks."""

    document = tomllib.loads(text)
    for name, kind in SECTIONS.items():
        kind.from_dict(document.get(name, {}), where=name)


def _manifest(
    prepared: Prepared,
    model_config: ModelConfig,
    train_config: TrainConfig,
    config: RunConfig,
    size: int | None = None,
) -> RunManifest:

    preprocessing = Preprocessing(
        features=build(FeatureState, prepared.features.state(), "features"),
        target=build(TargetState, prepared.targets.state(), "target"),
    )
    return RunManifest(
        task=prepared.task,  # type: ignore[arg-type]
        target=config.data.target,
        model=model_config,
        preprocessing=preprocessing,
        schema=prepared.schema,
        data_config=config.data,
        train_config=train_config,
        data=replace(prepared.provenance, size=size),
        recipe=config.recipe,  # type: ignore[arg-type]
        explicit=config.explicit,
        versions=_versions(),
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )


def _versions() -> dict[str, str]:
    """Library versions, read from package metadata (importing scikit-learn only to ask
    its version would cost ~70 MB and a second)."""

    found = {"tabnet": __version__, "python": platform.python_version()}
    for package in ("torch", "numpy", "pandas", "scikit-learn", "safetensors", "pyarrow"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found
