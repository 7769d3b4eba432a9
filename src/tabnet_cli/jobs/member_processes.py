"""The members of a bagged ensemble trained side by side, one process per free CPU core.

A member is a small network on a small table: its steps (batches of 32 to 512 rows) are
too short to keep two cores busy (two members of 3 x 256 units at batch 32 ran 1.08x
faster in turn on two threads than on one, and 1.77x in two processes:
bench/parallel_members.py), so a member trained alone leaves the other cores idle. The
members are independent, so K of them train in up to K worker processes of one thread
each, forked from this one: they inherit the prepared rows without a copy, and each draws
its weights from its own seeded generator exactly as it would alone (the result does not
depend on the number of workers). PyTorch's DataLoader forks its workers the same way.

The workers report every training event back; this process replays them to the
callbacks one member after the other, in member order (the progress and the JSON events
read as if the members had trained in turn; an epoch's ``seconds`` is its own). Ctrl-C
and SIGTERM are this process's to handle (the workers ignore both): it tells the workers
to stop, and each member in training ends as an interrupted one does alone (its best
epoch kept); members not started are not trained.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from tabnet_cli.fit.callbacks import Callback
from tabnet_cli.system.threads import busy_elsewhere, usable_cpus

if TYPE_CHECKING:
    import torch

    from tabnet_cli.fit.train import Fitted
    from tabnet_cli.prep.types import Prepared
    from tabnet_cli.settings.config import ArchConfig, TrainConfig

POLL_SECONDS = 0.2  # how often a wait for the workers checks that they are alive


def member_processes(members: int, device: torch.device, config: TrainConfig) -> int:
    """Processes to train ``members`` members in: one per free core, at most one per
    member; 1 (train them in turn, in this process) on a GPU, off Linux (fork is the
    cheap start, and only Linux's is safe beside PyTorch's threads), inside a daemonic
    process (a multiprocessing pool's worker may not start processes) or when
    ``--threads`` chose the threads of each step.

    Example:
        >>> import torch
        >>> from tabnet_cli.settings.config import TrainConfig
        >>> member_processes(5, torch.device("cpu"), TrainConfig(threads=2))
        1
    """
    if members < 2 or device.type != "cpu" or config.threads > 0:
        return 1
    if not sys.platform.startswith("linux"):
        return 1
    if multiprocessing.current_process().daemon:  # e.g. a Pool's worker: it may not fork
        return 1
    return max(1, min(members, usable_cpus() - busy_elsewhere()))


@dataclass
class MemberOutcome:
    """One member's run as a worker sends it back (the weights as NumPy arrays)."""

    member: int  # 0-based
    fitted: Fitted | None  # None: not trained (a stop came first)
    error: BaseException | None = None


def train_members(
    members: Sequence[Prepared],
    arch: ArchConfig,
    config: TrainConfig,
    device: torch.device,
    callbacks: Callable[[int], Sequence[Callback]],
    processes: int,
    announce: Callable[[int], None] = lambda member: None,
) -> list[tuple[int, Fitted]]:
    """Trains every member in ``processes`` forked workers; returns the trained members
    (0-based index, run) in member order, without those a Ctrl-C stopped before their
    first epoch ended (or before they started). ``callbacks(i)`` gives the callbacks of
    member ``i`` (0-based), which see its events in turn; ``announce(i)`` runs before
    its first one.

    Example:
        >>> train_members(members, arch, config, device, lambda i: [], 2)  # doctest: +SKIP
    """
    context = multiprocessing.get_context("fork")
    work, results, stop = context.Queue(), context.Queue(), context.Event()
    for member in range(len(members)):
        work.put(member)
    config = replace(config, threads=1)
    workers = [
        context.Process(
            target=_worker, args=(work, results, stop, members, arch, config, device), daemon=True
        )
        for _ in range(processes)
    ]
    for worker in workers:
        work.put(None)  # one end mark per worker
        worker.start()
    replay = _InOrder(len(members), callbacks, announce)
    outcomes = None
    try:
        outcomes = _collect(results, workers, stop, replay, len(members))
    finally:
        for worker in workers:
            if outcomes is None:  # an error here (a callback's): the workers' runs are lost
                worker.kill()  # SIGKILL: the workers ignore SIGTERM
            worker.join()
    ordered = sorted(outcomes.values(), key=lambda o: o.member)
    for outcome in ordered:
        if outcome.error is not None:
            raise outcome.error
    return [(o.member, rebuilt(o.fitted)) for o in ordered if o.fitted is not None]


@contextlib.contextmanager
def _signals_only_stop(stop):
    """While the workers train, a Ctrl-C or SIGTERM only sets ``stop``. Raised as a
    KeyboardInterrupt by the command's handler, it could land inside a read from the
    results queue, between the bytes leaving the pipe and the message being handed back,
    and drop the message (a member's trained weights): the command would then wait for a
    member that never comes. The handlers in place (the command's InterruptWatch) hear of
    every signal once the collection is over; the KeyboardInterrupt they raise then is
    the one the collection already acted on. Handlers that are not Python functions
    (the default SIGTERM, which ends the process; SIG_IGN) are left as they are."""
    noted: list[int] = []

    def note(signum, frame) -> None:
        noted.append(signum)
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():  # handlers are set there only
        for signum in (signal.SIGINT, signal.SIGTERM):
            if callable(signal.getsignal(signum)):
                previous[signum] = signal.signal(signum, note)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in noted:
            with contextlib.suppress(KeyboardInterrupt):
                previous[signum](signum, None)


def _collect(results, workers, stop, replay: _InOrder, count: int) -> dict[int, MemberOutcome]:
    """Every member's outcome, replaying events as they come; a Ctrl-C (or SIGTERM) while
    waiting asks the workers to stop (``_signals_only_stop``) and the collection goes on
    with what they send back."""
    outcomes: dict[int, MemberOutcome] = {}
    with _signals_only_stop(stop):
        while len(outcomes) < count:
            message = _next_message(results, workers)
            try:
                if isinstance(message, MemberOutcome):
                    outcomes[message.member] = message
                    replay.finished(message.member)  # may replay the next member's events
                else:
                    replay.event(*message)
            except KeyboardInterrupt:  # a callback stopped the run, as a Ctrl-C would
                stop.set()
    return outcomes


def _next_message(results, workers) -> Any:
    while True:
        try:
            return results.get(timeout=POLL_SECONDS)
        except queue.Empty:
            if not any(w.is_alive() for w in workers) and results.empty():
                codes = [w.exitcode for w in workers]
                message = f"the member workers ended without a result (exit codes {codes})"
                raise RuntimeError(message) from None


class _InOrder:
    """Replays the workers' events to each member's callbacks, members in turn: the events
    of a member after the one shown are held until it is done."""

    def __init__(self, count: int, callbacks, announce: Callable[[int], None]):
        self.held: list[list[tuple[str, dict]]] = [[] for _ in range(count)]
        self.done = [False] * count
        self.shown = 0
        self.callbacks = callbacks
        self.announce = announce
        self._told: Sequence[Callback] | None = None  # the shown member's, from its first event

    def event(self, member: int, hook: str, context: dict) -> None:
        if member == self.shown:
            self._tell(hook, context)
        else:
            self.held[member].append((hook, context))

    def finished(self, member: int) -> None:
        self.done[member] = True
        if member == self.shown:
            self._advance()

    def _advance(self) -> None:
        while self.shown < len(self.done) and self.done[self.shown]:
            self.shown += 1
            self._told = None
            if self.shown < len(self.done):
                held, self.held[self.shown] = self.held[self.shown], []
                for hook, context in held:
                    self._tell(hook, context)

    def _tell(self, hook: str, context: dict) -> None:
        if self._told is None:
            self.announce(self.shown)
            self._told = self.callbacks(self.shown)
        for callback in self._told:
            getattr(callback, hook)(**context)


class _Relay(Callback):
    """A worker's callback: sends each epoch-level event to the parent, and turns the
    parent's stop into the KeyboardInterrupt a Ctrl-C raises in a member trained alone."""

    def __init__(self, results, member: int, stop):
        self.results, self.member, self.stop = results, member, stop
        self._started = time.perf_counter()
        self._parent = os.getppid()

    def _send(self, hook: str, **context: Any) -> None:
        self.results.put((self.member, hook, context))

    def on_train_begin(self, **context: Any) -> None:
        self._send("on_train_begin", **context)

    def on_epoch_begin(self, **context: Any) -> None:
        if os.getppid() != self._parent:  # the command was killed (SIGKILL): no one to report to
            raise SystemExit(1)
        self._started = time.perf_counter()
        self._send("on_epoch_begin", **context)

    def on_batch_end(self, **context: Any) -> None:
        if self.stop.is_set():
            raise KeyboardInterrupt

    def on_epoch_end(self, **context: Any) -> None:
        self._send("on_epoch_end", seconds=time.perf_counter() - self._started, **context)

    def on_train_end(self, **context: Any) -> None:
        self._send("on_train_end", **context)


def _worker(work, results, stop, members, arch, config, device) -> None:
    """A worker process: trains the members it takes from ``work`` until the end mark."""
    # torch loads on first use, not with this module (it is loaded by now: forked)
    import torch

    from tabnet_cli.fit.train import train  # with torch

    # the parent turns a Ctrl-C or SIGTERM into ``stop``: a terminal sends Ctrl-C to the
    # whole process group, and Slurm or systemd send SIGTERM to every process of the job
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    torch.set_num_threads(1)
    while (member := work.get()) is not None:
        if stop.is_set():
            results.put(MemberOutcome(member, None))
            continue
        try:
            fitted = train(members[member], arch, config, [_Relay(results, member, stop)], device)
        except KeyboardInterrupt:  # stopped before its first epoch ended
            results.put(MemberOutcome(member, None))
        except Exception as exc:  # noqa: BLE001 - raised again in the parent
            results.put(MemberOutcome(member, None, _portable(exc)))
        else:
            results.put(MemberOutcome(member, _portable_fitted(fitted)))


def _portable(exc: Exception) -> BaseException:
    """The exception itself when it survives pickling (the parent raises it as is: a user
    error stays a user error), else a RuntimeError with its message."""
    with contextlib.suppress(Exception):
        pickle.loads(pickle.dumps(exc))
        return exc
    return RuntimeError(f"{type(exc).__name__}: {exc}")


def _portable_fitted(fitted: Fitted) -> Fitted:
    """``fitted`` without references the parent cannot or need not receive: the weights
    travel as NumPy arrays and are loaded into a new network there."""
    result = fitted.result
    for callback in (result.history, result.early_stopping):
        callback.model = None
        if hasattr(callback, "best_weights"):
            callback.best_weights = None
    weights = {k: v.detach().cpu().numpy() for k, v in fitted.model.state_dict().items()}
    return replace(fitted, model=_Weights(weights))


@dataclass
class _Weights:
    """A network's weights in transit (see :func:`rebuilt`)."""

    tensors: dict[str, np.ndarray]


def rebuilt(fitted: Fitted) -> Fitted:
    """A worker's member with its network built again in this process.

    Example:
        >>> rebuilt(outcome.fitted).model  # doctest: +SKIP
    """
    # torch loads on first use, not with this module
    import torch

    from tabnet_cli.nn.model import build_mlp  # with torch

    model = build_mlp(fitted.model_config)
    state = {k: torch.from_numpy(v) for k, v in fitted.model.tensors.items()}
    model.load_state_dict(state)
    return replace(fitted, model=model)
