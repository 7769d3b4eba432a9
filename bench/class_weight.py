"""Minority-class recall with and without `--class-weight balanced`, on 1:9 imbalanced
tables made from data sets that scikit-learn ships (no download):

- digits-8: the 8x8 digits, target "is it an 8" (174 of 1797 rows, 1:9.3);
- cancer-1to9: breast cancer with the malignant rows subsampled to 1 per 9 benign.

Each table is split once per seed into training (70%) and a stratified test file (30%);
`tabnet train` (default recipe, --epochs 50) then `tabnet evaluate` on the test file.

The minority is the positive class of evaluate's F1 (the second label in sorted order).

Usage: nice -n 10 python bench/class_weight.py [--seeds 0 1 2] [--tables digits-8 cancer-1to9]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split

TABNET = [sys.executable, "-m", "tabnet_cli"]


def tables() -> dict[str, pd.DataFrame]:
    digits = load_digits(as_frame=True).frame
    digits["is8"] = np.where(digits.pop("target") == 8, "yes", "no")
    cancer = load_breast_cancer(as_frame=True).frame
    cancer["diagnosis"] = np.where(cancer.pop("target") == 0, "malignant", "benign")
    benign = cancer[cancer.diagnosis == "benign"]
    malignant = cancer[cancer.diagnosis == "malignant"].sample(len(benign) // 9, random_state=0)
    return {
        "digits-8": digits,
        "cancer-1to9": pd.concat([benign, malignant]).sample(frac=1, random_state=0),
    }


TARGETS = {"digits-8": ("is8", "yes"), "cancer-1to9": ("diagnosis", "malignant")}


def run(frame: pd.DataFrame, target: str, minority: str, seed: int, weight: str, tmp: Path):
    tmp = tmp / f"{target}-{weight}-{seed}"
    tmp.mkdir()
    train, test = train_test_split(frame, test_size=0.3, stratify=frame[target], random_state=seed)
    train.to_csv(tmp / "train.csv", index=False)
    test.to_csv(tmp / "test.csv", index=False)
    out = tmp / "run"
    subprocess.run(
        [*TABNET, "train", str(tmp / "train.csv"), "--target", target, "--epochs", "50",
         "--seed", str(seed), "--class-weight", weight, "--verbose", "0", "--out", str(out)],
        check=True, capture_output=True,
    )
    report = json.loads(subprocess.run(
        [*TABNET, "evaluate", str(out), str(tmp / "test.csv"), "--json"],
        check=True, capture_output=True, text=True,
    ).stdout)
    recall = report["per_class_recall"]
    majority = next(label for label in recall if label != minority)
    return recall[minority]["model"], recall[majority]["model"], report["metrics"]["f1"]["model"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--tables", nargs="+", default=list(TARGETS))
    args = parser.parse_args()
    seeds = args.seeds
    print("| table | --class-weight | minority recall | majority recall | F1 (minority) |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, frame in tables().items():
            if name not in args.tables:
                continue
            target, minority = TARGETS[name]
            for weight in ("none", "balanced"):
                found = [run(frame, target, minority, s, weight, Path(tmp)) for s in seeds]
                cells = [statistics.mean(values) for values in zip(*found, strict=True)]
                print(f"| {name} ({len(frame)} rows) | {weight} | {cells[0]:.3f} | "
                      f"{cells[1]:.3f} | {cells[2]:.3f} |", flush=True)


if __name__ == "__main__":
    main()
