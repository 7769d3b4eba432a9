"""`tabnet tune` against the default run, on the same split: the best trial retrained
must be at least as good on validation as `tabnet train DATA --target T`.

Runs the search twice with one SQLite storage (the trials accumulate), then prints the
default run's and the retrained best run's best val_loss and the number of trials.

Usage: nice -n 10 python bench/tune.py DATA TARGET [--trials 8]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import optuna

TABNET = [sys.executable, "-m", "tabnet_cli"]


def best_val_loss(run: Path) -> float:
    return json.loads((run / "metrics.json").read_text())["best"]["val_loss"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("target")
    parser.add_argument("--trials", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = [args.data, "--target", args.target, "--verbose", "0"]
        default = Path(tmp) / "default"
        subprocess.run([*TABNET, "train", *base, "--out", str(default)], check=True)
        storage = f"sqlite:///{tmp}/study.db"
        for round_ in (1, 2):
            out = Path(tmp) / f"best-{round_}"
            subprocess.run(
                [*TABNET, "tune", *base, "--trials", str(args.trials), "--storage", storage,
                 "--out", str(out)],
                check=True, capture_output=True,
            )

            study = optuna.load_study(study_name=None, storage=storage)
            complete = sum(t.state.name == "COMPLETE" for t in study.trials)
            others = len(study.trials) - complete
            print(f"round {round_}: {len(study.trials)} trials in the study ({complete} complete, "
                  f"{others} pruned/failed); best trial {study.best_trial.number}", flush=True)
        print(f"default run:         best val_loss {best_val_loss(default):.4f}")
        print(f"tuned (retrained):   best val_loss {best_val_loss(out):.4f}")
        print(f"best params: {study.best_params}")


if __name__ == "__main__":
    main()
