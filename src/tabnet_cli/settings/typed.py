"""Strict dataclasses from JSON-like data: every field present, no unknown field, every
value of its annotated type. Configs and the run manifest are built through here, so a
hand-edited or hostile ``model.json`` is refused with the path of the first bad field.

Only the types the configs use are supported: ``bool``, ``int``, ``float``, ``str``,
``Literal``, ``X | None`` and other unions, ``tuple[X, ...]``, ``dict[str, X]``, ``Any``
and nested dataclasses.
"""

from __future__ import annotations

import types
import typing
from dataclasses import MISSING, fields, is_dataclass
from functools import cache
from typing import Any, TypeVar, get_args, get_origin

T = TypeVar("T")


class SchemaError(ValueError):
    """A value does not fit the schema; the message starts with the field's path."""


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def build(cls: type[T], data: Any, where: str) -> T:
    """``cls(**data)`` after checking the keys and the type of every value.

    Example:
        >>> from dataclasses import dataclass
        >>> @dataclass
        ... class Point:
        ...     x: int
        ...     label: str = ""
        >>> build(Point, {"x": 1}, "point")
        Point(x=1, label='')
        >>> build(Point, {"x": True}, "point")
        Traceback (most recent call last):
        ...
        tabnet_cli.settings.typed.SchemaError: point.x: expected int, got bool True
    """
    if not isinstance(data, dict):
        raise SchemaError(f"{where or 'top level'}: expected an object, got {_describe(data)}")
    known = {f.name: f for f in fields(cls) if f.init}  # type: ignore[arg-type]
    unknown = sorted(str(key) for key in data if key not in known)
    if unknown:
        raise SchemaError(f"{where}: unknown field {unknown[0]!r}")
    values = {}
    for name, spec in known.items():
        path = f"{where}.{name}" if where else name
        if name not in data:
            if spec.default is MISSING and spec.default_factory is MISSING:
                raise SchemaError(f"{path}: missing")
            continue
        values[name] = coerce(data[name], _hints(cls)[name], path)
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:  # a config's own validation (ranges, choices)
        raise SchemaError(f"{where}: {exc}" if where else str(exc)) from None


def coerce(value: Any, hint: Any, where: str) -> Any:
    """``value`` checked against the annotation ``hint`` (lists become tuples).

    Example:
        >>> coerce([1, 2], tuple[int, ...], "layers")
        (1, 2)
        >>> coerce(1, float, "lr")
        1.0
    """
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return value
    if is_dataclass(hint):
        return build(hint, value, where)  # type: ignore[arg-type]
    if origin is typing.Literal:
        if value in args and type(value) in {type(a) for a in args}:
            return value
        raise SchemaError(f"{where}: expected one of {', '.join(map(repr, args))}, got {value!r}")
    if origin in (typing.Union, types.UnionType):
        return _coerce_union(value, args, where)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise SchemaError(f"{where}: expected a list, got {_describe(value)}")
        item = args[0]
        return tuple(coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise SchemaError(f"{where}: expected an object, got {_describe(value)}")
        return {k: coerce(v, args[1], f"{where}.{k}") for k, v in value.items()}
    return _coerce_scalar(value, hint, where)


def _coerce_union(value: Any, args: tuple, where: str) -> Any:
    if value is None and type(None) in args:
        return None
    present = [a for a in args if a is not type(None)]
    if len(present) == 1:  # X | None: X's own message says more than "X or NoneType"
        return coerce(value, present[0], where)
    for option in args:
        if option is type(None):
            continue
        try:
            return coerce(value, option, where)
        except SchemaError:
            continue
    names = " or ".join(getattr(a, "__name__", str(a)) for a in args)
    raise SchemaError(f"{where}: expected {names}, got {_describe(value)}")


def _coerce_scalar(value: Any, hint: Any, where: str) -> Any:
    # bool is a subclass of int in Python: JSON true must not pass for 1, nor 1 for true
    if hint is bool and isinstance(value, bool):
        return value
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint is str and isinstance(value, str):
        return value
    name = getattr(hint, "__name__", str(hint))
    raise SchemaError(f"{where}: expected {name}, got {_describe(value)}")


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"
