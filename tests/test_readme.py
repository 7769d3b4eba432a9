"""The README's two set-up commands are exactly what CI runs, and lint stays clean."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO


def _ci_commands() -> list[str]:
    lines = (REPO / ".ci" / "run").read_text().splitlines()
    skip = ("#", "set ", "cd ", "export")
    commands = [line for line in lines if line and not line.startswith(skip)]
    # CI names its demo run uniquely so that re-running CI in one checkout never collides
    return [re.sub(r" --out runs/ci-demo-\$\$$", "", c) for c in commands]


def test_readme_holds_the_commands_ci_runs():
    readme = (REPO / "README.md").read_text()
    install, tests = _ci_commands()
    assert f"\n{install}\n" in readme
    assert f"\n{tests}\n" in readme


def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(REPO / ".venv" / "bin" / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed")
    targets = [p for p in ("src", "tests", "scripts", "bench") if (REPO / p).exists()]
    out = subprocess.run([ruff, "check", *targets], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
