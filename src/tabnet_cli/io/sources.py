"""How a data source is named: a path, or ``-`` for standard input."""

STDIN = "-"


def display_name(source: str) -> str:
    """The name messages and run records use for a source.

    Example:
        >>> display_name("-"), display_name("data/wine.csv")
        ('<stdin>', 'data/wine.csv')
    """
    return "<stdin>" if source == STDIN else source
