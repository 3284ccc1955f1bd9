"""Feature preparation of I(q) curves as scikit-learn transformers.

- :class:`LogIntensity`: log10 I(q). Curves with NaN, infinite or non-positive values raise a clear
  error, unless ``repair=True``, which fills them by linear interpolation of log10 I over q
  (and raises if a curve has fewer than two valid points).
- :class:`PerCurveNormaliser`: subtracts each curve's own mean of log10 I, i.e. divides I(q) by its
  geometric mean. The absolute level, which grows as N^2 f(0)^2, then cannot give the size away:
  the transform of c * I equals that of I for any c > 0.
- :func:`feature_pipeline`: log10 -> (optional per-curve normalisation) -> standardisation.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler


def _as_curves(X) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"curves must be a 2-D array (n_curves, n_q), got shape {X.shape}.")
    return X


def repair_curves(X: np.ndarray) -> np.ndarray:
    """Fill NaN, infinite and non-positive points of each curve by linear interpolation of log10 I
    over the point index (constant beyond the ends). Returns log10 values."""
    X = _as_curves(X)
    out = np.empty_like(X)
    idx = np.arange(X.shape[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(X)
    for k, row in enumerate(logs):
        good = np.isfinite(row)
        if good.sum() < 2:
            raise ValueError(
                f"curve {k} has fewer than 2 valid (finite, > 0) points: "
                "it cannot be repaired; drop it."
            )
        out[k] = row if good.all() else np.interp(idx, idx[good], row[good])
    return out


class LogIntensity(TransformerMixin, BaseEstimator):
    """log10 of the intensities; invalid points raise unless ``repair=True``."""

    def __init__(self, repair: bool = False):
        self.repair = repair

    def fit(self, X, y=None):
        self.n_features_in_ = _as_curves(X).shape[1]
        return self

    def transform(self, X):
        X = _as_curves(X)
        if X.shape[1] != getattr(self, "n_features_in_", X.shape[1]):
            raise ValueError(
                f"curves have {X.shape[1]} q points, "
                f"the transformer was fitted on {self.n_features_in_}."
            )
        bad = ~np.isfinite(X) | (X <= 0)
        if bad.any():
            if not self.repair:
                rows = np.flatnonzero(bad.any(axis=1))
                raise ValueError(
                    f"{rows.size} curve(s) (first: {rows[:5].tolist()}) contain NaN, infinite "
                    f"or non-positive intensities ({int(bad.sum())} points): clean them, "
                    "or use LogIntensity(repair=True) / "
                    "feature_pipeline(repair=True) to interpolate over the missing points."
                )
            return repair_curves(X)
        return np.log10(X)


class PerCurveNormaliser(TransformerMixin, BaseEstimator):
    """Subtract each curve's mean log10 intensity (divide I by its geometric mean): scale-free
    curves."""

    def fit(self, X, y=None):
        self.n_features_in_ = _as_curves(X).shape[1]
        return self

    def transform(self, X):
        X = _as_curves(X)
        return X - X.mean(axis=1, keepdims=True)


def feature_pipeline(normalise: bool = False, repair: bool = False) -> Pipeline:
    """log10 -> (per-curve normalisation if ``normalise``) -> StandardScaler, as one Pipeline."""
    steps = [("log10", LogIntensity(repair=repair))]
    if normalise:
        steps.append(("per_curve", PerCurveNormaliser()))
    steps.append(("standardise", StandardScaler()))
    return Pipeline(steps)


class MaskedFeatures:
    """Measured curves (NaN where not measured) -> standardised log10 I, 0 where not measured, and
    the mask as a second channel. Fitted on training curves (the standardisation uses measured
    points only).

    ``scale_free=True`` first subtracts each curve's own mean log10 I over its measured points: a
    curve in arbitrary units (any overall factor c > 0) then gives the same features as the curve
    itself, so that no model can read the absolute level I(0) ∝ N² f(0)², which a measurement
    without absolute calibration does not provide."""

    def __init__(self, scale_free: bool = False):
        self.scale_free = scale_free

    def fit(self, I, mask):
        logs = self._logs(I, mask)
        # q points that no training curve measured get mean 0, scale 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            self.mean_ = np.nanmean(logs, axis=0)
            self.scale_ = np.nanstd(logs, axis=0)
        self.mean_ = np.where(np.isfinite(self.mean_), self.mean_, 0.0)
        self.scale_ = np.where(np.isfinite(self.scale_) & (self.scale_ > 0), self.scale_, 1.0)
        return self

    def _logs(self, I, mask):
        I = np.asarray(I, dtype=float)
        # zero counts inside the window interpolated
        filled = repair_curves(np.where(mask, I, np.nan))
        logs = np.where(mask, filled, np.nan)
        if getattr(self, "scale_free", False):
            logs = logs - np.nanmean(logs, axis=1, keepdims=True)
        return logs

    def transform(self, I, mask, channels: int = 2) -> np.ndarray:
        Z = np.nan_to_num((self._logs(I, mask) - self.mean_) / self.scale_, nan=0.0)
        if channels == 1:
            return Z
        return np.stack([Z, np.asarray(mask, dtype=float)], axis=-1)
