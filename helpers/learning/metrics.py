"""Scores of predictions, as plain dicts of named numbers (one definition for every chapter).

- :func:`regression_metrics`: MSE, the variance of the test targets and Q² = 1 - MSE / variance,
  as the study's tables give them;
- :func:`accuracy`: the fraction of correct labels;
- :func:`confusion_table`: counts of (true, predicted) labels in a given label order;
- :func:`reliability_table`, :func:`expected_calibration_error`: whether predicted class
  probabilities mean what they say (of the curves predicted with confidence 0.9, 90 % right);
- :func:`interval_coverage`: the fraction of true values inside predicted intervals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def regression_metrics(y_true, y_pred) -> dict[str, float]:
    """MSE, variance of the test targets, and Q2 = 1 - MSE / variance (as the study's tables)."""
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape or y_true.size < 2:
        raise ValueError(
            "y_true and y_pred must have the same shape and >= 2 values, "
            f"got {y_true.shape}, {y_pred.shape}."
        )
    mse = float(np.mean((y_true - y_pred) ** 2))
    var = float(np.var(y_true))
    return {"MSE": mse, "test_variance": var, "Q2": 1.0 - mse / var if var > 0 else float("nan")}


def accuracy(y_true, y_pred) -> dict[str, float]:
    """The fraction of ``y_pred`` equal to ``y_true``."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError("y_true and y_pred must be non-empty and of the same shape.")
    return {"accuracy": float(np.mean(y_true == y_pred))}


def confusion_table(y_true, y_pred, labels) -> pd.DataFrame:
    """Counts of (true row, predicted column), in the order of ``labels``, for labels present."""
    present = [label for label in labels if label in set(y_true) | set(y_pred)]
    table = pd.crosstab(
        pd.Categorical(y_true, present), pd.Categorical(y_pred, present), dropna=False
    )
    table.index.name, table.columns.name = "true", "predicted"
    return table


def _checked_proba(proba, y_true) -> tuple[np.ndarray, np.ndarray]:
    proba = np.asarray(proba, dtype=float)
    y_true = np.asarray(y_true)
    if proba.ndim != 2 or proba.shape[0] == 0 or proba.shape[1] < 2:
        raise ValueError(
            f"proba must be (n_samples, n_classes) with n_classes >= 2, got shape {proba.shape}."
        )
    if y_true.shape != (proba.shape[0],):
        raise ValueError(
            f"y_true must hold one class index per row of proba ({proba.shape[0]}), "
            f"got shape {y_true.shape}."
        )
    if not np.issubdtype(y_true.dtype, np.integer):
        raise ValueError(
            "y_true must be integer class indices (columns of proba), "
            f"got dtype {y_true.dtype}: map labels to indices first."
        )
    if y_true.min() < 0 or y_true.max() >= proba.shape[1]:
        raise ValueError(f"y_true holds class indices outside 0..{proba.shape[1] - 1}.")
    if (
        np.any(~np.isfinite(proba))
        or np.any(proba < 0)
        or np.any(np.abs(proba.sum(axis=1) - 1.0) > 1e-4)
    ):
        raise ValueError("every row of proba must hold finite probabilities >= 0 summing to 1.")
    return proba, y_true


def reliability_table(proba, y_true, n_bins: int = 15) -> pd.DataFrame:
    """Confidence against accuracy: the predicted class of each row is its most probable one, its
    confidence that probability; binned by :func:`reliability_bins`. A calibrated model has
    accuracy = confidence in every bin."""
    proba, y_true = _checked_proba(proba, y_true)
    return reliability_bins(proba.max(axis=1), proba.argmax(axis=1) == y_true, n_bins)


def reliability_bins(confidence, correct, n_bins: int = 15) -> pd.DataFrame:
    """Rows put in ``n_bins`` equal-width bins of ``confidence`` (the probability of the predicted
    class, in [0, 1]; a confidence on an inner edge goes to the upper bin, 1.0 to the last); per
    bin ``low``, ``high``, ``confidence`` (mean), ``accuracy`` (fraction of rows whose prediction
    was ``correct``) and ``count`` (NaN means for empty bins)."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct)
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be an integer >= 1, got {n_bins!r}.")
    if confidence.ndim != 1 or confidence.shape != correct.shape or confidence.size == 0:
        raise ValueError(
            "confidence and correct must be 1-D arrays of one equal, non-zero length, got shapes "
            f"{confidence.shape} and {correct.shape}."
        )
    if correct.dtype != bool:
        raise ValueError(f"correct must be booleans (prediction == truth), got {correct.dtype}.")
    if np.any(~np.isfinite(confidence)) or np.any((confidence < 0) | (confidence > 1)):
        raise ValueError("every confidence must be a probability in [0, 1].")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="right") - 1, 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        inside = which == b
        count = int(inside.sum())
        rows.append(
            {
                "low": edges[b],
                "high": edges[b + 1],
                "confidence": float(confidence[inside].mean()) if count else float("nan"),
                "accuracy": float(correct[inside].mean()) if count else float("nan"),
                "count": count,
            }
        )
    return pd.DataFrame(rows)


def expected_calibration_error(proba, y_true, n_bins: int = 15) -> float:
    """ECE: the count-weighted mean over the bins of :func:`reliability_table` of
    |accuracy - confidence|. 0 for calibrated probabilities (up to the sampling noise of the bins),
    up to 1 for confident and always wrong ones."""
    table = reliability_table(proba, y_true, n_bins)
    full = table[table["count"] > 0]
    gap = (full["accuracy"] - full["confidence"]).abs()
    return float((gap * full["count"]).sum() / full["count"].sum())


def interval_coverage(y, low, high) -> float:
    """The fraction of the values ``y`` with ``low <= y <= high`` (a 90 % interval of a calibrated
    model covers about 0.9)."""
    y, low, high = (np.asarray(a, dtype=float) for a in (y, low, high))
    if not (y.shape == low.shape == high.shape) or y.size == 0:
        raise ValueError(
            f"y, low and high must be non-empty and of one shape, got {y.shape}, {low.shape}, "
            f"{high.shape}."
        )
    if np.any(~np.isfinite(y)) or np.any(np.isnan(low)) or np.any(np.isnan(high)):
        raise ValueError("y must be finite and the interval bounds not NaN.")
    if np.any(low > high):
        raise ValueError("every interval needs low <= high.")
    return float(np.mean((low <= y) & (y <= high)))
