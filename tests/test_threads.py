"""The thread policy: from the work of a step and the free cores, overridable."""

import json

import pytest

from tabnet_cli.system import threads


@pytest.mark.parametrize(
    ("cpus", "busy", "work", "expected"),
    [
        (2, 0, 5e6, 1),  # a small step: hand-offs cost more than a second thread saves
        (2, 0, 200e6, 2),  # a big step alone: every core
        (2, 2, 200e6, 1),  # the cores are taken by other runs: do not oversubscribe
        (16, 3, 200e6, 13),  # many cores, some busy
        (8, 0, 10e6, 2),  # work for two threads only
    ],
)
def test_threads_follow_the_work_and_the_free_cores(monkeypatch, cpus, busy, work, expected):
    monkeypatch.setattr(threads, "usable_cpus", lambda: cpus)
    monkeypatch.setattr(threads, "busy_elsewhere", lambda: busy)
    assert threads.choose_threads(work) == expected
    assert threads.choose_threads(work, requested=3) == 3


def test_threads_option_is_used_and_recorded(cli, regression_csv, tmp_path):
    out = cli.train(regression_csv, "y", tmp_path / "run", "--layers 4 --epochs 1 --threads 2")
    assert json.loads((out / "metrics.json").read_text())["threads"] == 2
    result = cli.line(f"train {regression_csv} --target y --threads -1")
    assert result.exit_code == 2 and "--threads must be in [0, 4096]" in result.stderr
