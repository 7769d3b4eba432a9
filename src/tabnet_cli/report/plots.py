"""Learning curves in the terminal (plotext), rendered to a string.

One panel per metric, each with its training curve and its ``val_`` twin; several runs
overlay in the same panels; the best epoch (the one early stopping kept) is a vertical line.
Every series has its own marker, so the plot still reads without colour (in a file, a mail
or a pipe); a one-line key under the plot names them.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from tabnet_cli.errors import DataError, short_list
from tabnet_cli.run.run_dir import HISTORY, METRICS

# Values beyond this are left out of a linear plot: the span of +-1e308 overflows.
DRAWABLE = 1e300
# (training, validation) markers per run, distinct without colour.
MARKERS = [("•", "+"), ("o", "x"), ("*", "#"), ("^", "="), ("~", "%")]
COLOURS = [12, 9, 10, 13, 14, 11]  # 256-colour codes per run: blue, red, green, magenta...


@dataclass
class RunHistory:
    """One run's per-epoch values, read from ``history.csv`` (and ``metrics.json``)."""

    name: str
    epochs: list[int]
    columns: dict[str, list[float]]
    best_epoch: int | None

    @property
    def metrics(self) -> list[str]:
        """Metric names without the ``val_`` twins, ``loss`` first."""
        names = [c for c in self.columns if not c.startswith("val_")]
        names += [c[4:] for c in self.columns if c.startswith("val_") and c[4:] not in names]
        return sorted(names, key=lambda n: (n != "loss", names.index(n)))


