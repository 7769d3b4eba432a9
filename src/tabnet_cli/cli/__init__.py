"""The ``tabnet`` command line: parses options, calls one core function per command,
renders the result, and turns every user mistake into one line ``Error: ...`` + exit 2.

The only package importing typer. Heavy libraries (torch, pandas) are imported inside
commands so that ``tabnet --help`` starts instantly.
"""

# importing the command modules registers their commands
from tabnet_cli.cli import (  # noqa: F401
    curves,
    evaluate,
    export,
    importance,
    info,
    predict,
    serve,
    train,
)
from tabnet_cli.cli.app import app

# isort: split
from tabnet_cli.cli import cv, tune  # noqa: F401, E402  (model selection commands)


def main() -> None:
    """Runs the command line (the console script goes through ``tabnet_cli.__main__``,
    which also turns a Ctrl-C during these imports into a quiet exit 130)."""
    app()


__all__ = ["app", "main"]
