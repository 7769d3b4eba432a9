"""``tabnet cv``: K-fold cross-validation from the train job's stages.

The file is read once (``read_source``); each fold is a :class:`Split` whose validation
rows are the fold, and ``prepare`` fits the preprocessing on the other folds' rows only,
so no fold's scaler, category list or target scaling ever sees its test rows. Folds are
stratified by class for classification and seeded with ``--seed``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tabnet_cli.errors import TabnetError
from tabnet_cli.fit.callbacks import Callback
from tabnet_cli.jobs.folds import fold_splits, refuse_validation_file
from tabnet_cli.jobs.train import refuse_streaming
from tabnet_cli.nn.ensemble import numpy_network
from tabnet_cli.prep.prepare import prepare, read_source
from tabnet_cli.prep.types import Split, Table
from tabnet_cli.run.run_dir import LoadedRun
from tabnet_cli.run.save import build_manifest, check_savable, write_run
from tabnet_cli.score.metrics import score
from tabnet_cli.settings.config import RunConfig
from tabnet_cli.settings.recipes import resolve_data, resolve_training

if TYPE_CHECKING:
    from tabnet_cli.fit.train import Fitted
    from tabnet_cli.prep.types import Prepared


@dataclass
class FoldResult:
    """One fold: its sizes, the kept epoch and the model's metrics on the fold's rows."""

    fold: int
    train_rows: int
    test_rows: int
    best_epoch: int | None
    metrics: dict[str, float | None]
    run_dir: str | None = None


@dataclass
class CvResult:
    """Every fold, and the mean and standard deviation of each metric across them."""

    task: str
    folds: list[FoldResult] = field(default_factory=list)

    def summary(self) -> dict[str, dict[str, float | None]]:
        """``{metric: {"mean": m, "std": s}}`` (std with ddof 0, as NumPy's).

        Example:
            >>> result = CvResult("binary", [FoldResult(1, 8, 2, 3, {"accuracy": 0.5}),
            ...     FoldResult(2, 8, 2, 4, {"accuracy": 1.0})])
            >>> result.summary()
            {'accuracy': {'mean': 0.75, 'std': 0.25}}
        """
        names = list(self.folds[0].metrics) if self.folds else []
        summary = {}
        for name in names:
            values = [f.metrics[name] for f in self.folds if f.metrics.get(name) is not None]
            finite = np.asarray(values, dtype=np.float64)
            summary[name] = {
                "mean": float(finite.mean()) if len(finite) else None,
                "std": float(finite.std()) if len(finite) else None,
            }
        return summary

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "folds": [vars(f) for f in self.folds],
            "summary": self.summary(),
        }


def cross_validate(
    source: str,
    config: RunConfig,
    folds: int,
    out_dir: Path | None = None,
    callbacks: Callable[[int], Sequence[Callback]] = lambda fold: (),
    notify: Callable[[str], None] = lambda message: None,
) -> CvResult:
    """Trains and scores one model per fold; with ``out_dir`` keeps each fold's run in
    ``out_dir/fold-1``... ``callbacks(fold)`` gives the callbacks of a fold.

    Example:
        >>> result = cross_validate("sample_data/diabetes.csv", RunConfig.from_options(
        ...     {"target": "progression", "epochs": 2}), 3)  # doctest: +SKIP
    """
    if out_dir is not None and out_dir.exists():
        raise TabnetError(f"{out_dir} already exists; choose another --out or remove it")

    refuse_validation_file(config.data)
    config = resolve_data(config)
    config = replace(config, data=replace(config.data, folds=1))
    refuse_streaming(source, config, "tabnet cv")
    table = read_source(source, config.data)
    splits = fold_splits(table, config.data, config.train.loss, folds, config.train.seed)
    result = CvResult(task="")
    for fold, split in enumerate(splits, start=1):
        fold_dir = None if out_dir is None else out_dir / f"fold-{fold}"
        tell = notify if fold == 1 else None  # the data notes once, not once per fold
        found = _run_fold(table, split, config, callbacks(fold), fold_dir, tell)
        result.task = found.pop("task")
        result.folds.append(FoldResult(fold=fold, **found))
    return result


def _run_fold(table, split, config, callbacks, fold_dir, notify) -> dict[str, Any]:
    # torch loads on first use, not with this module
    from tabnet_cli.fit.train import model_config_for, resolve, train

    prepared = prepare(table, split, config.data, config.train.loss)
    config = resolve_training(config, prepared.provenance.train_rows, prepared.task)
    train_config = resolve(config.train, prepared)
    model_config = model_config_for(prepared, config.arch)
    check_savable(table.source, prepared, model_config, train_config, config)
    for message in prepared.notices if notify else ():
        notify(message)
    fitted = train(prepared, config.arch, train_config, callbacks)
    if fitted.result.stop_reason == "interrupted":
        raise KeyboardInterrupt  # Ctrl-C ends the whole cross-validation, not one fold
    metrics = fold_metrics(table, split, prepared, fitted, config)
    if fold_dir is not None:
        write_run(fold_dir, table.source, prepared, fitted, config)
    stopper = fitted.result.early_stopping
    return {
        "task": prepared.task,
        "train_rows": len(split.train_rows),
        "test_rows": len(split.valid_rows),
        "best_epoch": stopper.best_epoch,
        "metrics": metrics,
        "run_dir": None if fold_dir is None else str(fold_dir),
    }


def fold_metrics(
    table: Table, split: Split, prepared: Prepared, fitted: Fitted, config: RunConfig
) -> dict[str, float | None]:
    """``tabnet evaluate``'s metrics of a fitted model on the split's validation rows,
    computed by the NumPy forward pass that a saved run uses."""

    weights = {k: v.detach().cpu().numpy() for k, v in fitted.model.state_dict().items()}
    model = numpy_network(fitted.model_config, weights, prepared.task)
    manifest = build_manifest(prepared, fitted, config)
    run = LoadedRun(Path(table.name), manifest, model, prepared.features, prepared.targets)
    matrices = prepared.matrices
    raw, truth = model(matrices.x_valid), matrices.y_valid
    if prepared.task == "regression":
        valid = table.frame[config.data.target].take(split.valid_rows)
        truth = valid.astype(float).to_numpy()
    found = score(run, raw, matrices.y_valid, truth)["metrics"]
    return {name: pair["model"] for name, pair in found.items()}
