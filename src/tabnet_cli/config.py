"""Typed, frozen configuration saved in every run directory and used to rebuild it.

Everything a run needs to be reproduced lives here, not in globals (nanoGPT's ``GPTConfig``
idea): the CLI builds these objects from options, the core reads them, ``model.json`` stores
them with ``to_dict`` and ``from_dict`` restores them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "elu", "selu", "leaky_relu", "linear")
LOSSES = ("auto", "mae", "mse", "huber", "bce", "crossentropy")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCALES = ("minmax", "standard", "none")
TASKS = ("auto", "regression", "binary", "multiclass")
DEVICES = ("auto", "cpu", "cuda")


class _Serializable:
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        """Builds the config from a dict, ignoring unknown keys (newer files) and
        falling back to defaults for missing ones (older files).

        Example:
            >>> ModelConfig.from_dict({"n_inputs": 3, "n_outputs": 1}).layers
            (256, 256)
        """
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        values = {k: v for k, v in data.items() if k in known}
        for key in ("layers", "drop", "features", "categorical", "numeric", "na_values"):
            if key in values and isinstance(values[key], list):
                values[key] = tuple(values[key])
        return cls(**values)


@dataclass(frozen=True)
class ModelConfig(_Serializable):
    """Architecture of the MLP: Dense layers of ``layers`` widths, then ``n_outputs``.

    Example:
        >>> ModelConfig(n_inputs=11, n_outputs=1, layers=(512, 512, 512)).layers
        (512, 512, 512)
    """

    n_inputs: int
    n_outputs: int
    layers: tuple[int, ...] = (256, 256)
    activation: str = "relu"
    dropout: float = 0.0
    batchnorm: bool = False


@dataclass(frozen=True)
class TrainConfig(_Serializable):
    """How to fit: loss, optimizer, batches, early stopping, seed and device.

    Example:
        >>> TrainConfig(loss="mae").monitor
        'val_loss'
    """

    loss: str = "mae"
    huber_delta: float = 1.0
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9
    batch_size: int = 64
    epochs: int = 200
    patience: int = 20
    min_delta: float = 0.0
    monitor: str = "val_loss"
    restore_best_weights: bool = True
    seed: int = 0
    device: str = "auto"


@dataclass(frozen=True)
class DataConfig(_Serializable):
    """Where the data comes from and how it is split and scaled.

    Example:
        >>> DataConfig(target="quality").validation_split
        0.2
    """

    target: str
    task: str = "auto"
    scale: str = "standard"
    target_scale: str = "standard"
    validation_split: float = 0.2
    validation_data: str | None = None
    drop: tuple[str, ...] = field(default_factory=tuple)
    features: tuple[str, ...] = field(default_factory=tuple)
    categorical: tuple[str, ...] = field(default_factory=tuple)
    numeric: tuple[str, ...] = field(default_factory=tuple)
    na_values: tuple[str, ...] = field(default_factory=tuple)
