"""The ``tabnet`` command line: parses options, calls one core function per command,
renders the result, and turns every user mistake into one line ``Error: ...`` + exit 2.

The only package importing typer. Heavy libraries (torch, pandas) are imported inside
commands so that ``tabnet --help`` starts instantly.
"""

from tabnet_cli.cli import (  # noqa: F401  (registers commands)
    curves_cmd,
    cv_cmd,  # noqa: F401
    score_cmd,
    train_cmd,
)
from tabnet_cli.cli.app import app


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
