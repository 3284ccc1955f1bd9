"""The estimators: Ridge per size target, multinomial logistic regression for the shape, CNN1D.

Linear models are scikit-learn Pipelines (features -> estimator). Ridge's alpha is chosen by
5-fold cross-validation inside the training set; for the grouped protocol the folds keep whole
structures together (otherwise near-copies across folds would choose too little regularisation).
The logistic regression's C is chosen the same way on one validation part of the training set
(:class:`ValidatedLogistic`).

The CNN is the study's architecture (Conv1D(32,3) - MaxPool(2) - Conv1D(64,3) - MaxPool(2) -
Flatten - Dense(n_classes, softmax)); :func:`build_cnn1d` takes the input length so that later
notebooks (coarser q steps, SAXS or WAXS only) reuse it. Training is seeded and deterministic,
``verbose=0``, with early stopping on a validation split taken from the training set only.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, GroupShuffleSplit, KFold, StratifiedShuffleSplit
from sklearn.pipeline import Pipeline

from . import features

RIDGE_ALPHAS = np.logspace(-4, 4, 17)
LOGISTIC_CS = (
    0.1,
    1.0,
    10.0,
    100.0,
)  # inverse regularisation strengths tried by ValidatedLogistic


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
        """Centring, eigenvalues e and eigenvectors V of X^T X, and V^T X^T y. With fewer rows
        than columns (n < p) the n x n Gram matrix X X^T = U diag(e) U^T is decomposed instead:
        its nonzero eigenvalues are those of X^T X with V = X^T U diag(e)^-1/2, and the rest of
        X^T X's eigenvectors meet X^T y in zero, so the ridge path is the same at a fraction of
        the cost (n x n instead of p x p)."""
        from scipy.linalg import eigh

        x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
        Xc = X - x_mean
        if Xc.shape[0] < Xc.shape[1]:
            evals, U = eigh(Xc @ Xc.T)
            keep = evals > evals.max() * Xc.shape[0] * np.finfo(float).eps
            evals, U = evals[keep], U[:, keep]
            V = (Xc.T @ U) / np.sqrt(evals)
        else:
            evals, V = eigh(Xc.T @ Xc)
        vtxy = V.T @ (Xc.T @ (Y - y_mean))  # (p, t), or (rank, t)
        return x_mean, y_mean, np.clip(evals, 0, None), V, vtxy

    def fit(self, X, y, groups=None):
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        Y = y[:, None] if y.ndim == 1 else y
        alphas = np.asarray(self.alphas, dtype=float)
        folds = (
            GroupKFold(n_splits=self.n_splits).split(X, Y, groups)
            if groups is not None
            else KFold(n_splits=self.n_splits, shuffle=True, random_state=self.seed).split(X)
        )
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
        coef = np.stack(
            [V @ (vtxy[:, t] / (evals + alphas[b])) for t, b in enumerate(best)], axis=1
        )  # (p, t)
        self.coef_ = coef[:, 0] if y.ndim == 1 else coef.T
        intercept = y_mean - x_mean @ coef
        self.intercept_ = float(intercept[0]) if y.ndim == 1 else intercept
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        X = np.asarray(X, dtype=float)
        return X @ np.asarray(self.coef_).T + self.intercept_


class ValidatedLogistic(ClassifierMixin, BaseEstimator):
    """Multinomial logistic regression whose C is chosen on a validation part of the training data.

    ``fit(X, y, groups=...)`` holds out ``validation_size`` of the training rows (whole groups,
    i.e. structures, when ``groups`` is given; stratified by class otherwise), fits every C of
    ``Cs`` on the rest, keeps the C with the best validation accuracy (ties: the smaller C, i.e.
    the stronger regularisation) and refits on all training rows. The test set is never seen. One
    hold-out rather than K folds because each lbfgs fit on the full grid takes about a minute on 2
    cores; the fits along ``Cs`` (increasing) are warm-started from the previous one. With a single
    C no validation is done (e.g. to reuse the C chosen on clean data when models are retrained on
    degraded curves).
    """

    def __init__(
        self,
        Cs=LOGISTIC_CS,
        validation_size: float = 0.2,
        seed: int = 0,
        max_iter: int = 3000,
        tol: float = 1e-4,
    ):
        self.Cs = Cs
        self.validation_size = validation_size
        self.seed = seed
        self.max_iter = max_iter
        self.tol = tol

    def _logistic(self, C, warm_from=None):
        model = LogisticRegression(
            C=C, max_iter=self.max_iter, tol=self.tol, warm_start=warm_from is not None
        )
        if warm_from is not None:
            model.coef_, model.intercept_ = warm_from.coef_.copy(), warm_from.intercept_.copy()
        return model

    def fit(self, X, y, groups=None):
        X = np.asarray(X, dtype=float)
        y = np.asarray(y)
        Cs = sorted(float(C) for C in np.atleast_1d(self.Cs))
        if not Cs or min(Cs) <= 0:
            raise ValueError(
                f"Cs must hold positive inverse regularisation strengths, got {self.Cs!r}."
            )
        self.validation_accuracy_ = {}
        best_fit = None
        if len(Cs) > 1:
            if groups is not None:
                splitter = GroupShuffleSplit(
                    n_splits=1, test_size=self.validation_size, random_state=self.seed
                )
                fit_rows, val_rows = next(splitter.split(X, y, groups))
            else:
                splitter = StratifiedShuffleSplit(
                    n_splits=1, test_size=self.validation_size, random_state=self.seed
                )
                fit_rows, val_rows = next(splitter.split(X, y))
            previous, fits = None, {}
            for C in Cs:
                with warnings.catch_warnings():  # validation fits: only their accuracy matters
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    previous = self._logistic(C, previous).fit(X[fit_rows], y[fit_rows])
                fits[C] = previous
                self.validation_accuracy_[C] = float(
                    np.mean(previous.predict(X[val_rows]) == y[val_rows])
                )
            best = max(self.validation_accuracy_.values())
            self.C_ = min(C for C, acc in self.validation_accuracy_.items() if acc == best)
            best_fit = fits[self.C_]
            if not np.array_equal(best_fit.classes_, np.unique(y)):
                best_fit = None  # a class absent from the fit rows: no warm start from that fit
        else:
            self.C_ = Cs[0]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            self.model_ = self._logistic(self.C_, best_fit).fit(X, y)
        #: False when lbfgs stopped at max_iter before meeting its tolerance (the warning is kept
        #: here instead of printed; scores report it as the metric ``converged``)
        self.converged_ = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        self.classes_, self.coef_, self.intercept_ = (
            self.model_.classes_,
            self.model_.coef_,
            self.model_.intercept_,
        )
        self.n_iter_, self.n_features_in_ = self.model_.n_iter_, X.shape[1]
        return self

    def decision_function(self, X):
        return self.model_.decision_function(X)

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.model_.predict(X)


def ridge_model(normalise: bool = False, seed: int = 0, repair: bool = False) -> Pipeline:
    """Pipeline(features, EigenRidgeCV): alpha chosen per target by 5-fold CV inside the training
    data.

    For the grouped protocol pass the training structure ids, ``fit(X, y, ridge__groups=ids)``, so
    that the folds keep structures together. ``y`` may hold several targets as columns.
    """
    return Pipeline(
        [
            ("features", features.feature_pipeline(normalise, repair)),
            ("ridge", EigenRidgeCV(seed=seed)),
        ]
    )


def logistic_model(
    normalise: bool = False, Cs=LOGISTIC_CS, repair: bool = False, seed: int = 0
) -> Pipeline:
    """Pipeline(features, multinomial logistic regression) for the shape, C chosen on a validation
    part of the training data (:class:`ValidatedLogistic`). For the grouped protocol pass the
    training structure ids, ``fit(X, y, logistic__groups=ids)``."""
    return Pipeline(
        [
            ("features", features.feature_pipeline(normalise, repair)),
            ("logistic", ValidatedLogistic(Cs=Cs, seed=seed)),
        ]
    )


@contextlib.contextmanager
def _native_stderr_silenced():
    """Send the process's file descriptor 2 to /dev/null for the duration: TensorFlow's C++
    start-up lines ("Could not find cuda drivers", "oneDNN custom operations") are written there
    before any logging setting applies. Python exceptions still propagate."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _keras():
    os.environ.setdefault(
        "TF_CPP_MIN_LOG_LEVEL", "3"
    )  # hides harmless C++ graph-attribute messages
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if "tensorflow" not in sys.modules:
        with _native_stderr_silenced():
            import tensorflow  # noqa: F401
    import keras
    import tensorflow as tf

    tf.get_logger().setLevel(
        "ERROR"
    )  # hides "tf.function retracing" notes for other input lengths
    return keras


