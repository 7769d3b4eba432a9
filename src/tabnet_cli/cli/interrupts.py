"""Ctrl-C and SIGTERM during a command.

SIGTERM is what ``docker stop``, Slurm, Kubernetes and ``timeout`` send: it is handled as
Ctrl-C is (training stops after the epoch in progress, keeps the best epoch and saves
the run), and the command then exits with 143 (128 + SIGTERM) instead of 130.

Only the first signal interrupts: more in quick succession (Ctrl-C pressed twice,
``docker stop`` after a Ctrl-C) would otherwise break into the saving of what the first
one stopped. They are noted and ignored until the command ends.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

INTERRUPTED = 130  # 128 + SIGINT, as shells report a process killed by Ctrl-C
TERMINATED = 143  # 128 + SIGTERM


class Interrupted(Exception):
    """A Ctrl-C inside a command. Typer would turn the KeyboardInterrupt into a silent
    exit 130; as an ordinary exception it reaches ``OneLineErrorGroup.main`` instead."""


class InterruptWatch:
    """Notes every Ctrl-C and SIGTERM during a command, so that one a library reports as
    some other error (a parser calling the half-read file "malformed") still ends as an
    interrupt, and one Python can only report (raised inside a weakref callback of an
    import) is delivered again instead of printing "Exception ignored" and being lost.

    Example:
        >>> with InterruptWatch() as watch:
        ...     pass
        >>> watch.interrupted, watch.exit_code(0), watch.exit_code(INTERRUPTED)
        (False, 0, 130)
    """

    interrupted = False  # a signal came (the first raised KeyboardInterrupt)
    terminated = False  # one of them was SIGTERM
    _signum = signal.SIGINT  # the last one

    def __enter__(self) -> InterruptWatch:
        self._previous: dict[int, object] = {}
        self._delivered = False
        if threading.current_thread() is not threading.main_thread():
            return self  # signal handlers can only be set from the main thread
        # a handler someone else installed (or SIG_IGN, as for background jobs) is theirs
        for signum, default in (
            (signal.SIGINT, signal.default_int_handler),
            (signal.SIGTERM, signal.SIG_DFL),
        ):
            if signal.getsignal(signum) is default:
                self._previous[signum] = signal.signal(signum, self._on_signal)
        if self._previous:
            self._previous_hook = sys.unraisablehook
            sys.unraisablehook = self._on_unraisable
        return self

    def exit_code(self, code: int) -> int:
        """``code``, with an interrupted exit (130) made 143 when SIGTERM stopped it."""
        return TERMINATED if code == INTERRUPTED and self.terminated else code

    def _on_signal(self, signum, frame) -> None:
        self.interrupted = True
        self.terminated = self.terminated or signum == signal.SIGTERM
        self._signum = signum
        if not self._delivered:  # later ones would cut short the saving of the first's
            self._delivered = True
            raise KeyboardInterrupt

    def _on_unraisable(self, unraisable) -> None:
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            self._previous_hook(unraisable)
            return
        # lost: signalled again from another thread, so the handler runs outside this hook
        self._delivered = False
        timer = threading.Timer(0.01, os.kill, (os.getpid(), self._signum))
        timer.daemon = True
        timer.start()

    def __exit__(self, *exc_info) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        if self._previous:
            sys.unraisablehook = self._previous_hook
