"""One call per step for the model notebooks: fit, predict, score, and keep trained models on disk.

Models are fitted on a split of a library (or of degraded curves of it) and saved under ``models/``
with the identity of the library and the seed they were trained with, so that later notebooks reuse
the clean models of 02 and 03 instead of training them again (:func:`clean_models`), and never reuse
a model trained on other data.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import joblib
import numpy as np
import pandas as pd

from . import features, models, paths, results, splits, structures

SIZE_TARGET_NAMES = list(results.SIZE_TARGETS)  # the study's names, in its table's order
CNN_TARGETS = ("shape", "size_class")  # the targets of every notebook; 03 also reports "size_parameter"


def library_id(lib) -> str:
    """Short fingerprint of a library's contents (the SHA-256 of its files, from its manifest)."""
    return hashlib.sha256(json.dumps(lib.manifest["sha256"], sort_keys=True).encode()).hexdigest()[:16]


def size_targets(meta: pd.DataFrame) -> np.ndarray:
    return meta[[results.SIZE_TARGETS[t] for t in SIZE_TARGET_NAMES]].to_numpy(float)


def cnn_labels(meta: pd.DataFrame, target: str) -> tuple[np.ndarray, list]:
    """Integer labels and their names: the 9 shapes (study order), the 9 size classes (ninths of
    ln n_atoms over the library's structures, named by their atom-count range) or the 9 values of the
    builder's size parameter (see :mod:`helpers.models`)."""
    if target == "shape":
        return meta["shape_index"].to_numpy(), list(structures.SHAPES)
    if target == "size_class":
        edges = models.size_class_edges(meta)
        bounds = np.concatenate([[meta["n_atoms"].min()], np.exp(edges), [meta["n_atoms"].max()]])
        names = [f"{bounds[k]:.0f}-{bounds[k + 1]:.0f} atoms" for k in range(models.N_SIZE_CLASSES)]
        return models.size_class(meta["log_n_atoms"].to_numpy(), edges), names
    if target == "size_parameter":
        return models.size_parameter_class(meta["size_parameter_1"].to_numpy()), [
            f"size {k + models.SIZE_PARAMETER_OFFSET}" for k in range(models.N_SIZE_CLASSES)]
    raise ValueError(f"unknown CNN target {target!r}: use 'shape', 'size_class' or 'size_parameter'.")


# --- fitting ---------------------------------------------------------------------------------------

def fit_linear(X, meta, train, protocol: str, normalise: bool = False, seed: int = 0, repair: bool = False,
               logistic_Cs=models.LOGISTIC_CS):
    """Ridge (the three size targets at once) and logistic regression (shape) on the rows ``train``.

    Ridge's alpha and the logistic C are chosen inside ``train`` (whole structures held out together
    for the grouped protocol). Pass ``logistic_Cs=(C,)`` to reuse a C chosen before."""
    groups = meta["structure_id"].to_numpy()[train] if protocol == "grouped" else None
    ridge = models.ridge_model(normalise, seed=seed, repair=repair).fit(X[train], size_targets(meta)[train],
                                                                       ridge__groups=groups)
    logistic = models.logistic_model(normalise, Cs=logistic_Cs, repair=repair, seed=seed).fit(
        X[train], meta["shape"].to_numpy()[train], logistic__groups=groups)
    return ridge, logistic


def chosen_C(logistic) -> float:
    """The C a fitted logistic pipeline chose on its validation data."""
    return float(logistic[-1].C_)


@dataclass
class FittedCNN:
    """A trained CNN1D with the feature pipeline fitted on its training curves."""
    prep: object
    model: object
    target: str
    names: list
    history: dict = field(default_factory=dict)

    def predict(self, X) -> np.ndarray:
        return models.predict_classes(self.model, self.prep.transform(X))