def one_thread():
    """TensorFlow imported quietly (:func:`_keras`) with one thread in each of its pools, set
    before any operation runs: for worker processes that share the cores with each other."""
    _keras()
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def build_cnn1d(input_length: int = 1999, n_classes: int = 9, seed: int = 0, channels: int = 1):
    """The study's CNN1D; for 1999 inputs and 9 classes it has 128 / 6,208 / 286,857 parameters.
    ``channels=2`` takes a measured-point mask beside the intensities (notebook 10)."""
    keras = _keras()
    if input_length < 10:
        raise ValueError(
            f"input_length {input_length} is too short for two conv+pool stages (need >= 10)."
        )
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input(shape=(input_length, channels)),
            layers.Conv1D(32, 3, activation="relu"),
            layers.MaxPooling1D(2),
            layers.Conv1D(64, 3, activation="relu"),
            layers.MaxPooling1D(2),
            layers.Flatten(),
            layers.Dense(n_classes, activation="softmax"),
        ],
        name="cnn1d",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _rotating_versions(keras, versions, y, batch_size: int, seed: int):
    """A keras dataset over (rounds, n, L, c) augmented versions of n curves: epoch e shows version
    e mod rounds of every curve, in a seeded random order."""

    class RotatingVersions(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.epoch, self.rng = 0, np.random.default_rng(seed)
            self.order = self.rng.permutation(versions.shape[1])

        def __len__(self):
            return int(np.ceil(versions.shape[1] / batch_size))

        def __getitem__(self, i):
            idx = self.order[i * batch_size : (i + 1) * batch_size]
            return versions[self.epoch % len(versions)][idx], y[idx]

        def on_epoch_end(self):
            self.epoch += 1
            self.order = self.rng.permutation(versions.shape[1])

    return RotatingVersions()


def train_cnn(
    X_train,
    y_train,
    n_classes: int,
    seed: int = 0,
    epochs: int = 40,
    batch_size: int = 64,
    validation_idx=None,
    patience: int = 10,
    lr_patience: int | None = 4,
    validation_data=None,
    monitor: str = "val_loss",
):
    """Train the CNN1D deterministically; returns (model, history dict).

    ``X_train``: (n, L) or (n, L, c) features, or (rounds, n, L, c) augmented versions of the same
    n curves, of which each epoch shows the next one (fresh noise every epoch, so that the network
    cannot learn the noise of its training curves by heart; notebook 10).
    ``validation_idx``: positions inside the training set used for early stopping (take them from
    the training set only, e.g. with :func:`helpers.splits.split_indices` on the training
    metadata); or give ``validation_data=(X_val, y_val)`` directly. Early stopping waits
    ``patience`` epochs without a better ``monitor`` ("val_loss" or "val_accuracy") and restores
    the best weights; with ``lr_patience`` the learning rate is halved after that many epochs
    without progress of the same quantity (Adam at a fixed 1e-3 plateaus before the size classes
    are separated).
    """
    if monitor not in ("val_loss", "val_accuracy"):
        raise ValueError(f"monitor must be 'val_loss' or 'val_accuracy', got {monitor!r}.")
    keras = _keras()
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    y_train = np.asarray(y_train)
    pooled = np.ndim(X_train) == 4
    X_train = np.asarray(X_train, dtype="float32") if pooled else _channels(X_train)
    if X_train.shape[-3] != len(y_train):
        raise ValueError(f"{X_train.shape[-3]} training curves but {len(y_train)} labels.")
    model = build_cnn1d(X_train.shape[-2], n_classes, seed, channels=X_train.shape[-1])
    fit_kwargs = {}
    if validation_idx is not None and len(validation_idx):
        if validation_data is not None or pooled:
            raise ValueError(
                "give validation_idx (rows of a plain training set) or validation_data, not both."
            )
        keep = np.setdiff1d(np.arange(len(X_train)), validation_idx)
        validation_data = (X_train[validation_idx], y_train[validation_idx])
        X_train, y_train = X_train[keep], y_train[keep]
    if validation_data is not None:
        fit_kwargs["validation_data"] = (
            _channels(validation_data[0]),
            np.asarray(validation_data[1]),
        )
        mode = "min" if monitor == "val_loss" else "max"
        callbacks = [
            keras.callbacks.EarlyStopping(
                monitor=monitor, mode=mode, patience=patience, restore_best_weights=True
            )
        ]
        if lr_patience:
            callbacks.append(
                keras.callbacks.ReduceLROnPlateau(
                    monitor=monitor,
                    mode=mode,
                    factor=0.5,
                    patience=lr_patience,
                    min_lr=1e-5,
                    verbose=0,
                )
            )
        fit_kwargs["callbacks"] = callbacks
    if pooled:
        data = _rotating_versions(keras, X_train, y_train, batch_size, seed)
        history = model.fit(data, epochs=epochs, verbose=0, **fit_kwargs)
    else:
        history = model.fit(
            X_train,
            y_train,
            epochs=epochs,
            batch_size=batch_size,
            shuffle=True,
            verbose=0,
            **fit_kwargs,
        )
    return model, history.history


def _channels(X) -> np.ndarray:
    """(n, L) features -> (n, L, 1); (n, L, c) kept."""
    X = np.asarray(X, dtype="float32")
    if X.ndim == 2:
        return X[:, :, None]
    if X.ndim == 3:
        return X
    raise ValueError(
        f"CNN features must be (n_curves, n_q) or (n_curves, n_q, channels), got shape {X.shape}."
    )


def predict_proba(model, X) -> np.ndarray:
    """The softmax output of a CNN for features ``X`` ((n, L) or (n, L, c))."""
    return model.predict(_channels(X), verbose=0, batch_size=256)


def predict_classes(model, X) -> np.ndarray:
    return np.argmax(predict_proba(model, X), axis=1)


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
