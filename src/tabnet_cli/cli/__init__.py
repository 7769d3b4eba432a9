"""The ``tabnet`` command line: parses options, calls one core function per command,
renders the result, and turns every user mistake into one line ``Error: ...`` + exit 2.

The only package importing typer. Heavy libraries (torch, pandas) are imported inside
commands so that ``tabnet --help`` starts instantly.
"""

from tabnet_cli.cli import curves_cmd, score_cmd, train_cmd  # noqa: F401  (registers commands)
from tabnet_cli.cli.app import app

# isort: split
from tabnet_cli.cli import cv_cmd, tune_cmd  # noqa: F401, E402  (model selection commands)


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