def fit_cnn(X, meta, train, protocol: str, target: str, seed: int = 0, epochs: int = 40, normalise: bool = False,
            repair: bool = False, validation_size: float = 0.15) -> FittedCNN:
    """Train the CNN1D on the rows ``train``; early stopping on a validation part of them, split by the
    same protocol (so that the grouped protocol also validates on unseen particles)."""
    _, val = splits.split_indices(meta.iloc[train].reset_index(drop=True), protocol, test_size=validation_size,
                                  seed=seed + 1, stratify=False)
    prep = features.feature_pipeline(normalise, repair).fit(X[train])
    y, names = cnn_labels(meta, target)
    model, history = models.train_cnn(prep.transform(X[train]), y[train], len(names), seed=seed, epochs=epochs,
                                      validation_idx=val)
    return FittedCNN(prep, model, target, names, history)


def score(fitted: dict, X_rows, meta, rows) -> list[dict]:
    """Score every fitted model on the curves ``X_rows`` of the library rows ``rows``: a list of
    (model, target, metrics) dicts. ``meta`` is the whole library's metadata (the size classes are
    defined on all its structures).

    ``fitted`` maps 'ridge', 'logistic', 'cnn1d_shape', 'cnn1d_size_class' (any subset) to models.
    Missing or zero-count points are filled by interpolation (``repair``), as for degraded data."""
    out = []
    part = meta.iloc[rows]
    for name, model in fitted.items():
        if name == "ridge":
            _repairing(model)
            pred, true = model.predict(X_rows), size_targets(part)
            for j, target in enumerate(SIZE_TARGET_NAMES):
                out.append(dict(model="ridge", target=target, metrics=results.regression_metrics(true[:, j], pred[:, j])))
        elif name == "logistic":
            _repairing(model)
            out.append(dict(model="logistic", target="shape",
                            metrics=results.accuracy(part["shape"].to_numpy(), model.predict(X_rows))))
        else:
            model.prep.set_params(log10__repair=True)
            y = cnn_labels(meta, model.target)[0][rows]
            out.append(dict(model="cnn1d", target=model.target, metrics=results.accuracy(y, model.predict(X_rows))))
    return out


def _repairing(pipeline):
    pipeline.set_params(features__log10__repair=True)


# --- models on disk --------------------------------------------------------------------------------

def _model_path(stem: str, suffix: str):
    paths.MODELS_DIR.mkdir(exist_ok=True)
    return paths.MODELS_DIR / f"{stem}{'_smoke' if paths.smoke_mode() else ''}{suffix}"


def _linear_stem(protocol, normalise):
    return f"linear_{protocol}{'_normalised' if normalise else ''}"


def _cnn_stem(protocol, target, normalise):
    return f"cnn1d_{target}_{protocol}{'_normalised' if normalise else ''}"


#: Bumped when the saved linear models change meaning (2: logistic C chosen on validation data), so
#: that models saved by older code are trained again rather than reused.
LINEAR_FORMAT = 2


def save_linear(lib, protocol, normalise, seed, ridge, logistic):
    joblib.dump({"library": library_id(lib), "seed": seed, "format": LINEAR_FORMAT, "ridge": ridge, "logistic": logistic},
                _model_path(_linear_stem(protocol, normalise), ".joblib"))


def save_cnn(lib, protocol, normalise, seed, fitted: FittedCNN, epochs: int):
    path = _model_path(_cnn_stem(protocol, fitted.target, normalise), ".keras")
    fitted.model.save(path)
    joblib.dump({"library": library_id(lib), "seed": seed, "epochs": epochs, "prep": fitted.prep,
                 "names": fitted.names, "history": fitted.history}, path.with_suffix(".joblib"))
    return path


def _load_record(path, lib, seed, fmt=None):
    if not path.exists():
        return None
    record = joblib.load(path)
    if record.get("library") != library_id(lib) or record.get("seed") != seed or record.get("format") != fmt:
        return None
    return record


