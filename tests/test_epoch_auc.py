"""ROC AUC as an epoch metric (binary tasks, when ``--monitor`` watches it): its binned
histogram against scikit-learn's exact AUC, in parts and across "ranks", and the logs."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from conftest import assert_user_error
from sklearn.metrics import roc_auc_score

from tabnet_cli.fit.epoch_metrics import EpochMetrics


def _scores(rows: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    target = (torch.rand(rows, generator=generator) < 0.3).float()
    logits = 1.5 * target + torch.randn(rows, generator=generator) * 2
    return logits, target


@pytest.mark.parametrize("capacity", [10**6, 97])
def test_binned_auc_matches_the_exact_auc_in_one_part_or_many(capacity):
    logits, target = _scores(2000, seed=capacity)
    metrics = EpochMetrics("binary", capacity, torch.nn.BCEWithLogitsLoss(), auc=True)
    for start in range(0, 2000, 128):
        metrics.add(logits[start : start + 128], target[start : start + 128])
    logs = metrics.logs("val_", 1.0)
    exact = roc_auc_score(target.numpy(), logits.numpy())
    assert logs["val_auc"] == pytest.approx(exact, abs=2e-3)
    assert set(logs) == {"val_loss", "val_accuracy", "val_auc"}


def test_auc_over_ranks_is_the_auc_of_all_their_rows():
    """Two ranks' means, combined the way ``distributed.reduce_means`` does (weighted by
    rows), give the AUC of every row, not the mean of the two AUCs."""
    logits, target = _scores(1000, seed=3)
    logits[:400] += 3  # the first rank's scores are shifted: its own AUC differs
    parts = []
    for rows in (slice(0, 400), slice(400, 1000)):
        metrics = EpochMetrics("binary", 10**6, torch.nn.BCEWithLogitsLoss(), auc=True)
        metrics.add(logits[rows], target[rows])
        parts.append(metrics)

    def reduce(means: torch.Tensor, rows: int) -> torch.Tensor:
        both = [p.means() for p in parts]
        return sum(m * n for m, n in both) / sum(n for _, n in both)

    logs = parts[0].logs("", 1.0, reduce)
    assert logs["auc"] == pytest.approx(roc_auc_score(target, logits), abs=2e-3)


def test_auc_is_nan_with_one_class_and_absent_for_other_tasks():
    metrics = EpochMetrics("binary", 10**6, torch.nn.BCEWithLogitsLoss(), auc=True)
    metrics.add(torch.tensor([0.2, 1.0]), torch.tensor([1.0, 1.0]))
    assert np.isnan(metrics.logs("", 1.0)["auc"])
    regression = EpochMetrics("regression", 10**6, torch.nn.MSELoss(), auc=True)
    regression.add(torch.tensor([0.2, 1.0]), torch.tensor([1.0, 1.0]))
    assert "auc" not in regression.logs("", 1.0)


def test_monitor_val_auc_logs_auc_and_keeps_its_best_epoch(cli, binary_csv, tmp_path):
    run = cli.train(binary_csv, "label", tmp_path / "run", "--epochs 4 --monitor val_auc")
    with (run / "history.csv").open() as handle:
        header = next(csv.reader(handle))
    assert header[-2:] == ["auc", "val_auc"]
    plain = cli.train(binary_csv, "label", tmp_path / "plain", "--epochs 2")
    assert "val_auc" not in (plain / "history.csv").read_text()


def test_monitor_auc_is_refused_for_regression(cli, regression_csv, tmp_path):
    result = cli.line(f"train {regression_csv} --target y --monitor val_auc --out {tmp_path / 'r'}")
    assert_user_error(result, "val_auc")
