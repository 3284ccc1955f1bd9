"""Metrics and the tidy results table shared by every model notebook.

Each notebook writes ``results/<notebook-stem>.csv`` with the columns of :data:`COLUMNS`; the words
are the study's (``data/reference/study_results.csv``): model ridge / logistic / cnn1d; protocol
clean / simple_prediction / training_and_prediction; split random / grouped; target log_n_Atoms /
Size_parameter_1 / sqrt_log_eq_radius / shape / size_class; metric MSE / test_variance / Q2 / accuracy.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import paths

COLUMNS = ["section", "input", "model", "protocol", "split", "target", "metric", "level", "value"]
#: the study's target names -> metadata columns
SIZE_TARGETS = {"log_n_Atoms": "log_n_atoms", "Size_parameter_1": "size_parameter_1", "sqrt_log_eq_radius": "sqrt_log_eq_radius"}


def regression_metrics(y_true, y_pred) -> dict[str, float]:
    """MSE, variance of the test targets, and Q2 = 1 - MSE / variance (as the study's tables)."""
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape or y_true.size < 2:
        raise ValueError(f"y_true and y_pred must have the same shape and >= 2 values, got {y_true.shape}, {y_pred.shape}.")
    mse = float(np.mean((y_true - y_pred) ** 2))
    var = float(np.var(y_true))
    return {"MSE": mse, "test_variance": var, "Q2": 1.0 - mse / var if var > 0 else float("nan")}


def accuracy(y_true, y_pred) -> dict[str, float]:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError("y_true and y_pred must be non-empty and of the same shape.")
    return {"accuracy": float(np.mean(y_true == y_pred))}


def headline(table) -> pd.DataFrame:
    """The one metric each model is judged by: Q2 for Ridge, accuracy for the classifiers."""
    table = pd.DataFrame(table)
    return table[((table["model"] == "ridge") & (table["metric"] == "Q2")) | (table["metric"] == "accuracy")]


def rows(section, input, model, protocol, split, target, metrics: dict, level=np.nan) -> list[dict]:
    """Tidy rows, one per metric."""
    return [dict(section=section, input=input, model=model, protocol=protocol, split=split, target=target,
                 metric=m, level=level, value=v) for m, v in metrics.items()]


def write_results(table, notebook_stem: str):
    """Write ``results/<notebook_stem>.csv`` (results/smoke/ in smoke mode) and return its path."""
    df = pd.DataFrame(table)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"results table lacks columns {missing}: build it with helpers.results.rows(...).")
    path = paths.results_dir() / f"{notebook_stem}.csv"
    df[COLUMNS].to_csv(path, index=False)
    return path


def study_results() -> pd.DataFrame:
    """The study's published numbers (references to compare against, never outputs)."""
    return pd.read_csv(paths.REFERENCE_DIR / "study_results.csv")


def side_by_side(table) -> pd.DataFrame:
    """The study's numbers next to ours, one row per (section, input, model, protocol, target, metric),
    one column per split, for rows the study reported."""
    ours = pd.DataFrame(table)
    ours = ours[ours["level"].isna()] if "level" in ours else ours
    keys = ["section", "input", "model", "protocol", "target", "metric"]
    wide = ours.pivot_table(index=keys, columns="split", values="value", aggfunc="first")
    wide.columns = [f"ours_{c}" for c in wide.columns]
    study = study_results().rename(columns={"value": "study"}).set_index(keys)
    merged = study.join(wide, how="inner")
    return merged.reset_index()
