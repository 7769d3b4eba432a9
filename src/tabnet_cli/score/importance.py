"""Permutation importance: how much worse the model scores on DATA when one input column
is shuffled, so that it no longer carries information about the target.

Every input column is shuffled as a whole: a category column's one-hot slots and a numeric
column's missing indicator move with it, which is exactly what shuffling the raw column
before preprocessing gives (each slot depends on its own column's value only), without
preprocessing the table again for every shuffle. Scores: the run's loss (in model units,
as ``val_loss``) and the task's main metrics (R2 and MAE, or accuracy and ROC AUC). Runs
with NumPy alone, as ``predict`` does: PyTorch is never imported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tabnet_cli.errors import DataError
from tabnet_cli.io.sources import display_name
from tabnet_cli.io.tables import read_table, require_columns, sha256_of
from tabnet_cli.run.run_dir import LoadedRun
from tabnet_cli.score.metrics import run_loss

# metric -> whether larger is better; "importance" is always "how much worse"
REGRESSION_METRICS = {"loss": False, "r2": True, "mae": False}
CLASSIFICATION_METRICS = {"loss": False, "accuracy": True, "roc_auc": True}


@dataclass
class Scored:
    """DATA as the model sees it, with its targets, for scoring many shuffles."""

    x: np.ndarray  # the preprocessed features
    encoded: np.ndarray  # targets in model units
    truth: np.ndarray  # targets in original units (regression) or class indices
    rows: int


def metric_names(task: str) -> dict[str, bool]:
    """The scores of a task, each with whether larger is better.

    Example:
        >>> list(metric_names("binary"))
        ['loss', 'accuracy', 'roc_auc']
    """
    return REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS


def scores(run: LoadedRun, raw: np.ndarray, encoded: np.ndarray, truth: np.ndarray) -> dict:
    """The run's loss and the main metrics of raw model outputs (NaN when undefined).

    Example:
        >>> scores(run, raw, encoded, truth)  # doctest: +SKIP
        {'loss': 0.41, 'r2': 0.55, 'mae': 1.51}
    """

    loss = run_loss(run.manifest.train_config, run.task, raw, encoded)
    if run.task == "regression":
        predicted = run.target.decode(raw)
        spread = np.square(truth - truth.mean()).sum()
        r2 = 1.0 - np.square(truth - predicted).sum() / spread if spread > 0 else np.nan
        return {"loss": loss, "r2": float(r2), "mae": float(np.abs(truth - predicted).mean())}
    proba = run.target.probabilities(raw)
    accuracy = float((proba.argmax(axis=1) == truth).mean())
    return {"loss": loss, "accuracy": accuracy, "roc_auc": _auc(truth, proba)}


def _auc(truth: np.ndarray, proba: np.ndarray) -> float:
    """ROC AUC (macro one-vs-rest for several classes); NaN unless every class occurs."""
    from sklearn.metrics import roc_auc_score  # sklearn loads on first use, not with this module

    classes = proba.shape[1]
    if len(np.unique(truth)) < classes:
        return float("nan")
    if classes == 2:
        return float(roc_auc_score(truth, proba[:, 1]))
    return float(roc_auc_score(truth, proba, multi_class="ovr", labels=list(range(classes))))


def load_scored(run: LoadedRun, source: str, warn: Callable[[str], None]) -> Scored:
    """Reads DATA (features and target), preprocesses it once with the saved state."""
    name = display_name(source)
    frame = read_table(source, run.manifest.data_config.read_options())
    require_columns(frame, run.features.input_columns, "feature", name)
    require_columns(frame, [run.target_name], "target", name)
    present = frame[run.target_name].notna().to_numpy()
    if not present.any():
        raise DataError(f"{name} has no row with a value in the target {run.target_name!r}")
    if not present.all():
        warn(f"ignored {int((~present).sum())} row(s) without a value in {run.target_name!r}")
    frame = frame[present].reset_index(drop=True)
    if len(frame) < 2:
        raise DataError(f"{name} has a single row with a target: nothing to shuffle")
    x, report = run.features.transform(frame)
    if report.message():
        warn(report.message())
    target = frame[run.target_name]
    encoded = run.target.encode(target)
    truth = target.astype(float).to_numpy() if run.task == "regression" else encoded
    return Scored(x, encoded, truth, len(frame))


def is_training_file(run: LoadedRun, source: str) -> bool:
    """Whether DATA is byte for byte the file the run was trained on.

    Example:
        >>> is_training_file(run, "red-wine.csv")  # doctest: +SKIP
        True
    """
    recorded = run.manifest.data.sha256
    return recorded is not None and source != "-" and sha256_of(source) == recorded


def permutation_importance(
    run: LoadedRun,
    source: str,
    repeats: int = 5,
    seed: int = 0,
    warn: Callable[[str], None] = lambda message: None,
) -> dict:
    """Shuffles each input column ``repeats`` times and reports how much worse every
    score gets (mean and standard deviation over the repeats), most important first.

    Example:
        >>> run = load_run("runs/abalone")  # doctest: +SKIP
        >>> report = permutation_importance(run, "abalone.csv")  # doctest: +SKIP
        >>> report["importance"][0]["column"], report["importance"][0]["loss"]  # doctest: +SKIP
        ('V8', {'mean': 0.31, 'std': 0.01})
    """
    if is_training_file(run, source):
        warn(
            f"{display_name(source)} is the file this run was trained on (same sha256): "
            "the importances include what the model memorised of its training rows; "
            "give held-out data for a fair picture"
        )
    data = load_scored(run, source, warn)
    names = metric_names(run.task)
    reference = scores(run, run.model(data.x), data.encoded, data.truth)
    rng = np.random.default_rng(seed)
    columns = []
    for column, slots in run.features.column_slots().items():
        drops = _shuffled_drops(run, data, slots, repeats, rng, reference)
        summary = {m: _mean_std(drops[m]) for m in names}
        columns.append({"column": column, "kind": _kind(run, column), **summary})
    columns.sort(key=lambda c: -_sort_value(c["loss"]["mean"]))
    return {
        "run": str(run.path),
        "data": display_name(source),
        "task": run.task,
        "loss_name": run.loss,
        "rows": data.rows,
        "repeats": repeats,
        "seed": seed,
        "reference": {m: _finite(v) for m, v in reference.items()},
        "importance": columns,
        "ignored": [dict(c) for c in run.features.ignored_],
    }


def _shuffled_drops(run, data: Scored, slots, repeats, rng, reference) -> dict[str, list]:
    """For each repeat, how much worse each score is with the column's slots shuffled."""
    names = metric_names(run.task)
    drops: dict[str, list[float]] = {m: [] for m in names}
    original = data.x[:, slots].copy()
    try:
        for _ in range(repeats):
            data.x[:, slots] = original[rng.permutation(data.rows)]
            shuffled = scores(run, run.model(data.x), data.encoded, data.truth)
            for metric, larger_is_better in names.items():
                change = shuffled[metric] - reference[metric]
                drops[metric].append(-change if larger_is_better else change)
    finally:
        data.x[:, slots] = original  # the next column starts from the unshuffled table
    return drops


