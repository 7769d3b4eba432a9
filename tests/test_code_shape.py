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
