"""A realistic measurement model: what an instrument records of an ideal Debye curve.

A measured SAXS/WAXS curve differs from the ideal Debye curve of one particle by

1. **size polydispersity** (:func:`polydisperse`): a sample holds many particles of slightly
   different sizes. The curve is the number-weighted average of the curves of one shape over a
   log-normal distribution of the equivalent radius, ``w_k ∝ exp(-(ln R_k - ln R_0)² / 2σ²)`` over
   the sizes R_k of the library (same shape, element and B_iso), R_0 the particle's own size.
   σ = 0 is the monodisperse curve. Labels stay those of the central particle.
2. **instrument resolution** (:func:`smear`): each measured point averages I over a Gaussian in q
   of standard deviation ``σ_q(q) = sqrt(σ_0² + (r q)²)`` (beam size and divergence give σ_0, the
   wavelength spread Δλ/λ gives the relative part r). It washes out fringes and sharp Bragg peaks.
3. **background** (:func:`add_background`): a flat part (fluorescence, incoherent and solvent
   scattering), ``flat`` times the clean curve's intensity at its highest q, plus a power law
   ``power (q / q_0)^-exponent`` with q_0 the lowest q (Porod-like scattering of large aggregates
   or the support; exponent 4), ``power`` times the clean curve's intensity at q_0.
4. **counting noise**: :func:`helpers.measurement.degrade.poisson_noise` at a number of photons per
   curve;
5. **a q window** other than the study's grid: points outside [q_min, q_max] are not measured;
6. **an overall scale**: a measurement in arbitrary units (unknown concentration, flux, thickness)
   multiplies the curve by a factor, so I(0) ∝ N² f(0)² cannot be read as a size.

:func:`measure` applies them in this order. :func:`as_full_grid` puts measured points at their true
q on a model's full grid (the unmeasured ends filled as :func:`helpers.measurement.degrade.present`
does).
"""

from __future__ import annotations

import functools
import numbers
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from . import degrade


def derived_seed(seed: int, *tags: int) -> int:
    """An independent seed for each random step (round r of the training curves, the validation
    curves, the test conditions ...), derived from the user's ``seed`` and the step's ``tags``."""
    return int(np.random.SeedSequence([seed, *tags]).generate_state(1)[0])


@dataclass(frozen=True)
class Measurement:
    """The parameters of one measurement (defaults: the ideal curve on the full grid)."""

    polydispersity: float = 0.0  # σ of ln R_eq
    resolution: float = 0.0  # σ_0 in Å⁻¹
    relative_resolution: float = 0.0  # r = σ_q / q part
    flat: float = 0.0  # flat background, in units of the clean I(q_max)
    power: float = 0.0  # power-law background at q_min, in units of the clean I(q_min)
    exponent: float = 4.0
    photons: float = np.inf  # per curve
    q_min: float = 0.0  # measured window
    q_max: float = np.inf
    scale: float = 1.0  # overall factor: a measurement in arbitrary units does not know I(0)


def _size_weights(meta: pd.DataFrame, rows, sigma, pool):
    """[(library rows, number weights, not normalised)] of the log-normal size average of each
    of ``rows`` (:func:`polydisperse`); σ = 0: the row alone."""
    rows = np.asarray(rows)
    allowed = np.ones(len(meta), dtype=bool)
    if pool is not None:
        allowed[:] = False
        allowed[np.asarray(pool)] = True
        if not allowed[rows].all():
            raise ValueError(
                "every row to measure must be in pool: pass the rows of its own side of the split."
            )
    sigma = np.broadcast_to(np.asarray(sigma, dtype=float), rows.shape)
    if np.any(sigma < 0) or not np.all(np.isfinite(sigma)):
        raise ValueError("polydispersity sigma must be a finite number >= 0 (0: monodisperse).")
    family = meta.groupby(["shape", "element", "b_iso"], sort=False).indices
    log_r = np.log(meta["eq_radius"].to_numpy(float))
    out = []
    for row, s in zip(rows, sigma):
        if s == 0:
            out.append((np.array([row]), np.ones(1)))
            continue
        members = family[tuple(meta.loc[row, ["shape", "element", "b_iso"]])]
        members = members[allowed[members]]
        w = np.exp(-((log_r[members] - log_r[row]) ** 2) / (2 * s * s))
        out.append((members, w))
    return out


def polydisperse(lib, rows, sigma, pool=None) -> np.ndarray:
    """Number-weighted log-normal size average of the curves ``rows`` of a library
    (see module doc).
    ``sigma``: one value or one per row (σ of ln R_eq, >= 0). ``pool``: the library rows the
    average may draw on (default: all). Give the rows of one side of a train/test split, so that
    the curves of held-out particles never enter the training curves (nor training particles the
    test curves); every row of ``rows`` must be in ``pool``."""
    X = lib.intensities
    weights = _size_weights(lib.metadata, rows, sigma, pool)
    out = np.empty((len(weights), X.shape[1]))
    for k, (members, w) in enumerate(weights):
        out[k] = X[members[0]] if members.size == 1 else w @ X[members] / w.sum()
    return out


