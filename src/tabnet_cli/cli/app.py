"""The Typer application and its error discipline: every usage error and every
``TabnetError`` becomes one line ``Error: ...`` on stderr with exit code 2."""

from __future__ import annotations

import os
import re
import sys

import typer
from typer.core import TyperGroup

from tabnet_cli.errors import TabnetError

USER_ERROR = 2
INTERRUPTED = 130
BROKEN_PIPE = 141  # what shells report for a process killed by SIGPIPE


def one_line(text: str) -> str:
    """Any message folded onto one line.

    Example:
        >>> one_line("a\\n  b")
        'a b'
    """
    return re.sub(r"\s+", " ", text).strip()


def fail(message: str) -> None:
    """Prints ``Error: message`` on one line to stderr (plain text, never wrapped); in a
    data-parallel run only rank 0 does, as every rank meets the same error."""
    if os.environ.get("RANK", "0") != "0":
        return
    sys.stderr.write(f"Error: {one_line(message)}\n")
    sys.stderr.flush()


def warn(message: str) -> None:
    """Prints ``Warning: message`` on one line to stderr."""
    sys.stderr.write(f"Warning: {one_line(message)}\n")


class OneLineErrorGroup(TyperGroup):
    """Runs commands non-standalone so that every usage error and every ``TabnetError``
    becomes one line on stderr with exit code 2, instead of Typer's boxed panel."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):  # type: ignore[override]
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except typer.TyperException as exc:  # Typer's usage errors (public base class)
            code = _usage_error(exc)
        except TabnetError as exc:
            fail(str(exc))
            code = USER_ERROR
        except BrokenPipeError:
            # The reader went away (`| head`): end quietly, as Unix tools killed by SIGPIPE do.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            code = BROKEN_PIPE
        except typer.Abort:
            sys.stderr.write("Aborted.\n")
            code = INTERRUPTED
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


def _usage_error(exc: typer.TyperException) -> int:
    ctx = getattr(exc, "ctx", None)
    # `tabnet train` with no arguments shows the command's help, as Typer does; the class
    # is matched by name because Typer does not export it (typer's rich_utils does the same)
    if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
        sys.stderr.write(ctx.get_help() + "\n")
        return USER_ERROR
    where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    fail(exc.format_message() + where)
    return USER_ERROR


app = typer.Typer(
    cls=OneLineErrorGroup,
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,  # the help text is the docstring of _root below
)


@app.callback()
def _root() -> None:
    """Train neural networks on tabular data (CSV) from the command line, Keras style.

    tabnet train DATA --target COL, then tabnet evaluate / predict / curves on the run.
    """


def stderr_console():
    """A rich console on stderr (progress and messages never mix with results)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def wants_colour(stream) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set (https://no-color.org)."""
    return bool(stream.isatty()) and not os.environ.get("NO_COLOR")


def plot_size(width: int | None, height: int | None) -> tuple[int, int]:
    """The asked plot size, or the terminal's."""
    import shutil

    columns, lines = shutil.get_terminal_size((100, 30))
    return width or columns, height or max(lines - 2, 12)
