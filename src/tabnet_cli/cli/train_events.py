"""``tabnet train --log-format jsonl``: the same job as the text log, with every message
on stderr a JSON object (``events.py``) and the run directory's path on stdout."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import typer

from tabnet_cli.cli.app import INTERRUPTED, USER_ERROR, one_line
from tabnet_cli.errors import TabnetError


def train_with_events(data: str, make_config: Callable, out: Path | None, plot: bool) -> None:
    """Trains with JSON events on stderr; a user mistake is an ``error`` event (exit 2)
    rather than an ``Error:`` line, so that every stderr line parses.

    Example: tabnet train data.csv --target y --log-format jsonl 2> events.jsonl
    """
    from tabnet_cli.io.sources import display_name
    from tabnet_cli.report.events import EpochEvents, JsonLines, outcome_events
    from tabnet_cli.settings.recipes import resolve_before_data

    events = JsonLines(sys.stderr)
    try:
        if plot:
            raise TabnetError("--plot draws text on stderr; leave it out with --log-format jsonl")
        config = make_config()
        start = resolve_before_data(config)
        events.emit("start", data=display_name(data), recipe=config.recipe, config=start)
        summary = _train(data, config, out, EpochEvents(events), events)
    except TabnetError as exc:
        events.emit("error", message=one_line(str(exc)))
        raise typer.Exit(USER_ERROR) from None
    except KeyboardInterrupt:
        events.emit("interrupted", message="before the first epoch ended; nothing was written")
        raise typer.Exit(INTERRUPTED) from None
    for name, fields in outcome_events(summary.metrics, summary.run_dir):
        events.emit(name, **fields)
    print(summary.run_dir)
    if summary.metrics["stop_reason"] == "interrupted":
        raise typer.Exit(INTERRUPTED)


def _train(data, config, out, callback, events):
    from tabnet_cli.jobs.train import train_run

    return train_run(data, config, out, [callback], lambda m: events.emit("note", message=m))
