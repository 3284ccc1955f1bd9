"""The study's models: Ridge per size target, multinomial logistic regression for the shape, CNN1D.

Linear models are scikit-learn Pipelines (features -> estimator). Ridge's alpha is chosen by
5-fold cross-validation inside the training set; for the grouped protocol the folds keep whole
structures together (otherwise near-copies across folds would choose too little regularisation).

The CNN is the study's architecture (Conv1D(32,3) - MaxPool(2) - Conv1D(64,3) - MaxPool(2) -
Flatten - Dense(n_classes, softmax)); :func:`build_cnn1d` takes the input length so that later
notebooks (coarser q steps, SAXS or WAXS only) reuse it. Training is seeded and deterministic,
``verbose=0``, with early stopping on a validation split taken from the training set only.
"""
from __future__ import annotations

import os

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, KFold
from sklearn.pipeline import Pipeline

from . import features

RIDGE_ALPHAS = np.logspace(-4, 4, 17)

#: Size classes of the CNN (the study's Dense(9) head; its own size classes were not published).
#: ``size_class``: the ninths of the particle size, i.e. 9 bins of ln n_atoms whose edges are the
#: 1/9 ... 8/9 quantiles over the library's structures (each structure counted once): a physical size
#: that means the same for every shape. ``size_parameter``: the builder's size argument 2..10
#: (nOrder / nShell / nLayer / sizeP), class = value - 2; the same value is a different size in each
#: shape (a cube of nOrder 5 and an icosahedron of nShell 5 differ in size and atom count).
N_SIZE_CLASSES = 9
SIZE_PARAMETER_OFFSET = 2


def size_class_edges(meta) -> np.ndarray:
    """The 8 inner edges (in ln n_atoms) of the 9 size classes: quantiles over the library's structures."""
    per_structure = meta.drop_duplicates("structure_id")["log_n_atoms"].to_numpy(float)
    if per_structure.size < N_SIZE_CLASSES:
        raise ValueError(f"{per_structure.size} structures cannot define {N_SIZE_CLASSES} size classes: "
                         f"use a library with at least {N_SIZE_CLASSES} structures.")
    return np.quantile(per_structure, np.arange(1, N_SIZE_CLASSES) / N_SIZE_CLASSES)


def size_class(log_n_atoms, edges) -> np.ndarray:
    """Size class 0..8 of each curve: the bin of ln n_atoms between ``edges`` (a value on an edge goes up)."""
    return np.searchsorted(np.asarray(edges, dtype=float), np.asarray(log_n_atoms, dtype=float), side="right")


def size_parameter_class(size_parameter_1) -> np.ndarray:
    """Class 0..8 of the builder's size parameter 2..10 (value - 2)."""
    values = np.asarray(size_parameter_1)
    if np.any((values < SIZE_PARAMETER_OFFSET) | (values >= SIZE_PARAMETER_OFFSET + N_SIZE_CLASSES)):
        raise ValueError("size_parameter_1 must lie in 2..10 to be a size-parameter class.")
    return (values - SIZE_PARAMETER_OFFSET).astype(int)


class EigenRidgeCV(RegressorMixin, BaseEstimator):
    """Ridge regression with alpha chosen per target by K-fold CV, one eigendecomposition per fold.

    With the centred Gram matrix X^T X = V diag(e) V^T, the ridge coefficients for every alpha are
    V diag(1 / (e + alpha)) V^T X^T y, so all alphas (and all columns of a 2-D y) cost one p x p
    eigendecomposition per fold. ``fit(X, y, groups=...)`` keeps groups (whole structures) together
    in the folds.
    """

    def __init__(self, alphas=RIDGE_ALPHAS, n_splits: int = 5, seed: int = 0):
        self.alphas = alphas
        self.n_splits = n_splits
        self.seed = seed

    @staticmethod
    def _path(X, Y):
        from scipy.linalg import eigh

        x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
        Xc = X - x_mean
        evals, V = eigh(Xc.T @ Xc)
        vtxy = V.T @ (Xc.T @ (Y - y_mean))  # (p, t)
        return x_mean, y_mean, np.clip(evals, 0, None), V, vtxy

    def fit(self, X, y, groups=None):
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        Y = y[:, None] if y.ndim == 1 else y
        alphas = np.asarray(self.alphas, dtype=float)
        folds = (GroupKFold(n_splits=self.n_splits).split(X, Y, groups) if groups is not None
                 else KFold(n_splits=self.n_splits, shuffle=True, random_state=self.seed).split(X))
        sse = np.zeros((alphas.size, Y.shape[1]))
        for train, val in folds:
            x_mean, y_mean, evals, V, vtxy = self._path(X[train], Y[train])
            W = (X[val] - x_mean) @ V
            for a, alpha in enumerate(alphas):
                pred = W @ (vtxy / (evals + alpha)[:, None]) + y_mean
                sse[a] += ((pred - Y[val]) ** 2).sum(axis=0)
        self.cv_mse_ = sse / len(X)
        best = np.argmin(self.cv_mse_, axis=0)
        self.alpha_ = alphas[best] if y.ndim > 1 else float(alphas[best[0]])
        x_mean, y_mean, evals, V, vtxy = self._path(X, Y)
        coef = np.stack([V @ (vtxy[:, t] / (evals + alphas[b])) for t, b in enumerate(best)], axis=1)  # (p, t)
        self.coef_ = coef[:, 0] if y.ndim == 1 else coef.T
        intercept = y_mean - x_mean @ coef
        self.intercept_ = float(intercept[0]) if y.ndim == 1 else intercept
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        X = np.asarray(X, dtype=float)
        return X @ np.asarray(self.coef_).T + self.intercept_


