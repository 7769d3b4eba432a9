"""What a run directory holds, for people: ``tabnet info`` and the training-file check.

Everything comes from ``model.json`` (read strictly) and ``metrics.json``; the weights
are not loaded, so ``info`` is instant even for a large model.
"""

from __future__ import annotations

import json
import os
import stat
import textwrap
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tabnet_cli.errors import ArtifactError, plural, short_list
from tabnet_cli.io.sources import STDIN
from tabnet_cli.io.tables import sha256_of
from tabnet_cli.run.manifest import RunManifest
from tabnet_cli.run.run_dir import METRICS, read_manifest

WIDTH = 88  # fits a default terminal with room for a long path
TRAINING_SUMMARY = ("best_epoch", "kept_epoch", "epochs_run", "stop_reason", "monitor")


def seen_in_training(manifest: RunManifest, source: str) -> bool:
    """Whether ``source`` is, byte for byte, the file the run was trained on. Cheap: the
    file is hashed only when its size matches the recorded one (or the run is too old to
    have recorded it).

    Example:
        >>> seen_in_training(read_manifest(Path("runs/diabetes")),
        ...                  "sample_data/diabetes.csv")  # doctest: +SKIP
        True
    """
    recorded = manifest.data.sha256
    if source == STDIN or recorded is None:
        return False
    try:
        info = os.stat(source)
    except OSError:
        return False  # the reader names the problem
    if not stat.S_ISREG(info.st_mode):
        return False  # a pipe would be consumed by hashing it
    if manifest.data.size is not None and manifest.data.size != info.st_size:
        return False

    try:
        return sha256_of(source) == recorded
    except OSError:
        return False


def describe_run(path: str | Path) -> dict[str, Any]:
    """A run's description as plain data (``tabnet info --json``).

    Example:
        >>> describe_run("no/such/run")
        Traceback (most recent call last):
        ...
        tabnet_cli.errors.ArtifactError: no/such/run: no such run directory; give a ...
    """
    run = Path(path)
    if not run.is_dir():
        raise ArtifactError(
            f"{path}: no such run directory; give a directory written by tabnet train"
        )
    manifest = read_manifest(run)
    features = manifest.preprocessing.features
    return {
        "run": str(run),
        "task": manifest.task,
        "target": manifest.target,
        "classes": list(manifest.preprocessing.target.classes or []),
        "created": manifest.created,
        "inputs": _inputs(manifest),
        "ignored": [asdict(column) for column in features.ignored],
        # the header says it; per column, --json holds the number of quantiles
        "feature_scale": features.scale + (" + quantile ranks" if features.ranks else ""),
        "model": {
            "n_inputs": manifest.model.n_inputs,
            "n_outputs": manifest.model.n_outputs,
            "members": manifest.ensemble.members if manifest.ensemble else 1,
        },
        "options": {
            "data": asdict(manifest.data_config),
            "arch": asdict(manifest.model.arch),
            "train": asdict(manifest.train_config),
        },
        "training": _training(run),
        "data": asdict(manifest.data),
        "versions": dict(manifest.versions),
    }


def _inputs(manifest: RunManifest) -> list[dict[str, Any]]:
    features = manifest.preprocessing.features
    encodings: dict[str, dict[str, Any]] = {}
    for numeric in features.numeric:
        statistics = asdict(numeric)
        if numeric.quantiles is not None:  # how many, not the 10-256 values themselves
            statistics["quantiles"] = len(numeric.quantiles)
        encodings[numeric.name] = {"name": statistics.pop("name"), "kind": "numeric", **statistics}
    for categorical in features.categorical:
        encodings[categorical.name] = {
            "name": categorical.name,
            "kind": "categorical",
            "categories": len(categorical.categories),
            "other_slot": True,  # values never seen in training go there
        }
    order = [name for name in manifest.schema.input_columns if name in encodings]
    order += [name for name in encodings if name not in order]
    return [encodings[name] for name in order]


