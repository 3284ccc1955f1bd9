"""Which q-ranges drive a prediction: attributions for the CNN and the linear models.

All attributions work in the models' own feature space (standardised log10 I, see
:mod:`helpers.features`), where 0 is the training set's mean curve: "removing" a q-range means
replacing it by the average curve there, i.e. the information that distinguishes this curve.

- :func:`occlusion`: slide a window of ``width`` points over q, set the features inside to the baseline
  and record how much the probability of the true class falls (CNN or any classifier).
- :func:`integrated_gradients`: (x - x0) times the gradient averaged on the straight path from the
  baseline x0 to x (Sundararajan et al. 2017); its sum over q equals f(x) - f(x0) (completeness), and for
  a linear model it is exactly coefficient x (x - x0).
- :func:`linear_attribution`: coefficient x feature of a fitted linear pipeline (Ridge or logistic).
- :func:`band_permutation_importance`: the loss of a score when one q band is shuffled between curves
  (works on any fitted pipeline, through its own feature preparation).
"""
from __future__ import annotations

import numpy as np


def windows(n_q: int, width: int, stride: int) -> list[slice]:
    """Slices of ``width`` points every ``stride`` points covering 0..n_q (the last one may be shorter)."""
    if width < 1 or stride < 1:
        raise ValueError(f"width and stride must be >= 1 points, got {width} and {stride}.")
    return [slice(start, min(start + width, n_q)) for start in range(0, n_q, stride)]


def occlusion(predict_proba, Z, labels, width: int = 20, stride: int = 10, baseline: float = 0.0,
              batch_size: int = 2048):
    """Fall of the true-class probability when each q window is replaced by ``baseline``.

    ``predict_proba``: features (n, L) -> probabilities (n, n_classes). Returns ``(slices, drop)`` with
    ``drop`` of shape (n_curves, n_windows): p_true(Z) - p_true(Z with the window occluded)."""
    Z = np.asarray(Z, dtype="float32")
    labels = np.asarray(labels)
    rows = np.arange(len(Z))
    reference = predict_proba(Z)[rows, labels]
    slices = windows(Z.shape[1], width, stride)
    drop = np.empty((len(Z), len(slices)))
    for k, sl in enumerate(slices):
        occluded = Z.copy()
        occluded[:, sl] = baseline
        probs = np.concatenate([predict_proba(occluded[i:i + batch_size]) for i in range(0, len(Z), batch_size)])
        drop[:, k] = reference - probs[rows, labels]
    return slices, drop


def integrated_gradients(model, Z, labels, steps: int = 32, baseline=None, batch_size: int = 256) -> np.ndarray:
    """Integrated gradients of the output ``labels`` (one class per curve) of a Keras model taking
    (n, L, 1) inputs, with the straight path from ``baseline`` (default 0, the mean curve) to each
    curve, by the midpoint rule with ``steps`` points. Returns (n, L)."""
    import tensorflow as tf

    Z = np.asarray(Z, dtype="float32")
    x0 = np.zeros_like(Z[:1]) if baseline is None else np.broadcast_to(np.asarray(baseline, "float32"), Z[:1].shape)
    alphas = (np.arange(steps, dtype="float32") + 0.5) / steps
    out = np.empty_like(Z)
    for start in range(0, len(Z), batch_size):
        z = Z[start:start + batch_size]
        lab = np.asarray(labels)[start:start + batch_size]
        total = np.zeros_like(z)
        for a in alphas:
            x = tf.constant((x0 + a * (z - x0))[:, :, None])
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = model(x, training=False)
                picked = tf.gather(y, lab, axis=1, batch_dims=1)
            total += tape.gradient(picked, x).numpy()[:, :, 0]
        out[start:start + batch_size] = (z - x0) * total / steps
    return out


def linear_attribution(pipeline, X, output: int = 0) -> np.ndarray:
    """coefficient x feature of the last step of a fitted linear pipeline, per curve and q point:
    the contribution of each q to the prediction (Ridge: target ``output``; logistic: class ``output``)."""
    Z = pipeline[:-1].transform(X)
    coef = np.atleast_2d(pipeline[-1].coef_)
    if coef.shape[-1] != Z.shape[1]:
        raise ValueError(f"the model has {coef.shape[-1]} coefficients but the features have {Z.shape[1]} points.")
    return Z * coef[output]


def band_permutation_importance(score, X, bands, seed: int = 0, repeats: int = 3) -> np.ndarray:
    """Mean fall of ``score(X)`` when the points of each band (a slice) are shuffled jointly between
    curves (the curve keeps the rest of its points). Returns one value per band."""
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
    return np.stack([values[labels == c].mean(axis=0) if np.any(labels == c) else np.full(values.shape[1:], np.nan)
                     for c in range(n_classes)])


