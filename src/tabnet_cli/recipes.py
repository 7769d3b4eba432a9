"""Recipes: named sets of defaults. ``plain`` is the course's Keras workflow (the config
classes' own defaults); ``auto`` is a better default for tabular data, after RealMLP
("Better by Default", Holzmueller et al. 2024): robust scaling with smooth clipping, a
learnable scale per input, a zero-initialised output layer, AdamW with beta2 = 0.95 and
weight decay, a warm-up then cosine learning-rate schedule over a step budget (with early
stopping, keeping the best epoch), label smoothing for classes and MSE on a standardised
target.

A recipe fills only the settings the user did not give (``RunConfig.explicit``): an
explicit option always wins. The run stores every resolved setting.
"""

from __future__ import annotations

import math
from dataclasses import fields, replace
from typing import Any

from tabnet_cli.config import ConfigError, RunConfig

RECIPES = ("auto", "plain")

AUTO_DATA = {"scale": "robust", "clip": "smooth", "target_scale": "standard"}
AUTO_ARCH = {
    "layers": (256, 256, 256),
    "activation": "relu",
    "feature_scale": True,
    "zero_init_last": True,
}
AUTO_TRAIN = {
    "optimizer": "adamw",
    "lr": 2e-3,
    "weight_decay": 0.02,
    "beta2": 0.95,
    "schedule": "cosine",
    "warmup": 0.05,
    # stop when validation has not improved for a while (a table that overfits early
    # need not pay for the whole schedule); the best epoch is kept
    "patience": 20,
    "restore_best_weights": True,
}
# optimizer steps the auto recipe aims for in a run, whatever the number of rows
AUTO_STEPS = 4000
AUTO_EPOCHS = (20, 120)
AUTO_BATCH = (32, 512)


def auto_batch_and_epochs(rows: int) -> tuple[int, int]:
    """About ``rows / 32`` rows per batch (a power of two in 32..512) and enough epochs
    for ``AUTO_STEPS`` steps (20..120): small tables get many passes, large ones fewer,
    so the time grows with the rows only once the batch size is at its cap.

    Example:
        >>> auto_batch_and_epochs(350), auto_batch_and_epochs(40_000)
        ((32, 120), (512, 51))
    """
    low, high = AUTO_BATCH
    batch = int(min(max(2 ** round(math.log2(max(rows, 1) / 32)), low), high))
    steps_per_epoch = math.ceil(rows / batch)
    epochs = round(AUTO_STEPS / steps_per_epoch)
    return batch, int(min(max(epochs, AUTO_EPOCHS[0]), AUTO_EPOCHS[1]))


def check_recipe(name: str) -> None:
    if name not in RECIPES:
        raise ConfigError(f"--recipe {name!r} is not one of: {', '.join(RECIPES)}")


def resolve_data(config: RunConfig) -> RunConfig:
    """The data settings of the recipe (needed before the data is read and encoded).

    Example:
        >>> from tabnet_cli.config import DataConfig
        >>> resolve_data(RunConfig(DataConfig(target="y"))).data.scale
        'robust'
    """
    check_recipe(config.recipe)
    if config.recipe == "plain":
        return config
    return replace(config, data=_fill(config.data, AUTO_DATA, config.explicit))


def resolve_before_data(config: RunConfig) -> RunConfig:
    """Every choice of the recipe that does not depend on the data (the data and model
    settings); the training settings follow from the rows and the task.

    Example:
        >>> from tabnet_cli.config import DataConfig
        >>> resolve_before_data(RunConfig(DataConfig(target="y"))).arch.layers
        (256, 256, 256)
    """
    config = resolve_data(config)
    if config.recipe == "plain":
        return config
    return replace(config, arch=_fill(config.arch, AUTO_ARCH, config.explicit))


def resolve_training(config: RunConfig, rows: int, task: str) -> RunConfig:
    """The model and training settings of the recipe, for ``rows`` training rows.

    Example:
        >>> from tabnet_cli.config import DataConfig
        >>> resolved = resolve_training(RunConfig(DataConfig(target="y")), 350, "binary")
        >>> resolved.train.batch_size, resolved.train.label_smoothing, resolved.arch.layers
        (32, 0.1, (256, 256, 256))
    """
    check_recipe(config.recipe)
    if config.recipe == "plain":
        return config
    batch, epochs = auto_batch_and_epochs(rows)
    train = {**AUTO_TRAIN, "batch_size": batch, "epochs": epochs}
    if task == "regression":
        train["loss"] = "mse"
    else:
        train["label_smoothing"] = 0.1
    return replace(
        config,
        arch=_fill(config.arch, AUTO_ARCH, config.explicit),
        train=_fill(config.train, train, config.explicit),
    )


def _fill(section: Any, settings: dict[str, Any], explicit: tuple[str, ...]):
    names = {f.name for f in fields(section)}
    chosen = {k: v for k, v in settings.items() if k in names and k not in explicit}
    return replace(section, **chosen)
