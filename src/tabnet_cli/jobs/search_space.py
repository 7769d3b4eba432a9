"""The search space of ``tabnet tune``: which settings vary, over which values.

Each parameter is a range (``low``/``high``, optionally ``log``), a list of ``choices``
or one fixed ``value``. ``--space FILE`` (TOML) replaces parameters of the default space
by name::

    lr = { low = 1e-4, high = 3e-3, log = true }
    width = { choices = [64, 128] }
    dropout = 0.1          # fixed
    depth = { low = 1, high = 2 }

Only model and optimisation settings are searched: every trial trains on one prepared
data set, so the preprocessing (``--scale``, ``--clip``...) is fixed by the options.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from tabnet_cli.settings.config import (
    EMBEDDINGS,
    OPTIMIZERS,
    SCHEDULES,
    ConfigError,
    DataConfig,
    RunConfig,
)
from tabnet_cli.settings.config_file import parse_toml

INTEGERS = ("depth", "width", "batch_size")


@dataclass(frozen=True)
class Param:
    """One searched setting: a range, a list of choices, or a fixed value."""

    name: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] | None = None

    def contains(self, value: Any) -> bool:
        """Whether ``value`` lies in the parameter's range or choices.

        Example:
            >>> Param("lr", 1e-4, 1e-2, log=True).contains(0.002)
            True
        """
        if self.choices is not None:
            return value in self.choices and type(value) in {type(c) for c in self.choices}
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return self.low <= value <= self.high  # type: ignore[operator]


DEFAULT_SPACE = {
    "depth": Param("depth", 1, 4),
    "width": Param("width", choices=(64, 128, 256, 512)),
    "dropout": Param("dropout", 0.0, 0.4),
    "lr": Param("lr", 1e-4, 1e-2, log=True),
    "weight_decay": Param("weight_decay", 1e-6, 0.1, log=True),
    "batch_size": Param("batch_size", choices=(32, 64, 128, 256)),
    "optimizer": Param("optimizer", choices=("adam", "adamw")),
    "schedule": Param("schedule", choices=SCHEDULES),
    "feature_scale": Param("feature_scale", choices=(True, False)),
    "zero_init_last": Param("zero_init_last", choices=(True, False)),
    "embedding": Param("embedding", choices=EMBEDDINGS),
}
assert set(DEFAULT_SPACE["optimizer"].choices or ()) <= set(OPTIMIZERS)


def read_space(path: str | None) -> dict[str, Param]:
    """The default space with the parameters of the TOML file ``path`` replaced.

    Example:
        >>> read_space(None)["lr"]
        Param(name='lr', low=0.0001, high=0.01, log=True, choices=None)
    """
    space = dict(DEFAULT_SPACE)
    if path is None:
        return space

    for name, spec in parse_toml(path, "--space").items():
        if name not in space:
            raise ConfigError(
                f"{path}: unknown parameter {name!r}; the space has: {', '.join(space)}"
            )
        space[name] = _checked(path, _param(path, name, spec))
    return space


def _checked(path: str, param: Param) -> Param:
    """``param``, once every value it can take (each choice, both ends of a range) makes
    a valid run config: a wrong type in the file is an error now, not in a trial."""

    base = RunConfig(DataConfig(target="y"))
    values = param.choices if param.choices is not None else (param.low, param.high)
    for value in values:
        try:
            trial_config(base, {param.name: value})
        except (ConfigError, TypeError, ValueError) as exc:
            reason = f" ({exc})" if isinstance(exc, ConfigError) else ""
            shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "..."
            raise ConfigError(
                f"{path}: {param.name}: {shown} is not a valid value{reason}"
            ) from None
    return param


def _param(path: str, name: str, spec: Any) -> Param:
    where = f"{path}: {name}"
    if not isinstance(spec, dict):
        return Param(name, choices=(spec,))  # a fixed value
    unknown = sorted(set(spec) - {"low", "high", "log", "choices"})
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; use low/high/log or choices")
    if "choices" in spec:
        choices = spec["choices"]
        if not isinstance(choices, list) or not choices or len(spec) > 1:
            raise ConfigError(f"{where}: choices must be a non-empty list, alone")
        return Param(name, choices=tuple(choices))
    low, high, log = spec.get("low"), spec.get("high"), spec.get("log", False)
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high))
    if not numbers or not isinstance(log, bool) or not low <= high or (log and low <= 0):
        raise ConfigError(f"{where}: needs numbers low <= high (and low > 0 with log = true)")
    if name in INTEGERS and not (isinstance(low, int) and isinstance(high, int)):
        raise ConfigError(f"{where}: low and high must be whole numbers")
    return Param(name, low, high, log)


def suggest(trial: Any, space: dict[str, Param]) -> dict[str, Any]:
    """One value per parameter from an optuna ``trial``."""
    values = {}
    for name, param in space.items():
        if param.choices is not None:
            values[name] = trial.suggest_categorical(name, list(param.choices))
        elif name in INTEGERS:
            values[name] = trial.suggest_int(name, int(param.low), int(param.high), log=param.log)
        else:
            values[name] = trial.suggest_float(name, param.low, param.high, log=param.log)
    return values


def trial_config(base: RunConfig, values: dict[str, Any]) -> RunConfig:
    """``base`` with a trial's values; they count as given, so the recipe keeps them.

    Example:
        >>> from tabnet_cli.settings.config import DataConfig
        >>> config = trial_config(RunConfig(DataConfig(target="y")), {"depth": 2, "width": 8})
        >>> config.arch.layers, "layers" in config.explicit
        ((8, 8), True)
    """
    settings = dict(values)
    depth, width = settings.pop("depth", None), settings.pop("width", None)
    if depth is not None or width is not None:
        layers = base.arch.layers
        depth = len(layers) if depth is None else depth
        width = (layers[0] if layers else 64) if width is None else width
        settings["layers"] = (int(width),) * int(depth)
    arch = {k: v for k, v in settings.items() if hasattr(base.arch, k)}
    train = {k: v for k, v in settings.items() if hasattr(base.train, k)}
    explicit = tuple(sorted(set(base.explicit) | set(arch) | set(train)))
    return replace(
        base,
        arch=replace(base.arch, **arch),
        train=replace(base.train, **train),
        explicit=explicit,
    )


def recipe_values(config: RunConfig, space: dict[str, Param]) -> dict[str, Any]:
    """The recipe's own setting, as values of the space's parameters (those that lie in
    it): tried first, so the search is never worse than the defaults on validation.

    Example:
        >>> from tabnet_cli.settings.config import DataConfig
        >>> recipe_values(RunConfig(DataConfig(target="y")), DEFAULT_SPACE)["depth"]
        2
    """
    arch, train = config.arch, config.train
    current = {
        "depth": len(arch.layers),
        "width": arch.layers[0] if len(set(arch.layers)) == 1 else None,
        **{
            name: getattr(arch, name)
            for name in ("dropout", "feature_scale", "zero_init_last", "embedding")
        },
        **{name: getattr(train, name) for name in ("lr", "weight_decay", "batch_size")},
        **{name: getattr(train, name) for name in ("optimizer", "schedule")},
    }
    return {
        name: current[name]
        for name, param in space.items()
        if current.get(name) is not None and param.contains(current[name])
    }
