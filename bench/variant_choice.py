"""Choosing between the default recipe and a variant table by table, on the validation
folds of the bagged ensemble: what the choice would gain, replayed on saved runs.

A bagged run (tables up to ~16k rows) records each member's best validation loss on its
own fold (metrics.json, `member_runs`). Were the recipe to train both candidates on the
first k folds and keep the one whose members score the lower validation loss there, the
result would be the run of the chosen candidate (the members are seeded alike). This
script replays that choice for k = 1, 2 and every fold on the runs of a quality-suite run
(the default) and of a `compare_recipes.py` variant, and scores both on the suite's test
rows. Tables trained as one network keep the default (no folds to choose on).

Usage:
  python bench/quality.py --out SUITE ...            # the default recipe's runs
  python bench/compare_recipes.py TABLES --seeds 0 1 2 --variant noemb="--embedding none"
  python bench/variant_choice.py SUITE --variant noemb [--runs bench/out/compare/runs]

Prints a markdown table (mean over the seeds) and, per policy, the mean change against
the default, the tables behind scikit-learn's MLP and the mean and worst gap to CatBoost.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import contenders
import numpy as np

BENCH = Path(__file__).resolve().parent
FOLDS = (1, 2, 5)


def fold_loss(metrics: dict, folds: int) -> float | None:
    """The validation loss of the first `folds` members (weighted by their fold's rows);
    None for a single network."""
    members = metrics.get("member_runs")
    if not members:
        return None
    chosen = members[:folds]
    rows = np.array([m["validation_rows"] for m in chosen], dtype=np.float64)
    return float(np.dot(rows, [m["best_value"] for m in chosen]) / rows.sum())


def replay(suite: Path, runs: Path, label: str) -> tuple[dict, dict]:
    """Per table, every policy's test scores over the seeds; and each reference's mean."""
    saved = json.loads((suite / "quality.json").read_text())
    infos = {t["name"]: t for t in saved["tables"]}
    policies: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    references: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for record in saved["records"]:
        references[record["table"]][record["model"]].append(record["score"])
    for record in saved["records"]:
        name, seed, info = record["table"], record["seed"], infos[record["table"]]
        variant_dir = runs / f"{name}-{label}-{seed}"
        if record["model"] != "tabnet" or not variant_dir.exists():
            continue
        default = record["score"]
        variant = contenders.score_run(info["task"], info["target"], variant_dir,
                                       Path(info["paths"]["test"]))
        default_dir = suite / "runs" / f"{name}-{seed}"
        default_metrics = json.loads((default_dir / "metrics.json").read_text())
        variant_metrics = json.loads((variant_dir / "metrics.json").read_text())
        table = policies[name]
        table["default"].append(default)
        table[label].append(variant)
        table["better of the two"].append(max(default, variant))
        for k in FOLDS:
            ours, theirs = fold_loss(default_metrics, k), fold_loss(variant_metrics, k)
            pick = theirs is not None and ours is not None and theirs < ours
            table[f"chosen on {k} fold{'s' * (k > 1)}"].append(variant if pick else default)
    return policies, references


def report(policies: dict, references: dict) -> str:
    names = list(next(iter(policies.values())))
    lines = ["| table | " + " | ".join(names) + " | sklearn MLP | CatBoost |",
             "|---" * (len(names) + 3) + "|"]
    mean = {t: {p: float(np.mean(v)) for p, v in table.items()} for t, table in policies.items()}
    for table, scores in mean.items():
        refs = [float(np.mean(references[table][m])) for m in ("mlp", "catboost")]
        lines.append(f"| {table} | " + " | ".join(f"{scores[p]:.4f}" for p in names)
                     + " | " + " | ".join(f"{r:.4f}" for r in refs) + " |")
    lines.append("")
    for policy in names:
        change = np.mean([s[policy] - s["default"] for s in mean.values()])
        behind = [t for t, s in mean.items() if s[policy] < np.mean(references[t]["mlp"])]
        gaps = {t: s[policy] - np.mean(references[t]["catboost"]) for t, s in mean.items()}
        worst = min(gaps, key=gaps.get)
        average = np.mean(list(gaps.values()))
        lines.append(f"- {policy}: change against the default {change:+.4f}; behind sklearn's "
                     f"MLP on {len(behind)} ({', '.join(behind) or 'none'}); gap to CatBoost "
                     f"mean {average:+.4f}, worst {gaps[worst]:+.4f} ({worst})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", type=Path, help="the --out folder of a quality.py run")
    parser.add_argument("--variant", required=True, help="the compare_recipes.py variant label")
    parser.add_argument("--runs", type=Path, default=BENCH / "out" / "compare" / "runs",
                        help="the variant's run folders (<table>-<label>-<seed>)")
    args = parser.parse_args()
    print(report(*replay(args.suite, args.runs, args.variant)))


if __name__ == "__main__":
    main()
