"""Quality benchmark suite: `tabnet train` with default options (plus --tabnet-args) against
scikit-learn's HistGradientBoosting, MLP and a linear model, on public tables shipped by
pip packages (see bench/datasets.py) and the reference CSVs of the shared data folder.

Each table is split once (train = df.sample(frac=0.8, random_state=0), test = the rest);
every model is fitted on the training rows with each seed and scored on the test rows:
AUC (binary), accuracy (multiclass) or R2 (regression).

Usage:
  python bench/quality.py [--data-dir ../shared/data] [--seeds 0 1 2] [--only NAME ...]
                          [--tabnet-args "..."] [--quick] [--write-readme] [--label TEXT]
                          [--held-out]  (the held-out tables instead of the suite)

Prints a markdown report on stdout (progress on stderr), saves the raw results to
bench/out/quality.json and, with --write-readme, the report into bench/README.md between
the quality markers. Installs: pip install -e ".[bench]".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path

import contenders
import datasets
import pandas as pd
import report

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
QUICK_ROWS = 1000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir_arg", nargs="?", type=Path, metavar="DATA_DIR",
                        help="same as --data-dir (the older positional form)")
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data",
                        help="folder with red-wine.csv, ion.csv, abalone.csv (skipped if absent)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these tables")
    parser.add_argument("--held-out", action="store_true",
                        help="run the held-out tables (datasets.HELD_OUT: never used to choose "
                             "the recipe) instead of the suite")
    parser.add_argument("--tabnet-args", default="", help="extra options for `tabnet train`")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: at most {QUICK_ROWS} rows per table")
    parser.add_argument("--out", type=Path, default=BENCH / "out", help="CSVs, runs, JSON")
    parser.add_argument("--write-readme", action="store_true",
                        help="put the report into bench/README.md between the quality markers")
    parser.add_argument("--label", default="", help="a line to head the report with")
    parser.add_argument("--report-only", action="store_true",
                        help="fit nothing: rebuild the report from OUT/quality.json")
    parser.add_argument("--resume", action="store_true",
                        help="reuse the fits saved in OUT/quality.json by an earlier run with "
                             "the same --tabnet-args and --quick (results are saved after "
                             "every table)")
    args = parser.parse_args(argv)
    args.data_dir = args.data_dir_arg or args.data_dir
    if args.quick and args.write_readme:
        parser.error("--quick results are a smoke test; they do not go into the README")
    if args.held_out and args.write_readme:
        parser.error("--write-readme writes the suite's report; the held-out tables' goes "
                     "into bench/README.md by hand")
    return args


def select(tables: list[datasets.Table], only: list[str] | None) -> list[datasets.Table]:
    """The tables named by --only (all when None); unknown names are an error."""
    if not only:
        return tables
    known = {t.name for t in tables}
    unknown = sorted(set(only) - known)
    if unknown:
        sys.exit(f"unknown table(s) {unknown}; known: {sorted(known)}")
    return [t for t in tables if t.name in only]


def prepare(table: datasets.Table, folder: Path, quick: bool) -> dict:
    """Loads a table, splits it, writes its train and test CSVs; returns its description."""
    frame = table.load()
    if quick and len(frame) > QUICK_ROWS:
        frame = frame.sample(n=QUICK_ROWS, random_state=0)
    train, test = datasets.split(frame.reset_index(drop=True))
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"train": folder / f"{table.name}-train.csv", "test": folder / f"{table.name}-test.csv"}
    train.to_csv(paths["train"], index=False)
    test.to_csv(paths["test"], index=False)
    info = {"name": table.name, "source": table.source, "target": table.target,
            "task": table.task, "metric": table.metric, "note": table.note,
            **datasets.describe(frame, table.target),
            "train_rows": len(train), "test_rows": len(test)}
    return {**info, "paths": {k: str(v) for k, v in paths.items()}}


def run_table(info: dict, seeds: list[int], runs: Path, tabnet_args: str,
              done: dict[tuple, dict]) -> list[dict]:
    """Every contender with every seed on one prepared table; one record per fit. Fits
    found in `done` (keyed by table, seed and model) are reused, not run again."""
    train = pd.read_csv(info["paths"]["train"])
    test = pd.read_csv(info["paths"]["test"])
    task, target = info["task"], info["target"]
    records = []
    for seed in seeds:
        for model in contenders.CONTENDERS:
            if (info["name"], seed, model) in done:
                records.append(done[info["name"], seed, model])
                continue
            if model == "tabnet":
                result = contenders.run_tabnet(task, target, Path(info["paths"]["train"]),
                                               Path(info["paths"]["test"]), seed,
                                               runs / f"{info['name']}-{seed}", tabnet_args)
            else:
                result = contenders.run_sklearn(model, task, target, train, test, seed)
            records.append({"table": info["name"], "seed": seed, "model": model,
                            **asdict(result)})
            progress(records[-1], task)
    return records


def progress(record: dict, task: str) -> None:
    """One stderr line per fit, flagging failures and a task tabnet read differently."""
    figure = "FAILED" if record["score"] is None else f"{record['score']:.4f}"
    line = (f"{record['table']:>14} seed {record['seed']} {record['model']:>6}: {figure}"
            f"  ({record['fit_s']:.1f} s)")
    chosen = record["extra"].get("task")
    if chosen and chosen != task:
        line += f"  [tabnet trained it as {chosen}]"
    if "error" in record["extra"]:
        line += "\n    " + record["extra"]["error"].replace("\n", "\n    ")
    print(line, file=sys.stderr, flush=True)


def command_line() -> str:
    """This invocation, as it would be typed."""
    return "python bench/quality.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def environment() -> str:
    """Date, commit, CPUs and library versions of this run."""
    import sklearn
    import torch

    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    return (f"{date.today()}, commit {commit or '?'}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, torch {torch.__version__}, "
            f"scikit-learn {sklearn.__version__}")


def header(meta: dict) -> list[str]:
    """The report's opening lines: what ran, where, with which options (from the
    metadata saved with the raw results)."""
    options = meta["tabnet_args"] or "none (default options)"
    lines = [meta["label"], ""] if meta["label"] else []
    lines += [f"`{meta['command']}`", "",
              f"- {meta['environment']}; {meta['minutes']:.1f} min wall time",
              f"- seeds {' '.join(map(str, meta['seeds']))}; extra `tabnet train` options: "
              f"{options}" + ("; QUICK (rows capped)" if meta["quick"] else "")]
    if not meta["complete"]:
        lines.append("- INCOMPLETE: the run was stopped before its last fits; "
                     "see the records for what ran")
    return lines


def resumable(path: Path, args: argparse.Namespace) -> tuple[dict[tuple, dict], float]:
    """The fits an earlier run saved in `path`, keyed by (table, seed, model), and its
    minutes; nothing unless that run had the same tabnet options and --quick flag."""
    if not path.exists():
        return {}, 0.0
    saved = json.loads(path.read_text())
    same = saved["tabnet_args"] == args.tabnet_args and saved["quick"] == args.quick
    if not same:
        sys.exit(f"{path} was made with other --tabnet-args or --quick; not resuming")
    done = {(r["table"], r["seed"], r["model"]): r for r in saved["records"]}
    print(f"resuming: {len(done)} fits from {path}", file=sys.stderr)
    return done, saved["minutes"]


def save(path: Path, meta: dict, infos: list[dict], records: list[dict]) -> None:
    """Writes the raw results (rewritten after every table, so a stopped run can resume)."""
    path.write_text(json.dumps({**meta, "tables": infos, "records": records}, indent=1))


def report_only(args: argparse.Namespace) -> None:
    """Prints (and with --write-readme, writes) the report of the saved raw results."""
    saved = json.loads((args.out / "quality.json").read_text())
    text = report.markdown(saved["records"], saved["tables"], header(saved))
    print(text)
    if args.write_readme:
        report.write_readme(BENCH / "README.md", text)


def main(argv: list[str] | None = None) -> None:
    """Runs the suite and writes the report, the JSON and (optionally) the README."""
    args = parse_args(argv)
    if args.report_only:
        report_only(args)
        return
    started = time.perf_counter()
    pool = datasets.tables(args.data_dir if args.data_dir.is_dir() else None)
    tables = select(datasets.HELD_OUT if args.held_out else pool, args.only)
    if not args.data_dir.is_dir():
        print(f"{args.data_dir} not found: the shared reference CSVs are skipped",
              file=sys.stderr)
    raw_path = args.out / "quality.json"
    done, earlier = resumable(raw_path, args) if args.resume else ({}, 0.0)
    meta = {"command": command_line(), "environment": environment(), "label": args.label,
            "seeds": args.seeds, "tabnet_args": args.tabnet_args, "quick": args.quick}
    infos, records = [], []
    for table in tables:
        infos.append(prepare(table, args.out / "data", args.quick))
        records += run_table(infos[-1], args.seeds, args.out / "runs", args.tabnet_args, done)
        meta["minutes"] = earlier + (time.perf_counter() - started) / 60
        meta["complete"] = table is tables[-1]
        save(raw_path, meta, infos, records)
    text = report.markdown(records, infos, header(meta))
    print(text)
    if args.write_readme:
        report.write_readme(BENCH / "README.md", text)


if __name__ == "__main__":
    main()
