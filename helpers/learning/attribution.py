"""Which q-ranges drive a prediction: attributions for the CNN and the linear models.

All attributions work in the models' own feature space (standardised log10 I, see
:mod:`helpers.learning.features`), where 0 is the training set's mean curve: "removing" a q-range
means replacing it by the average curve there, i.e. the information that distinguishes this curve.

- :func:`occlusion`: slide a window of ``width`` points over q, set the features inside to the
  baseline and record how much the probability of the true class falls (CNN or any classifier).
- :func:`integrated_gradients`: (x - x0) times the gradient averaged on the straight path from the
  baseline x0 to x (Sundararajan et al. 2017); its sum over q equals f(x) - f(x0) (completeness),
  and for a linear model it is exactly coefficient x (x - x0).
- :func:`linear_attribution`: coefficient x feature of a fitted linear pipeline (Ridge or
  logistic).
- :func:`band_permutation_importance`: the loss of a score when one q band is shuffled between
  curves (works on any fitted pipeline, through its own feature preparation).
"""

from __future__ import annotations

import numpy as np


def windows(n_q: int, width: int, stride: int) -> list[slice]:
    """Slices of ``width`` points every ``stride`` points covering 0..n_q (the last one may be
    shorter)."""
    if width < 1 or stride < 1:
        raise ValueError(f"width and stride must be >= 1 points, got {width} and {stride}.")
    return [slice(start, min(start + width, n_q)) for start in range(0, n_q, stride)]