def size_distributions(lib, rows, sigma, pool=None) -> pd.DataFrame:
    """The size distribution :func:`polydisperse` averages over, for each of ``rows`` (same
    arguments): ``centre_radius_A``, exp of its number-weighted mean ln R_eq (the row's own
    R_eq where σ = 0), and ``sizes``, how many library sizes carry at least 1 % of its weight.
    The average draws only on the library's sizes in ``pool``: where they are sparse (one side
    of a split), the distribution is a few sizes, not centred on the row's own, or the row
    alone."""
    radii = lib.metadata["eq_radius"].to_numpy(float)
    weights = _size_weights(lib.metadata, rows, sigma, pool)
    centre = [
        radii[m[0]] if m.size == 1 else np.exp(w @ np.log(radii[m]) / w.sum()) for m, w in weights
    ]
    return pd.DataFrame(
        {
            "centre_radius_A": np.asarray(centre, dtype=float),
            "sizes": [int((w >= 0.01 * w.sum()).sum()) for _, w in weights],
        }
    )


def resolution_width(q, sigma0: float = 0.0, relative: float = 0.0) -> np.ndarray:
    """σ_q = sqrt(σ_0² + (r q)²) at each q (1/Å): the width of the Gaussian resolution."""
    return np.sqrt(sigma0**2 + (relative * np.asarray(q, dtype=float)) ** 2)


def resolution_matrix(q, sigma0: float, relative: float = 0.0) -> np.ndarray:
    """R[i, j]: weight of I(q_j) in the measured I(q_i), Gaussian of σ_q(q_i), each row
    summing to 1. The last ten matrices are kept (read-only): a protocol smears many batches of
    curves on one grid with the few widths of :func:`random_measurements`."""
    q = np.asarray(q, dtype=float)
    if sigma0 < 0 or relative < 0:
        raise ValueError("resolution widths must be >= 0.")
    return _resolution_matrix(q.tobytes(), float(sigma0), float(relative))


@functools.lru_cache(maxsize=10)
def _resolution_matrix(q_bytes: bytes, sigma0: float, relative: float) -> np.ndarray:
    q = np.frombuffer(q_bytes, dtype=float)
    s = resolution_width(q, sigma0, relative)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        R = np.where(
            s > 0,
            np.exp(-0.5 * ((q[None, :] - q[:, None]) / s) ** 2),
            (q[None, :] == q[:, None]) * 1.0,
        )
    R = R / R.sum(axis=1, keepdims=True)
    R.flags.writeable = False
    return R


def smear(q, I, sigma0: float, relative: float = 0.0) -> np.ndarray:
    """Gaussian resolution smearing of curves (n, n_q) or one curve."""
    if sigma0 == 0 and relative == 0:
        return np.array(I, dtype=float, copy=True)
    return np.asarray(I, dtype=float) @ resolution_matrix(q, sigma0, relative).T


def add_background(
    q, I, flat: float = 0.0, power: float = 0.0, exponent: float = 4.0
) -> np.ndarray:
    """Flat + power-law background, scaled by each curve's own I(q_max) and I(q_min)
    (module doc)."""
    if flat < 0 or power < 0:
        raise ValueError("background levels must be >= 0.")
    q = np.asarray(q, dtype=float)
    I = np.asarray(I, dtype=float)
    return I + flat * I[..., -1:] + power * I[..., :1] * (q / q[0]) ** (-exponent)


def window_mask(q, q_min: float, q_max: float) -> np.ndarray:
    mask = (np.asarray(q) >= q_min) & (np.asarray(q) <= q_max)
    if mask.sum() < 2:
        raise ValueError(
            f"the window [{q_min}, {q_max}] Å⁻¹ holds fewer than 2 grid points: widen it."
        )
    return mask


def measure(lib, rows, measurements, seed: int = 0, pool=None):
    """Realistic curves of library ``rows``: one :class:`Measurement` for all, or one per row.
    ``pool``: the rows polydispersity may average over (:func:`polydisperse`).
    Returns ``(I, mask)``, both (n, n_q); I is NaN where not measured (mask False)."""
    rows = np.asarray(rows)
    if isinstance(measurements, Measurement):
        measurements = [measurements] * rows.size
    if len(measurements) != rows.size:
        raise ValueError(
            f"{len(measurements)} measurements for {rows.size} curves: give one, or one per curve."
        )
    q = lib.q
    table = pd.DataFrame([asdict(m) for m in measurements])
    I = polydisperse(lib, rows, table["polydispersity"].to_numpy(), pool=pool)
    for (s0, rel), idx in table.groupby(["resolution", "relative_resolution"]).indices.items():
        I[idx] = smear(q, I[idx], s0, rel)
    for k, m in enumerate(measurements):
        I[k] = add_background(q, I[k], m.flat, m.power, m.exponent)
    rng = np.random.default_rng(seed)
    for k, m in enumerate(measurements):
        if np.isfinite(m.photons):
            I[k] = degrade.poisson_noise(q, I[k], m.photons, seed=int(rng.integers(2**32)))[1]
    scale = table["scale"].to_numpy(float)
    if np.any(~np.isfinite(scale) | (scale <= 0)):
        raise ValueError("Measurement.scale must be a finite number > 0.")
    I *= scale[:, None]
    mask = np.stack([window_mask(q, m.q_min, m.q_max) for m in measurements])
    return np.where(mask, I, np.nan), mask


