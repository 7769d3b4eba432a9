"""The estimators' constructor parameters, taken from the configs (the one source of every
default and check): every training setting that means something for in-memory arrays.

Reading options (``--na-values``, ``--encoding``...), files (``--validation-data``) and
streaming (``--memory-budget``) concern files, and the task is the estimator's kind.
"""

from __future__ import annotations

import inspect
from dataclasses import MISSING, fields
from typing import Any

from tabnet_cli.settings.config import ArchConfig, DataConfig, RunConfig, TrainConfig

NOT_FOR_ARRAYS = frozenset(
    {"target", "task", "validation_data", "memory_budget"}
    | {"na_values", "default_na", "header", "names", "encoding", "decimal"}
)
REGRESSION_ONLY = frozenset({"target_scale"})


def defaults(regression: bool) -> dict[str, Any]:
    """Every parameter and its default, in the configs' order, then ``recipe``.

    Example:
        >>> params = defaults(regression=False)
        >>> params["layers"], params["lr"], params["recipe"], "target_scale" in params
        ((256, 256), 0.001, 'auto', False)
    """
    found: dict[str, Any] = {}
    for section in (DataConfig, ArchConfig, TrainConfig):
        for field in fields(section):
            if field.name in NOT_FOR_ARRAYS or (field.name in REGRESSION_ONLY and not regression):
                continue
            found[field.name] = field.default if field.default is not MISSING else None
    found["recipe"] = RunConfig.recipe
    return found


def signature(regression: bool) -> inspect.Signature:
    """``__init__``'s signature as scikit-learn reads it (``get_params``, ``clone``)."""
    self = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return inspect.Signature(
        [self]
        + [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=value)
            for name, value in defaults(regression).items()
        ]
    )


def run_config(params: dict[str, Any], target: str, task: str, regression: bool) -> RunConfig:
    """The RunConfig of a fit: the parameters that differ from their defaults count as
    given (the recipe leaves them alone), as options typed on the command line do.

    Example:
        >>> config = run_config({**defaults(True), "lr": 0.01}, "y", "regression", True)
        >>> config.train.lr, config.explicit
        (0.01, ('lr', 'target', 'task'))
    """
    base = defaults(regression)
    settings = {name: _plain(params[name]) for name in base if name != "recipe"}
    given = [name for name in settings if settings[name] != _plain(base[name])]
    return RunConfig.from_options(
        {**settings, "target": target, "task": task},
        recipe=params["recipe"],
        explicit=(*given, "target", "task"),
    )


def from_run(config: RunConfig, regression: bool) -> dict[str, Any]:
    """The parameters of a saved run's configs (``tabnet_cli.load``)."""
    sections = {**config.data.to_dict(), **config.arch.to_dict(), **config.train.to_dict()}
    params = {name: sections[name] for name in defaults(regression) if name != "recipe"}
    params = {name: tuple(v) if isinstance(v, list) else v for name, v in params.items()}
    return {**params, "recipe": config.recipe}


def _plain(value: Any) -> Any:
    """Lists as tuples (a grid search may hand ``layers`` as a list); a ``class_weight``
    dict, scikit-learn's form, as the option's ``label=weight`` pairs.

    Example:
        >>> _plain({"bad": 3, "good": 1}), _plain([64, 32])
        ('bad=3,good=1', (64, 32))
    """
    if isinstance(value, dict):
        return ",".join(f"{label}={weight}" for label, weight in value.items())
    return tuple(value) if isinstance(value, list) else value
