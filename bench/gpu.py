"""Steps per second on a CUDA GPU against this machine's CPU: the course model (red wine,
3 x 512, batch 256, --recipe plain) and the default recipe on the same file.

Usage:
  python bench/gpu.py [--data-dir ../shared/data] [--epochs 60]

Each figure is the run's own `seconds_per_epoch` (metrics.json: training and validation,
without start-up) turned into optimizer steps per second. Without a GPU it says so and
exits: no figure is made up.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parent.parent
CASES = {
    "course model (plain)": "--recipe plain --layers 512,512,512 --batch-size 256 --patience 0",
    "default recipe": "--patience 0",
}


def steps_per_second(data: Path, options: str, device: str, epochs: int, out: Path) -> float:
    command = [sys.executable, "-m", "tabnet_cli", "train", str(data), "--target", "quality",
               *options.split(), "--epochs", str(epochs), "--device", device, "--verbose", "0",
               "--out", str(out)]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    metrics = json.loads((out / "metrics.json").read_text())
    config = tomllib.loads((out / "config.toml").read_text())
    steps = math.ceil(metrics["train_rows"] / config["train"]["batch_size"])
    return steps / metrics["seconds_per_epoch"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--epochs", type=int, default=60)
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        print("no CUDA GPU on this machine: nothing to measure")
        return
    data = args.data_dir / "red-wine.csv"
    print(f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, options in CASES.items():
            rates = {
                device: steps_per_second(data, options, device, args.epochs,
                                         Path(tmp) / f"{name}-{device}".replace(" ", "-"))
                for device in ("cpu", "cuda")
            }  # fmt: skip
            print(f"{name:<22} cpu {rates['cpu']:8.1f} steps/s   cuda {rates['cuda']:8.1f} "
                  f"steps/s   cuda/cpu {rates['cuda'] / rates['cpu']:.2f}x", flush=True)


if __name__ == "__main__":
    main()
