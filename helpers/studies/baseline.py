"""The baseline chapters: Ridge and logistic regression, and the study's CNN1D, on clean curves.

Each run fits on one split protocol, scores on its test set, saves the models for the later
chapters (:func:`helpers.learning.model_set.load_or_train`) and returns what the chapter shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..learning import estimators, metrics, model_set, splits, targets
from ..report import results
from ..simulation import structures


@dataclass
class LinearRun:
    protocol: str
    normalise: bool
    table: list = field(default_factory=list)  # tidy result rows
    y_true: dict = field(default_factory=dict)  # target -> test values
    y_pred: dict = field(default_factory=dict)  # target -> test predictions
    alphas: dict = field(default_factory=dict)  # target -> Ridge alpha chosen by CV
    logistic_C: float = float("nan")  # the logistic C chosen on validation data
    validation_accuracy: dict = field(default_factory=dict)  # C -> validation accuracy
    converged: bool = True  # whether lbfgs met its tolerance within max_iter
    confusion: pd.DataFrame | None = None


def run_linear(
    lib,
    protocol: str,
    normalise: bool,
    seed: int = 0,
    section: str = "III.1",
    input_name: str = "full",
) -> LinearRun:
    """Ridge (the three size targets) and logistic regression (shape) on one split; saved."""
    meta, X = lib.metadata, lib.intensities
    train, test = splits.split_indices(meta, protocol, seed=seed)
    ridge, logistic = model_set.fit_linear(X, meta, train, protocol, normalise, seed)
    model_set.save_linear(lib, protocol, normalise, seed, ridge, logistic)
    run = LinearRun(protocol, normalise)
    tag = f"{input_name}{'_normalised' if normalise else ''}"
    Y, pred = targets.size_targets(meta)[test], ridge.predict(X[test])
    for j, target in enumerate(targets.SIZE_TARGET_NAMES):
        run.y_true[target], run.y_pred[target] = Y[:, j], pred[:, j]
        run.alphas[target] = float(ridge[-1].alpha_[j])
        run.table += results.rows(
            section,
            tag,
            "ridge",
            "clean",
            protocol,
            target,
            metrics.regression_metrics(Y[:, j], pred[:, j]),
        )
    run.logistic_C = model_set.chosen_C(logistic)
    run.validation_accuracy = dict(logistic[-1].validation_accuracy_)
    run.converged = bool(logistic[-1].converged_)
    shapes = meta["shape"].to_numpy()[test]
    predicted = logistic.predict(X[test])
    run.y_true["shape"], run.y_pred["shape"] = shapes, predicted
    run.table += results.rows(
        section, tag, "logistic", "clean", protocol, "shape", metrics.accuracy(shapes, predicted)
    )
    run.confusion = metrics.confusion_table(shapes, predicted, structures.SHAPES)
    return run


@dataclass
class CNNRun:
    protocol: str
    target: str
    table: list = field(default_factory=list)
    history: dict = field(default_factory=dict)
    confusion: pd.DataFrame | None = None
    model_path: object = None


def run_cnn(
    lib,
    protocol: str,
    target: str,
    seed: int = 0,
    epochs: int = 40,
    normalise: bool = False,
    section: str = "III.2",
    input_name: str = "full",
    validation_size: float = model_set.VALIDATION_SIZE,
    early_stopping: dict | None = None,
) -> CNNRun:
    """Train the study's CNN1D on one split and score it; saved to models/<name>.keras."""
    meta, X = lib.metadata, lib.intensities
    train, test = splits.split_indices(meta, protocol, seed=seed)
    cnn = model_set.fit_cnn(
        X,
        meta,
        train,
        protocol,
        target,
        seed,
        epochs,
        normalise,
        validation_size=validation_size,
        early_stopping=early_stopping,
    )
    y, names = targets.class_labels(meta, target)
    predicted = cnn.predict(X[test])
    run = CNNRun(protocol, target, history=cnn.history)
    tag = f"{input_name}{'_normalised' if normalise else ''}"
    run.table = results.rows(
        section, tag, "cnn1d", "clean", protocol, target, metrics.accuracy(y[test], predicted)
    )
    run.confusion = metrics.confusion_table(
        np.array(names)[y[test]], np.array(names)[predicted], labels=names
    )
    run.model_path = model_set.save_cnn(lib, protocol, normalise, seed, cnn, epochs)
    return run


def run_confounds(
    lib, protocol: str, C: float, seed: int = 0, section: str = "III.1"
) -> list[dict]:
    """How much of the 9-class shape accuracy is shape: logistic regression (the C of the 9-class
    model) trained and tested on the five fcc single-crystal shapes alone (they differ by shape
    only), and a lattice-type classifier (fcc / bcc / icosahedral / decahedral) on every curve.
    Tidy rows with inputs ``fcc_single_crystals`` and ``all`` (target ``lattice``)."""
    meta, X = lib.metadata, lib.intensities
    train, test = splits.split_indices(meta, protocol, seed=seed)
    groups = meta["structure_id"].to_numpy() if protocol == "grouped" else None
    table = []
    fcc = meta["shape"].isin(targets.FCC_SINGLE_CRYSTALS).to_numpy()
    lattice, names = targets.class_labels(meta, "lattice")
    for input_name, rows_ok, y, target in (
        ("fcc_single_crystals", fcc, meta["shape"].to_numpy(), "shape"),
        ("all", np.ones(len(meta), bool), lattice, "lattice"),
    ):
        fit_rows, test_rows = train[rows_ok[train]], test[rows_ok[test]]
        model = estimators.logistic_model(Cs=(C,), seed=seed)
        model.fit(
            X[fit_rows], y[fit_rows], logistic__groups=None if groups is None else groups[fit_rows]
        )
        scores = metrics.accuracy(y[test_rows], model.predict(X[test_rows]))
        scores["converged"] = float(model[-1].converged_)
        table += results.rows(section, input_name, "logistic", "clean", protocol, target, scores)
    return table
