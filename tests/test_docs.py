"""The documentation stays true to the code: docs/cli.md is what scripts/cli_docs.py
generates from the Typer app today and names every command and option, every option of
`tabnet train` is explained in docs/training.md, the README stays short, and every link
between the documents reaches a file (and heading) of this repository."""

import importlib.util
import re

import pytest
import typer
from conftest import REPO

from tabnet_cli.cli import app

DOCS = REPO / "docs"
README_MAX_LINES = 250


def _generator():
    spec = importlib.util.spec_from_file_location("cli_docs", REPO / "scripts" / "cli_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _commands():
    group = typer.main.get_command(app)
    root = typer.Context(group, info_name="tabnet")
    for name in group.list_commands(root):
        command = group.get_command(root, name)
        yield name, command, typer.Context(command, info_name=name, parent=root)


def _option_names(command, ctx) -> list[str]:
    return [
        name
        for param in command.get_params(ctx)
        if param.param_type_name == "option" and not param.hidden
        for name in (*param.opts, *param.secondary_opts)
    ]


def _section(text: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same level."""
    start = text.index(f"\n{heading}\n")
    end = text.find(f"\n{heading.split()[0]} ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def test_the_cli_reference_is_up_to_date():
    text = (DOCS / "cli.md").read_text()
    assert text == _generator().render(), (
        "docs/cli.md is stale: run `python scripts/cli_docs.py` and commit docs/cli.md"
    )


def test_the_cli_reference_names_every_command_and_option():
    text = (DOCS / "cli.md").read_text()
    commands = list(_commands())
    assert {name for name, *_ in commands} >= {
        "train", "evaluate", "predict", "curves", "cv", "tune", "importance", "export", "info",
    }  # fmt: skip
    for name, command, ctx in commands:
        section = _section(text, f"## `tabnet {name}`")
        for option in _option_names(command, ctx):
            assert re.search(rf"`[^`\n]*{re.escape(option)}\b[^`\n]*`", section), (name, option)
    for option in ("--version", "--install-completion", "--show-completion"):
        assert f"`{option}`" in _section(text, "## `tabnet`")


def test_every_train_option_is_explained_in_the_training_guide():
    guide = (DOCS / "training.md").read_text()
    train = next(c for name, *c in _commands() if name == "train")
    missing = [o for o in _option_names(*train) if o.startswith("--") and o not in guide]
    assert not [o for o in missing if o not in ("--help",)]


def test_the_readme_is_short():
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.

    Example:
        >>> _anchor("Data larger than memory: `--memory-budget`")
        'data-larger-than-memory---memory-budget'
    """
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())  # a link's text
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)  # no headings in code
    seen: dict[str, int] = {}
    anchors = set()
    for heading in re.findall(r"^#{1,6} (.+)$", text, flags=re.M):
        anchor = _anchor(heading)
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        anchors.add(anchor if count == 0 else f"{anchor}-{count}")
    return anchors


def _reaches(file, anchor: str) -> bool:
    """Whether ``file`` is in the repository and exists, with the heading ``anchor``."""
    if not file.is_relative_to(REPO) or not file.exists():
        return False
    return not anchor or file.suffix != ".md" or anchor in _anchors(file)


DOCUMENTS = sorted([REPO / "README.md", *DOCS.glob("*.md")])


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_links_reach_files_and_headings_of_the_repository(document):
    text = re.sub(r"```.*?```", "", document.read_text(), flags=re.S)
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):  # https://...: outside, on purpose
            continue
        path, _, anchor = target.partition("#")
        file = (document.parent / path).resolve() if path else document
        if not _reaches(file, anchor):
            broken.append(target)
    assert not broken


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_no_document_points_outside_the_repository(document):
    assert not re.search(r"\.\./shared|shared/DESIGN|/work/", document.read_text())