def occlusion(
    predict_proba,
    Z,
    labels,
    width: int = 20,
    stride: int = 10,
    baseline: float = 0.0,
    batch_size: int = 8192,
):
    """Fall of the true-class probability when each q window is replaced by ``baseline``.

    ``predict_proba``: features (n, L) -> probabilities (n, n_classes). Returns ``(slices, drop)``
    with ``drop`` of shape (n_curves, n_windows): p_true(Z) - p_true(Z with the window
    occluded). The occluded copies of several windows go to ``predict_proba`` together, at
    most ``batch_size`` curves per call (a network's predict costs much more per call than
    per curve)."""
    Z = np.asarray(Z, dtype="float32")
    labels = np.asarray(labels)
    rows = np.arange(len(Z))
    reference = predict_proba(Z)[rows, labels]
    slices = windows(Z.shape[1], width, stride)
    drop = np.empty((len(Z), len(slices)))
    per_call = max(batch_size // max(len(Z), 1), 1)  # windows per call
    for first in range(0, len(slices), per_call):
        chunk = slices[first : first + per_call]
        occluded = np.repeat(Z[None], len(chunk), axis=0)  # (windows, n, L)
        for k, sl in enumerate(chunk):
            occluded[k, :, sl] = baseline
        flat = occluded.reshape(len(chunk) * len(Z), Z.shape[1])
        probs = np.concatenate(
            [predict_proba(flat[i : i + batch_size]) for i in range(0, len(flat), batch_size)]
        ).reshape(len(chunk), len(Z), -1)
        drop[:, first : first + len(chunk)] = (reference[None] - probs[:, rows, labels]).T
    return slices, drop


def integrated_gradients(
    model, Z, labels, steps: int = 32, baseline=None, batch_size: int = 256
) -> np.ndarray:
    """Integrated gradients of the output ``labels`` (one class per curve) of a Keras model taking
    (n, L, 1) inputs, with the straight path from ``baseline`` (default 0, the mean curve) to each
    curve, by the midpoint rule with ``steps`` points. Returns (n, L)."""
    import tensorflow as tf

    Z = np.asarray(Z, dtype="float32")
    x0 = (
        np.zeros_like(Z[:1])
        if baseline is None
        else np.broadcast_to(np.asarray(baseline, "float32"), Z[:1].shape)
    )
    alphas = (np.arange(steps, dtype="float32") + 0.5) / steps
    out = np.empty_like(Z)
    for start in range(0, len(Z), batch_size):
        z = Z[start : start + batch_size]
        lab = np.asarray(labels)[start : start + batch_size]
        total = np.zeros_like(z)
        for a in alphas:
            x = tf.constant((x0 + a * (z - x0))[:, :, None])
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = model(x, training=False)
                picked = tf.gather(y, lab, axis=1, batch_dims=1)
            total += tape.gradient(picked, x).numpy()[:, :, 0]
        out[start : start + batch_size] = (z - x0) * total / steps
    return out


def linear_attribution(pipeline, X, output: int = 0) -> np.ndarray:
    """coefficient x feature of the last step of a fitted linear pipeline, per curve and q point:
    the contribution of each q to the prediction (Ridge: target ``output``; logistic: class
    ``output``)."""
    Z = pipeline[:-1].transform(X)
    coef = np.atleast_2d(pipeline[-1].coef_)
    if coef.shape[-1] != Z.shape[1]:
        raise ValueError(
            f"the model has {coef.shape[-1]} coefficients "
            f"but the features have {Z.shape[1]} points."
        )
    return Z * coef[output]


def band_permutation_importance(score, X, bands, seed: int = 0, repeats: int = 3) -> np.ndarray:
    """Mean fall of ``score(X)`` when the points of each band (a slice) are shuffled jointly
    between curves (the curve keeps the rest of its points). Returns one value per band."""
    rng = np.random.default_rng(seed)
    reference = score(X)
    out = np.zeros(len(bands))
    for k, band in enumerate(bands):
        for _ in range(repeats):
            shuffled = X.copy()
            shuffled[:, band] = X[rng.permutation(len(X))][:, band]
            out[k] += (reference - score(shuffled)) / repeats
    return out


def per_class(values, labels, n_classes: int) -> np.ndarray:
    """Mean of ``values`` (n, ...) over the curves of each class: (n_classes, ...)."""
    labels = np.asarray(labels)
    return np.stack(
        [
            values[labels == c].mean(axis=0)
            if np.any(labels == c)
            else np.full(values.shape[1:], np.nan)
            for c in range(n_classes)
        ]
    )


def to_profile(slices, values, n_q: int) -> np.ndarray:
    """Spread per-window values (..., n_windows) over the q points: each point gets the mean of the
    windows that cover it. Returns (..., n_q)."""
    values = np.asarray(values, dtype=float)
    total = np.zeros(values.shape[:-1] + (n_q,))
    count = np.zeros(n_q)
    for k, sl in enumerate(slices):
        total[..., sl] += values[..., k : k + 1]
        count[sl] += 1
    return total / np.maximum(count, 1)


def importance_per_q(q, profile, bands) -> np.ndarray:
    """Mean importance per unit of q in each band ``(q_lo, q_hi)``: the integral of the
    non-negative profile over the band (trapezoid rule in q) divided by the band's width. Unlike a
    sum over points, this does not grow with the number of grid points a band holds."""
    q = np.asarray(q, dtype=float)
    weight = np.clip(np.asarray(profile, dtype=float), 0, None)
    out = []
    for lo, hi in bands:
        inside = (q >= lo) & (q <= hi)
        if inside.sum() < 2:
            raise ValueError(f"the band [{lo}, {hi}] Å⁻¹ holds fewer than 2 grid points.")
        qs, ws = q[inside], weight[inside]
        out.append(float(np.sum((ws[1:] + ws[:-1]) * np.diff(qs)) / 2 / (qs[-1] - qs[0])))
    return np.array(out)


def saxs_share(q, profile, q_split: float) -> float:
    """Share of the importance *per unit of q* that lies below ``q_split`` (the SAXS part):
    density below / (density below + density above), 0.5 for a flat profile on any grid."""
    q = np.asarray(q, dtype=float)
    below, above = importance_per_q(
        q, profile, [(q[0], np.nextafter(q_split, -np.inf)), (q_split, q[-1])]
    )
    if below + above == 0:
        return float("nan")
    return float(below / (below + above))


def smooth(profile, slices) -> np.ndarray:
    """A profile averaged over each window and spread back over q (for legible per-point
    attributions)."""
    profile = np.asarray(profile, dtype=float)
    return to_profile(
        slices,
        np.stack([profile[..., sl].mean(axis=-1) for sl in slices], axis=-1),
        profile.shape[-1],
    )
