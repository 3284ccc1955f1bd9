"""Fitted models: fit, predict, score into tidy rows, and keep them on disk with their library.

A *model set* is a dict ``{name: model}`` with the names ``ridge`` (the three size targets at
once), ``logistic`` (shape) and ``cnn1d_<target>`` (a :class:`FittedCNN` per class target).
:func:`score` turns any model set into ``(model, target, metrics)`` dicts. :func:`load_or_train`
returns the models trained on clean curves of a split, reusing those saved under ``models/`` only
when they were trained on the same library (its fingerprint) with the same seed and format.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field

import joblib
import numpy as np
import pandas as pd

from .. import paths
from . import estimators, features, metrics, splits, targets

VALIDATION_SIZE = 0.15  # the part of a training set held out for a CNN's early stopping
#: early stopping of every CNN: keep the epoch of best validation accuracy, stop ``patience``
#: epochs later, halve the learning rate after ``lr_patience`` epochs without progress. Watching
#: the validation loss stopped the grouped CNNs after 1-5 epochs while their accuracy still rose.
EARLY_STOPPING = {"monitor": "val_accuracy", "patience": 20, "lr_patience": 5}


def library_id(lib) -> str:
    """Short fingerprint of a library's contents (the SHA-256 of its files, from its manifest)."""
    digest = hashlib.sha256(json.dumps(lib.manifest["sha256"], sort_keys=True).encode())
    return digest.hexdigest()[:16]


