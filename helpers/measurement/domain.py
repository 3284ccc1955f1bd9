"""What a measured q range can tell: the size, the shape, both or neither.

Size. The small-angle part of a particle's curve carries its size: the Guinier region
(I ∝ exp(-q² R_g² / 3) for q R_g below about 1.3) and the first form-factor minima (for a sphere of
radius R the first at q R ≈ 4.49). A window that starts at q_min pins the size of particles up to
R_eq ≈ 4.49 / q_min (the first minimum inside the window; R_eq = √(5/3) R_g), and sees their
forward (Guinier) scattering up to R_eq ≈ √(5/3) 1.3 / q_min. Without any point below 1 Å⁻¹ the
size is only in the widths of the Bragg peaks (Δq ∝ 1/R), which resolution broadens too.

Shape. The 9 labels differ in their outline (the SAXS fringes) and in their lattice (fcc, bcc,
icosahedral and decahedral packing: the Bragg peaks). The first reflections of the study's metals
lie at 2.2–3.4 Å⁻¹ ((111) of fcc at q = 2π√3 / (√2 R_nn)); the repo's experiments (the q bounds
and SAXS-or-WAXS chapters) measured the shape accuracy falling as q_max falls, even for models
trained for the window, and the small-angle part alone keeping only part of it. So a shape answer
needs the wide angles up to :data:`SHAPE_Q_MAX`, and a model trained on windows reaching at least
some q_max should not be asked below it.

:func:`coverage` reads a measured q grid (and which points hold a value) and says what it covers,
as numbers and as named notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: q R_g below which the Guinier approximation holds (forward scattering measured)
GUINIER_QRG = 1.3
#: q R at the first form-factor minimum of a sphere (tan x = x)
FIRST_MINIMUM_QR = 4.4934
#: the small-angle part: below this q (1/Å) the size fringes of nanometre particles lie
SAXS_Q = 1.0
#: the wide angles a shape answer needs by default (1/Å): past the first three reflections of fcc
#: and bcc for every element of the library (at most 5.6 Å⁻¹ for fcc (220) and 5.9 Å⁻¹ for bcc
#: (211), both for Mn, R_nn 2.24 Å)
SHAPE_Q_MAX = 6.0
#: a gap in the measured points wider than this (1/Å) is named
GAP = 0.2


@dataclass(frozen=True)
class Coverage:
    """What a measured q range covers. ``largest_radius_A``: the largest equivalent radius whose
    first form-factor minimum lies inside the window (Å; inf if q_min is 0); ``guinier_radius_A``:
    the largest whose forward scattering is measured; ``gaps``: (q_low, q_high) intervals without
    a measured point wider than :data:`GAP`."""

    q_min: float
    q_max: float
    n_points: int
    size_determinable: bool
    shape_determinable: bool
    largest_radius_A: float
    guinier_radius_A: float
    gaps: tuple = ()
    notes: tuple[str, ...] = field(default=())


def coverage(q, measured=None, shape_q_max: float = SHAPE_Q_MAX) -> Coverage:
    """What the measured points of the grid ``q`` (1/Å, increasing) cover; ``measured``: a mask of
    the points that hold a value (default: all). ``shape_q_max``: the q_max a shape answer needs
    (a model's training range may ask for more)."""
    q = np.asarray(q, dtype=float)
    keep = np.ones(q.shape, dtype=bool) if measured is None else np.asarray(measured, dtype=bool)
    if keep.shape != q.shape:
        raise ValueError(f"measured must be a mask of the length of q ({q.size}).")
    qm = q[keep]
    if qm.size == 0:
        raise ValueError("no measured point: nothing to cover.")
    lo, hi = float(qm[0]), float(qm[-1])
    rg_factor = np.sqrt(5.0 / 3.0)
    largest = FIRST_MINIMUM_QR / lo if lo > 0 else np.inf
    guinier = rg_factor * GUINIER_QRG / lo if lo > 0 else np.inf
    steps = np.diff(qm)
    gaps = tuple((float(a), float(b)) for a, b, d in zip(qm[:-1], qm[1:], steps) if d > GAP)
    size_ok = lo < SAXS_Q
    shape_ok = hi >= shape_q_max
    notes = []
    if not size_ok:
        notes.append(
            f"no small-angle data (q_min = {lo:.3g} 1/Å >= {SAXS_Q:g}): the size rests on Bragg "
            "peak widths only"
        )
    else:
        notes.append(
            f"the size of particles up to R_eq ≈ {largest / 10:.3g} nm is pinned by a form-factor "
            f"minimum inside the window (forward scattering up to ≈ {guinier / 10:.3g} nm)"
        )
    if not shape_ok:
        notes.append(
            f"shape not determinable from this q range: q_max = {hi:.3g} 1/Å < {shape_q_max:g} "
            "1/Å, the wide angles that carry the lattice and the shape are missing"
        )
    for a, b in gaps:
        notes.append(f"no measured point between {a:.3g} and {b:.3g} 1/Å")
    return Coverage(
        q_min=lo,
        q_max=hi,
        n_points=int(qm.size),
        size_determinable=size_ok,
        shape_determinable=shape_ok,
        largest_radius_A=float(largest),
        guinier_radius_A=float(guinier),
        gaps=gaps,
        notes=tuple(notes),
    )


#: fewest measured points a Guinier fit needs (below: no radius of gyration from this curve)
GUINIER_MIN_POINTS = 4


@dataclass(frozen=True)
class GuinierFit:
    """Guinier fits of n curves: ``radius_of_gyration`` (Å, NaN where not ``valid``),
    ``log_rg_std`` (the standard error of ln R_g from the fit's residuals), ``n_points`` (measured
    points with q R_g <= the fit's limit) and ``valid`` (enough of them, a falling curve)."""

    radius_of_gyration: np.ndarray
    log_rg_std: np.ndarray
    n_points: np.ndarray
    valid: np.ndarray


def guinier(
    q,
    I,
    measured=None,
    start=None,
    qrg_max: float = GUINIER_QRG,
    min_points: int = GUINIER_MIN_POINTS,
    iterations: int = 10,
) -> GuinierFit:
    """The radius of gyration of each curve from its forward scattering,
    ln I = ln I(0) − q² R_g² / 3,
    fitted by least squares to the measured points with q R_g <= ``qrg_max`` (R_g iterated from
    ``start``, Å, one per curve; default: from the first ``min_points`` measured points).

    ``q``: (n_q,) Å⁻¹, increasing; ``I``: (n, n_q) or (n_q,); ``measured``: mask of the points that
    hold a value (default: finite I > 0). A curve is not ``valid`` where fewer than ``min_points``
    measured points lie below q = qrg_max / R_g (the window starts too high for its size) or the
    curve does not fall there. Absolute scale and a constant factor do not matter."""
    q = np.asarray(q, dtype=float)
    I = np.asarray(I, dtype=float)
    one = I.ndim == 1
    I = I[None] if one else I
    if I.ndim != 2 or I.shape[1] != q.size:
        raise ValueError(f"I must be (n_curves, {q.size}) on the grid q, got shape {I.shape}.")
    if min_points < 3:
        raise ValueError(f"min_points must be >= 3 (a line and its error), got {min_points}.")
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(I) & (I > 0)
    if measured is not None:
        measured = np.asarray(measured, dtype=bool)
        if measured.shape != I.shape:
            raise ValueError(f"measured must be a mask of the shape of I {I.shape}.")
        ok &= measured
    starts = np.full(len(I), np.nan) if start is None else np.broadcast_to(start, len(I))
    rg = np.full(len(I), np.nan)
    err = np.full(len(I), np.nan)
    count = np.zeros(len(I), dtype=int)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_i = np.log(np.where(ok, I, 1.0))
    for i in range(len(I)):
        idx = np.flatnonzero(ok[i])
        if idx.size < min_points:
            continue
        guess, use, slope = float(starts[i]), None, 0.0
        for _ in range(iterations):
            window = idx[q[idx] <= qrg_max / guess] if np.isfinite(guess) else idx[:0]
            if window.size < min_points:  # too few below the guess: the lowest points
                window = idx[:min_points]
            if use is not None and np.array_equal(window, use):
                break
            use = window
            y = log_i[i, use]
            xm = q[use] ** 2 - np.mean(q[use] ** 2)
            slope = float(xm @ (y - y.mean()) / (xm @ xm))
            if slope >= 0:
                break
            guess = np.sqrt(-3.0 * slope)
        count[i] = int(np.sum(q[idx] <= qrg_max / guess)) if slope < 0 else 0
        if slope >= 0 or count[i] < min_points:
            continue
        resid = y - y.mean() - slope * xm  # of the last fit, on ``use``
        slope_se = np.sqrt(max(float(resid @ resid), 0.0) / (use.size - 2) / float(xm @ xm))
        rg[i], err[i] = guess, 0.5 * slope_se / -slope
    valid = np.isfinite(rg)
    if one:
        return GuinierFit(rg[:1], err[:1], count[:1], valid[:1])
    return GuinierFit(rg, err, count, valid)
