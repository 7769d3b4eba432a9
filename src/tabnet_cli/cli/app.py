"""The Typer application and its error discipline: every usage error and every
``TabnetError`` becomes one line ``Error: ...`` on stderr with exit code 2, every Ctrl-C
one line ``Interrupted`` with exit code 130 (``Terminated`` and 143 for SIGTERM), and a
standard output whose reader went away a quiet exit 141."""

from __future__ import annotations

import os
import re
import shutil
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer
from typer.core import TyperCommand, TyperGroup

from tabnet_cli.cli.interrupts import INTERRUPTED, Interrupted, InterruptWatch
from tabnet_cli.errors import TabnetError
from tabnet_cli.io.outputs import STDOUT, OutputError, ReaderGone, discard_stdout, guard_stdout
from tabnet_cli.system import distributed
from tabnet_cli.version import __version__

USER_ERROR = 2
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
    if not distributed.reports():
        return
    sys.stderr.write(f"Error: {one_line(message)}\n")
    sys.stderr.flush()


def warn(message: str) -> None:
    """Prints ``Warning: message`` on one line to stderr."""
    sys.stderr.write(f"Warning: {one_line(message)}\n")


class OneLineErrorGroup(TyperGroup):
    """Runs commands non-standalone so that every usage error and every ``TabnetError``
    becomes one line on stderr with exit code 2, instead of Typer's boxed panel, and every
    Ctrl-C the line ``Interrupted`` with exit code 130 (Typer would exit 130 silently)."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):  # type: ignore[override]
        with InterruptWatch() as watch, guard_stdout():
            try:
                code = super().main(*args, standalone_mode=False, **kwargs)
                sys.stdout.flush()  # a full disk behind `> file` is an error, not a traceback
            except KeyboardInterrupt:
                code = _interrupted(watch)
            except Exception as exc:
                code = _exit_code(exc, watch)
        code = watch.exit_code(code if isinstance(code, int) else 0)
        if not standalone_mode:
            return code
        sys.exit(code)

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return sorted(super().list_commands(ctx))  # as Click lists them

    def make_context(self, *args, **kwargs) -> typer.Context:
        try:  # parsing the command line
            return super().make_context(*args, **kwargs)
        except KeyboardInterrupt:
            raise Interrupted() from None

    def invoke(self, ctx: typer.Context):
        try:  # the command itself
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted() from None


def _exit_code(exc: Exception, watch: InterruptWatch) -> int:
    """The exit code for an exception that ended a command, after its one line."""
    # after a Ctrl-C, another error is most likely the interrupt in disguise; a failed
    # write is not (train saves what it has on Ctrl-C, and the disk may be full)
    if isinstance(exc, (Interrupted, typer.Abort)) or (
        watch.interrupted and not isinstance(exc, OutputError)
    ):
        return _interrupted(watch)
    if isinstance(exc, typer.TyperException):  # Typer's usage errors (public base class)
        return _usage_error(exc)
    if isinstance(exc, (ReaderGone, BrokenPipeError)):
        # The reader went away (`| head`): end quietly, as Unix tools killed by SIGPIPE do.
        discard_stdout()
        return BROKEN_PIPE
    if not isinstance(exc, TabnetError):
        raise exc  # a bug in tabnet: the traceback is what a report needs
    if isinstance(exc, OutputError) and exc.where == STDOUT:
        discard_stdout()
    fail(str(exc))
    return USER_ERROR


def _interrupted(watch: InterruptWatch) -> int:
    if distributed.reports_interrupts():  # torchrun stops the other ranks when one ends
        sys.stderr.write("Terminated\n" if watch.terminated else "Interrupted\n")
    return INTERRUPTED  # made TERMINATED by the watch after a SIGTERM


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


class TidyCommand(TyperCommand):
    """Plain help, as ``git`` and ``ls`` print it. Typer's panels start with a blank line
    and cut long option names at 80 columns; here arguments show their names (not
    ``<str>``) and options are grouped under their panel titles."""

    def format_options(self, ctx: typer.Context, formatter) -> None:
        for title, rows in help_sections(self, ctx).items():
            with formatter.section(title):
                formatter.write_dl(rows)

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = _metavar(param)
                pieces.append(name if param.required else f"[{name}]")
        return pieces


def help_sections(command, ctx: typer.Context) -> dict[str, list[tuple[str, str]]]:
    """A command's arguments and options under their ``--help`` titles, in order (hidden
    ones left out): what ``--help`` prints and ``docs/cli.md`` is generated from."""
    sections: dict[str, list[tuple[str, str]]] = {}
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            continue
        if param.param_type_name == "argument":
            sections.setdefault("Arguments", []).append((_metavar(param), record[1]))
        else:
            title = getattr(param, "rich_help_panel", None) or "Options"
            sections.setdefault(title, []).append(record)
    return sections


def _metavar(argument) -> str:
    name = argument.metavar or argument.name.upper()
    return name + ("..." if argument.nargs != 1 else "")


app = typer.Typer(
    cls=OneLineErrorGroup,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help (see TidyCommand)
    no_args_is_help=True,  # the help text is the docstring of _root below
)


def command(**settings):
    """``app.command`` with tabnet's plain help layout."""
    return app.command(cls=TidyCommand, **settings)


def package_version() -> str:
    """tabnet's version, from the installed package's metadata.

    Example:
        >>> package_version()  # doctest: +ELLIPSIS
        '0...'
    """

    try:
        return version("tabnet-cli")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return __version__


def _show_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"tabnet {package_version()}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_show_version
        ),
    ] = False,
) -> None:
    """Train neural networks on tabular data (CSV) from the command line, Keras style.

    tabnet train DATA --target COL, then tabnet evaluate / predict / curves / info on the
    run.
    """


def stderr_console():
    """A rich console on stderr (progress and messages never mix with results)."""
    from rich.console import Console  # not at start-up: tabnet --help stays light

    return Console(stderr=True, highlight=False)


def wants_colour(stream) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set (https://no-color.org)."""
    return bool(stream.isatty()) and not os.environ.get("NO_COLOR")


def plot_size(width: int | None, height: int | None) -> tuple[int, int]:
    """The asked plot size, or the terminal's."""

    columns, lines = shutil.get_terminal_size((100, 30))
    return width or columns, height or max(lines - 2, 12)
