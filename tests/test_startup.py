"""`tabnet --help` must stay instant: no torch, pandas or scikit-learn on that path."""

import subprocess
import sys

CHECK = """
import sys
from typer.testing import CliRunner
from tabnet_cli.cli import app
for args in (
    ["--help"], ["train", "--help"], ["export", "--help"], ["importance", "--help"],
    ["cv", "--help"], ["tune", "--help"],
):  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
heavy = ("torch", "pandas", "pyarrow", "sklearn", "numpy", "plotext", "onnx", "onnxruntime",
         "optuna")
heavy = sorted(m for m in heavy if m in sys.modules)
print(",".join(heavy))
"""


def test_help_imports_no_heavy_library():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_python_dash_m_works():
    out = subprocess.run(
        [sys.executable, "-m", "tabnet_cli", "--help"], capture_output=True, text=True, check=True
    )
    assert "train" in out.stdout
