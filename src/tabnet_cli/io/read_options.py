"""How a CSV is read: the options saved with a run so ``predict`` reads new files the same
way, each checked where it is made (one ``DataError`` naming the option)."""

from __future__ import annotations

import codecs
from dataclasses import dataclass, fields

from tabnet_cli.errors import DataError, short_list


@dataclass(frozen=True)
class ReadOptions:
    """How to read a CSV, saved with a run so ``predict`` reads new files the same way.
    Each field is one command-line option: ``--na-values``, ``--no-default-na`` (only blanks
    and ``na_values`` are missing), ``--no-header`` (columns ``V1..Vn``), ``--names`` (the
    first line is data), ``--encoding`` (``utf-8`` accepts a BOM), ``--decimal``.

    Example:
        >>> ReadOptions(names=["x", "y"], decimal=",").to_dict()["names"]
        ['x', 'y']
        >>> ReadOptions.from_dict({"encoding": "latin-1", "header": False}).header
        False
    """

    # the one source of these defaults: DataConfig takes its reading fields from here
    na_values: tuple[str, ...] = ()
    default_na: bool = True  # pandas' markers (NA, N/A, null...) and "?" count as missing
    header: bool = True  # False: the first line is data, columns are V1..Vn
    names: tuple[str, ...] = ()  # column names for a file without a header line
    encoding: str = "utf-8"  # utf-8 accepts a BOM; a UTF-16 BOM is detected
    decimal: str = "."
    text: tuple[str, ...] = ()  # columns read as written, never as numbers (class labels)

    def __post_init__(self) -> None:
        for key in ("na_values", "names", "text"):
            value = getattr(self, key)
            value = tuple(value) if isinstance(value, list) else value  # as JSON gives it
            if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
                raise TypeError(f"read option {key} must be a list of strings, not {value!r}")
            object.__setattr__(self, key, value)
        for key, kind in (("default_na", bool), ("header", bool), ("encoding", str)):
            if not isinstance(getattr(self, key), kind):
                raise TypeError(f"read option {key} must be a {kind.__name__}")
        if not isinstance(self.decimal, str):
            raise TypeError("read option decimal must be a str")
        object.__setattr__(self, "names", tuple(name.strip() for name in self.names))
        check_read_options(self)

    def to_dict(self) -> dict:
        """Plain JSON values (lists for tuples)."""
        return {f.name: jsonable(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> ReadOptions:
        """The options ``to_dict`` gave; unknown keys or wrong types raise ValueError."""
        if not isinstance(data, dict):
            raise ValueError(f"read options must be a JSON object, not {type(data).__name__}")
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown read option(s): {', '.join(unknown)}")
        try:
            return cls(**data)
        except (TypeError, DataError) as exc:
            raise ValueError(str(exc)) from None


def jsonable(value):
    return list(value) if isinstance(value, tuple) else value


def check_read_options(options: ReadOptions) -> None:
    """Values a user can get wrong on the command line: one DataError naming the option."""
    try:
        known = codecs.lookup(options.encoding)._is_text_encoding  # not "hex" or "zlib"
    except LookupError:
        known = False
    if not known:
        raise DataError(
            f"unknown --encoding {options.encoding!r}; use e.g. utf-8, latin-1, cp1252 or utf-16"
        )
    mark = options.decimal
    if len(mark) != 1 or mark.isalnum() or mark.isspace() or mark in "\"'+-":
        raise DataError(f"--decimal must be one mark such as . or , (got {mark!r})")
    if "" in options.names:
        raise DataError("--names has an empty name; give one name per column, e.g. a,b,y")
    repeated = sorted({name for name in options.names if options.names.count(name) > 1})
    if repeated:
        raise DataError(f"--names repeats {short_list(repeated)}; give each column its own name")


DEFAULT_READ = ReadOptions()  # a shared immutable default for function signatures
