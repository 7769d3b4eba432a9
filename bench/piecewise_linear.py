"""Piecewise-linear quantile encodings (PLE, Gorishniy et al. 2022, "On Embeddings for
Numerical Features in Tabular Deep Learning") against the recipe's periodic embedding,
measured by hand: no tabnet option builds them.

Each numeric column of a suite table (more than two distinct values) becomes up to 48
features, one per quantile bin of its training rows: 0 below the bin, 1 above it, linear
inside (the first and last bins open-ended). `ple` replaces the values by their encoding,
`plev` keeps the standardised values beside it. Both train with
`--embedding none --no-rank-inputs --scale none --clip none` (the encoding is the input
representation; categorical columns are left to tabnet's one-hot encoding).

Usage:
  python bench/compare_recipes.py TABLES ...   # writes the split CSVs to bench/out/compare
  python bench/piecewise_linear.py TABLES [--seeds 0 1]

Prints one JSON line per table, variant and seed (test score and wall time of `tabnet
train`); compare with the suite's `auto` figures for the same seeds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import contenders
import datasets
import numpy as np
import pandas as pd

BENCH = Path(__file__).resolve().parent
SPLITS = BENCH / "out" / "compare"
OUT = BENCH / "out" / "piecewise_linear"
BINS = 48
OPTIONS = "--embedding none --no-rank-inputs --scale none --clip none"


def encoding(edges: np.ndarray, values: pd.Series) -> np.ndarray:
    """The piecewise-linear encoding of `values` over the bin `edges` (rows x bins).

    Example:
        >>> encoding(np.array([0.0, 1.0, 2.0]), pd.Series([-1.0, 0.5, 3.0])).tolist()
        [[-1.0, 0.0], [0.5, 0.0], [1.0, 2.0]]
    """
    x = values.to_numpy(dtype=np.float64)
    bins = []
    for t in range(1, len(edges)):
        v = (x - edges[t - 1]) / (edges[t] - edges[t - 1])
        if t > 1:
            v = np.maximum(v, 0.0)
        if t < len(edges) - 1:
            v = np.minimum(v, 1.0)
        bins.append(v)
    return np.stack(bins, axis=1) if bins else np.zeros((len(x), 0))


def encode(table: datasets.Table, keep_values: bool) -> tuple[Path, Path]:
    """The table's train and test CSVs with their numeric columns encoded."""
    train = pd.read_csv(SPLITS / f"{table.name}-train.csv")
    test = pd.read_csv(SPLITS / f"{table.name}-test.csv")
    numeric = [c for c in train.columns if c != table.target
               and pd.api.types.is_numeric_dtype(train[c]) and train[c].nunique() > 2]
    parts = {"train": [train.drop(columns=numeric)], "test": [test.drop(columns=numeric)]}
    for column in numeric:
        quantiles = np.quantile(train[column].dropna(), np.linspace(0, 1, BINS + 1))
        edges = np.unique(quantiles)
        names = [f"{column}_q{i}" for i in range(len(edges) - 1)]
        mean, spread = train[column].mean(), train[column].std() or 1.0
        for part, frame in (("train", train), ("test", test)):
            parts[part].append(pd.DataFrame(encoding(edges, frame[column]), columns=names))
            if keep_values:
                parts[part].append(((frame[column] - mean) / spread).rename(column))
    label = "plev" if keep_values else "ple"
    OUT.mkdir(parents=True, exist_ok=True)
    paths = OUT / f"{table.name}-{label}-train.csv", OUT / f"{table.name}-{label}-test.csv"
    for path, part in zip(paths, ("train", "test"), strict=True):
        pd.concat(parts[part], axis=1).to_csv(path, index=False)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    tables = {t.name: t for t in datasets.tables(args.data_dir if args.data_dir.is_dir() else None)}
    for name in args.names:
        table = tables[name]
        for keep_values in (False, True):
            train, test = encode(table, keep_values)
            label = "plev" if keep_values else "ple"
            for seed in args.seeds:
                run_dir = OUT / "runs" / f"{name}-{label}-{seed}"
                result = contenders.run_tabnet(table.task, table.target, train, test, seed,
                                               run_dir, OPTIONS)
                print(json.dumps({"table": name, "seed": seed, "variant": label,
                                  "score": result.score, "s": round(result.fit_s, 1)}),
                      flush=True)


if __name__ == "__main__":
    main()
