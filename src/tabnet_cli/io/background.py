"""Work on threads beside the caller's, in bounded memory: an iterator advanced ahead on a
thread (:func:`read_ahead`), and jobs run in order on a thread (:class:`WriteBehind`).

``predict`` reads and prepares the next chunks on one thread and writes the previous
ones on another while its own thread runs the model; each queue holds at most ``depth``
chunks. Whatever a thread raises is raised again in the caller's thread, in order: an
error in the third chunk comes after the first two chunks' results, as without threads.
The threads are daemons, so a caller that stops (an error, Ctrl-C) while a thread waits
on a pipe that never ends (stdin) can still exit.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TypeVar

T = TypeVar("T")
DEPTH = 2  # chunks waiting in each queue: enough to keep both threads busy
_POLL = 0.1  # seconds between checks of the stop flag while a queue is full
_DONE = object()


class _Raised:
    """An exception from the thread, delivered in its place in the stream."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


@contextmanager
def read_ahead(items: Iterator[T], depth: int = DEPTH) -> Iterator[Iterator[T]]:
    """``items``, advanced on a thread up to ``depth`` items ahead of the caller. Leaving
    the block stops the thread; the iterator is closed on its own thread (a generator
    cannot be closed from another thread while it runs).

    Example:
        >>> with read_ahead(iter(range(5))) as ahead:
        ...     list(ahead)
        [0, 1, 2, 3, 4]
    """
    waiting: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(waiting, item, stop):
                    return
            _put(waiting, _DONE, stop)
        except BaseException as exc:  # noqa: BLE001 (handed to the caller's thread)
            _put(waiting, _Raised(exc), stop)
        finally:
            close = getattr(items, "close", None)
            # (a failure while closing would be a traceback on this thread, not a line)
            with suppress(Exception):
                if close is not None:
                    close()

    thread = threading.Thread(target=produce, name="tabnet-read-ahead", daemon=True)
    thread.start()
    try:
        yield _received(waiting)
    finally:
        stop.set()
        _drain(waiting)
        thread.join(timeout=_POLL * 20)  # a read blocked on a pipe is left to exit with us


def _received(waiting: queue.Queue) -> Iterator:
    while True:
        item = waiting.get()
        if item is _DONE:
            return
        if isinstance(item, _Raised):
            raise item.error
        yield item


def _put(waiting: queue.Queue, item, stop: threading.Event) -> bool:
    """Puts ``item`` unless the consumer stopped; False once it has."""
    while not stop.is_set():
        try:
            waiting.put(item, timeout=_POLL)
            return True
        except queue.Full:
            continue
    return False


def _drain(waiting: queue.Queue) -> None:
    while True:
        try:
            waiting.get_nowait()
        except queue.Empty:
            return


class WriteBehind:
    """Runs jobs (callables) one after another on a thread, at most ``depth`` waiting;
    the first failure is raised in the caller's thread by the next :meth:`submit` or by
    :meth:`finish`, and the jobs after it are dropped.

    Example:
        >>> done = []
        >>> with WriteBehind() as writer:
        ...     writer.submit(lambda: done.append(1))
        >>> done
        [1]
    """

    def __init__(self, depth: int = DEPTH) -> None:
        self._jobs: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tabnet-write", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _DONE:
                return
            if self._error is None and not self._stop.is_set():
                try:
                    job()
                except BaseException as exc:  # noqa: BLE001 (handed to the caller's thread)
                    self._error = exc

    def submit(self, job: Callable[[], object]) -> None:
        """Queues ``job``, waiting while ``depth`` jobs are queued; raises the error of an
        earlier job instead."""
        self._raise()
        _put(self._jobs, job, self._stop)
        self._raise()

    def finish(self) -> None:
        """Waits for the queued jobs, then raises the first failure."""
        self._jobs.put(_DONE)
        self._thread.join()
        self._raise()

    def abandon(self) -> None:
        """Drops the queued jobs and lets the thread end (a job blocked on a pipe that is
        not read is left to end with the process)."""
        self._stop.set()
        _drain(self._jobs)
        with suppress(queue.Full):  # (cannot be full: only this thread puts)
            self._jobs.put_nowait(_DONE)
        self._thread.join(timeout=_POLL * 20)

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            self._stop.set()
            raise error

    def __enter__(self) -> WriteBehind:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        # after an error of the caller's, what was computed before it is still written
        # (as without threads); after Ctrl-C nothing more is
        if kind is None or issubclass(kind, Exception):
            self.finish()
        else:
            self.abandon()