def load_history(path: str) -> RunHistory:
    """Reads a run directory or a history CSV (``epoch,loss,val_loss,...``, as Keras'
    CSVLogger writes it; its 0-based epochs are shown 1-based, as Keras prints them).

    Example:
        >>> load_history("missing-run")
        Traceback (most recent call last):
        ...
        tabnet_cli.errors.DataError: missing-run: no such run directory or history CSV
    """
    source = Path(path)
    csv_path = source / HISTORY if source.is_dir() else source
    if not csv_path.is_file():
        if source.is_dir():
            raise DataError(f"{path} has no {HISTORY}; give a run directory from tabnet train")
        raise DataError(f"{path}: no such run directory or history CSV")
    with open(csv_path, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "epoch" not in rows[0]:
        raise DataError(f"{csv_path} is not a history CSV (it needs an 'epoch' column)")
    try:
        epochs = [int(float(row["epoch"])) for row in rows]
        columns = {
            name: [_number(row[name]) for row in rows] for name in rows[0] if name != "epoch"
        }
    except (TypeError, ValueError) as exc:
        raise DataError(f"{csv_path} holds a value that is not a number ({exc})") from None
    shift = 1 if epochs and min(epochs) == 0 else 0
    epochs = [e + shift for e in epochs]
    name = source.name if source.is_dir() else source.stem
    return RunHistory(name, epochs, columns, _best_epoch(source, epochs, columns))


def _number(text: str | None) -> float:
    return float("nan") if text in (None, "") else float(text)


def _best_epoch(source: Path, epochs: list[int], columns: dict) -> int | None:
    metrics = source / METRICS if source.is_dir() else None
    if metrics and metrics.is_file():
        try:
            return json.loads(metrics.read_text()).get("kept_epoch")
        except ValueError:
            pass
    losses = columns.get("val_loss")  # a bare CSV: the epoch with the lowest val_loss
    finite = [(v, e) for v, e in zip(losses or [], epochs, strict=False) if math.isfinite(v)]
    return min(finite)[1] if finite else None


def select_metrics(runs: list[RunHistory], wanted: list[str] | None) -> list[str]:
    """``wanted``, checked against every run; default: loss and the first other metric."""
    available = [m for m in runs[0].metrics if all(m in r.metrics for r in runs)]
    if not wanted:
        return available[:2]
    for metric in wanted:
        for run in runs:
            if metric not in run.metrics:
                raise DataError(
                    f"{run.name} has no metric {metric!r}; available: {short_list(run.metrics)}"
                )
    return wanted


def _window(
    run: RunHistory, name: str, from_epoch: int, log_y: bool = False
) -> tuple[list[int], list[float]]:
    """The (epoch, value) pairs drawn: finite values from ``from_epoch``, only positive
    ones on a log scale, none beyond ``DRAWABLE`` on a linear one."""
    pairs = [
        (e, v)
        for e, v in zip(run.epochs, run.columns.get(name, []), strict=False)
        if e >= from_epoch and _drawable(v, log_y)
    ]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _drawable(value: float, log_y: bool) -> bool:
    return math.isfinite(value) and (value > 0 if log_y else abs(value) <= DRAWABLE)


def left_out(runs: list[RunHistory], metrics: list[str], from_epoch: int, log_y: bool) -> str:
    """A note on the finite values the plot cannot show (``""`` when there are none).

    Example:
        >>> run = RunHistory("r", [1, 2, 3], {"loss": [1.0, 0.0, -2.0]}, None)
        >>> left_out([run], ["loss"], 1, log_y=True)
        'left out 2 values <= 0, which a log scale cannot show (--table lists them)'
    """
    count = sum(
        math.isfinite(v) and not _drawable(v, log_y)
        for run in runs
        for metric in metrics
        for name in (metric, f"val_{metric}")
        for e, v in zip(run.epochs, run.columns.get(name, []), strict=False)
        if e >= from_epoch
    )
    if not count:
        return ""
    what = "<= 0, which a log scale cannot show" if log_y else f"beyond +-{DRAWABLE:g}"
    return f"left out {count} value{'s' * (count > 1)} {what} (--table lists them)"


def _epoch_ticks(first: int, last: int, slots: int = 8) -> list[int]:
    """Integer epoch ticks, about ``slots`` of them, always including the ends.

    Example:
        >>> _epoch_ticks(1, 95)
        [1, 20, 40, 60, 80, 95]
    """
    span = max(last - first, 1)
    raw = span / slots
    step = next(s * 10**k for k in range(0, 9) for s in (1, 2, 5) if s * 10**k >= raw)
    middle = [t for t in range(0, last, step) if first + step / 2 < t < last - step / 2]
    return sorted({first, *middle, last})


def render_curves(
    runs: list[RunHistory],
    metrics: list[str],
    width: int,
    height: int,
    from_epoch: int = 1,
    log_y: bool = False,
    colour: bool = False,
    notes: list[str] | None = None,
) -> str:
    """The learning-curve panels as text (ANSI colours only with ``colour``); plotext's
    own messages (and what it cannot show) go to ``notes``, never to the terminal.

    Example:
        >>> run = RunHistory("r", [1, 2, 3], {"loss": [3.0, 2.0, 1.0],
        ...     "val_loss": [3.5, 2.5, 2.0]}, best_epoch=3)
        >>> print(render_curves([run], ["loss"], width=40, height=8))  # doctest: +ELLIPSIS
                             r: loss...
    """
    for run in runs:
        if len(_window(run, metrics[0], from_epoch, log_y)[0]) < 2:
            what = f"positive values of {metrics[0]}" if log_y else "epochs"
            raise DataError(
                f"{run.name} has fewer than two {what} from epoch {from_epoch}: "
                "no curve to draw; use --table to see the values"
            )
    if notes is not None and left_out(runs, metrics, from_epoch, log_y):
        notes.append(left_out(runs, metrics, from_epoch, log_y))
    said = io.StringIO()  # plotext's own messages (coloured, whatever NO_COLOR says)
    try:
        with redirect_stdout(said), redirect_stderr(said):
            text = _draw(runs, metrics, width, height, from_epoch, log_y, colour)
    except (ArithmeticError, ValueError) as exc:
        raise DataError(f"cannot draw these values ({exc}); use --table to see them") from None
    if notes is not None:
        notes += [_plain(line) for line in said.getvalue().splitlines() if line.strip()]
    return text + "\n" + _key(runs, colour) + "\n"


def _plain(message: str) -> str:
    """A message of plotext's without its colours and its ``plotext.figure:`` prefix.

    Example:
        >>> _plain("\\x1b[1mplotext.figure:\\x1b[0m the values are too close")
        'the values are too close'
    """
    text = re.sub(r"\x1b\[[0-9;]*m", "", message)
    return re.sub(r"^plotext[\w.]*:\s*", "", text)


def _draw(runs, metrics, width, height, from_epoch, log_y, colour) -> str:
    import plotext as plt  # plotext loads on first use, not with this module

    fig = plt.figure
    fig.clear()
    plt.terminal.limit(False, False)  # draw at the asked size, whatever the terminal is
    panel_height = max(height // len(metrics), 6)
    fig.plot_size(width, panel_height * len(metrics))
    if len(metrics) > 1:  # plotext has no 1x1 grid: a single panel is the figure itself
        fig.subplots(len(metrics), 1)
    first = min(min(_window(r, metrics[0], from_epoch, log_y)[0]) for r in runs)
    last = max(max(_window(r, metrics[0], from_epoch, log_y)[0]) for r in runs)
    for row, metric in enumerate(metrics, start=1):
        panel = fig.subplot(row, 1) if len(metrics) > 1 else fig
        for index, run in enumerate(runs):
            markers, hue = MARKERS[index % len(MARKERS)], COLOURS[index % len(COLOURS)]
            for name, symbol in ((metric, markers[0]), (f"val_{metric}", markers[1])):
                x, y = _window(run, name, from_epoch, log_y)
                if not x:
                    continue
                pixel = plt.pixel(foreground=hue) if colour else None
                marker = plt.marker(symbol, pixel) if pixel else symbol
                panel.draw(panel.signal(x, y, marker=marker).lines(True))
            if run.best_epoch is not None and first <= run.best_epoch <= last:
                pixel = plt.pixel(foreground=hue) if colour else None
                panel.line(run.best_epoch, orientation=1, pixel=pixel)
        names = " vs ".join(r.name for r in runs)
        panel.title(f"{names}: {metric}" + (" (log scale)" if log_y else ""))
        panel.ruler("x").ticks(_epoch_ticks(first, last))
        panel.ruler("x").lim(first, last)
        if log_y:
            panel.ruler("y").scale("log")
        if row == len(metrics):
            panel.label("epoch", axis="x")
    fig.theme("simple" if colour else "colorless")
    return fig.build().string(colorless=not colour).rstrip("\n")


def _key(runs: list[RunHistory], colour: bool) -> str:
    """``• training  + validation  │ best epoch``, per run."""

    def paint(symbol: str, hue: int) -> str:
        return f"\x1b[38;5;{hue}m{symbol}\x1b[0m" if colour else symbol

    parts = []
    for index, run in enumerate(runs):
        (train, valid), hue = MARKERS[index % len(MARKERS)], COLOURS[index % len(COLOURS)]
        prefix = f"{run.name}: " if len(runs) > 1 else ""
        best = f"  {paint('│', hue)} best epoch {run.best_epoch}" if run.best_epoch else ""
        parts.append(f"{prefix}{paint(train, hue)} training  {paint(valid, hue)} validation{best}")
    return "   ".join(parts)


def render_table(runs: list[RunHistory], metrics: list[str], from_epoch: int = 1) -> str:
    """Per-epoch values as an aligned plain-text table; ``*`` marks each run's best epoch.

    Example:
        >>> run = RunHistory("r", [1, 2], {"loss": [0.5, 0.25], "val_loss": [0.6, 0.4]}, 2)
        >>> print(render_table([run], ["loss"]), end="")
        epoch  loss    val_loss
        1      0.5000  0.6000
        2*     0.2500  0.4000
    """
    header = ["epoch"]
    for run in runs:
        prefix = f"{run.name}:" if len(runs) > 1 else ""
        for metric in metrics:
            header += [f"{prefix}{metric}", f"{prefix}val_{metric}"]
    epochs = sorted({e for r in runs for e in r.epochs if e >= from_epoch})
    rows = [header]
    for epoch in epochs:
        best = any(r.best_epoch == epoch for r in runs)
        row = [f"{epoch}{'*' if best else ''}"]
        for run in runs:
            lookup = dict(zip(run.epochs, range(len(run.epochs)), strict=False))
            for metric in metrics:
                for name in (metric, f"val_{metric}"):
                    values = run.columns.get(name)
                    i = lookup.get(epoch)
                    row.append(_cell(values[i]) if values and i is not None else "")
        rows.append(row)
    widths = [max(len(r[c]) for r in rows) for c in range(len(header))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines) + "\n"


def _cell(value: float) -> str:
    """A table cell: four decimals, or four significant digits for huge values.

    Example:
        >>> _cell(0.12345), _cell(-1e308), _cell(float("nan"))
        ('0.1235', '-1.0000e+308', 'nan')
    """
    return f"{value:.4e}" if math.isfinite(value) and abs(value) >= 1e9 else f"{value:.4f}"
