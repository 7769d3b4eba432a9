"""``config.toml``: every resolved setting of a run, and ``--config FILE`` to rerun it.

A run directory holds the settings the run actually used (after the recipe and the task
filled them in) in sections ``[data]``, ``[arch]`` and ``[train]``, the top-level
``recipe`` and the training file as ``source``. ``tabnet train --config FILE`` reads it
back: every value in the file counts as given by the user (the recipe leaves it alone),
and options typed on the command line override the file. The file goes through the
configs' strict ``from_dict`` checks, so an unknown key or a bad value is one error line
that names the key.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from tabnet_cli.io.sources import STDIN
from tabnet_cli.settings.config import ArchConfig, ConfigError, DataConfig, RunConfig, TrainConfig
from tabnet_cli.settings.typed import SchemaError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONFIG_FILE = "config.toml"
SECTIONS = {"data": DataConfig, "arch": ArchConfig, "train": TrainConfig}
TOP_LEVEL = ("recipe", "source")
MAX_BYTES = 1 << 20  # a settings file is a few kilobytes; /dev/zero would never end


@dataclass(frozen=True)
class ConfigFile:
    """A config file read and checked: the flat settings it gives (``lr``, ``layers``...),
    its recipe and its training file, each ``None`` when the file leaves it out."""

    path: str
    values: dict[str, Any]
    recipe: str | None = None
    source: str | None = None


def dump_config(config: RunConfig, source: str) -> str:
    """The TOML text of a run's settings. TOML has no null: a setting that is ``None``
    (no validation file) is left out, and reading it back gives the same default.

    Example:
        >>> text = dump_config(RunConfig.from_options({"target": "y", "lr": 0.01}), "d.csv")
        >>> print(text.splitlines()[0]); "lr = 0.01" in text
        recipe = "auto"
        True
    """
    import tomli_w  # tomli_w loads on first use, not with this module

    document: dict[str, Any] = {"recipe": config.recipe}
    if source != STDIN:
        document["source"] = str(Path(source).resolve())  # rerun from any directory
    for name in SECTIONS:
        section = getattr(config, name).to_dict()
        document[name] = {k: v for k, v in section.items() if v is not None}
    return tomli_w.dumps(document)


def read_config(path: str, target: str | None = None) -> ConfigFile:
    """Reads and checks ``path``. ``target`` (the command line's) stands in for a file
    without one, so that the ``[data]`` section can be checked whole.

    Example:
        >>> read_config("nowhere.toml")
        Traceback (most recent call last):
        ...
        tabnet_cli.settings.config.ConfigError: --config nowhere.toml: no such file
    """
    document = parse_toml(path)
    unknown = sorted(set(document) - set(TOP_LEVEL) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"{path}: unknown key {unknown[0]!r}; expected {_expected()}")
    values: dict[str, Any] = {}
    for name, kind in SECTIONS.items():
        section = document.get(name, {})
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: {name} must be a [{name}] section")
        values.update(_checked(path, name, kind, section, target))
    recipe, source = (document.get(key) for key in TOP_LEVEL)
    for key, value in (("recipe", recipe), ("source", source)):
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{path}: {key}: expected a string, got {value!r}")
    return ConfigFile(path, values, recipe, source)


def parse_toml(path: str, option: str = "--config") -> dict[str, Any]:
    """The TOML document in ``path``; a missing or malformed file is one error line.

    Example:
        >>> parse_toml("nowhere.toml", "--space")
        Traceback (most recent call last):
        ...
        tabnet_cli.settings.config.ConfigError: --space nowhere.toml: no such file
    """

    text = read_small_text(path, option)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc})") from None
    except RecursionError:
        raise ConfigError(f"{option} {path} is nested too deeply to be a settings file") from None


def read_small_text(path: str, option: str) -> str:
    """The UTF-8 text of a settings file: a regular file (a FIFO would hang, a device
    never end) of at most ``MAX_BYTES``; anything else is one error line.

    Example:
        >>> read_small_text("/dev/zero", "--space")
        Traceback (most recent call last):
        ...
        tabnet_cli.settings.config.ConfigError: --space /dev/zero is a device, not a file; ...
    """
    try:  # non-blocking: opening a FIFO without a writer would wait forever
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ConfigError(f"{option} {path}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{option} {path}: cannot read it ({exc.strerror or exc})") from None
    try:
        kind = _file_kind(os.fstat(descriptor).st_mode)
        if kind:
            raise ConfigError(f"{option} {path} is {kind}, not a file; give a TOML file")
        data = b""
        while len(data) <= MAX_BYTES and (block := os.read(descriptor, 1 << 16)):
            data += block
    except OSError as exc:
        raise ConfigError(f"{option} {path}: cannot read it ({exc.strerror or exc})") from None
    finally:
        os.close(descriptor)
    if len(data) > MAX_BYTES:
        raise ConfigError(
            f"{option} {path} is larger than {MAX_BYTES >> 20} MiB; a settings file is a "
            "few lines of TOML"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{option} {path} is not UTF-8 text; give a TOML file") from None


def _file_kind(mode: int) -> str:
    """What a non-regular file is, for a message ("" for a regular file)."""
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    return "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a special file"


def _checked(path: str, name: str, kind, section: dict, target: str | None) -> dict[str, Any]:
    """The section's values after the config's own strict checks (names, types, ranges)."""

    stand_in = {"target": target or "y"} if kind is DataConfig and "target" not in section else {}
    try:
        built = kind.from_dict({**stand_in, **section}, where=name)
    except SchemaError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return {f.name: getattr(built, f.name) for f in fields(kind) if f.name in section}


def _expected() -> str:
    return ", ".join([*TOP_LEVEL, *(f"[{name}]" for name in SECTIONS)])
