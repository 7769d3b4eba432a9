"""Keras-style progress, as a callback that draws on a given rich console (stderr).

On a terminal with verbose 1, a live bar per epoch::

    Epoch 3/10
    5/5 [==============================] - 0s 17ms/step - loss: 0.1141 - val_loss: 0.1096

Otherwise (verbose 2, or output that is not a terminal) exactly one plain line per epoch,
with no carriage returns or escape codes, so logs stay greppable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from tabnet_cli.fit.callbacks import Callback, Logs

BAR_WIDTH = 30
REDRAW_SECONDS = 0.1  # a faster redraw costs training time and shows nothing new


def format_logs(logs: Logs) -> str:
    """Keras' ``- name: value`` list.

    Example:
        >>> format_logs({"loss": 0.11412, "val_loss": 0.00001})
        ' - loss: 0.1141 - val_loss: 1.0000e-05'
    """
    return "".join(
        f" - {k}: {v:.4f}" if abs(v) >= 1e-3 or v == 0 else f" - {k}: {v:.4e}"
        for k, v in logs.items()
    )


def format_step_time(seconds: float) -> str:
    """Keras' per-step time: ``2s/step``, ``17ms/step`` or ``850us/step``.

    Example:
        >>> format_step_time(0.0172), format_step_time(0.00085)
        ('17ms/step', '850us/step')
    """
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def format_bar(step: int, steps: int) -> str:
    """``3/5 [=================>............]``, Keras' shape.

    Example:
        >>> format_bar(5, 5)
        '5/5 [==============================]'
    """
    filled = int(BAR_WIDTH * step / steps)
    bar = ""
    if filled > 0:
        bar = "=" * (filled - 1) + (">" if step < steps else "=")
    bar += "." * (BAR_WIDTH - filled)
    return f"{step:>{len(str(steps))}}/{steps} [{bar}]"


class KerasProgress(Callback):
    """Draws training progress on ``console``; silent with verbose 0.

    Example:
        >>> import io
        >>> from rich.console import Console
        >>> out = io.StringIO()
        >>> p = KerasProgress(Console(file=out), verbose=2, clock=iter([0, 1.5]).__next__)
        >>> p.on_train_begin(epochs=10, steps_per_epoch=5); p.on_epoch_begin(epoch=3)
        >>> p.on_epoch_end(epoch=3, logs={"loss": 0.1141, "val_loss": 0.1096})
        >>> out.getvalue()
        'Epoch 3/10 - 2s - 300ms/step - loss: 0.1141 - val_loss: 0.1096\\n'
    """

    def __init__(
        self, console: Console, verbose: int = 1, clock: Callable[[], float] = time.perf_counter
    ):
        self.console = console
        self.verbose = verbose
        self.clock = clock
        self.live_bar = verbose == 1 and console.is_terminal
        self._live: Live | None = None

    def on_train_begin(self, *, epochs: int, steps_per_epoch: int, **context: Any) -> None:
        self.epochs, self.steps = epochs, steps_per_epoch

    def on_epoch_begin(self, *, epoch: int, **context: Any) -> None:
        self._started = self._last_draw = self.clock()
        if self.live_bar:
            self.console.print(f"Epoch {epoch}/{self.epochs}", highlight=False)
            self._live = Live(
                Text(format_bar(0, self.steps)),
                console=self.console,
                auto_refresh=False,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()

    def on_batch_end(self, *, step: int, running_logs: Callable[[], Logs], **context: Any) -> None:
        if self._live is None or step == self.steps:
            return
        now = self.clock()
        if now - self._last_draw < REDRAW_SECONDS:
            return
        self._last_draw = now
        elapsed = now - self._started
        eta = elapsed / step * (self.steps - step)
        text = f"{format_bar(step, self.steps)} - ETA: {eta:.0f}s{format_logs(running_logs())}"
        self._live.update(Text(text), refresh=True)

    def on_epoch_end(self, *, epoch: int, logs: Logs, **context: Any) -> None:
        if self.verbose == 0:
            return
        # an epoch trained in a worker process and replayed here brings its own time
        elapsed = context.get("seconds", self.clock() - self._started)
        timing = f"{elapsed:.0f}s {format_step_time(elapsed / max(self.steps, 1))}"
        if self._live is not None:
            line = f"{format_bar(self.steps, self.steps)} - {timing}{format_logs(logs)}"
            self._live.update(Text(line), refresh=True)
            self._live.stop()
            self._live = None
        else:
            timing = timing.replace(" ", " - ", 1)
            self.console.file.write(f"Epoch {epoch}/{self.epochs} - {timing}{format_logs(logs)}\n")
            self.console.file.flush()

    def on_train_end(self, **context: Any) -> None:
        if self._live is not None:  # interrupted mid-epoch: leave the bar as it is
            self._live.stop()
            self._live = None