def validation_rows(
    meta: pd.DataFrame, train, protocol: str, size: float = VALIDATION_SIZE, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Split the training rows ``train`` into (fit rows, validation rows) by the same protocol
    (whole structures for ``grouped``), with seed ``seed + 1``. Returns positions into ``meta``."""
    train = np.asarray(train)
    _, val = splits.split_indices(
        meta.iloc[train].reset_index(drop=True),
        protocol,
        test_size=size,
        seed=seed + 1,
        stratify="where_possible",
    )
    return np.setdiff1d(train, train[val]), train[val]


# --- fitting -------------------------------------------------------------------------------------


def fit_linear(
    X,
    meta,
    train,
    protocol: str,
    normalise: bool = False,
    seed: int = 0,
    repair: bool = False,
    logistic_Cs=estimators.LOGISTIC_CS,
):
    """Ridge (the three size targets at once) and logistic regression (shape) on the rows
    ``train``.

    Ridge's alpha and the logistic C are chosen inside ``train`` (whole structures held out
    together for the grouped protocol). Pass ``logistic_Cs=(C,)`` to reuse a C chosen before."""
    groups = meta["structure_id"].to_numpy()[train] if protocol == "grouped" else None
    ridge = estimators.ridge_model(normalise, seed=seed, repair=repair)
    ridge.fit(X[train], targets.size_targets(meta)[train], ridge__groups=groups)
    logistic = estimators.logistic_model(normalise, Cs=logistic_Cs, repair=repair, seed=seed)
    logistic.fit(X[train], meta["shape"].to_numpy()[train], logistic__groups=groups)
    return ridge, logistic


def chosen_C(logistic) -> float:
    """The C a fitted logistic model (a pipeline or a :class:`ValidatedLogistic`) chose."""
    model = logistic[-1] if hasattr(logistic, "steps") else logistic
    return float(model.C_)


@dataclass
class FittedCNN:
    """A trained CNN1D with the feature preparation fitted on its training curves."""

    prep: object
    model: object
    target: str
    names: list
    history: dict = field(default_factory=dict)

    @property
    def classes_(self) -> list:
        """The labels of the columns of :meth:`predict_proba`."""
        return list(self.names)

    def predict(self, X) -> np.ndarray:
        """Class indices (into :attr:`names`)."""
        return estimators.predict_classes(self.model, self.prep.transform(X))

    def predict_proba(self, X) -> np.ndarray:
        """Softmax probabilities, one column per label of :attr:`names`."""
        return estimators.predict_proba(self.model, self.prep.transform(X))


def fit_cnn(
    X,
    meta,
    train,
    protocol: str,
    target: str,
    seed: int = 0,
    epochs: int = 40,
    normalise: bool = False,
    repair: bool = False,
    validation_size: float = VALIDATION_SIZE,
    early_stopping: dict | None = None,
) -> FittedCNN:
    """Train the CNN1D on the rows ``train``; early stopping on a validation part of them, split by
    the same protocol (so that the grouped protocol also validates on unseen particles, stratified
    by shape wherever a shape has two training structures or more). ``early_stopping``: options of
    :func:`helpers.learning.estimators.train_cnn`, default :data:`EARLY_STOPPING`."""
    early_stopping = EARLY_STOPPING if early_stopping is None else early_stopping
    train = np.asarray(train)
    _, val = validation_rows(meta, train, protocol, validation_size, seed)
    prep = features.feature_pipeline(normalise, repair).fit(X[train])
    y, names = targets.class_labels(meta, target)
    model, history = estimators.train_cnn(
        prep.transform(X[train]),
        y[train],
        len(names),
        seed=seed,
        epochs=epochs,
        validation_idx=np.flatnonzero(np.isin(train, val)),
        **early_stopping,
    )
    return FittedCNN(prep, model, target, names, history)


def fit_all(
    X,
    meta,
    train,
    protocol: str,
    seed: int = 0,
    epochs: int = 40,
    families=None,
    logistic_C=None,
    repair: bool = False,
) -> dict:
    """A model set of ``families`` (default all: ridge, logistic, cnn1d for :data:`CNN_TARGETS`)
    fitted on the rows ``train`` of the curves ``X``. ``logistic_C``: reuse this C instead of
    choosing it again on validation data (four fits instead of one)."""
    families = set(families or ("ridge", "logistic", "cnn1d"))
    unknown = families - {"ridge", "logistic", "cnn1d"}
    if unknown:
        raise ValueError(f"unknown model families {sorted(unknown)}: use ridge, logistic, cnn1d.")
    fitted = {}
    if families & {"ridge", "logistic"}:
        Cs = (logistic_C,) if logistic_C is not None else estimators.LOGISTIC_CS
        ridge, logistic = fit_linear(
            X, meta, train, protocol, seed=seed, repair=repair, logistic_Cs=Cs
        )
        fitted.update(
            {k: v for k, v in (("ridge", ridge), ("logistic", logistic)) if k in families}
        )
    if "cnn1d" in families:
        for target in targets.CNN_TARGETS:
            fitted[f"cnn1d_{target}"] = fit_cnn(
                X, meta, train, protocol, target, seed, epochs, repair=repair
            )
    return fitted


# --- scoring -------------------------------------------------------------------------------------


def score_predictions(
    meta, rows, size_pred=None, shape_pred=None, class_preds=None, converged=None
) -> list[dict]:
    """(model, target, metrics) dicts of predictions for the library rows ``rows``: Ridge's
    ``size_pred`` (n, 3) for the size targets, logistic regression's ``shape_pred`` (labels; with
    ``converged``, whether its fit converged), and ``class_preds`` {target: class indices} of the
    CNNs. ``meta`` is the whole library's metadata (the size classes are defined on all of it)."""
    part = meta.iloc[rows]
    out = []
    if size_pred is not None:
        true = targets.size_targets(part)
        for j, target in enumerate(targets.SIZE_TARGET_NAMES):
            scores = metrics.regression_metrics(true[:, j], size_pred[:, j])
            out.append(dict(model="ridge", target=target, metrics=scores))
    if shape_pred is not None:
        scores = metrics.accuracy(part["shape"].to_numpy(), shape_pred)
        if converged is not None:
            scores["converged"] = float(converged)
        out.append(dict(model="logistic", target="shape", metrics=scores))
    for target, pred in (class_preds or {}).items():
        y = targets.class_labels(meta, target)[0][rows]
        out.append(dict(model="cnn1d", target=target, metrics=metrics.accuracy(y, pred)))
    return out


def score(fitted: dict, X_rows, meta, rows, repair: bool = False) -> list[dict]:
    """Score every model of a model set on the curves ``X_rows`` of the library rows ``rows``: a
    list of (model, target, metrics) dicts (:func:`score_predictions`).

    ``repair=True`` fills NaN and zero-count points by interpolation of log I (for degraded
    curves); the models given are not changed (a repairing copy is scored)."""
    out = []
    for name, model in fitted.items():
        model = repairing(model) if repair else model
        if name == "ridge":
            out += score_predictions(meta, rows, size_pred=model.predict(X_rows))
        elif name == "logistic":
            converged = getattr(model[-1], "converged_", True)
            out += score_predictions(
                meta, rows, shape_pred=model.predict(X_rows), converged=converged
            )
        else:
            out += score_predictions(meta, rows, class_preds={model.target: model.predict(X_rows)})
    return out


