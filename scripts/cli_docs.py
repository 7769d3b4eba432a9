"""Writes docs/cli.md, the reference of every ``tabnet`` command and option, from the Typer
app itself (``tabnet_cli.cli.app``), so that it cannot drift from the code.

    python scripts/cli_docs.py           # rewrite docs/cli.md
    python scripts/cli_docs.py --check   # exit 1 when docs/cli.md is stale

``tests/test_docs.py`` renders it in memory and compares it with the file. The text is what
``--help`` prints (usage, help, arguments, options grouped under the same titles), as
Markdown; it reads only the public API of Typer's command objects.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import typer

from tabnet_cli.cli import app
from tabnet_cli.cli.app import help_sections

TARGET = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
HEADER = """\
<!-- Generated from the Typer app by scripts/cli_docs.py: do not edit by hand.
     Regenerate: python scripts/cli_docs.py (tests/test_docs.py fails when this is stale). -->

# Command reference

Every command and option of `tabnet`, generated from the code that declares them: the
same text as `--help`. What the commands do, with examples: [the
guides](../README.md#documentation).
"""


def escape(text: str) -> str:
    r"""Help text as Markdown that shows it verbatim: ``<file>`` is no HTML tag, ``*`` and
    ``_`` no emphasis, ``|`` no table column.

    Example:
        >>> print(escape("runs/<file name> [default: *] a|b"))
        runs/\<file name> [default: \*] a\|b
    """
    return re.sub(r"([\\`*_<|])", r"\\\1", text)


def render_command(command, ctx: typer.Context, path: str, level: int) -> str:
    """One command's section: heading, help, usage line and every parameter."""
    pieces = [f"{'#' * level} `{path}`", ""]
    if command.help:
        pieces += [escape(command.help.strip()), ""]
    usage = " ".join([path, *command.collect_usage_pieces(ctx)])
    pieces += ["```", usage, "```", ""]
    for title, rows in help_sections(command, ctx).items():
        pieces += [f"**{title}**", ""]
        for names, help_text in rows:
            line = f"- `{names}`"
            pieces.append(f"{line}: {escape(help_text)}" if help_text else line)
        pieces.append("")
    return "\n".join(pieces)


def render() -> str:
    """The whole of docs/cli.md."""
    group = typer.main.get_command(app)
    root = typer.Context(group, info_name="tabnet")
    names = group.list_commands(root)
    contents = ["| command | what it does |", "|---|---|"]
    for name in names:
        short = escape(group.get_command(root, name).get_short_help_str(limit=200))
        contents.append(f"| [`tabnet {name}`](#tabnet-{name}) | {short} |")
    parts = [HEADER, "\n".join(contents) + "\n", render_command(group, root, "tabnet", 2)]
    for name in names:
        command = group.get_command(root, name)
        ctx = typer.Context(command, info_name=name, parent=root)
        parts.append(render_command(command, ctx, f"tabnet {name}", 2))
    return "\n".join(parts).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if argv == ["--check"]:
        if TARGET.exists() and TARGET.read_text() == text:
            return 0
        print(f"{TARGET} is stale: run python scripts/cli_docs.py", file=sys.stderr)
        return 1
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    TARGET.parent.mkdir(exist_ok=True)
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
