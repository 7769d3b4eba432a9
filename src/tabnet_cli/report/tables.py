"""Human-readable rendering of results (rich tables on stdout)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from tabnet_cli.fit.callbacks import is_maximised


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4f}" if abs(value) < 1e5 else f"{value:.4g}"


def render_evaluation(report: dict, console: Console | None = None) -> None:
    """Prints the metrics table (model vs baseline) and, for classifiers, the confusion matrix.

    Example:
        >>> render_evaluation({"run": "r", "data": "d.csv", "rows": 2, "task": "regression",
        ...     "target": "y", "loss_name": "mae",
        ...     "metrics": {"mae": {"model": 0.5, "baseline": 1.0}}},
        ...     Console(width=60, color_system=None))  # doctest: +NORMALIZE_WHITESPACE
                  r on d.csv (2 rows)
        ┏━━━━━━━━┳━━━━━━━━┳━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━┓
        ┃ metric ┃  model ┃ baseline ┃ better than baseline  ┃
        ┡━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━┩
        │ mae    │ 0.5000 │   1.0000 │ yes                   │
        └────────┴────────┴──────────┴──────────────────────┘
    """
    console = console or Console(highlight=False)
    table = Table(title=f"{report['run']} on {report['data']} ({report['rows']} rows)")
    table.add_column("metric")
    table.add_column("model", justify="right")
    table.add_column("baseline", justify="right")
    table.add_column("better than baseline")
    for name, pair in report["metrics"].items():
        label = f"loss ({report['loss_name']}, model units)" if name == "loss" else name
        model, base = pair["model"], pair["baseline"]
        better = ""
        if model is not None and base is not None:
            wins = model > base if is_maximised(name) else model < base
            better = "yes" if wins else "no"
        table.add_row(label, _fmt(model), _fmt(base), better)
    for label, pair in report.get("per_class_recall", {}).items():
        table.add_row(f"recall of {label}", _fmt(pair["model"]), _fmt(pair["baseline"]), "")
    console.print(table)
    confusion = report.get("confusion_matrix")
    if confusion:
        matrix = Table(title="confusion matrix (rows: actual, columns: predicted)")
        matrix.add_column("actual \\ predicted")
        for label in confusion["labels"]:
            matrix.add_column(label, justify="right")
        for label, row in zip(confusion["labels"], confusion["matrix"], strict=True):
            matrix.add_row(label, *[str(v) for v in row])
        console.print(matrix)


def render_cv(result: dict, title: str, console: Console | None = None) -> None:
    """Prints each metric's mean ± std across folds, then its value on every fold.

    Example:
        >>> render_cv({"folds": [{"metrics": {"mae": 1.0}}, {"metrics": {"mae": 3.0}}],
        ...     "summary": {"mae": {"mean": 2.0, "std": 1.0}}}, "cv",
        ...     Console(width=60, color_system=None))  # doctest: +NORMALIZE_WHITESPACE
                            cv
        ┏━━━━━━━━┳━━━━━━━━━━━━━━━━━┳━━━━━━━━┳━━━━━━━━┓
        ┃ metric ┃     mean ± std  ┃ fold 1 ┃ fold 2 ┃
        ┡━━━━━━━━╇━━━━━━━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━┩
        │ mae    │ 2.0000 ± 1.0000 │ 1.0000 │ 3.0000 │
        └────────┴─────────────────┴────────┴────────┘
    """
    console = console or Console(highlight=False)
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("mean ± std", justify="right")
    for index in range(len(result["folds"])):
        table.add_column(f"fold {index + 1}", justify="right")
    for name, stats in result["summary"].items():
        values = [_fmt(fold["metrics"].get(name)) for fold in result["folds"]]
        table.add_row(name, f"{_fmt(stats['mean'])} ± {_fmt(stats['std'])}", *values)
    console.print(table)


def trials_table(trials: list[dict], title: str) -> Table:
    """The trials of a search, one row each, with their parameters.

    Example:
        >>> table = trials_table([{"trial": 0, "state": "complete", "value": 0.5,
        ...     "epochs": 12, "params": {"lr": 0.002, "depth": 2}}], "study")
        >>> Console(width=60, color_system=None).print(table)  # doctest: +NORMALIZE_WHITESPACE
                                  study
        ┏━━━━━━━┳━━━━━━━━━━┳━━━━━━━━┳━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
        ┃ trial ┃ state    ┃  value ┃ epochs ┃ setting           ┃
        ┡━━━━━━━╇━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
        │ 0     │ complete │ 0.5000 │     12 │ lr=0.0020 depth=2 │
        └───────┴──────────┴────────┴────────┴───────────────────┘
    """
    table = Table(title=title)
    table.add_column("trial")
    table.add_column("state")
    table.add_column("value", justify="right")
    table.add_column("epochs", justify="right")
    table.add_column("setting")
    for trial in trials:
        setting = " ".join(f"{k}={_param_text(v)}" for k, v in trial["params"].items())
        epochs = "" if trial["epochs"] is None else str(trial["epochs"])
        table.add_row(str(trial["trial"]), trial["state"], _fmt(trial["value"]), epochs, setting)
    return table


def _param_text(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if 1e-3 <= abs(value) < 1e5 or value == 0 else f"{value:.2e}"
    return str(value)
