"""Recipes: named sets of defaults. ``plain`` is the course's Keras workflow (the config
classes' own defaults); ``auto`` is a better default for tabular data, after RealMLP
("Better by Default", Holzmueller et al. 2024) and TabM (Gorishniy et al. 2024): robust
scaling with smooth clipping of numeric inputs, beside their quantile ranks (normal
scores, TabM's preprocessing) as second inputs, a periodic embedding of each input (learned
cosines, RealMLP's PBLD), a learnable scale per input, a zero-initialised output layer,
AdamW with beta2 = 0.95 and weight decay, a warm-up then cosine learning-rate schedule
over a step budget (with early stopping, keeping the best epoch), label smoothing for
more than two classes and a Huber loss (half the squared error within 4 standard
deviations) on a standardised target; on tables up to ~16k rows a bagged ensemble of 5
members (``--folds 5``); bfloat16 matrix products where the CPU multiplies them natively
(``--precision auto``).

A recipe fills only the settings the user did not give (``RunConfig.explicit``): an
explicit option always wins. The run stores every resolved setting.
"""

from __future__ import annotations

import math
from dataclasses import fields, replace
from typing import Any

from tabnet_cli.settings.config import ConfigError, RunConfig

RECIPES = ("auto", "plain")

AUTO_DATA = {
    "scale": "robust",
    "clip": "smooth",
    "rank_inputs": True,
    "target_scale": "standard",
}
AUTO_ARCH = {
    "layers": (256, 256, 256),
    "activation": "relu",
    "feature_scale": True,
    "zero_init_last": True,
    "embedding": "periodic",
    # dropout masks from random bits: the same dropout at a fifth of nn.Dropout's cost on
    # CPU (nn/layers.py, BitsDropout); plain keeps torch's draws, and so its results
    "dropout_sampler": "bits",
}
AUTO_TRAIN = {
    "optimizer": "adamw",
    "lr": 2e-3,
    "weight_decay": 0.02,
    "beta2": 0.95,
    "schedule": "cosine",
    "warmup": 0.05,
    # stop when validation has not improved for a while (a table that overfits early
    # need not pay for the whole schedule); the best epoch is kept. Networks trained
    # without dropout stop sooner (AUTO_PATIENCE, decided with the rows)
    "patience": 20,
    "restore_best_weights": True,
    # bfloat16 matrix products where the hardware multiplies them natively and the batch
    # is big enough for them to pay (fit/precision.py)
    "precision": "auto",
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


# dropout for networks trained on this many rows or more: the big tables' curves overfit
# early (best epoch 8-15 of ~50); on the 7 suite tables trained as one network, dropout 0.3
# was ahead of none on 5 (doctor R2 +0.11 on seed 0), level on nass and behind on cps1988
# (-0.006; 2 seeds, bench/README.md); smaller (bagged) tables were not measured with it
AUTO_DROPOUT, DROPOUT_ROWS = 0.3, 8_000

# patience of networks trained without dropout (below DROPOUT_ROWS: the bagged members of
# small tables) and with it. Without dropout the validation loss turns up early and
# stays up: on 14 bagged tables x 2 seeds, 10 gave the test score of 20 in 22 of 28 runs
# (mean change -0.0005, worst titanic -0.007) in 0.69x the time. With dropout it wanders
# and improves late: 10 lost doctor R2 0.14 and 0.06 (2 seeds) and diamonds 0.002
# (bench/README.md, "Patience")
AUTO_PATIENCE = (10, 20)

# bagging: K members, each trained on K-1 folds and early-stopped on its own fold, their
# predictions averaged; used while the K runs cost at most BAG_BUDGET rows through the
# network (four single runs at their step and batch caps): tables up to ~16k rows. The
# members train side by side on the free cores (jobs/member_processes.py), so on 2 cores
# this is about the wall time the earlier budget of two runs took in turn. From 8k to 16k
# rows, 5 members beat one network on cps1, doctor and randhie (2 seeds, R2 +0.005,
# +0.070, +0.034) in 3.7x its time (bench/README.md, "Bagging up to 16k rows")
AUTO_MEMBERS = 5
BAG_BUDGET = 4 * AUTO_STEPS * AUTO_BATCH[1]


def auto_members(rows: int) -> int:
    """Members of the auto recipe's bagged ensemble for a training file of ``rows`` rows:
    ``AUTO_MEMBERS`` when their training (each on ``(K-1)/K`` of the rows, at the recipe's
    batch size and epochs) passes at most ``BAG_BUDGET`` rows through the network, else 1.

    Example:
        >>> auto_members(1_600), auto_members(16_000), auto_members(20_000)
        (5, 5, 1)
    """
    fit_rows = rows * (AUTO_MEMBERS - 1) // AUTO_MEMBERS
    batch, epochs = auto_batch_and_epochs(fit_rows)
    passes = epochs * math.ceil(fit_rows / batch) * batch
    return AUTO_MEMBERS if AUTO_MEMBERS * passes <= BAG_BUDGET else 1


def bagged_members(config: RunConfig, rows: int) -> int:
    """The members the recipe bags for ``rows`` rows: 1 for ``plain``, or when the user
    chose ``--folds`` or a validation set (``--validation-split``/``--validation-data``).

    Example:
        >>> from tabnet_cli.settings.config import DataConfig
        >>> bagged_members(RunConfig(DataConfig(target="y"), explicit=("folds",)), 500)
        1
    """
    chosen = {"folds", "validation_split", "validation_data"} & set(config.explicit)
    if config.recipe == "plain" or chosen or config.data.validation_data:
        return 1
    return auto_members(rows)


def check_recipe(name: str) -> None:
    if name not in RECIPES:
        raise ConfigError(f"--recipe {name!r} is not one of: {', '.join(RECIPES)}")


def resolve_data(config: RunConfig) -> RunConfig:
    """The data settings of the recipe (needed before the data is read and encoded).

    Example:
        >>> from tabnet_cli.settings.config import DataConfig
        >>> resolve_data(RunConfig(DataConfig(target="y"))).data.scale
        'robust'
    """
    check_recipe(config.recipe)
    if config.recipe == "plain":
        return config
    settings = dict(AUTO_DATA)
    if config.data.scale == "quantile":  # the user's --scale quantile already gives ranks
        settings.pop("rank_inputs")
    return replace(config, data=_fill(config.data, settings, config.explicit))


def resolve_before_data(config: RunConfig) -> RunConfig:
    """Every choice of the recipe that does not depend on the data (the data and model
    settings, the optimizer and its schedule); :func:`decided_by_data` names the
    training settings that follow from the rows and the task.

    Example:
        >>> from tabnet_cli.settings.config import DataConfig
        >>> config = resolve_before_data(RunConfig(DataConfig(target="y")))
        >>> config.arch.layers, config.train.optimizer
        ((256, 256, 256), 'adamw')
    """
    config = resolve_data(config)
    if config.recipe == "plain":
        return config
    return replace(
        config,
        arch=_fill(config.arch, AUTO_ARCH, config.explicit),
        train=_fill(config.train, AUTO_TRAIN, config.explicit),
    )


def decided_by_data(config: RunConfig) -> tuple[str, ...]:
    """The training settings still to be decided from the rows and the task: the loss
    (``auto``), and the recipe's batch size, epochs and label smoothing not given.

    Example:
        >>> from tabnet_cli.settings.config import DataConfig
        >>> decided_by_data(RunConfig(DataConfig(target="y"), explicit=("epochs",)))
        ('loss', 'batch_size', 'label_smoothing', 'patience')
    """
    names = ["loss"] if config.train.loss == "auto" else []
    if config.recipe == "auto":
        decided = ("batch_size", "epochs", "label_smoothing", "patience")
        names += [n for n in decided if n not in config.explicit]
    return tuple(names)


def resolve_training(config: RunConfig, rows: int, task: str) -> RunConfig:
    """The model and training settings of the recipe, for ``rows`` training rows.

    Example:
        >>> from tabnet_cli.settings.config import DataConfig
        >>> resolved = resolve_training(RunConfig(DataConfig(target="y")), 350, "multiclass")
        >>> resolved.train.batch_size, resolved.train.label_smoothing, resolved.arch.layers
        (32, 0.1, (256, 256, 256))
        >>> resolve_training(RunConfig(DataConfig(target="y")), 350, "binary").train.label_smoothing
        0.0
        >>> big = resolve_training(resolved, 20_000, "binary")
        >>> (resolved.arch.dropout, resolved.train.patience), (big.arch.dropout, big.train.patience)
        ((0.0, 10), (0.3, 20))
    """
    check_recipe(config.recipe)
    if config.recipe == "plain":
        return config
    batch, epochs = auto_batch_and_epochs(rows)
    dropout = rows >= DROPOUT_ROWS
    train = {
        **AUTO_TRAIN,
        "batch_size": batch,
        "epochs": epochs,
        "patience": AUTO_PATIENCE[dropout],
    }
    arch = {**AUTO_ARCH, "dropout": AUTO_DROPOUT if dropout else 0.0}
    if task == "regression":
        train.update(regression_loss(config))
    elif task == "multiclass":
        # not for two classes: they are judged by AUC and log-loss, which the smoothed
        # targets blur (RealMLP's TabArena setting; 3 seeds on nass and default: AUC
        # +0.006 and -0.001, bench/README.md)
        train["label_smoothing"] = 0.1
    return replace(
        config,
        arch=_fill(config.arch, arch, config.explicit),
        train=_fill(config.train, train, config.explicit),
    )


# regression: Huber with a threshold of 4 standard deviations of the target. Within it the
# loss is half the squared error, which Adam follows as it follows MSE (the same steps up
# to its epsilon), so a target without residuals that large trains as under MSE; beyond it
# the loss grows linearly, so a heavy tail's few extreme rows (incomes 16 SD above the mean)
# no longer steer the fit. Against MSE (2-3 seeds): gsswages R2 +0.024, doctor +0.016,
# rwm5yr +0.004, cps1988 +0.002, randhie +0.002, 8 other tables within their seeds' spread;
# a threshold of 2 SD cost randhie 0.016, of 1 SD 0.036 (bench/README.md, "Huber loss for
# heavy-tailed targets")
AUTO_HUBER_DELTA = 4.0


def regression_loss(config: RunConfig) -> dict[str, Any]:
    """The recipe's regression loss: Huber at ``AUTO_HUBER_DELTA`` on the standardised
    target; MSE when the user chose another target scale (the threshold is in its units).
    A loss the user typed keeps ``--huber-delta`` as given (the run records no threshold
    that it did not use).

    Example:
        >>> from tabnet_cli.settings.config import DataConfig
        >>> regression_loss(RunConfig(DataConfig(target="y")))
        {'loss': 'huber', 'huber_delta': 4.0}
        >>> regression_loss(RunConfig(DataConfig(target="y", target_scale="minmax")))
        {'loss': 'mse'}
    """
    if config.data.target_scale != "standard" or "loss" in config.explicit:
        return {"loss": "mse"}  # an explicit --loss is not replaced (``_fill``)
    return {"loss": "huber", "huber_delta": AUTO_HUBER_DELTA}


def _fill(section: Any, settings: dict[str, Any], explicit: tuple[str, ...]):
    names = {f.name for f in fields(section)}
    chosen = {k: v for k, v in settings.items() if k in names and k not in explicit}
    return replace(section, **chosen)
