"""A physics check of an answer: fit a measured curve with the exact Debye curves of a library.

Model. For one candidate family (shape, element, B_iso) of a library, the measured intensity is

    I_model(q) = scale * sum_k w_k I_k(q) / sum_k w_k + background,

the number-weighted log-normal size average of the family's curves I_k (equivalent radii R_k; the
weights ``w_k ∝ exp(-(ln R_k - ln R_0)² / 2σ²)`` of :func:`helpers.measurement.instrument
.polydisperse`), an unknown overall scale (a measurement in arbitrary units) and a flat
background (incoherent and fluorescence scattering, a solvent left over). R_0 runs over the
family's sizes and σ over a grid (σ = 0: one particle size); with ``substeps`` > 1 R_0 also runs
between consecutive library sizes, so that the fitted size is not confined to the library's
shells. For each (R_0, σ) the scale and the background enter linearly and are solved exactly by
weighted least squares, the background kept >= 0 and the scale > 0. The best (R_0, σ) minimises
chi².

Sizes between the library's. A particle's small-angle scattering depends on its size only
through q R (its form factor, times N² at q -> 0), so on a log-q axis a larger particle of the
same shape is the same curve moved to lower q; its Bragg peaks stay where the lattice puts them.
A library curve (or log-normal average) of size R_k is moved to a size R between library sizes
by dilation (:func:`dilate`): I(q) -> s^(3 w(q)) I(q s^w(q)), s = R / R_k, with w = 1 at small
angles and 0 at wide angles (a smooth step in ln q across :data:`DILATION_Q`, below the first
Bragg peak of every element of the library), the factor s^3 being the ratio N²/N of small- to
wide-angle intensity as the atom count grows as s^3. Dilation is exact for the form factor of a
continuous shape; an atomic particle's facets, corners and twin planes differ a little from one
shell to the next. The default (``between="blend"``) therefore dilates both neighbouring sizes
R_k < R < R_k+1 to R and averages their ln I with weights linear in ln R (the nearer size
weighs more; at a library size the blend is that size's curve), so that the model goes
continuously from one shell to the next. ``"dilate"`` uses the nearest size alone. Averaging
neighbouring sizes instead (re-centring the log-normal weights, ``"average"``) is exact for a
broad distribution but gives a one-size particle between two shells a blend of two fringe
patterns. Measured on validation curves of notebook 12's blind model (particles held out of its
training and of the fit's library, notebook 10's conditions): the blend named the shape of
92.5-93.4 % of them against 91.4-92.1 % for the nearest size alone, and the radius within 10 %
of 98.2-98.5 % against 97.8 %. A fit over every size of a family takes about 1.2 times as long
(``benchmarks/bench_fit.py``); a file's characterisation, which tries the sizes near the
model's, no measurably longer.

Weights. With the measurement's standard deviations ``sigma``, chi² = sum((I - I_model) / sigma)²
and chi²_red = chi² / (n - 4) (scale, background, R_0, σ) is a goodness of fit: about 1 for a
model that explains the data within its errors. Without them each point's σ is estimated from
the curve itself (:func:`relative_noise`: counting noise, whose variance grows like I, or the
point-to-point scatter, at least :data:`NOISE_FLOOR` of I), so that a curve spanning many
decades keeps its wide angles in the fit and noisy points count less; chi²_red then compares
candidates and is a rough absolute test.

Resolution. The library curves are put on the measured q by linear interpolation of ln I in ln
q; given the resolution σ_q of each point (``dq``, as files and NXcanSAS's Qdev give it, or
:func:`helpers.measurement.instrument.resolution_width` of a model), they are first smeared on
the library's own grid by a Gaussian of that width (the measurement model of
:func:`helpers.measurement.instrument.smear`; σ_q interpolated between the measured points), so
that a dilated curve is a smeared one moved (its width dilated too: exact for σ_q ∝ q). Measured
points outside the library's q range are left out (and counted).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .instrument import RELATIVE_RESOLUTIONS, RESOLUTION_WIDTHS

#: σ of ln R_eq tried by default (0: one size; 0.3: a broad log-normal distribution)
SIGMAS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)
#: R_0 of a log-normal average (σ > 0) is tried at this many steps per interval of library sizes
SUBSTEPS = 4
#: Δχ² (in units of χ²_red) of the profile that measures how sharply the data fix R_0
#: (:attr:`FitResult.log_radius_halfwidth`): 2.71, a 90 % profile interval were the misfit noise
PROFILE_DELTA = 2.71
#: a fit without sigma weights each point by its noise, estimated from the curve over this many
#: points (:func:`relative_noise`) and never below the floor times I
NOISE_WINDOW = 21
NOISE_FLOOR = 0.01
#: the resolutions (σ_0 in Å⁻¹, r) tried for a curve measured without σ_q: those of the
#: measurement model the networks train on (:func:`helpers.measurement.instrument
#: .random_measurements`)
RESOLUTIONS = tuple((s0, r) for s0 in RESOLUTION_WIDTHS for r in RELATIVE_RESOLUTIONS)
#: the free parameters of the model, for chi²_red
N_PARAMETERS = 4
#: (start, end) in Å⁻¹ of the smooth step (in ln q) from the small angles, where a size between
#: the library's is a dilation of a library curve, to the wide angles, left as they are; it ends
#: below the first Bragg peak of every element of the library (Pb (111): 2.2 Å⁻¹)
DILATION_Q = (0.8, 1.6)
#: how sizes between the library's are modelled (module doc): "blend", "dilate" or "average"
BETWEEN = ("blend", "dilate", "average")


@dataclass
class FitResult:
    """The best fit of one candidate family. ``radius_A``: R_0, the centre of the log-normal
    distribution of the equivalent radius (Å); ``n_atoms``: the atom count of the library
    particle at R_0; ``fitted``: I_model at ``q`` (the measured points used), ``residuals``:
    (I - I_model) / weight."""

    shape: str
    element: str
    b_iso: float
    radius_A: float
    n_atoms: int
    polydispersity: float
    scale: float
    background: float
    chi2_red: float
    n_points: int
    q: np.ndarray = field(repr=False)
    fitted: np.ndarray = field(repr=False)
    residuals: np.ndarray = field(repr=False)
    weighted_by_sigma: bool = False
    at_size_edge: bool = False
    #: R_0 is the smallest (largest) size of a given ``radius_range`` and the library has smaller
    #: (larger) ones
    at_range_edge: bool = False
    #: the resolution the library curves were smeared by ("" when not said)
    resolution: str = ""
    #: how sharply the data fix R_0: half the width, in ln R_0, of the sizes whose best χ²
    #: (over σ) is within :data:`PROFILE_DELTA` χ²_red of the minimum, at least half the R_0
    #: grid's step there. A measure, not an interval: the library's misfit is not noise, so
    #: the characteriser calibrates it into one on validation particles
    log_radius_halfwidth: float = float("nan")

    def as_row(self) -> dict:
        """The scalar fields, one row of a comparison table."""
        keep = (
            "shape element b_iso radius_A n_atoms polydispersity scale background chi2_red "
            "n_points weighted_by_sigma at_size_edge at_range_edge resolution "
            "log_radius_halfwidth"
        ).split()
        return {k: getattr(self, k) for k in keep}


def resolution_label(s0: float, r: float) -> str:
    """The resolution σ_q = √(σ_0² + (r q)²) (:func:`helpers.measurement.instrument
    .resolution_width`) in words: "none", "σ_q = 0.005 Å⁻¹", "σ_q = 0.01 q" or the whole
    formula."""
    if s0 == 0 and r == 0:
        return "none"
    if r == 0:
        return f"σ_q = {s0:g} Å⁻¹"
    if s0 == 0:
        return f"σ_q = {r:g} q"
    return f"σ_q = √({s0:g}² + ({r:g} q)²) Å⁻¹"


def bracket(x, xq) -> tuple[np.ndarray, np.ndarray]:
    """(j, t) of linear interpolation on the increasing grid ``x`` at ``xq`` (any shape): the
    value at xq is (1 - t) y[j] + t y[j + 1], t within [0, 1] (the ends held beyond the grid)."""
    j = np.clip(np.searchsorted(x, xq, side="right") - 1, 0, x.size - 2)
    return j, np.clip((xq - x[j]) / (x[j + 1] - x[j]), 0.0, 1.0)


def _on_measured_q(lib_q, curves, q, dq=None) -> np.ndarray:
    """Library curves (n, L) on the measured ``q`` (inside [lib_q[0], lib_q[-1]]): interpolated
    linearly in (ln q, ln I) (np.interp's rule, for every curve at once), or, where ``dq`` (σ_q
    at each q) is at least half the library's q step there, smeared by a Gaussian of that σ_q
    (weights over the library points within 4 σ_q, renormalised at the library's ends)."""
    j, t = bracket(np.log(lib_q), np.log(q))
    tiny = np.finfo(float).tiny
    lo = np.log(np.clip(curves[:, j], tiny, None))
    hi = np.log(np.clip(curves[:, j + 1], tiny, None))
    values = np.exp(lo + t * (hi - lo))
    if dq is None:
        return values
    step = np.gradient(lib_q)
    smeared = np.flatnonzero(dq >= 0.5 * step[j])
    if smeared.size == 0:
        return values
    from scipy import sparse

    centre, width = q[smeared], dq[smeared]
    first = np.searchsorted(lib_q, centre - 4 * width)
    counts = np.searchsorted(lib_q, centre + 4 * width, side="right") - first
    row = np.repeat(np.arange(smeared.size), counts)
    col = np.repeat(first - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    w = np.exp(-0.5 * ((lib_q[col] - centre[row]) / width[row]) ** 2) * step[col]
    w /= np.bincount(row, weights=w, minlength=smeared.size)[row]
    kernel = sparse.csr_matrix((w, (row, col)), shape=(smeared.size, lib_q.size))
    values[:, smeared] = (kernel @ curves.T).T
    return values


def dilation_weight(q) -> np.ndarray:
    """w(q) of :func:`dilate`: 1 below ``DILATION_Q[0]``, 0 above ``DILATION_Q[1]``, a cosine
    step in ln q between."""
    lo, hi = np.log(DILATION_Q)
    t = np.clip((np.log(np.asarray(q, dtype=float)) - lo) / (hi - lo), 0.0, 1.0)
    return 0.5 * (1.0 + np.cos(np.pi * t))


def dilate(lib_q, curves, q, factor: float) -> np.ndarray:
    """Library ``curves`` (n, L) on ``lib_q`` as curves of particles ``factor`` times larger, at
    the measured ``q``: s^(3w) I(q s^w), s = ``factor``, w = :func:`dilation_weight` (module
    doc). ``factor`` 1 leaves them as they are."""
    if not np.isfinite(factor) or factor <= 0:
        raise ValueError(f"the dilation factor must be a finite number > 0, got {factor}.")
    return _dilated(lib_q, np.asarray(curves, dtype=float)[None], np.zeros(1, int), q, [factor])[0]


def _dilated(lib_q, curves, sources, q, factors) -> np.ndarray:
    """(m, n, len(q)): the curves ``curves[sources[i]]`` (``curves``: (k, n, L) on ``lib_q``)
    dilated by ``factors[i]`` (:func:`dilate`), every i at once: ln I interpolated linearly in
    ln q, as :func:`_on_measured_q` without smearing."""
    return np.exp(_log_dilated(lib_q, curves, sources, q, factors))


def _log_dilated(lib_q, curves, sources, q, factors) -> np.ndarray:
    """ln of :func:`_dilated`."""
    x = np.log(lib_q)
    log_q = np.log(np.asarray(q, dtype=float))
    w = dilation_weight(q)
    log_curves = np.log(np.clip(curves, np.finfo(float).tiny, None))
    sources = np.asarray(sources)
    out = np.empty((sources.size, curves.shape[1], log_q.size))

    def interpolated(xq, at):  # ln I at ln q = xq of the curves ``at`` (every row)
        j, t = bracket(x, xq)
        row = np.arange(curves.shape[1])[None, :, None]
        lo, hi = log_curves[at, row, j[..., None, :]], log_curves[at, row, j[..., None, :] + 1]
        return lo + t[..., None, :] * (hi - lo)

    # where w = 0 (wide angles) nothing moves: each source's curve once, then copied
    still = w == 0
    used, back = np.unique(sources, return_inverse=True)
    xq = np.clip(log_q[still], x[0], x[-1])[None, :]
    out[:, :, still] = interpolated(xq, used[:, None, None])[back]
    # where w > 0: each curve moved by ln s^w and raised by s^(3w)
    shift = np.log(np.asarray(factors, dtype=float))[:, None] * w[None, ~still]  # (m, moving q)
    xq = np.clip(log_q[None, ~still] + shift, x[0], x[-1])
    out[:, :, ~still] = interpolated(xq, sources[:, None, None]) + 3.0 * shift[:, None, :]
    return out


def _running_median(x, window: int) -> np.ndarray:
    half = min(window // 2, (x.size - 1) // 2)
    padded = np.pad(x, half, mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1), axis=1)


def _fourth_difference(y) -> np.ndarray:
    """|4th difference| of ``y`` at each point (ends repeated): white noise of standard
    deviation σ makes it 0.6745·√70·σ in median, a curve smooth over a few q steps near 0."""
    d = np.abs(y[:-4] - 4 * y[1:-3] + 6 * y[2:-2] - 4 * y[3:-1] + y[4:])
    return np.concatenate([d[:1], d[:1], d, d[-1:], d[-1:]]) / (0.6745 * np.sqrt(70.0))


def relative_noise(q, intensity, window: int = NOISE_WINDOW) -> np.ndarray:
    """σ(I) / I at each point, estimated from the curve itself: the weights of a fit without
    ``sigma``. σ(I) is the larger of two estimates, each read over ``window`` points around the
    point:

    - counting noise, σ² = g Ĩ + (:data:`NOISE_FLOOR` Ĩ)²: Ĩ the running median of I (the
      smooth curve, so that a point that happens to count low is not weighted up), g the
      intensity of one count, the median over the curve of s² / Ĩ, s the local scatter of I
      (the running median of its |fourth difference|). Photon counting makes the variance
      proportional to the intensity, so g is one number for the curve and the few counts at wide
      angles, where the scatter of a handful of points says little (discrete counts repeat
      exactly), get the noise their level implies;
    - the scatter of ln I times I (multiplicative noise), at least :data:`NOISE_FLOOR` of I
      (the library's own misfit, where the curve is smooth and the counts many)."""
    intensity = np.asarray(intensity, dtype=float)
    if intensity.size < 5:
        return np.full(intensity.size, NOISE_FLOOR)
    level = np.abs(_running_median(intensity, window))
    log_scatter = np.maximum(
        _running_median(_fourth_difference(np.log(np.abs(intensity))), window), NOISE_FLOOR
    )
    scatter = _running_median(_fourth_difference(intensity), window)
    ok = (level > 0) & (scatter > 0)
    count = float(np.median(scatter[ok] ** 2 / level[ok])) if ok.any() else 0.0
    counting = np.sqrt(count * level + (NOISE_FLOOR * level) ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = counting / np.abs(intensity)
    return np.maximum(np.where(np.isfinite(relative), relative, 0.0), log_scatter)


def _size_average(curves, log_r, s: float, centres=None) -> np.ndarray:
    """The log-normal size averages (σ = ``s``) of ``curves`` (radii ``exp(log_r)``) centred on
    ``centres`` (ln R_0 values; default: the curves' own radii)."""
    if s == 0:
        if centres is None:
            return curves
        return curves[np.searchsorted(log_r, centres)]
    centres = log_r if centres is None else np.asarray(centres, dtype=float)
    w = np.exp(-((centres[:, None] - log_r[None, :]) ** 2) / (2 * s * s))
    return (w @ curves) / w.sum(axis=1, keepdims=True)


def _linear_fits(models, data, weight) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(scale, background, chi²) per row of ``models`` (m, n), each minimising
    sum(((data - scale model - background) / weight)²) with scale > 0 and background >= 0 (the
    2x2 normal equations solved in closed form; where their solution breaks a bound, the
    background is 0 and the scale the one-parameter solution). χ² is expanded in the same
    sums (one pass over ``models`` instead of two), except where it is far below the data's
    own sum of squares."""
    a = models / weight
    u = 1.0 / weight
    b = data / weight
    aa, au, ab = np.einsum("ij,ij->i", a, a), a @ u, a @ b
    uu, ub, bb = u @ u, u @ b, b @ b
    det = aa * uu - au * au
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = (ab * uu - au * ub) / det
        background = (aa * ub - au * ab) / det
    bound = ~np.isfinite(scale) | ~np.isfinite(background) | (scale <= 0) | (background < 0)
    background = np.where(bound, 0.0, background)
    scale = np.where(bound, np.maximum(ab / aa, np.finfo(float).tiny), scale)
    chi2 = (
        bb
        - 2.0 * (scale * ab + background * ub)
        + scale * scale * aa
        + 2.0 * scale * background * au
        + background * background * uu
    )
    # the expansion loses the digits of a χ² far below bb (rounding near 1e-16 bb): such rows,
    # models that match the data almost exactly, are summed over their residuals
    close = np.flatnonzero(chi2 < 1e-6 * bb)
    residual = b - scale[close, None] * a[close] - background[close, None] * u
    chi2[close] = np.einsum("ij,ij->i", residual, residual)
    return scale, background, chi2


def _check(q, intensity, sigma):
    q = np.asarray(q, dtype=float)
    intensity = np.asarray(intensity, dtype=float)
    if q.ndim != 1 or intensity.shape != q.shape:
        raise ValueError(
            f"q and intensity must be 1-D arrays of one length, got {q.shape} and "
            f"{intensity.shape}."
        )
    if sigma is not None:
        sigma = np.asarray(sigma, dtype=float)
        if sigma.shape != q.shape:
            raise ValueError(f"sigma must have the length of q ({q.size}), got {sigma.shape}.")
    return q, intensity, sigma


def family_rows(lib) -> dict:
    """{(shape, element, b_iso): library rows} of every family of ``lib`` (for
    :func:`fit_candidates`' ``families``: looked up once instead of once per fit)."""
    meta = lib.metadata
    groups = meta.groupby(["shape", "element", "b_iso"], sort=False).indices
    return {(s, e, float(b)): np.asarray(rows) for (s, e, b), rows in groups.items()}


def fit_family(
    lib,
    q,
    intensity,
    shape: str,
    element: str,
    b_iso: float,
    sigma=None,
    sigmas=SIGMAS,
    rows=None,
    radius_range=None,
    dq=None,
    substeps: int = 1,
    noise=None,
    between: str = "blend",
) -> FitResult:
    """The best fit of the measured curve (``q`` in 1/Å, ``intensity`` in any units, NaN where not
    measured, ``sigma`` its standard deviations or None) by one family of the library ``lib`` (see
    the module doc). ``dq``: the resolution σ_q at each q (1/Å;
    :func:`helpers.measurement.instrument.resolution_width`) with which the library curves are
    smeared, or None (not smeared); ``substeps``: R_0 is also tried at ``substeps - 1`` points
    between consecutive library sizes (1: at the library's sizes only), modelled as ``between``
    says (module doc: "blend" and "dilate", every σ; "average", σ > 0 only); ``noise``: σ(I)/I at
    each q for a fit without ``sigma`` (default :func:`relative_noise` of the points used; give it
    to fit many families of one curve). ``rows``: the family's library rows if known
    (:func:`family_rows`); ``radius_range``: (low, high) R_eq in Å, the sizes tried for R_0 (the
    polydisperse averages still use every size of the family; at least the size nearest to the
    range is tried); the result's ``at_range_edge`` says when the best R_0 is the range's smallest
    (largest) size and the library has smaller (larger) ones, which a wider range would try. Raises
    ValueError if the library has no such family or fewer than N_PARAMETERS + 1 measured points
    fall inside its q range."""
    q, intensity, sigma = _check(q, intensity, sigma)
    if dq is not None:
        dq = np.asarray(dq, dtype=float)
        if dq.shape != q.shape or not np.all(np.isfinite(dq) & (dq >= 0)):
            raise ValueError(
                f"dq must be finite values >= 0, one per q ({q.size}), got shape {dq.shape}."
            )
    if isinstance(substeps, bool) or not isinstance(substeps, (int, np.integer)) or substeps < 1:
        raise ValueError(f"substeps must be an integer >= 1, got {substeps!r}.")
    if between not in BETWEEN:
        raise ValueError(f"between must be one of {BETWEEN}, got {between!r}.")
    if noise is not None and np.shape(noise) != q.shape:
        raise ValueError(f"noise must hold one σ(I)/I per q ({q.size}), got {np.shape(noise)}.")
    meta = lib.metadata
    if rows is None:
        selected = (
            (meta["shape"] == shape)
            & (meta["element"] == element)
            & np.isclose(meta["b_iso"], float(b_iso))
        )
        rows = np.flatnonzero(selected.to_numpy())
    rows = np.asarray(rows, dtype=int)  # positions in the library, by size
    rows = rows[np.argsort(meta["eq_radius"].to_numpy(float)[rows], kind="stable")]
    if rows.size == 0:
        raise ValueError(
            f"the library has no curves of {shape} / {element} / B = {b_iso}: choose among its "
            "shapes, elements and B_iso values."
        )
    use = np.isfinite(intensity) & (q >= lib.q[0]) & (q <= lib.q[-1])
    if sigma is not None:
        use &= np.isfinite(sigma) & (sigma > 0)
    if use.sum() <= N_PARAMETERS:
        raise ValueError(
            f"only {int(use.sum())} measured points lie in the library's q range "
            f"[{lib.q[0]:g}, {lib.q[-1]:g}] 1/Å: a fit needs more than {N_PARAMETERS}."
        )
    qm, data = q[use], intensity[use]
    if sigma is None and np.any(data <= 0):
        k = int(np.flatnonzero(data <= 0)[0])
        raise ValueError(
            f"intensity <= 0 at q = {qm[k]:g} 1/Å: a fit without sigma estimates each point's "
            "noise from the intensity itself, so every measured intensity must be > 0; give "
            "sigma, or NaN for the points to leave out."
        )
    if sigma is not None:
        weight = sigma[use]
    else:
        weight = np.abs(data) * (relative_noise(qm, data) if noise is None else noise[use])
    radii = meta["eq_radius"].to_numpy(float)[rows]
    log_r = np.log(radii)
    tried = np.arange(rows.size)
    if radius_range is not None:
        low, high = radius_range
        tried = np.flatnonzero((radii >= low) & (radii <= high))
        if tried.size == 0:
            tried = np.array([int(np.argmin(np.abs(log_r - np.log(np.sqrt(low * high)))))])
    for s in sigmas:
        if s < 0 or not np.isfinite(s):
            raise ValueError(f"polydispersity values must be finite and >= 0, got {s}.")
    # the curves a polydisperse average of the tried sizes reaches (weights above 1e-6)
    reach = 5.3 * max(sigmas)
    near = np.flatnonzero(
        (log_r >= log_r[tried].min() - reach) & (log_r <= log_r[tried].max() + reach)
    )
    # the library's q points the model needs: the measured window, widened for dilations (at
    # most a factor 2 between neighbouring sizes, and none above DILATION_Q[1]) and for the
    # smearing kernel. Above DILATION_Q[1] the window ends at the measured q_max: a curve
    # measured below the library's q_max is not smeared beyond it (no value changes)
    margin = 0.0 if dq is None else 5.0 * float(dq[use].max())
    top = max(qm.max(), 2.0 * min(qm.max(), DILATION_Q[1]))
    a, b = np.searchsorted(lib.q, [qm.min() / 2 - margin, top + margin])
    a, b = max(a - 1, 0), min(b + 1, lib.q.size)
    lib_q = lib.q[a:b]
    library_curves = lib.intensities[rows[near], a:b]
    if dq is not None:  # smeared once on the library's grid (σ_q read off the measured points)
        widths = np.interp(lib_q, qm, dq[use])
        library_curves = _on_measured_q(lib_q, library_curves, lib_q, widths)
    curves = _on_measured_q(lib_q, library_curves, qm)
    # every (σ, R_0) model at once: R_0 at each tried library size and at substeps - 1 points
    # between consecutive ones (so that R_0 is not confined to the library's sizes), there
    # modelled by dilating both neighbouring sizes' models and blending them ("blend"), by
    # dilating the nearest size's ("dilate") or by re-centring the log-normal weights of σ > 0
    # ("average")
    steps = np.arange(substeps) / substeps
    fine = (log_r[tried[:-1], None] * (1 - steps) + log_r[tried[1:], None] * steps).ravel()
    fine = np.append(fine, log_r[tried[-1]])
    own = np.isin(fine, log_r[tried])  # the library's own sizes among the centres
    nearest = np.abs(fine[:, None] - log_r[near][None, :]).argmin(axis=1)  # index into near
    centres, spreads, blocks = [], [], []
    for s in sigmas:
        at = fine if between != "average" or s > 0 else log_r[tried]
        if between == "average":
            block = _size_average(curves, log_r[near], s, at)
        else:
            block = _size_average(curves, log_r[near], s, log_r[near][nearest])
        centres.append(at)
        spreads.append(np.full(at.size, s))
        blocks.append(block)
    if between != "average" and not own.all():
        # each size between the library's: the models (every σ) of its nearest size ("dilate")
        # or of both neighbours ("blend"), dilated to it
        off = np.flatnonzero(~own)
        log_near = log_r[near]  # increasing
        if between == "dilate":
            pairs = [(nearest[off], np.ones(off.size))]
        else:
            upper = np.clip(np.searchsorted(log_near, fine[off]), 1, near.size - 1)
            lower = upper - 1
            t = (fine[off] - log_near[lower]) / (log_near[upper] - log_near[lower])
            pairs = [(lower, 1.0 - t), (upper, t)]
        sources = np.unique(np.concatenate([index for index, _ in pairs]))
        on_grid = np.stack(
            [_size_average(library_curves, log_near, s, log_near[sources]) for s in sigmas],
            axis=1,
        )  # (source size, σ, library q)
        log_grown = sum(
            weight[:, None, None]
            * _log_dilated(
                lib_q,
                on_grid,
                np.searchsorted(sources, index),
                qm,
                np.exp(fine[off] - log_near[index]),
            )
            for index, weight in pairs
        )
        grown = np.exp(log_grown)
        for i, block in enumerate(blocks):
            block[off] = grown[:, i]
    centres, spreads, models = np.concatenate(centres), np.concatenate(spreads), np.vstack(blocks)
    scales, backgrounds, chi2s = _linear_fits(models, data, weight)
    j = int(np.argmin(chi2s))
    log_r0, s = float(centres[j]), float(spreads[j])
    k = int(tried[np.argmin(np.abs(log_r[tried] - log_r0))])  # the library size nearest R_0
    scale, background, model = float(scales[j]), float(backgrounds[j]), models[j]
    fitted = scale * model + background
    dof = max(use.sum() - N_PARAMETERS, 1)
    log_n = meta["log_n_atoms"].to_numpy(float)[rows]
    halfwidth = _profile_halfwidth(centres, chi2s, j, PROFILE_DELTA * float(chi2s[j]) / dof)
    return FitResult(
        shape=shape,
        element=element,
        b_iso=float(b_iso),
        radius_A=float(radii[k]) if log_r0 == log_r[k] else float(np.exp(log_r0)),
        n_atoms=int(round(float(np.exp(np.interp(log_r0, log_r, log_n))))),
        polydispersity=s,
        scale=scale,
        background=background,
        chi2_red=float(chi2s[j]) / dof,
        n_points=int(use.sum()),
        q=qm,
        fitted=fitted,
        residuals=(data - fitted) / weight,
        weighted_by_sigma=sigma is not None,
        at_size_edge=k in (0, rows.size - 1),
        at_range_edge=radius_range is not None
        and ((k == tried.min() and k > 0) or (k == tried.max() and k < rows.size - 1)),
        log_radius_halfwidth=halfwidth,
    )


def _profile_halfwidth(centres, chi2s, best: int, delta: float) -> float:
    """Half the width (in ln R_0) of the R_0 values whose lowest χ² over the other parameters is
    within ``delta`` of the minimum (model ``best``), and at least half the step of the R_0 grid
    next to the best."""
    grid = np.unique(centres)
    profile = np.full(grid.size, np.inf)
    np.minimum.at(profile, np.searchsorted(grid, centres), chi2s)
    inside = grid[profile <= chi2s[best] + delta]
    at = int(np.searchsorted(grid, centres[best]))
    steps = [grid[at] - grid[at - 1]] if at > 0 else []
    if at < grid.size - 1:
        steps.append(grid[at + 1] - grid[at])
    step = float(min(steps, default=0.0))
    return float(max((inside.max() - inside.min()) / 2, step / 2))


def fit_candidates(
    lib,
    q,
    intensity,
    candidates,
    sigma=None,
    sigmas=SIGMAS,
    families=None,
    radius_range=None,
    dq=None,
    noise=None,
):
    """Fit every candidate family ``(shape, element, b_iso)``; returns (table sorted by chi²_red,
    {(shape, element, b_iso): FitResult}). ``families``: :func:`family_rows` of ``lib`` if known;
    ``radius_range``, ``dq``, ``noise``: as :func:`fit_family`'s."""
    fits = {}
    for shape, element, b_iso in candidates:
        key = (shape, element, float(b_iso))
        rows = None if families is None else families.get(key)
        if families is not None and rows is None:
            raise ValueError(
                f"the library has no curves of {shape} / {element} / B = {b_iso}: choose among "
                "its shapes, elements and B_iso values."
            )
        fits[key] = fit_family(
            lib,
            q,
            intensity,
            shape,
            element,
            b_iso,
            sigma=sigma,
            sigmas=sigmas,
            rows=rows,
            radius_range=radius_range,
            dq=dq,
            noise=noise,
        )
    if not fits:
        raise ValueError("no candidate to fit: give at least one (shape, element, b_iso).")
    table = pd.DataFrame([f.as_row() for f in fits.values()]).sort_values("chi2_red")
    return table.reset_index(drop=True), fits
