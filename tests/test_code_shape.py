"""The shape rules of the code base: small modules and small functions (the one-way
imports are tests/test_layers.py's), checked so that they stay true."""

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


def test_every_function_local_import_says_why_it_is_there():
    """An import inside a function defers a library (start-up of `tabnet --help`, memory
    before training, an optional dependency): a comment on its line, or above its group of
    imports, says which; any other import belongs at the top of the module."""
    silent = []
    for path in _modules():
        lines = path.read_text().splitlines()
        for function in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and not _explained(lines, node):
                    silent.append(f"{path.relative_to(SOURCE)}:{node.lineno}")
    assert not silent


def _explained(lines: list[str], node: ast.stmt) -> bool:
    row = node.lineno - 1
    if "#" in lines[row]:
        return True
    row -= 1
    while row >= 0 and lines[row].strip().startswith(("import ", "from ")):
        if "#" in lines[row]:
            return True
        row -= 1
    return row >= 0 and lines[row].strip().startswith("#")
