"""Training events as JSON Lines (``tabnet train --log-format jsonl``): one JSON object
per line, so a script, a CI log collector or a notebook can follow a run without parsing
the progress bar.

Events, in order: ``start`` (the settings, with the recipe's choices that do not depend
on the data applied; those it makes from the data are null, named in ``from_data``),
``note`` (what the text log says as ``Note:``), ``train_begin`` (epochs, steps per epoch and
the training settings as resolved from the data), ``epoch`` (one per epoch, with its logs),
``early_stop``, then ``saved`` (the run directory and its ``metrics.json``); ``error`` or
``interrupted`` instead when the run fails. Every event has ``event`` and ``time`` (Unix
seconds). Non-finite numbers are written as ``null``, so every line is strict JSON. In a
bagged ensemble, ``train_begin`` and ``epoch`` come once per member and name it
(``member``: 1, 2...).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from typing import Any, TextIO

from tabnet_cli.fit.callbacks import Callback, Logs
from tabnet_cli.run.run_dir import json_safe


class JsonLines:
    """Writes one event per line to ``stream`` and flushes it, so a reader sees each event
    when it happens.

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> JsonLines(out, clock=lambda: 1.5).emit("note", message="hi")
        >>> out.getvalue()
        '{"event": "note", "time": 1.5, "message": "hi"}\\n'
    """

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.time):
        self.stream = stream
        self.clock = clock

    def emit(self, event: str, **fields: Any) -> None:
        record = {"event": event, "time": round(self.clock(), 3), **fields}
        line = json.dumps(json_safe(_plain(record)), allow_nan=False)
        self.stream.write(line + "\n")
        self.stream.flush()


def _plain(value: Any) -> Any:
    """Dataclasses (configs) as dicts, tuples as lists, paths as text."""
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


class EpochEvents(Callback):
    """The events of the training loop: ``train_begin`` and one ``epoch`` per epoch.

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> events = EpochEvents(JsonLines(out, clock=lambda: 0.0))
        >>> events.on_epoch_end(epoch=1, logs={"loss": 0.5, "val_loss": float("nan")})
        >>> out.getvalue()
        '{"event": "epoch", "time": 0.0, "epoch": 1, "logs": {"loss": 0.5, "val_loss": null}}\\n'
    """

    def __init__(self, events: JsonLines):
        self.events = events

    def on_train_begin(self, *, epochs: int, steps_per_epoch: int, **context: Any) -> None:
        fields: dict[str, Any] = {**_member(context), "epochs": epochs}
        fields["steps_per_epoch"] = steps_per_epoch
        if context.get("config") is not None:  # the loop's resolved TrainConfig
            fields["train_config"] = context["config"]
        self.events.emit("train_begin", **fields)

    def on_epoch_end(self, *, epoch: int, logs: Logs, **context: Any) -> None:
        self.events.emit("epoch", **_member(context), epoch=epoch, logs=dict(logs))


def _member(context: dict[str, Any]) -> dict[str, Any]:
    """``{"member": i}`` while member ``i`` of a bagged ensemble trains, else nothing."""
    return {"member": context["member"]} if context.get("member") is not None else {}


def outcome_events(metrics: dict[str, Any], run_dir: Any) -> list[tuple[str, dict[str, Any]]]:
    """The events after training: ``early_stop`` when it stopped early, then ``saved``.

    Example:
        >>> [name for name, _ in outcome_events({"stop_reason": "early_stopping",
        ...     "epochs_run": 9, "best_epoch": 4, "monitor": "val_loss", "best_value": 0.1},
        ...     "runs/x")]
        ['early_stop', 'saved']
    """
    found: list[tuple[str, dict[str, Any]]] = []
    if metrics.get("stop_reason") == "early_stopping":
        found.append(
            (
                "early_stop",
                {
                    "epoch": metrics["epochs_run"],
                    "best_epoch": metrics["best_epoch"],
                    "monitor": metrics["monitor"],
                    "best_value": metrics["best_value"],
                },
            )
        )
    found.append(("saved", {"path": str(run_dir), "metrics": metrics}))
    return found