def repairing(model):
    """A copy of a fitted model whose features fill NaN and zero-count points by interpolation
    of log I (for degraded curves); the model given is not changed."""
    model = copy.deepcopy(model)
    if isinstance(model, FittedCNN):
        model.prep.set_params(log10__repair=True)
    else:
        model.set_params(features__log10__repair=True)
    return model


# --- models on disk ------------------------------------------------------------------------------

#: Bumped when the saved linear models change meaning (2: logistic C chosen on validation data), so
#: that models saved by older code are trained again rather than reused.
LINEAR_FORMAT = 2


def _model_path(stem: str, suffix: str):
    paths.MODELS_DIR.mkdir(exist_ok=True)
    return paths.MODELS_DIR / f"{stem}{'_smoke' if paths.smoke_mode() else ''}{suffix}"


def _linear_stem(protocol, normalise):
    return f"linear_{protocol}{'_normalised' if normalise else ''}"


def _cnn_stem(protocol, target, normalise):
    return f"cnn1d_{target}_{protocol}{'_normalised' if normalise else ''}"


def _dump(obj, path) -> None:
    """joblib.dump through a temporary file moved into place (never a half-written model)."""
    paths.write_atomically(path, lambda tmp: joblib.dump(obj, tmp))


def save_linear(lib, protocol, normalise, seed, ridge, logistic):
    record = {
        "library": library_id(lib),
        "seed": seed,
        "format": LINEAR_FORMAT,
        "ridge": ridge,
        "logistic": logistic,
    }
    _dump(record, _model_path(_linear_stem(protocol, normalise), ".joblib"))


def save_cnn(lib, protocol, normalise, seed, fitted: FittedCNN, epochs: int):
    path = _model_path(_cnn_stem(protocol, fitted.target, normalise), ".keras")
    paths.write_atomically(path, fitted.model.save)
    _dump(
        {
            "library": library_id(lib),
            "seed": seed,
            "epochs": epochs,
            "prep": fitted.prep,
            "names": fitted.names,
            "history": fitted.history,
        },
        path.with_suffix(".joblib"),
    )
    return path


def _load_record(path, lib, seed, fmt=None):
    if not path.exists():
        return None
    record = joblib.load(path)
    if (
        record.get("library") != library_id(lib)
        or record.get("seed") != seed
        or record.get("format") != fmt
    ):
        return None
    return record


#: the epoch cap of the clean CNNs the baseline trains (notebook 03's) and later chapters reuse
CLEAN_EPOCHS = 150


def load_or_train(
    lib,
    protocol: str,
    seed: int = 0,
    epochs: int = CLEAN_EPOCHS,
    normalise: bool = False,
    cnn_targets=targets.CNN_TARGETS,
) -> dict:
    """The model set trained on clean curves of ``protocol``'s training split, as the baseline
    study saved it; any model that is missing, or was trained on another library or seed (a CNN:
    or with another epoch cap ``epochs``), is trained now and saved, so that a chapter gets the
    same clean models whichever chapter ran first."""
    fitted = {}
    linear_path = _model_path(_linear_stem(protocol, normalise), ".joblib")
    record = _load_record(linear_path, lib, seed, LINEAR_FORMAT)
    if record is None:
        print(
            f"training the clean linear models ({protocol} split): "
            "none saved for this library and seed"
        )
        train, _ = splits.split_indices(lib.metadata, protocol, seed=seed)
        ridge, logistic = fit_linear(
            lib.intensities, lib.metadata, train, protocol, normalise, seed
        )
        save_linear(lib, protocol, normalise, seed, ridge, logistic)
    else:
        ridge, logistic = record["ridge"], record["logistic"]
    fitted["ridge"], fitted["logistic"] = ridge, logistic
    for target in cnn_targets:
        path = _model_path(_cnn_stem(protocol, target, normalise), ".keras")
        record = _load_record(path.with_suffix(".joblib"), lib, seed)
        if record is None or not path.exists() or record.get("epochs") != epochs:
            print(
                f"training the clean CNN1D for {target} ({protocol} split): "
                f"none saved for this library, seed and cap of {epochs} epochs"
            )
            train, _ = splits.split_indices(lib.metadata, protocol, seed=seed)
            cnn = fit_cnn(
                lib.intensities, lib.metadata, train, protocol, target, seed, epochs, normalise
            )
            save_cnn(lib, protocol, normalise, seed, cnn, epochs)
        else:
            cnn = FittedCNN(
                record["prep"],
                estimators.load_cnn(path),
                target,
                record["names"],
                record["history"],
            )
        fitted[f"cnn1d_{target}"] = cnn
    return fitted
