"""The explainability chapter's steps: which q ranges carry the size and the shape, for the CNN and
the linear models, from the attributions of :mod:`helpers.learning.attribution`."""

from __future__ import annotations

import numpy as np

from ..learning.attribution import (
    band_permutation_importance,
    integrated_gradients,
    linear_attribution,
    occlusion,
    per_class,
    smooth,
    to_profile,
    windows,
)


def unit(profile) -> np.ndarray:
    """A non-negative profile scaled to a maximum of 1 (for comparing methods on one axis)."""
    p = np.clip(np.asarray(profile, dtype=float), 0, None)
    return p / p.max() if p.max() > 0 else p


def cnn_profiles(cnn, X, labels, n_classes: int, width: int, stride: int, steps: int):
    """Occlusion and integrated-gradient profiles over q of a fitted CNN
    (:class:`helpers.learning.model_set.FittedCNN`) on curves ``X`` with true ``labels``:
    ({method: mean profile}, per-class occlusion, mean true-class probability, {method: profile of
    each curve}) (the last for :func:`reduced_q_profiles`)."""
    Z = cnn.prep.transform(X).astype("float32")
    slices, drop = occlusion(
        lambda z: cnn.model.predict(z[:, :, None], verbose=0, batch_size=512),
        Z,
        labels,
        width=width,
        stride=stride,
    )
    occ = to_profile(slices, drop, Z.shape[1])
    ig = integrated_gradients(cnn.model, Z, labels, steps=steps)
    probability = float(
        np.mean(cnn.model.predict(Z[:, :, None], verbose=0)[np.arange(len(Z)), labels])
    )
    profiles = {
        "occlusion": occ.mean(axis=0),
        "integrated gradients |mean|": smooth(np.abs(ig).mean(axis=0), slices),
    }
    per_curve = {"occlusion": occ, "integrated gradients |mean|": smooth(np.abs(ig), slices)}
    return profiles, per_class(occ, labels, n_classes), probability, per_curve


def reduced_q_profiles(q, per_curve: dict, rnn, s_grid) -> dict:
    """Profiles of many curves averaged on the reduced axis s = q·Rnn (dimensionless), where the
    Bragg peaks of every element fall at the same place: each curve's profile is interpolated at
    q = s / Rnn of its element, then the curves are averaged where they cover s.
    ``per_curve``: {method: (n, n_q)}; ``rnn``: (n,) nearest-neighbour distance of each curve
    (Å). Where no curve covers s the profile is NaN."""
    q = np.asarray(q, dtype=float)
    rnn = np.asarray(rnn, dtype=float)
    s_grid = np.asarray(s_grid, dtype=float)
    out = {}
    for method, values in per_curve.items():
        values = np.asarray(values, dtype=float)
        if values.shape != (rnn.size, q.size):
            raise ValueError(
                f"{method}: profiles of shape {values.shape}, expected {(rnn.size, q.size)}."
            )
        on_s = np.stack(
            [np.interp(s_grid, q * r, v, left=np.nan, right=np.nan) for r, v in zip(rnn, values)]
        )
        covered = np.isfinite(on_s).sum(axis=0)
        total = np.nansum(on_s, axis=0)
        out[method] = np.where(covered > 0, total / np.maximum(covered, 1), np.nan)
    return out


def linear_profiles(
    ridge, logistic, X, size_true, size_names, shapes, width: int, seed: int = 0
) -> dict:
    """|coefficient x input| and q-band permutation profiles of the Ridge targets ``size_names``
    (columns of ``size_true``) and of the logistic shape model (attribution of each curve's true
    class)."""
    n_q = X.shape[1]
    bands = windows(n_q, width, width)
    out = {}
    for j, target in enumerate(size_names):

        def q2(Xs, j=j):
            return 1 - np.mean((ridge.predict(Xs)[:, j] - size_true[:, j]) ** 2) / np.var(
                size_true[:, j]
            )

        perm = band_permutation_importance(q2, X, bands, seed=seed)
        out[f"Ridge {target}"] = {
            "|coefficient × input| (mean)": smooth(
                np.abs(linear_attribution(ridge, X, output=j)).mean(axis=0), bands
            ),
            "band permutation (fall of Q²)": to_profile(bands, perm, n_q),
        }
    perm = band_permutation_importance(
        lambda Xs: np.mean(logistic.predict(Xs) == shapes), X, bands, seed=seed
    )
    class_index = {c: k for k, c in enumerate(logistic[-1].classes_)}
    own = np.stack(
        [
            linear_attribution(logistic, X[i : i + 1], output=class_index[s])[0]
            for i, s in enumerate(shapes)
        ]
    )
    out["logistic shape"] = {
        "|coefficient × input| of the true class (mean)": smooth(np.abs(own).mean(axis=0), bands),
        "band permutation (fall of accuracy)": to_profile(bands, perm, n_q),
    }
    return out


def size_and_shape(cnn: dict, linear: dict) -> dict:
    """The answer of notebook 09: per question (size, shape), the profiles of each method
    scaled to 1."""
    return {
        "size": {
            "Ridge ln N: band permutation": unit(
                linear["Ridge log_n_Atoms"]["band permutation (fall of Q²)"]
            ),
            "CNN size class: occlusion": unit(cnn["size_class"]["occlusion"]),
            "CNN size class: integrated gradients": unit(
                cnn["size_class"]["integrated gradients |mean|"]
            ),
        },
        "shape": {
            "logistic: band permutation": unit(
                linear["logistic shape"]["band permutation (fall of accuracy)"]
            ),
            "CNN shape: occlusion": unit(cnn["shape"]["occlusion"]),
            "CNN shape: integrated gradients": unit(cnn["shape"]["integrated gradients |mean|"]),
        },
    }
