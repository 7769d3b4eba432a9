"""Model quality with default options: `tabnet train DATA --target T` versus scikit-learn's
MLP with its defaults, on exactly the same training and validation rows.

Usage: python bench/quality.py ../shared/data [--seeds 0 1 2]
Prints one line per data set and seed, then the medians, as a markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, mean_absolute_error
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

SETS = [  # file, target, task
    ("red-wine.csv", "quality", "regression"),
    ("ion.csv", "Class", "binary"),
    ("abalone.csv", "Rings", "regression"),
]


def split(frame: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    train = frame.sample(frac=0.8, random_state=seed)  # tabnet's default --validation-split
    return train, frame.drop(train.index)


def sklearn_score(frame: pd.DataFrame, target: str, task: str, seed: int) -> float:
    train, valid = split(frame, seed)
    features = [c for c in frame.columns if c != target]
    text = [c for c in features if not pd.api.types.is_numeric_dtype(frame[c])]
    numbers = [c for c in features if c not in text]
    prep = ColumnTransformer(
        [("num", StandardScaler(), numbers), ("cat", OneHotEncoder(handle_unknown="ignore"), text)]
    )
    model = (
        MLPRegressor(random_state=seed)
        if task == "regression"
        else MLPClassifier(random_state=seed)
    )
    pipe = make_pipeline(prep, model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(train[features], train[target])
    predicted = pipe.predict(valid[features])
    if task == "regression":
        return mean_absolute_error(valid[target], predicted)
    return accuracy_score(valid[target], predicted)


def tabnet_score(path: Path, target: str, task: str, seed: int, workdir: Path) -> float:
    out = workdir / f"{path.stem}-{seed}"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tabnet_cli",
            "train",
            str(path),
            "--target",
            target,
            "--seed",
            str(seed),
            "--out",
            str(out),
            "--verbose",
            "0",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    kept = json.loads((out / "metrics.json").read_text())["kept"]
    return kept["val_mae"] if task == "regression" else kept["val_accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    print("| data | metric | seed | tabnet defaults | sklearn MLP defaults | tabnet better |")
    print("|---|---|---|---|---|---|")
    summary = []
    with tempfile.TemporaryDirectory() as tmp:
        for file, target, task in SETS:
            frame = pd.read_csv(args.data_dir / file)
            frame = frame.drop(columns=[c for c in frame.columns if c.startswith("Unnamed")])
            metric = "val MAE" if task == "regression" else "val accuracy"
            ours, theirs = [], []
            for seed in args.seeds:
                ours.append(tabnet_score(args.data_dir / file, target, task, seed, Path(tmp)))
                theirs.append(sklearn_score(frame, target, task, seed))
                better = ours[-1] < theirs[-1] if task == "regression" else ours[-1] >= theirs[-1]
                print(
                    f"| {file} | {metric} | {seed} | {ours[-1]:.4f} | {theirs[-1]:.4f} | "
                    f"{'yes' if better else 'no'} |"
                )
            summary.append((file, metric, statistics.median(ours), statistics.median(theirs)))
    print()
    print("| data | metric | median tabnet | median sklearn | ratio (tabnet/sklearn) |")
    print("|---|---|---|---|---|")
    for file, metric, ours, theirs in summary:
        print(f"| {file} | {metric} | {ours:.4f} | {theirs:.4f} | {ours / theirs:.3f} |")


if __name__ == "__main__":
    main()
