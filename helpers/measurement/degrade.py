"""Degradations of simulated curves that make them look more like a measurement.

Every function takes ``(q, I, level, ..., seed=...)`` with ``q`` the 1-D grid (Å⁻¹) and ``I`` one
curve ``(n_q,)`` or a batch ``(n_curves, n_q)``, and returns ``(q_out, I_out)`` without touching
its input. Level 0 (or k = 1, or the full window) is the identity. Random steps draw from
``numpy.random.default_rng(seed)``: the same seed gives the same curves. Impossible levels raise a
``ValueError`` that says what is allowed.

Physical meaning of each level:

- :func:`poisson_noise` — ``photons``: the expected number of photons counted over the whole curve.
  Each point receives ``photons * I(q) / sum(I)`` counts on average, the counts are drawn from a
  Poisson law and scaled back to the curve's units, so the noisy curve has the clean one as its
  mean. Counting statistics are the noise floor of every real SAXS/WAXS measurement; fewer photons
  mean shorter exposure or a weaker source. Points that count zero photons are real zeros (not
  negative, never NaN); a log-intensity model must treat them as missing
  (``feature_pipeline(repair=True)``). On the study's library the wide-angle points fall below one
  expected count per point near 1e5 photons per curve.
- :func:`gaussian_noise` — ``relative``: the relative standard deviation σ of multiplicative noise,
  ``I * exp(σ ε - σ²/2)`` with ε ~ N(0, 1): Gaussian in log I, so intensities stay positive and the
  mean is kept; for σ ≤ 0.1 it equals ``I (1 + σ ε)`` to first order (flat-field, transmission or
  calibration errors that scale with the signal).
- :func:`missing_random` / :func:`missing_blocks` — ``fraction``: the fraction of q points lost, as
  isolated bad pixels or as contiguous detector gaps (``block_points`` wide), filled back by linear
  interpolation of log I over q, constant beyond the ends (the study's approach).
  0 <= fraction < 1, and at least two points must survive.
- :func:`coarsen` — ``k``: keep every k-th q point, so the step grows from 0.01 to ``0.01 k`` Å⁻¹
  (a coarser detector binning or a faster scan).
- :func:`saxs` / :func:`waxs` — keep q below / from ``q_split`` (default :data:`Q_SPLIT` = 1 Å⁻¹,
  where the particle's envelope has decayed and before the first Bragg peak of any of the 17
  metals, near 2.2 Å⁻¹ for Pb).
- :func:`window`, :func:`raise_qmin`, :func:`lower_qmax` — keep a q window ``[q_min, q_max]``
  (another instrument, X-ray energy or sample-to-detector distance).

A model trained on the full grid needs its full grid back: :func:`present` maps a degraded curve
onto it, either ``"interpolate"`` (each point at its true q; points outside the measured window
take the nearest measured value, i.e. missing values filled as above) or ``"resample"`` (the window
evenly resampled to the grid's number of points and fed as if it were the full grid: each input
index then stands for another q, which is what reproduces the study's failure under changed
bounds).
"""

from __future__ import annotations

import numpy as np

Q_SPLIT = 1.0  # Å⁻¹, the default SAXS / WAXS boundary
DETECTOR_GAP_POINTS = 20  # width of one detector gap in q points (0.2 Å⁻¹ on the study's grid)


def _check(q, I):
    q = np.asarray(q, dtype=float)
    I = np.asarray(I, dtype=float)
    if q.ndim != 1 or q.size < 2 or np.any(np.diff(q) <= 0):
        raise ValueError("q must be a strictly increasing 1-D grid with at least 2 points.")
    if I.shape[-1] != q.size or I.ndim not in (1, 2):
        raise ValueError(
            f"I must be (n_q,) or (n_curves, n_q) with n_q = {q.size}, got shape {I.shape}."
        )
    return q, I


def _rng(seed):
    if seed is None:
        raise ValueError(
            "a seed is required: pass seed=<int> so that the degradation is reproducible."
        )
    return np.random.default_rng(seed)


