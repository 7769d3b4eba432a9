"""What a shorter patience would have kept, replayed on recorded learning curves.

Usage:
    python bench/patience.py RUNS_FOLDER [--patience 5 8 10 12 15]

For every single-network run directory under RUNS_FOLDER (bench/quality.py and
bench/compare_recipes.py leave theirs in bench/out/), it replays the run's early stopping
(``val_loss``, the warm-up's epochs spending no patience, as `fit/loop.py` does) on
its ``history.csv`` with each shorter patience: the epoch it would have stopped at and the
val_loss of the epoch it would have kept. Up to the earlier stop the curve is the one
recorded (the learning-rate schedule follows the planned epochs, not the stop), so the
replay is exact for the validation figure; the test figure needs a real run
(bench/compare_recipes.py --variant p10="--patience 10").

Reported per patience: the epochs run as a share of the recorded ones (the time saved),
the runs whose kept epoch changes, and the kept val_loss against the recorded run's
(relative; median and worst). Ensembles (``--folds``) record the mean of their members'
curves, not each member's; they are left out.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
from pathlib import Path

import tomllib


def replay(losses: list[float], warmup: int, patience: int) -> tuple[int, int]:
    """(epochs run, kept epoch), 1-based, of early stopping with ``patience`` on ``losses``.

    Example:
        >>> replay([3.0, 2.0, 2.5, 2.6, 1.0], warmup=0, patience=2)
        (4, 2)
    """
    best, kept, wait = math.inf, 0, 0
    for epoch, value in enumerate(losses, start=1):
        if value < best:
            best, kept, wait = value, epoch, 0
            continue
        if epoch <= warmup:
            continue
        wait += 1
        if wait >= patience:
            return epoch, kept
    return len(losses), kept


def runs(folder: Path):
    for metrics_file in sorted(folder.rglob("metrics.json")):
        run = metrics_file.parent
        if "members" in json.loads(metrics_file.read_text()) or not (run / "history.csv").exists():
            continue
        config = tomllib.loads((run / "config.toml").read_text())
        train = config.get("train", config)
        with (run / "history.csv").open() as handle:
            losses = [float(row["val_loss"]) for row in csv.DictReader(handle)]
        yield run.name, losses, math.ceil(train["warmup"] * train["epochs"]), train["patience"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--patience", type=int, nargs="+", default=[5, 8, 10, 12, 15])
    args = parser.parse_args()
    found = list(runs(args.folder))
    print(f"{len(found)} single-network runs under {args.folder}")
    for patience in args.patience:
        shares, changed, losses = [], [], []
        for name, curve, warmup, recorded in found:
            if patience >= recorded:
                continue
            full_run, full_kept = replay(curve, warmup, recorded)
            run, kept = replay(curve, warmup, patience)
            shares.append(run / full_run)
            if kept != full_kept:
                changed.append(f"{name} {kept}/{full_kept}")
            losses.append(curve[kept - 1] / curve[full_kept - 1] - 1)
        if not shares:
            continue
        print(f"patience {patience:>2}: epochs {statistics.mean(shares):5.1%} of the recorded "
              f"runs' (median {statistics.median(shares):5.1%}); kept epoch changes in "
              f"{len(changed)} of {len(shares)}; kept val_loss +{statistics.median(losses):.2%} "
              f"median, +{max(losses):.2%} worst")  # fmt: skip
        if changed:
            print("    changed (kept/recorded): " + ", ".join(changed))


if __name__ == "__main__":
    main()