#: the resolution widths σ_0 (Å⁻¹) and r of σ_q = sqrt(σ_0² + (r q)²) the random conditions
#: draw from (few values, so that curves share resolution matrices)
RESOLUTION_WIDTHS = (0.0, 0.005, 0.01)
RELATIVE_RESOLUTIONS = (0.0, 0.01, 0.02)


def random_measurements(
    n: int,
    seed: int = 0,
    polydispersity=(0.0, 0.15),
    resolution=RESOLUTION_WIDTHS,
    relative_resolution=RELATIVE_RESOLUTIONS,
    flat=(0.0, 1.0),
    power=(0.0, 1e-3),
    photons=(1e5, 1e9),
    q_min=(0.01, 0.3),
    q_max=(5.0, 19.99),
    scale=(1e-2, 1e2),
    off_share: float = 0.0,
) -> list[Measurement]:
    """Random measurement conditions for augmentation: uniform in each (low, high) range,
    log-uniform for photons, q_min and the overall scale; the resolution widths are drawn from the
    listed values (few widths, so that curves share resolution matrices).

    ``off_share``: the share of the curves measured without each of the three effects that
    change the curve's form, the polydispersity, the resolution and the background, each
    switched off on its own (a curve is measured without any of them with probability at least
    ``off_share`` cubed). Drawn from every range alone, a curve with none of them almost never
    occurs (the polydispersity is below 0.01 for one curve in 15 of the default range, the
    background never 0), so a network trained on such curves meets an ideal or single-effect
    curve as something it has not seen. 0 (the default) draws the same conditions as before."""
    if isinstance(off_share, bool) or not (
        isinstance(off_share, numbers.Real) and 0.0 <= off_share <= 1.0
    ):
        raise ValueError(f"off_share must be a number in [0, 1], got {off_share!r}.")
    rng = np.random.default_rng(seed)

    def uniform(lo_hi):
        return rng.uniform(*lo_hi, size=n)

    def log_uniform(lo_hi):
        return np.exp(rng.uniform(np.log(lo_hi[0]), np.log(lo_hi[1]), size=n))

    columns = dict(
        polydispersity=uniform(polydispersity),
        resolution=rng.choice(resolution, size=n),
        relative_resolution=rng.choice(relative_resolution, size=n),
        flat=uniform(flat),
        power=uniform(power),
        photons=log_uniform(photons),
        q_min=log_uniform(q_min),
        q_max=uniform(q_max),
        scale=log_uniform(scale),
    )
    if off_share > 0:  # drawn after the ranges, which stay those of off_share = 0
        off = rng.random((n, 3)) < off_share
        columns["polydispersity"] = np.where(off[:, 0], 0.0, columns["polydispersity"])
        for name in ("resolution", "relative_resolution"):
            columns[name] = np.where(off[:, 1], 0.0, columns[name])
        for name in ("flat", "power"):
            columns[name] = np.where(off[:, 2], 0.0, columns[name])
    return [Measurement(**{k: float(v[i]) for k, v in columns.items()}) for i in range(n)]


def as_full_grid(q, I, mask, how: str = "interpolate") -> np.ndarray:
    """Measured curves (NaN outside each curve's window) for a model trained on the full grid
    ``q``, through :func:`helpers.measurement.degrade.present`, curve by curve (each may have its
    own window)."""
    out = np.empty_like(np.asarray(I, dtype=float))
    for k in range(len(out)):
        measured = mask[k]
        out[k] = degrade.present(q[measured], I[k, measured], q, how)[1]
    return out


def with_random_scale(measurements, n: int, seed: int = 0, scale=(1e-2, 1e2)) -> list[Measurement]:
    """``n`` measurements (one :class:`Measurement` for all, or one per curve), each with its scale
    multiplied by a log-uniform factor in ``scale``: curves in arbitrary units."""
    if isinstance(measurements, Measurement):
        measurements = [measurements] * n
    if len(measurements) != n:
        raise ValueError(
            f"{len(measurements)} measurements for {n} curves: give one, or one per curve."
        )
    lo, hi = scale
    if not 0 < lo <= hi:
        raise ValueError(f"scale range must be 0 < low <= high, got {scale}.")
    factors = np.exp(np.random.default_rng(seed).uniform(np.log(lo), np.log(hi), size=n))
    return [replace(m, scale=m.scale * float(f)) for m, f in zip(measurements, factors)]