def poisson_noise(q, I, photons: float, seed: int = 0):
    """Poisson counting noise with ``photons`` expected counts per curve (``np.inf``: no noise)."""
    q, I = _check(q, I)
    if not photons > 0:
        raise ValueError(f"photons must be > 0 (np.inf for a noiseless curve), got {photons}.")
    if np.any(~np.isfinite(I)) or np.any(I < 0):
        raise ValueError("Poisson noise needs finite, non-negative intensities.")
    if np.isinf(photons):
        return q, I.copy()
    scale = photons / I.sum(axis=-1, keepdims=True)
    counts = _rng(seed).poisson(I * scale)
    return q, counts / scale


def gaussian_noise(q, I, relative: float, seed: int = 0):
    """Multiplicative noise of relative standard deviation ``relative`` (log-normal, mean kept)."""
    q, I = _check(q, I)
    if not 0 <= relative < np.inf:
        raise ValueError(f"relative noise must be a finite number >= 0, got {relative}.")
    if relative == 0:
        return q, I.copy()
    eps = _rng(seed).standard_normal(I.shape)
    return q, I * np.exp(relative * eps - relative**2 / 2)


def fill_missing(q, I, missing):
    """Fill the points where ``missing`` is True by linear interpolation of log10 I over q
    (constant beyond the first / last measured point). Every curve needs >= 2 measured points."""
    q, I = _check(q, I)
    missing = np.broadcast_to(np.asarray(missing, dtype=bool), I.shape)
    curves, masks = np.atleast_2d(I), np.atleast_2d(missing)
    out = curves.copy()
    for k, (row, bad) in enumerate(zip(curves, masks)):
        if not bad.any():
            continue
        good = ~bad & np.isfinite(row) & (row > 0)
        if good.sum() < 2:
            raise ValueError(
                f"curve {k} keeps fewer than 2 measured points: nothing to interpolate from."
            )
        out[k, bad] = 10 ** np.interp(q[bad], q[good], np.log10(row[good]))
    return out.reshape(I.shape)


def _check_fraction(fraction, n_q):
    if not 0 <= fraction < 1:
        raise ValueError(
            f"fraction missing must be in [0, 1), got {fraction}: at least two points must remain."
        )
    n_missing = int(round(fraction * n_q))
    if n_q - n_missing < 2:
        raise ValueError(f"fraction {fraction} leaves fewer than 2 of {n_q} points: lower it.")
    return n_missing


def random_mask(n_curves: int, n_q: int, fraction: float, seed: int = 0) -> np.ndarray:
    """(n_curves, n_q) boolean mask, True at ``round(fraction n_q)`` random points per curve."""
    n_missing = _check_fraction(fraction, n_q)
    rng = _rng(seed)
    mask = np.zeros((n_curves, n_q), dtype=bool)
    for row in mask:
        row[rng.choice(n_q, n_missing, replace=False)] = True
    return mask


def block_mask(
    n_curves: int,
    n_q: int,
    fraction: float,
    seed: int = 0,
    block_points: int = DETECTOR_GAP_POINTS,
) -> np.ndarray:
    """(n_curves, n_q) boolean mask of contiguous gaps of ``block_points`` points (the last one
    shorter if needed) at random non-overlapping places, ``round(fraction n_q)`` points in all per
    curve."""
    n_missing = _check_fraction(fraction, n_q)
    if block_points < 1:
        raise ValueError(f"block_points must be >= 1, got {block_points}.")
    rng = _rng(seed)
    n_slots = n_q // block_points  # gaps sit on a lattice of slots, so they never overlap
    n_full, rest = divmod(n_missing, block_points)
    mask = np.zeros((n_curves, n_q), dtype=bool)
    for row in mask:
        slots = rng.choice(n_slots, n_full + (rest > 0), replace=False)
        for j, slot in enumerate(slots):
            width = rest if j == n_full else block_points
            row[slot * block_points : slot * block_points + width] = True
    return mask


