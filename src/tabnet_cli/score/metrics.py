"""Evaluation metrics (scikit-learn's), each next to the naive baseline's on the same rows.

The naive baseline is what a model that ignores the features would do: predict the training
mean (regression) or the training class frequencies (classification).
"""

from __future__ import annotations

import numpy as np

from tabnet_cli.prep.class_weights import class_weights
from tabnet_cli.run.run_dir import LoadedRun
from tabnet_cli.settings.config import TrainConfig


def run_loss(
    config: TrainConfig,
    task: str,
    raw: np.ndarray,
    encoded: np.ndarray,
    weights: np.ndarray | None = None,
) -> float:
    """The run's training loss on these rows, in model units (as ``val_loss``): the
    formulas of PyTorch's L1, MSE, Huber, BCE-with-logits and cross-entropy losses, with
    the run's label smoothing and class ``weights`` (``sum(w * loss) / sum(w)``).

    Example:
        >>> round(run_loss(TrainConfig(loss="bce"), "binary", np.array([[0.0]]),
        ...     np.array([1.0])), 4)  # log(2)
        0.6931
    """
    output, smoothing = raw.astype(np.float64), config.label_smoothing
    if task == "multiclass":
        return _cross_entropy(output, encoded.astype(np.int64), smoothing, weights)
    output, target = output.reshape(-1), encoded.astype(np.float64)
    if task == "binary":
        soft = target * (1 - smoothing) + 0.5 * smoothing
        losses = np.maximum(output, 0) - output * soft + np.log1p(np.exp(-np.abs(output)))
        if weights is None:
            return float(np.mean(losses))
        row = weights[target.astype(np.int64)]
        return float((losses * row).sum() / row.sum())
    error = np.abs(output - target)
    if config.loss == "mae":
        return float(error.mean())
    if config.loss == "mse":
        return float(np.square(error).mean())
    delta = config.huber_delta
    return float(np.where(error < delta, 0.5 * error**2, delta * (error - 0.5 * delta)).mean())


def _cross_entropy(output, codes, smoothing: float, weights: np.ndarray | None) -> float:
    top = output.max(axis=1, keepdims=True)
    log_probs = output - (top + np.log(np.exp(output - top).sum(axis=1, keepdims=True)))
    picked = log_probs[np.arange(len(output)), codes]
    if weights is None:
        # PyTorch: (1 - e) * NLL + e * mean over classes of -log p
        return float(np.mean(-(1 - smoothing) * picked - smoothing * log_probs.mean(axis=1)))
    # PyTorch's weighted form: both terms weighted, divided by the rows' summed weights
    row = weights[codes]
    nll = -(row * picked).sum() / row.sum()
    smooth = -(log_probs * weights).sum() / row.sum() / output.shape[1]
    return float((1 - smoothing) * nll + smoothing * smooth)


def loss_weights(run: LoadedRun) -> np.ndarray | None:
    """The class weights the run trained with (``None`` without ``--class-weight``)."""

    target = run.target
    spec = run.manifest.train_config.class_weight
    return class_weights(spec, run.task, target.classes_, target.baseline_)


def _baseline_raw(run: LoadedRun, rows: int) -> np.ndarray:
    """Raw outputs of the naive model, in the same units as the network's."""
    target = run.target
    if run.task == "regression":
        value = (target.baseline_[0] - target.center_) / target.spread_
        return np.full((rows, 1), value, dtype=np.float32)
    prior = np.clip(np.asarray(target.baseline_, dtype=np.float64), 1e-12, 1.0)
    if run.task == "binary":
        return np.full((rows, 1), np.log(prior[1] / prior[0]), dtype=np.float32)
    return np.tile(np.log(prior), (rows, 1)).astype(np.float32)


def score(run: LoadedRun, raw: np.ndarray, encoded: np.ndarray, truth: np.ndarray) -> dict:
    """``{"metrics": {name: {"model": x, "baseline": y}}, ...}`` for the run's task.

    Example:
        >>> score(run, raw, encoded, truth)["metrics"]["r2"]  # doctest: +SKIP
        {'model': 0.41, 'baseline': -0.002}
    """
    baseline = _baseline_raw(run, len(raw))
    config, task, weights = run.manifest.train_config, run.task, loss_weights(run)
    metrics = {
        "loss": _pair(
            run_loss(config, task, raw, encoded, weights),
            run_loss(config, task, baseline, encoded, weights),
        )
    }
    if run.task == "regression":
        model_values = _regression(truth, run.target.decode(raw))
        base_values = _regression(truth, run.target.decode(baseline))
        metrics.update({k: _pair(model_values[k], base_values[k]) for k in model_values})
        return {"metrics": metrics}
    labels = list(range(len(run.target.classes_)))
    model_values, matrix = _classification(run, truth, raw, labels)
    base_values, _ = _classification(run, truth, baseline, labels)
    metrics.update({k: _pair(model_values[k], base_values[k]) for k in model_values})
    return {
        "metrics": metrics,
        "per_class_recall": _per_class_recall(run, truth, raw, baseline),
        "confusion_matrix": {
            "labels": [str(c) for c in run.target.classes_],
            "rows_are": "actual",
            "columns_are": "predicted",
            "matrix": matrix,
        },
    }


def _pair(model: float, baseline: float) -> dict:
    return {"model": _finite(model), "baseline": _finite(baseline)}


def _finite(value: float) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _per_class_recall(run: LoadedRun, truth, raw, baseline) -> dict[str, dict]:
    """Each class's recall (the share of its rows predicted as it), model and baseline:
    what ``--class-weight`` trades for."""
    codes = truth.astype(np.int64)
    found = {}
    for name, output in (("model", raw), ("baseline", baseline)):
        predicted = run.target.probabilities(output).argmax(axis=1)
        found[name] = [
            float((predicted[codes == c] == c).mean()) if (codes == c).any() else float("nan")
            for c in range(len(run.target.classes_))
        ]
    return {
        str(label): _pair(found["model"][c], found["baseline"][c])
        for c, label in enumerate(run.target.classes_)
    }


def _regression(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    # sklearn loads on first use, not with this module
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    mse = mean_squared_error(truth, predicted)
    r2 = r2_score(truth, predicted) if len(truth) > 1 else float("nan")
    return {
        "mae": mean_absolute_error(truth, predicted),
        "mse": mse,
        "rmse": float(np.sqrt(mse)),
        "r2": r2,
    }


def _classification(run: LoadedRun, truth: np.ndarray, raw: np.ndarray, labels: list[int]):
    from sklearn.metrics import (  # sklearn loads on first use, not with this module
        accuracy_score,
        confusion_matrix,
        f1_score,
        log_loss,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    truth = truth.astype(np.int64)
    proba = run.target.probabilities(raw)
    predicted = proba.argmax(axis=1)
    values = {
        "accuracy": accuracy_score(truth, predicted),
        "log_loss": log_loss(truth, np.clip(proba, 1e-15, 1.0), labels=labels),
    }
    if run.task == "binary":
        values["precision"] = precision_score(truth, predicted, zero_division=0)
        values["recall"] = recall_score(truth, predicted, zero_division=0)
        values["f1"] = f1_score(truth, predicted, zero_division=0)
        both_classes = len(np.unique(truth)) == 2
        values["roc_auc"] = roc_auc_score(truth, proba[:, 1]) if both_classes else float("nan")
    else:
        values["macro_f1"] = f1_score(
            truth, predicted, labels=labels, average="macro", zero_division=0
        )
    matrix = confusion_matrix(truth, predicted, labels=labels).tolist()
    return values, matrix
