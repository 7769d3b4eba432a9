"""An ensemble's prediction: the mean of its networks, as one network's output; for a
bagged ensemble (``--folds``), of its members, and for one network of K submodels
(``--submodels``), of the submodels.

Member ``i``'s tensors are saved as ``member{i}.<name>`` in one ``model.safetensors``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tabnet_cli.nn.numpy_forward import NumpyMLP
from tabnet_cli.settings.config import ModelConfig


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
        return mean_prediction(np.stack([member(x) for member in self.members]), self.task, 0)


def mean_prediction(outputs: np.ndarray, task: str, axis: int) -> np.ndarray:
    """Several networks' raw outputs, stacked along ``axis``, as one network's raw output
    in float64: the mean value (regression), or the logit of the mean probability / the
    log of the mean class probabilities (classification), computed in log space so that
    certain networks give no infinities.

    Example:
        >>> mean_prediction(np.array([[[2.0], [-2.0]]]), "binary", axis=1).round(6).tolist()
        [[0.0]]
    """
    outputs = outputs.astype(np.float64)
    if task == "regression":
        return outputs.mean(axis=axis)
    log_k = np.log(outputs.shape[axis])
    if task == "binary":  # log p = -softplus(-z), log (1 - p) = -softplus(z)
        log_p = np.logaddexp.reduce(-np.logaddexp(0, -outputs), axis=axis) - log_k
        log_q = np.logaddexp.reduce(-np.logaddexp(0, outputs), axis=axis) - log_k
        return log_p - log_q
    log_probs = outputs - np.logaddexp.reduce(outputs, axis=-1, keepdims=True)
    return np.logaddexp.reduce(log_probs, axis=axis) - log_k


# rows x submodels per forward pass of SubmodelMean: the activations of K submodels stay
# the size of one network's on a 65536-row chunk of predict (64 MiB per 256 units)
SUBMODEL_ROWS = 65536


class SubmodelMean:
    """A network of K submodels (outputs [rows, K, n]) as one network (outputs [rows, n]):
    the submodels' mean prediction (``mean_prediction``), ``SUBMODEL_ROWS / K`` rows at a
    time."""

    def __init__(self, network: Callable[[np.ndarray], np.ndarray], task: str, submodels: int):
        self.network, self.task = network, task
        self.rows = max(1, SUBMODEL_ROWS // submodels)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if len(x) <= self.rows:
            return mean_prediction(self.network(x), self.task, axis=1)
        return np.concatenate(
            [self(x[start : start + self.rows]) for start in range(0, len(x), self.rows)]
        )


def numpy_network(
    config: ModelConfig, weights: dict[str, np.ndarray], task: str
) -> Callable[[np.ndarray], np.ndarray]:
    """The NumPy forward pass of one network's weights, one output row per input row: its
    submodels' mean when it has several.

    Example:
        >>> from tabnet_cli.settings.config import ArchConfig
        >>> config = ModelConfig(2, 1, ArchConfig(layers=(), submodels=2))
        >>> net = numpy_network(config, {"0.weight": np.ones((2, 1, 2), np.float32),
        ...                              "0.bias": np.array([[0.0], [2.0]], np.float32)},
        ...                     "regression")
        >>> net(np.array([[1.0, 1.0]], np.float32)).tolist()  # (2 + 4) / 2
        [[3.0]]
    """
    network = NumpyMLP(config, weights)
    submodels = config.arch.submodels
    return network if submodels == 1 else SubmodelMean(network, task, submodels)


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