def _training(run: Path) -> dict[str, Any] | None:
    """The best epoch and its logs from ``metrics.json``; None when it is unreadable
    (``info`` describes what it can: the model itself is in ``model.json``)."""
    try:
        metrics = json.loads((run / METRICS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(metrics, dict):
        return None
    summary = {key: metrics.get(key) for key in TRAINING_SUMMARY}
    best = metrics.get("out_of_fold" if "members" in metrics else "best")
    summary["best"] = best if isinstance(best, dict) else {}
    runs = metrics.get("member_runs")
    if isinstance(runs, list):  # an ensemble: each member kept its own epoch
        summary["kept_epoch"] = [r.get("kept_epoch") for r in runs if isinstance(r, dict)]
    return summary


def info_text(info: dict[str, Any]) -> str:
    """``describe_run``'s data as one screen of text.

    Example:
        >>> print(info_text(describe_run("runs/diabetes")))  # doctest: +SKIP
        run         runs/diabetes
        task        regression, target 'progression'
        ...
    """
    data = info["data"]
    lines = [
        _line("run", info["run"]),
        _line("task", f"{info['task']}, target {info['target']!r}{_classes(info['classes'])}"),
        _line("data", f"{data['source']}: {_rows(data)}"),
        _line("sha256", data["sha256"] or "-"),
        _line("created", info["created"]),
        *_field("model", _model(info)),
        *_field("training", _outcome(info["training"])),
        "",
        f"inputs ({len(info['inputs'])}, {info['feature_scale']} scaling)",
        *_table([(c["name"], c["kind"], _encoding(c)) for c in info["inputs"]]),
    ]
    if info["ignored"]:
        lines += [f"ignored ({len(info['ignored'])})"]
        lines += _table([(c["name"], c["reason"]) for c in info["ignored"]])
    lines += ["options"]
    for section, values in info["options"].items():
        text = " ".join(f"{key}={_value(value)}" for key, value in values.items())
        lines += _field(f"  {section}", text)
    lines += _field("versions", ", ".join(f"{k} {v}" for k, v in info["versions"].items()))
    return "\n".join(lines) + "\n"


def _line(label: str, text: str) -> str:
    return f"{label:<12}{text}"  # paths are never wrapped: they are copied and pasted


def _field(label: str, text: str) -> list[str]:
    """``label`` then ``text`` wrapped at 88 columns, continuation lines aligned."""
    return textwrap.wrap(
        text, WIDTH, initial_indent=f"{label:<12}", subsequent_indent=" " * 12
    ) or [label]


def _classes(classes: list) -> str:
    if not classes:
        return ""
    shown = short_list([str(label) for label in classes], limit=8)
    return f"; classes {shown}"


def _rows(data: dict[str, Any]) -> str:
    split = f"{data['train_rows']} training, {data['validation_rows']} validation"
    if data["validation_source"]:
        split += f" from {data['validation_source']}"
    if data.get("streamed"):
        split += ", streamed"
    return f"{plural(data['rows'], 'row')} ({split})"


def _model(info: dict[str, Any]) -> str:
    arch, model = info["options"]["arch"], info["model"]
    hidden = ",".join(map(str, arch["layers"])) or "no hidden layer"
    extras = [f"dropout {arch['dropout']:g}"] if arch["dropout"] else []
    extras += ["batchnorm"] if arch["batchnorm"] else []
    submodels = arch.get("submodels", 1)
    extras += [f"{submodels} submodels trained as one (TabM)"] if submodels > 1 else []
    return (
        f"{plural(model['n_inputs'], 'input')} -> {hidden} {arch['activation']} -> "
        f"{plural(model['n_outputs'], 'output')}" + "".join(f", {e}" for e in extras)
    ) + (f"; a bagged ensemble of {model['members']}" if model.get("members", 1) > 1 else "")


def _outcome(training: dict[str, Any] | None) -> str:
    if training is None:
        return "metrics.json is missing or unreadable"
    logs = "  ".join(f"{k} {_value(v)}" for k, v in training["best"].items())
    stop = str(training["stop_reason"]).replace("_", " ")
    if isinstance(training["kept_epoch"], list):
        kept = ", ".join(map(str, training["kept_epoch"]))
        return (
            f"members kept epochs {kept}; up to {plural(training['epochs_run'], 'epoch')} "
            f"run ({stop}, monitor {training['monitor']}); out of fold: {logs}"
        )
    return (
        f"best epoch {training['best_epoch']} of {plural(training['epochs_run'], 'epoch')} "
        f"run ({stop}, monitor {training['monitor']}): {logs}"
    )


def _encoding(column: dict[str, Any]) -> str:
    if column["kind"] == "categorical":
        return f"one-hot: {plural(column['categories'], 'category', 'categories')} + other"
    text = (
        f"centre {_value(column['center'])}  spread {_value(column['spread'])}  "
        f"median {_value(column['median'])}"
    )
    return text + ("  + missing indicator" if column["indicator"] else "")


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value)) or "-"
    return "-" if value is None else str(value)


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))] if rows else []
    return [
        "  " + "  ".join(f"{cell:<{w}}" for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