def to_profile(slices, values, n_q: int) -> np.ndarray:
    """Spread per-window values (..., n_windows) over the q points: each point gets the mean of the
    windows that cover it. Returns (..., n_q)."""
    values = np.asarray(values, dtype=float)
    total = np.zeros(values.shape[:-1] + (n_q,))
    count = np.zeros(n_q)
    for k, sl in enumerate(slices):
        total[..., sl] += values[..., k:k + 1]
        count[sl] += 1
    return total / np.maximum(count, 1)


def saxs_share(q, profile, q_split: float) -> float:
    """Share of a non-negative importance profile that lies below ``q_split`` (the SAXS part)."""
    weight = np.clip(np.asarray(profile, dtype=float), 0, None)
    if weight.sum() == 0:
        return float("nan")
    return float(weight[np.asarray(q) < q_split].sum() / weight.sum())


def smooth(profile, slices) -> np.ndarray:
    """A profile averaged over each window and spread back over q (for legible per-point attributions)."""
    profile = np.asarray(profile, dtype=float)
    return to_profile(slices, np.stack([profile[..., sl].mean(axis=-1) for sl in slices], axis=-1), profile.shape[-1])


# --- the steps of notebook 09 ------------------------------------------------------------------------

def unit(profile) -> np.ndarray:
    """A non-negative profile scaled to a maximum of 1 (for comparing methods on one axis)."""
    p = np.clip(np.asarray(profile, dtype=float), 0, None)
    return p / p.max() if p.max() > 0 else p


def cnn_profiles(cnn, X, labels, n_classes: int, width: int, stride: int, steps: int):
    """Occlusion and integrated-gradient profiles over q of a fitted CNN (:class:`helpers.experiments.
    FittedCNN`) on curves ``X`` with true ``labels``: ({method: mean profile}, per-class occlusion,
    mean true-class probability)."""
    Z = cnn.prep.transform(X).astype("float32")
    slices, drop = occlusion(lambda z: cnn.model.predict(z[:, :, None], verbose=0, batch_size=512), Z, labels,
                             width=width, stride=stride)
    occ = to_profile(slices, drop, Z.shape[1])
    ig = integrated_gradients(cnn.model, Z, labels, steps=steps)
    probability = float(np.mean(cnn.model.predict(Z[:, :, None], verbose=0)[np.arange(len(Z)), labels]))
    profiles = {"occlusion": occ.mean(axis=0), "integrated gradients |mean|": smooth(np.abs(ig).mean(axis=0), slices)}
    return profiles, per_class(occ, labels, n_classes), probability


def linear_profiles(ridge, logistic, X, size_true, size_names, shapes, width: int, seed: int = 0) -> dict:
    """|coefficient x input| and q-band permutation profiles of the Ridge targets ``size_names`` (columns
    of ``size_true``) and of the logistic shape model (attribution of each curve's true class)."""
    n_q = X.shape[1]
    bands = windows(n_q, width, width)
    out = {}
    for j, target in enumerate(size_names):
        def q2(Xs, j=j):
            return 1 - np.mean((ridge.predict(Xs)[:, j] - size_true[:, j]) ** 2) / np.var(size_true[:, j])
        perm = band_permutation_importance(q2, X, bands, seed=seed)
        out[f"Ridge {target}"] = {
            "|coefficient × input| (mean)": smooth(np.abs(linear_attribution(ridge, X, output=j)).mean(axis=0), bands),
            "band permutation (fall of Q²)": to_profile(bands, perm, n_q)}
    perm = band_permutation_importance(lambda Xs: np.mean(logistic.predict(Xs) == shapes), X, bands, seed=seed)
    class_index = {c: k for k, c in enumerate(logistic[-1].classes_)}
    own = np.stack([linear_attribution(logistic, X[i:i + 1], output=class_index[s])[0] for i, s in enumerate(shapes)])
    out["logistic shape"] = {"|coefficient × input| of the true class (mean)": smooth(np.abs(own).mean(axis=0), bands),
                             "band permutation (fall of accuracy)": to_profile(bands, perm, n_q)}
    return out


def size_and_shape(cnn: dict, linear: dict) -> dict:
    """The answer of notebook 09: per question (size, shape), the profiles of each method scaled to 1."""
    return {
        "size": {"Ridge ln N: band permutation": unit(linear["Ridge log_n_Atoms"]["band permutation (fall of Q²)"]),
                 "CNN size class: occlusion": unit(cnn["size_class"]["occlusion"]),
                 "CNN size class: integrated gradients": unit(cnn["size_class"]["integrated gradients |mean|"])},
        "shape": {"logistic: band permutation": unit(linear["logistic shape"]["band permutation (fall of accuracy)"]),
                  "CNN shape: occlusion": unit(cnn["shape"]["occlusion"]),
                  "CNN shape: integrated gradients": unit(cnn["shape"]["integrated gradients |mean|"])},
    }
