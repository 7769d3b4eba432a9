"""The shape rules of the code base (issue: small modules, small functions, one-way
imports), checked so that they stay true."""

import ast
from pathlib import Path

SOURCE = Path(__file__).parent.parent / "src" / "tabnet_cli"
MAX_FUNCTION_LINES, MAX_MODULE_LINES = 60, 400


def _modules():
    return sorted(SOURCE.rglob("*.py"))


def test_functions_and_modules_are_small():
    too_long = []
    for path in _modules():
        text = path.read_text()
        if len(text.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{path.name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    too_long.append(f"{path.name}:{node.name}: {lines} lines")
    assert not too_long


def test_only_the_cli_package_imports_typer_and_never_its_private_modules():
    for path in _modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.split(".")[0] == "typer":
                    assert path.parent.name == "cli", f"{path.name} imports {name}"
                    assert not any(part.startswith("_") for part in name.split(".")), name
