"""``tabnet train --log-format jsonl``: the same job as the text log, with every message
on stderr a JSON object (``events.py``) and the run directory's path on stdout."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from tabnet_cli.cli.app import INTERRUPTED, USER_ERROR, one_line
from tabnet_cli.errors import TabnetError
from tabnet_cli.settings.recipes import decided_by_data, resolve_before_data
from tabnet_cli.system import distributed


def train_with_events(data: str, make_config: Callable, out: Path | None, plot: bool) -> None:
    """Trains with JSON events on stderr; a user mistake is an ``error`` event (exit 2)
    rather than an ``Error:`` line, so that every stderr line parses.

    Example: tabnet train data.csv --target y --log-format jsonl 2> events.jsonl
    """
    from tabnet_cli.io.sources import display_name  # not at start-up: tabnet --help stays light

    # not at start-up: tabnet --help stays light
    from tabnet_cli.report.events import EpochEvents, JsonLines, outcome_events

    rank = distributed.current()
    events = JsonLines(sys.stderr if rank is None or rank.is_main else _Silent())
    try:
        if plot:
            raise TabnetError("--plot draws text on stderr; leave it out with --log-format jsonl")
        config = make_config()
        start = resolve_before_data(config)
        pending = decided_by_data(start)
        shown = start.to_dict()
        shown["train"].update(dict.fromkeys(pending, None))  # train_begin gives them
        events.emit(
            "start", data=display_name(data), recipe=config.recipe, config=shown,
            from_data=list(pending),
        )  # fmt: skip
        summary = _train(data, config, out, EpochEvents(events), events)
    except TabnetError as exc:
        distributed.record_error(str(exc))  # for the launcher of --nproc
        events.emit("error", message=one_line(str(exc)))
        raise typer.Exit(USER_ERROR) from None
    except KeyboardInterrupt:
        if distributed.reports_interrupts():
            events.emit("interrupted", message="before the run was saved; nothing was written")
        raise typer.Exit(INTERRUPTED) from None
    if summary.run_dir is None:  # a data-parallel rank other than 0: rank 0 reports
        return
    for name, fields in outcome_events(summary.metrics, summary.run_dir):
        events.emit(name, **fields)
    print(summary.run_dir)
    if summary.metrics["stop_reason"] == "interrupted":
        raise typer.Exit(INTERRUPTED)


@contextmanager
def error_events() -> Iterator[None]:
    """A user error as one ``error`` event and exit code 2 (the launcher of --nproc)."""
    from tabnet_cli.report.events import JsonLines  # not at start-up: tabnet --help stays light

    try:
        yield
    except TabnetError as exc:
        JsonLines(sys.stderr).emit("error", message=one_line(str(exc)))
        raise typer.Exit(USER_ERROR) from None


class _Silent:
    """The event stream of ranks other than 0, which rank 0 already reports."""

    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass


def _train(data, config, out, callback, events):
    from tabnet_cli.jobs.train import train_run  # not at start-up: tabnet --help stays light

    return train_run(data, config, out, [callback], lambda m: events.emit("note", message=m))