def missing_random(q, I, fraction: float, seed: int = 0):
    """Lose a random ``fraction`` of the points of each curve, then fill them by interpolation."""
    q, I = _check(q, I)
    mask = random_mask(np.atleast_2d(I).shape[0], q.size, fraction, seed).reshape(I.shape)
    return q, fill_missing(q, I, mask)


def missing_blocks(q, I, fraction: float, seed: int = 0, block_points: int = DETECTOR_GAP_POINTS):
    """Lose ``fraction`` of the points as detector gaps of ``block_points`` points, then
    interpolate."""
    q, I = _check(q, I)
    mask = block_mask(np.atleast_2d(I).shape[0], q.size, fraction, seed, block_points).reshape(
        I.shape
    )
    return q, fill_missing(q, I, mask)


def coarsen(q, I, k: int, seed: int | None = None):
    """Keep every ``k``-th point (the first one included): the q step becomes k times larger."""
    q, I = _check(q, I)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1 (1 keeps every point), got {k!r}.")
    if q.size // k < 2:
        raise ValueError(f"k = {k} leaves fewer than 2 of {q.size} points: lower it.")
    return q[::k].copy(), I[..., ::k].copy()


def window(q, I, q_min: float, q_max: float, seed: int | None = None):
    """Keep the points with q_min <= q <= q_max."""
    q, I = _check(q, I)
    keep = (q >= q_min) & (q <= q_max)
    if keep.sum() < 2:
        raise ValueError(
            f"the window [{q_min}, {q_max}] Å⁻¹ holds fewer than 2 of the grid's points "
            f"({q[0]:g}..{q[-1]:g} Å⁻¹): widen it."
        )
    return q[keep].copy(), I[..., keep].copy()


def raise_qmin(q, I, q_min: float, seed: int | None = None, q_max: float = np.inf):
    """A window that starts at ``q_min`` (a beam stop or a longer sample-to-detector distance)."""
    return window(q, I, q_min, q_max)


def lower_qmax(q, I, q_max: float, seed: int | None = None, q_min: float = -np.inf):
    """A window that ends at ``q_max`` (a smaller detector angle or a softer X-ray energy)."""
    return window(q, I, q_min, q_max)


def saxs(q, I, q_split: float = Q_SPLIT, seed: int | None = None):
    """The small-angle part, q < q_split."""
    q, _ = _check(q, I)
    return window(q, I, -np.inf, np.nextafter(q_split, -np.inf))


def waxs(q, I, q_split: float = Q_SPLIT, seed: int | None = None):
    """The wide-angle part, q >= q_split."""
    return window(q, I, q_split, np.inf)


def present(q, I, grid, how: str = "interpolate"):
    """Put degraded curves (on ``q``) in front of a model trained on ``grid``.

    ``"interpolate"``: linear interpolation of log10 I at each grid q, constant beyond the measured
    range (the measured window sits at its true q). ``"resample"``: the curve is evenly resampled
    to ``len(grid)`` points over its own range and given to the model as is (its input index no
    longer means the same q)."""
    q, I = _check(q, I)
    grid = np.asarray(grid, dtype=float)
    if how == "resample":
        target = np.linspace(q[0], q[-1], grid.size)
    elif how == "interpolate":
        target = grid
    else:
        raise ValueError(f"unknown presentation {how!r}: use 'interpolate' or 'resample'.")
    if target.size == q.size and np.allclose(target, q, rtol=0, atol=1e-12):
        return grid.copy(), I.copy()
    curves = np.atleast_2d(I)
    if np.any(~np.isfinite(curves)) or np.any(curves <= 0):
        curves = fill_missing(q, curves, ~np.isfinite(curves) | (curves <= 0))
    logs = np.log10(curves)
    out = np.stack([10 ** np.interp(target, q, row) for row in logs])
    return grid.copy(), out.reshape(I.shape[:-1] + (grid.size,))
