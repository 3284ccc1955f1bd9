"""Scores of predictions, as plain dicts of named numbers (one definition for every chapter).

- :func:`regression_metrics`: MSE, the variance of the test targets and Q² = 1 - MSE / variance,
  as the study's tables give them;
- :func:`accuracy`: the fraction of correct labels;
- :func:`confusion_table`: counts of (true, predicted) labels in a given label order.
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
