"""Training events, Keras style: a ``Callback`` base with no-op hooks, ``History`` and
``EarlyStopping``. Stopping is a flag the loop reads, not an exception.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Logs = dict[str, float]

# Quantities where larger is better (accuracy, roc_auc, macro_f1, val_r2...); everything
# else (losses, errors) is minimised. The one table for early stopping and evaluation.
_MAXIMISED = ("acc", "auc", "f1", "precision", "recall", "r2")


class Callback:
    """Base class: override the hooks you need. ``model`` is set by the training loop.

    The loop calls every hook with keyword arguments, and may pass more than a hook names
    (a fold number, a process rank): each hook takes ``**context`` and ignores what it
    does not use, so adding context never breaks an existing callback (skorch's rule).
    """

    model: Any = None
    stop_training: bool = False

    def set_model(self, model: Any) -> None:
        self.model = model

    def on_train_begin(self, *, epochs: int, steps_per_epoch: int, **context: Any) -> None: ...

    def on_epoch_begin(self, *, epoch: int, **context: Any) -> None: ...

    def on_batch_end(self, *, step: int, running_logs: Callable[[], Logs], **context: Any) -> None:
        """``running_logs`` computes the epoch's running loss on demand (it syncs the device,
        so a progress bar calls it only when it redraws)."""

    def on_epoch_end(self, *, epoch: int, logs: Logs, **context: Any) -> None: ...

    def on_train_end(self, **context: Any) -> None: ...


class History(Callback):
    """Keeps every epoch's logs, like Keras' ``History``.

    Example:
        >>> h = History(); h.on_epoch_end(epoch=1, logs={"loss": 0.5, "val_loss": 0.6})
        >>> h.epochs, h.history["val_loss"]
        ([1], [0.6])
    """

    def __init__(self) -> None:
        self.epochs: list[int] = []
        self.history: dict[str, list[float]] = {}

    def on_epoch_end(self, *, epoch: int, logs: Logs, **context: Any) -> None:
        self.epochs.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)


def is_maximised(monitor: str) -> bool:
    """Whether a larger value of ``monitor`` is better.

    Example:
        >>> is_maximised("val_accuracy"), is_maximised("val_loss")
        (True, False)
    """
    return any(key in monitor for key in _MAXIMISED)


class EarlyStopping(Callback):
    """Keras' EarlyStopping: stop after ``patience`` epochs without an improvement larger
    than ``min_delta`` in ``monitor``; keep the best weights.

    An epoch improves when it beats the best value so far by more than ``min_delta``, so
    ``best_epoch`` is the last epoch that improved by more than ``min_delta``. With
    ``patience=0`` training never stops early, but the best epoch is still tracked (and
    restored when ``restore_best_weights`` is set). Non-finite values never improve.
    The first ``start_from_epoch`` epochs (Keras' argument: a learning-rate warm-up, when
    the loss barely moves) never count towards the patience; their best is still kept.

    Example:
        >>> stopper = EarlyStopping("val_loss", min_delta=0.01, patience=2)
        >>> for epoch, value in enumerate([1.0, 0.995, 0.98, 0.97], start=1):
        ...     stopper.on_epoch_end(epoch=epoch, logs={"val_loss": value})
        >>> stopper.best_epoch, stopper.best, stopper.stop_training
        (3, 0.98, False)
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        restore_best_weights: bool = True,
        start_from_epoch: int = 0,
    ) -> None:
        self.monitor = monitor
        self.start_from_epoch = start_from_epoch
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.restore_best_weights = restore_best_weights
        self.maximise = is_maximised(monitor)
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.best_weights: dict | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None
        self.restored = False

    def _improves(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.best is None:
            return True
        if self.maximise:
            return value - self.min_delta > self.best
        return value + self.min_delta < self.best

    def on_epoch_end(self, *, epoch: int, logs: Logs, **context: Any) -> None:
        if self.monitor not in logs:
            raise KeyError(f"monitor {self.monitor!r} is not among {sorted(logs)}")
        value = logs[self.monitor]
        if self._improves(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights and self.model is not None:
                self.best_weights = {
                    k: v.detach().clone() for k, v in self.model.state_dict().items()
                }
            return
        if epoch <= self.start_from_epoch:
            return  # still warming up: no patience spent
        self.wait += 1
        if self.patience > 0 and self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.stop_training = True

    def on_train_end(self, **context: Any) -> None:
        if self.restore_best_weights and self.best_weights is not None and self.model is not None:
            self.model.load_state_dict(self.best_weights)
            self.restored = True