def clean_models(lib, protocol: str, seed: int = 0, epochs: int = 40, normalise: bool = False,
                 cnn_targets=CNN_TARGETS) -> dict:
    """The models trained on clean curves of ``protocol``'s training split, as notebooks 02 and 03 saved
    them; any that is missing, or was trained on another library or seed, is trained now and saved."""
    fitted = {}
    record = _load_record(_model_path(_linear_stem(protocol, normalise), ".joblib"), lib, seed, LINEAR_FORMAT)
    if record is None:
        print(f"training the clean linear models ({protocol} split): none saved for this library and seed")
        train, _ = splits.split_indices(lib.metadata, protocol, seed=seed)
        ridge, logistic = fit_linear(lib.intensities, lib.metadata, train, protocol, normalise, seed)
        save_linear(lib, protocol, normalise, seed, ridge, logistic)
    else:
        ridge, logistic = record["ridge"], record["logistic"]
    fitted["ridge"], fitted["logistic"] = ridge, logistic
    for target in cnn_targets:
        path = _model_path(_cnn_stem(protocol, target, normalise), ".keras")
        record = _load_record(path.with_suffix(".joblib"), lib, seed)
        if record is None or not path.exists():
            print(f"training the clean CNN1D for {target} ({protocol} split): none saved for this library and seed")
            train, _ = splits.split_indices(lib.metadata, protocol, seed=seed)
            cnn = fit_cnn(lib.intensities, lib.metadata, train, protocol, target, seed, epochs, normalise)
            save_cnn(lib, protocol, normalise, seed, cnn, epochs)
        else:
            cnn = FittedCNN(record["prep"], models.load_cnn(path), target, record["names"], record["history"])
        fitted[f"cnn1d_{target}"] = cnn
    return fitted


# --- the notebooks' runs -----------------------------------------------------------------------------

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
    confusion: pd.DataFrame | None = None


def run_linear(lib, protocol: str, normalise: bool, seed: int = 0, section: str = "III.1",
               input_name: str = "full") -> LinearRun:
    """Ridge (the three size targets) and logistic regression (shape) on one split protocol; saved."""
    meta, X = lib.metadata, lib.intensities
    train, test = splits.split_indices(meta, protocol, seed=seed)
    ridge, logistic = fit_linear(X, meta, train, protocol, normalise, seed)
    save_linear(lib, protocol, normalise, seed, ridge, logistic)
    run = LinearRun(protocol, normalise)
    tag = f"{input_name}{'_normalised' if normalise else ''}"
    Y, pred = size_targets(meta)[test], ridge.predict(X[test])
    for j, target in enumerate(SIZE_TARGET_NAMES):
        run.y_true[target], run.y_pred[target] = Y[:, j], pred[:, j]
        run.alphas[target] = float(ridge[-1].alpha_[j])
        run.table += results.rows(section, tag, "ridge", "clean", protocol, target,
                                  results.regression_metrics(Y[:, j], pred[:, j]))
    run.logistic_C, run.validation_accuracy = chosen_C(logistic), dict(logistic[-1].validation_accuracy_)
    shapes = meta["shape"].to_numpy()[test]
    predicted = logistic.predict(X[test])
    run.y_true["shape"], run.y_pred["shape"] = shapes, predicted
    run.table += results.rows(section, tag, "logistic", "clean", protocol, "shape", results.accuracy(shapes, predicted))
    run.confusion = confusion_table(shapes, predicted)
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


def run_cnn(lib, protocol: str, target: str, seed: int = 0, epochs: int = 40, normalise: bool = False,
            section: str = "III.2", input_name: str = "full", validation_size: float = 0.15) -> CNNRun:
    """Train the study's CNN1D on one split protocol and score it; saved to models/<name>.keras."""
    meta, X = lib.metadata, lib.intensities
    train, test = splits.split_indices(meta, protocol, seed=seed)
    cnn = fit_cnn(X, meta, train, protocol, target, seed, epochs, normalise, validation_size=validation_size)
    y, names = cnn_labels(meta, target)
    predicted = cnn.predict(X[test])
    run = CNNRun(protocol, target, history=cnn.history)
    tag = f"{input_name}{'_normalised' if normalise else ''}"
    run.table = results.rows(section, tag, "cnn1d", "clean", protocol, target, results.accuracy(y[test], predicted))
    run.confusion = confusion_table(np.array(names)[y[test]], np.array(names)[predicted], labels=names)
    run.model_path = save_cnn(lib, protocol, normalise, seed, cnn, epochs)
    return run