def ridge_model(normalise: bool = False, seed: int = 0, repair: bool = False) -> Pipeline:
    """Pipeline(features, EigenRidgeCV): alpha chosen per target by 5-fold CV inside the training data.

    For the grouped protocol pass the training structure ids, ``fit(X, y, ridge__groups=ids)``, so
    that the folds keep structures together. ``y`` may hold several targets as columns.
    """
    return Pipeline([("features", features.feature_pipeline(normalise, repair)), ("ridge", EigenRidgeCV(seed=seed))])


def logistic_model(normalise: bool = False, C: float = 1.0, repair: bool = False) -> Pipeline:
    """Pipeline(features, multinomial LogisticRegression) for the shape."""
    return Pipeline([
        ("features", features.feature_pipeline(normalise, repair)),
        ("logistic", LogisticRegression(C=C, max_iter=3000, tol=1e-4)),
    ])


def _keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hides harmless C++ graph-attribute messages
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # hides "tf.function retracing" notes when models of other input lengths run
    return keras


def build_cnn1d(input_length: int = 1999, n_classes: int = 9, seed: int = 0, channels: int = 1):
    """The study's CNN1D; for 1999 inputs and 9 classes it has 128 / 6,208 / 286,857 parameters.
    ``channels=2`` takes a measured-point mask beside the intensities (notebook 10)."""
    keras = _keras()
    if input_length < 10:
        raise ValueError(f"input_length {input_length} is too short for two conv+pool stages (need >= 10).")
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    model = keras.Sequential([
        keras.Input(shape=(input_length, channels)),
        layers.Conv1D(32, 3, activation="relu"),
        layers.MaxPooling1D(2),
        layers.Conv1D(64, 3, activation="relu"),
        layers.MaxPooling1D(2),
        layers.Flatten(),
        layers.Dense(n_classes, activation="softmax"),
    ], name="cnn1d")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train_cnn(X_train, y_train, n_classes: int, seed: int = 0, epochs: int = 40, batch_size: int = 64,
              validation_idx=None, patience: int = 10, lr_patience: int | None = 4):
    """Train the CNN1D deterministically on (n, L) features; returns (model, history dict).

    ``validation_idx``: positions inside the training set used for early stopping (take them from
    the training set only, e.g. with :func:`helpers.splits.split_indices` on the training metadata).
    Early stopping waits ``patience`` epochs without a better validation loss and restores the best
    weights; with ``lr_patience`` the learning rate is halved after that many epochs without progress
    (Adam at a fixed 1e-3 plateaus before the size classes are separated).
    """
    keras = _keras()
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    X_train = _channels(X_train)
    y_train = np.asarray(y_train)
    model = build_cnn1d(X_train.shape[1], n_classes, seed, channels=X_train.shape[2])
    fit_kwargs = {}
    if validation_idx is not None and len(validation_idx):
        keep = np.setdiff1d(np.arange(len(X_train)), validation_idx)
        fit_kwargs["validation_data"] = (X_train[validation_idx], y_train[validation_idx])
        callbacks = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)]
        if lr_patience:
            callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=lr_patience,
                                                               min_lr=1e-5, verbose=0))
        fit_kwargs["callbacks"] = callbacks
        X_fit, y_fit = X_train[keep], y_train[keep]
    else:
        X_fit, y_fit = X_train, y_train
    history = model.fit(X_fit, y_fit, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0,
                        **fit_kwargs)
    return model, history.history


def _channels(X) -> np.ndarray:
    """(n, L) features -> (n, L, 1); (n, L, c) kept."""
    X = np.asarray(X, dtype="float32")
    if X.ndim == 2:
        return X[:, :, None]
    if X.ndim == 3:
        return X
    raise ValueError(f"CNN features must be (n_curves, n_q) or (n_curves, n_q, channels), got shape {X.shape}.")


def predict_classes(model, X) -> np.ndarray:
    return np.argmax(model.predict(_channels(X), verbose=0, batch_size=256), axis=1)


def summary_table(model) -> str:
    """Layer, output shape and parameter count of a Keras model, as plain deterministic text."""
    lines = [f"{'layer':<14}{'output shape':<20}{'params':>10}"]
    for layer in model.layers:
        shape = tuple(layer.output.shape)
        lines.append(f"{layer.__class__.__name__:<14}{str(shape):<20}{layer.count_params():>10,}")
    lines.append(f"{'total':<34}{model.count_params():>10,}")
    return "\n".join(lines)


def load_cnn(path):
    """A CNN saved with ``model.save(path)`` (``.keras``)."""
    return _keras().saving.load_model(path)
