"""A bagged ensemble's prediction: the members' mean, as one network's output.

Member ``i``'s tensors are saved as ``member{i}.<name>`` in one ``model.safetensors``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


class EnsembleMLP:
    """The members' mean prediction, as one network's raw output: the mean value
    (regression), or the logit / log of the mean probabilities (classification),
    computed in log space so that certain members give no infinities.

    Example:
        >>> class Net:
        ...     def __init__(self, z): self.z = z
        ...     def __call__(self, x): return np.full((len(x), 1), self.z, np.float32)
        >>> both = EnsembleMLP([Net(2.0), Net(-2.0)], "binary")
        >>> both(np.zeros((1, 3))).round(6).tolist()  # p = (0.881 + 0.119) / 2 = 0.5
        [[0.0]]
    """

    def __init__(self, members: Sequence[Callable[[np.ndarray], np.ndarray]], task: str):
        self.members, self.task = list(members), task

    def __call__(self, x: np.ndarray) -> np.ndarray:
        outputs = np.stack([member(x) for member in self.members]).astype(np.float64)
        if self.task == "regression":
            return outputs.mean(axis=0)
        log_k = np.log(len(self.members))
        if self.task == "binary":  # log p = -softplus(-z), log (1 - p) = -softplus(z)
            log_p = np.logaddexp.reduce(-np.logaddexp(0, -outputs), axis=0) - log_k
            log_q = np.logaddexp.reduce(-np.logaddexp(0, outputs), axis=0) - log_k
            return log_p - log_q
        log_probs = outputs - np.logaddexp.reduce(outputs, axis=2, keepdims=True)
        return np.logaddexp.reduce(log_probs, axis=0) - log_k


def member_prefix(index: int) -> str:
    """The tensor name prefix of member ``index`` (1-based, as the folds).

    Example:
        >>> member_prefix(1) + "0.weight"
        'member1.0.weight'
    """
    return f"member{index}."


class StackedMembers:
    """The members' PyTorch modules seen as one ``state_dict`` (what ``save_run`` saves)."""

    def __init__(self, models: Sequence[Any]):
        self.models = models

    def state_dict(self) -> dict[str, Any]:
        return {
            member_prefix(i) + name: tensor
            for i, model in enumerate(self.models, start=1)
            for name, tensor in model.state_dict().items()
        }
