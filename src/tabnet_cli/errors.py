"""Errors that mean "the user asked for something we cannot do".

The CLI turns every :class:`TabnetError` into one line ``Error: ...`` on stderr and exit
code 2. Anything else is a bug in tabnet and may show a traceback.
"""


class TabnetError(Exception):
    """A user mistake, described in one line that says what to do next.

    Example:
        >>> raise TabnetError("--layers must be positive integers, e.g. 64,32")
        Traceback (most recent call last):
        ...
        tabnet_cli.errors.TabnetError: --layers must be positive integers, e.g. 64,32
    """


class DataError(TabnetError):
    """The input data cannot be used (missing file, unknown column, bad values)."""


class ArtifactError(TabnetError):
    """A run directory is missing, corrupted, unsafe or incompatible."""


def short_list(items: list[str], limit: int = 12) -> str:
    """Comma-separated, cut after ``limit`` items so an error stays one readable line.

    Example:
        >>> short_list([str(i) for i in range(20)], limit=3)
        '0, 1, 2, ... (20 in all)'
    """
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")


def plural(count: int, word: str, many: str | None = None) -> str:
    """``count`` and the word, singular for exactly one.

    Example:
        >>> plural(1, "epoch"), plural(2, "row"), plural(0, "category", "categories")
        ('1 epoch', '2 rows', '0 categories')
    """
    return f"{count} {word if count == 1 else many or word + 's'}"
