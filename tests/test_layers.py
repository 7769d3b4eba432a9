"""The house of layers (docs/design.md): the import-linter contracts of pyproject.toml,
no private names across modules, few modules outside a layer, and a bench/ without
cycles."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
SOURCE = ROOT / "src" / "tabnet_cli"
BENCH = ROOT / "bench"


def test_the_import_contracts_hold(capsys):
    lint = pytest.importorskip("importlinter.cli")
    code = lint.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)
    assert code == 0, capsys.readouterr().out


def _imported_names(path: Path):
    """(module, name) of every ``from module import name`` in a file."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                yield node.module, alias.name


@pytest.mark.parametrize("folder", [SOURCE, BENCH, ROOT / "tests"], ids=lambda p: p.name)
def test_no_module_imports_a_private_name_of_another(folder):
    crossings = [
        f"{path.relative_to(ROOT)}: {module}.{name}"
        for path in sorted(folder.rglob("*.py"))
        for module, name in _imported_names(path)
        if module.startswith("tabnet_cli") and name.startswith("_") and not name.startswith("__")
    ]
    assert not crossings


def test_the_cli_imports_no_private_module_of_typer():
    private = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in sorted(SOURCE.rglob("*.py"))
        for module, _ in _imported_names(path)
        if module.split(".")[0] == "typer" and any(p.startswith("_") for p in module.split("."))
    ]
    assert not private


def test_at_most_four_modules_outside_the_layers():
    loose = sorted(path.name for path in SOURCE.glob("*.py"))
    assert len(loose) <= 4, loose
    layers = sorted(path.name for path in SOURCE.iterdir() if (path / "__init__.py").exists())
    assert layers == [
        "api", "cli", "export", "fit", "io", "jobs", "nn", "prep", "report", "run", "score",
        "serve", "settings", "system",
    ]  # fmt: skip


def test_the_benchmarks_import_each_other_without_cycles():
    local = {path.stem for path in BENCH.glob("*.py")}
    edges = {name: set() for name in local}
    for path in BENCH.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                other = re.sub(r"^bench\.", "", name).split(".")[0]
                if other in local and other != path.stem:
                    edges[path.stem].add(other)

    def reaches(start: str, goal: str, seen: set) -> bool:
        return any(
            nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt}))
            for nxt in edges[start]
        )

    assert not [name for name in sorted(local) if reaches(name, name, set())]
