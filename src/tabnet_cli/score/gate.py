"""A CI gate on evaluation metrics: ``--fail-if "accuracy<0.9"``.

Conditions are checked against the model's figures of the evaluate report (the names of
``tabnet evaluate --json``). A condition that holds fails the gate; a metric that could not
be computed on these rows (``null`` in the report, e.g. ROC AUC with one class present)
fails it too, because a gate that cannot check must not pass silently.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from tabnet_cli.errors import TabnetError

GATE_FAILED = 3  # exit code: distinct from 0 (success), 2 (user error), 130 (interrupted)
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
# longest operators first, so "<=" is never read as "<" followed by "=0.9"
_CONDITION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|<|>)\s*(\S+)\s*$")


@dataclass(frozen=True)
class Condition:
    """One ``metric OP threshold`` condition, with the threshold as the user wrote it."""

    metric: str
    op: str
    threshold: float
    text: str

    def holds(self, value: float) -> bool:
        return OPERATORS[self.op](value, self.threshold)


def parse_condition(text: str) -> Condition:
    """Reads ``accuracy<0.9``, ``mae >= 2.5`` ...

    Example:
        >>> parse_condition("mae >= 2.5")
        Condition(metric='mae', op='>=', threshold=2.5, text='2.5')
        >>> parse_condition("accuracy=0.9")
        Traceback (most recent call last):
        ...
        tabnet_cli.errors.TabnetError: --fail-if 'accuracy=0.9' is not a condition; ...
    """
    match = _CONDITION.match(text)
    threshold = _number(match.group(3)) if match else None
    if match is None or threshold is None:
        raise TabnetError(
            f"--fail-if {text!r} is not a condition; write METRIC<VALUE, e.g. "
            "--fail-if 'accuracy<0.9' (operators: <, <=, >, >=)"
        )
    return Condition(match.group(1), match.group(2), threshold, match.group(3))


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def check_metrics(conditions: list[Condition], metrics: dict) -> None:
    """Refuses a condition on a metric the report does not have, naming the valid ones.

    Example:
        >>> check_metrics([parse_condition("acc<0.9")], {"accuracy": {}, "loss": {}})
        Traceback (most recent call last):
        ...
        tabnet_cli.errors.TabnetError: --fail-if 'acc<0.9': no metric 'acc' ...
    """
    for condition in conditions:
        if condition.metric not in metrics:
            raise TabnetError(
                f"--fail-if '{condition.metric}{condition.op}{condition.text}': no metric "
                f"{condition.metric!r} for this model; valid names: {', '.join(metrics)}"
            )


def failures(conditions: list[Condition], metrics: dict) -> list[str]:
    """One line per condition that holds on the model's figures.

    Example:
        >>> failures([parse_condition("accuracy<0.9"), parse_condition("loss>1")],
        ...          {"accuracy": {"model": 0.87312}, "loss": {"model": 0.3}})
        ['Failed: accuracy 0.8731 < 0.9']
    """
    lines = []
    for condition in conditions:
        value = metrics[condition.metric]["model"]
        shown = f"{condition.metric} {condition.op} {condition.text}"
        if value is None:
            lines.append(f"Failed: {condition.metric} is not available on these rows ({shown})")
        elif condition.holds(value):
            lines.append(
                f"Failed: {condition.metric} {_format(value)} {condition.op} {condition.text}"
            )
    return lines


def _format(value: float) -> str:
    return f"{value:.4f}" if abs(value) < 1e5 else f"{value:.4g}"