def _kind(run: LoadedRun, column: str) -> str:
    numeric = {spec["name"] for spec in run.features.numeric_}
    return "numeric" if column in numeric else "categorical"


def _mean_std(values: list[float]) -> dict:
    array = np.asarray(values, dtype=float)
    if not np.isfinite(array).all():
        return {"mean": None, "std": None}
    return {"mean": float(array.mean()), "std": float(array.std())}


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _sort_value(value: float | None) -> float:
    return -np.inf if value is None else value


def render_importance(report: dict, width: int = 80, colour: bool = False) -> str:
    """The importance table, then a horizontal bar chart of the loss increase.

    Example:
        >>> report = {"run": "r", "data": "d.csv", "rows": 9, "repeats": 2, "seed": 0,
        ...     "loss_name": "mse", "reference": {"loss": 0.5}, "ignored": [],
        ...     "importance": [{"column": "a", "kind": "numeric",
        ...                     "loss": {"mean": 0.25, "std": 0.01}}]}
        >>> print(render_importance(report, width=40).splitlines()[5])
        1     a       numeric  0.2500 ± 0.0100
    """
    metrics = list(report["reference"])
    reference = ", ".join(f"{m} {_fmt(v)}" for m, v in report["reference"].items())
    lines = [
        f"Permutation importance of {report['run']} on {report['data']}",
        f"{report['rows']} rows, {report['repeats']} repeats, seed {report['seed']}; "
        f"unshuffled: {reference}",
        "Each figure: how much worse a score gets with the column shuffled (mean ± std).",
        "",
    ]
    rows = [["rank", "column", "kind", *metrics]]
    for rank, entry in enumerate(report["importance"], start=1):
        cells = [f"{_fmt(entry[m]['mean'])} ± {_fmt(entry[m]['std'])}" for m in metrics]
        rows.append([str(rank), entry["column"], entry["kind"], *cells])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    if report["ignored"]:
        unused = ", ".join(f"{c['name']} ({c['reason']})" for c in report["ignored"])
        lines.append(f"Not read by the model: {unused}")
    chart = render_bars(report, width, colour)
    return "\n".join(lines) + "\n" + ("\n" + chart if chart else "")


def render_bars(report: dict, width: int, colour: bool = False) -> str:
    """Mean loss increase per column as horizontal bars, the most important on top
    (plotext; without colour, plain text for files and pipes). Empty for one column."""
    import plotext as plt  # plotext loads on first use, not with this module

    entries = [e for e in report["importance"] if e["loss"]["mean"] is not None]
    if len(entries) < 2:
        return ""
    names = [e["column"] for e in reversed(entries)]
    values = [e["loss"]["mean"] for e in reversed(entries)]
    fig = plt.figure
    fig.clear()
    plt.terminal.limit(False, False)  # draw at the asked size, whatever the terminal is
    fig.plot_size(width, len(entries) + 4)  # one row per bar: title, frame and ticks take 4
    marker = plt.marker("▇", plt.pixel(foreground=12)) if colour else "▇"
    fig.draw(fig.bar(names, values, orientation="h", marker=marker, width=0.5))
    low, high = min(0.0, *values), max(0.0, *values)
    fig.ruler("x").lim(low, high if high > low else low + 1.0)
    fig.title(f"loss increase when shuffled ({report['loss_name']}, model units)")
    fig.theme("simple" if colour else "colorless")
    return fig.build().string(colorless=not colour).rstrip("\n") + "\n"


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4f}" if abs(value) < 1e5 else f"{value:.4g}"
