"""Recipe comparison: `tabnet train` with several option sets against a reference model
(HistGradientBoosting, or `--reference catboost`...) on the quality suite's tables
(bench/datasets.py), on the same fixed held-out split.

Usage:
  python bench/compare_recipes.py [NAME ...] [--seeds 0 1 2] --variant plain="--recipe plain" \
      --variant auto="" [--reference catboost]

Prints one JSON line per table and seed (test AUC / accuracy / R2 of the reference and of
each variant, and the wall times: the reference's fit, each variant's whole `tabnet train`
command), then, per variant, every table's mean over the seeds and the mean and worst gap
to the reference, with the variant's time over the reference's. Installs:
pip install -e ".[bench]". Tables are cached in bench/out/compare/.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import contenders
import datasets
import pandas as pd

OUT = Path(__file__).resolve().parent / "out" / "compare"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="tables to run (default: all but diamonds)")
    parser.add_argument("--seeds", "--seed", type=int, nargs="+", default=[0])
    parser.add_argument("--variant", action="append", default=[], help='LABEL="tabnet args"')
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--reference", default="hgb", choices=sorted(contenders.BUILDERS))
    args = parser.parse_args()
    variants = dict(v.split("=", 1) for v in args.variant) or {"auto": ""}
    suite = datasets.tables(args.data_dir if args.data_dir.is_dir() else None)
    tables = [
        t
        for t in [*suite, *datasets.HELD_OUT]
        if (t.name in args.names) or (not args.names and t in suite and t.name != "diamonds")
    ]
    reference = args.reference
    rows = [
        run_table(table, variants, seed, reference) for table in tables for seed in args.seeds
    ]
    frame = pd.DataFrame(rows).groupby("table", sort=False).mean(numeric_only=True)
    frame = frame.reset_index()
    print(frame.round(4).to_string(index=False))
    for label in variants:
        gap = frame[label] - frame[reference]
        worst = frame.table[gap.idxmin()]
        ratio = frame[label + "_s"] / frame[reference + "_s"]
        print(f"{label}: mean gap to {reference} {gap.mean():+.4f}, worst {gap.min():+.4f} "
              f"({worst}), time {frame[label + '_s'].sum():.0f} s, time / {reference}'s: "
              f"median {ratio.median():.1f}x, worst {ratio.max():.1f}x "
              f"({frame.table[ratio.idxmax()]})")


def run_table(table, variants: dict[str, str], seed: int, reference: str = "hgb") -> dict:
    train_path, test_path = OUT / f"{table.name}-train.csv", OUT / f"{table.name}-test.csv"
    if not train_path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        train, test = datasets.split(table.load())
        train.to_csv(train_path, index=False)
        test.to_csv(test_path, index=False)
    train, test = pd.read_csv(train_path), pd.read_csv(test_path)
    line = {"table": table.name, "task": table.task, "seed": seed}
    fitted = contenders.run_sklearn(reference, table.task, table.target, train, test, seed)
    line[reference], line[reference + "_s"] = fitted.score, round(fitted.fit_s, 2)
    for label, extra in variants.items():
        run_dir = OUT / "runs" / f"{table.name}-{label}-{seed}"
        result = contenders.run_tabnet(
            table.task, table.target, train_path, test_path, seed, run_dir, extra
        )
        line[label], line[label + "_s"] = result.score, round(result.fit_s, 1)
    print(json.dumps(line), flush=True)
    return line


if __name__ == "__main__":
    main()
