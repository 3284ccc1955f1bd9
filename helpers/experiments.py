"""One call per step for the model notebooks: fit, predict and score on a split protocol."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import models, results, splits, structures

SIZE_TARGET_NAMES = list(results.SIZE_TARGETS)  # the study's names, in its table's order


@dataclass
class LinearRun:
    protocol: str
    normalise: bool
    table: list = field(default_factory=list)  # tidy result rows
    y_true: dict = field(default_factory=dict)  # target -> test values
    y_pred: dict = field(default_factory=dict)  # target -> test predictions
    alphas: dict = field(default_factory=dict)  # target -> Ridge alpha chosen by CV
    confusion: pd.DataFrame | None = None


def run_linear(lib, protocol: str, normalise: bool, seed: int = 0, section: str = "III.1",
               input_name: str = "full") -> LinearRun:
    """Ridge (the three size targets) and logistic regression (shape) on one split protocol."""
    meta, X = lib.metadata, lib.intensities
    train, test = splits.split_indices(meta, protocol, seed=seed)
    run = LinearRun(protocol, normalise)
    tag = f"{input_name}{'_normalised' if normalise else ''}"
    Y = meta[[results.SIZE_TARGETS[t] for t in SIZE_TARGET_NAMES]].to_numpy(float)
    groups = meta["structure_id"].to_numpy()[train] if protocol == "grouped" else None
    ridge = models.ridge_model(normalise, seed=seed).fit(X[train], Y[train], ridge__groups=groups)
    pred = ridge.predict(X[test])
    for j, target in enumerate(SIZE_TARGET_NAMES):
        run.y_true[target], run.y_pred[target] = Y[test, j], pred[:, j]
        run.alphas[target] = float(ridge[-1].alpha_[j])
        run.table += results.rows(section, tag, "ridge", "clean", protocol, target,
                                  results.regression_metrics(Y[test, j], pred[:, j]))
    shapes = meta["shape"].to_numpy()
    logistic = models.logistic_model(normalise).fit(X[train], shapes[train])
    predicted = logistic.predict(X[test])
    run.y_true["shape"], run.y_pred["shape"] = shapes[test], predicted
    run.table += results.rows(section, tag, "logistic", "clean", protocol, "shape", results.accuracy(shapes[test], predicted))
    run.confusion = confusion_table(shapes[test], predicted)
    return run


def confusion_table(y_true, y_pred, labels=structures.SHAPES) -> pd.DataFrame:
    """Counts of (true row, predicted column), in the study's label order, for labels present."""
    present = [label for label in labels if label in set(y_true) | set(y_pred)]
    table = pd.crosstab(pd.Categorical(y_true, present), pd.Categorical(y_pred, present), dropna=False)
    table.index.name, table.columns.name = "true", "predicted"
    return table


@dataclass
class CNNRun:
    protocol: str
    target: str
    table: list = field(default_factory=list)
    history: dict = field(default_factory=dict)
    confusion: pd.DataFrame | None = None
    model_path: object = None


def cnn_labels(meta: pd.DataFrame, target: str) -> tuple[np.ndarray, list]:
    """Integer labels and their names: the 9 shapes (study order) or the 9 size classes."""
    if target == "shape":
        return meta["shape_index"].to_numpy(), list(structures.SHAPES)
    if target == "size_class":
        return models.size_class(meta["size_parameter_1"].to_numpy()), [f"size {k + models.SIZE_CLASS_OFFSET}"
                                                                         for k in range(models.N_SIZE_CLASSES)]
    raise ValueError(f"unknown CNN target {target!r}: use 'shape' or 'size_class'.")


def run_cnn(lib, protocol: str, target: str, seed: int = 0, epochs: int = 40, normalise: bool = False,
            section: str = "III.2", input_name: str = "full", validation_size: float = 0.15) -> CNNRun:
    """Train the study's CNN1D on one split protocol; early stopping on a validation part of the
    training set, split by the same protocol. Saves the model to models/<name>.keras."""
    from . import features, paths

    meta, X = lib.metadata, lib.intensities
    train, test = splits.split_indices(meta, protocol, seed=seed)
    _, val = splits.split_indices(meta.iloc[train].reset_index(drop=True), protocol, test_size=validation_size,
                                  seed=seed + 1, stratify=False)
    prep = features.feature_pipeline(normalise).fit(X[train])
    y, names = cnn_labels(meta, target)
    model, history = models.train_cnn(prep.transform(X[train]), y[train], len(names), seed=seed, epochs=epochs,
                                      validation_idx=val)
    predicted = models.predict_classes(model, prep.transform(X[test]))
    run = CNNRun(protocol, target, history=history)
    tag = f"{input_name}{'_normalised' if normalise else ''}"
    run.table = results.rows(section, tag, "cnn1d", "clean", protocol, target, results.accuracy(y[test], predicted))
    run.confusion = confusion_table(np.array(names)[y[test]], np.array(names)[predicted], labels=names)
    paths.MODELS_DIR.mkdir(exist_ok=True)
    run.model_path = paths.MODELS_DIR / f"cnn1d_{target}_{protocol}{'_smoke' if paths.smoke_mode() else ''}.keras"
    model.save(run.model_path)
    return run
