"""X-ray scattering of a nanoparticle by the Debye scattering equation, exact and fast.

The full Debye double sum over all atoms i, j is

    I(q) = sum_i sum_j f_i(q) f_j(q) sinc(q r_ij)
         = sum_i f_i(q)^2 + 2 exp(-q^2 B / (8 pi^2)) sum_{i<j} f_i(q) f_j(q) sin(q r_ij) / (q r_ij)

with sinc(0) = 1. The isotropic Debye-Waller factor exp(-q^2 B/(8 pi^2)) damps the pair terms only;
the self term (i = j) is undamped. Form factors f0(q) are the Waasmaier-Kirfel (1995)
parametrisation as implemented by ``periodictable`` (``element.xray.f0``).

Relation to debyecalculator (the study's tool): ``DebyeCalculator(qdamp=0, biso=B).iq`` returns the
pairs i<j once plus half of the self term, i.e. exactly half of I(q) above.

How it is exact and fast
------------------------
1. Pair distances are accumulated (in one fused numba pass, or chunked numpy without numba) into
   bins of width ``w = BIN_PHASE / s_max`` (s is q times the length unit) and each occupied bin is
   represented by the mean distance of the pairs in it. For a pair at distance d = m + delta in a
   bin of mean m, the error of sinc(s d) replaced by sinc(s m) is of second order, at most
   (s delta)^2 / 6 <= (BIN_PHASE / 2)^2 / 6 ~ 2e-9 of that pair's weight, and its first-order part
   cancels exactly because m is the mean. Symmetric particles have few distinct distances, so few
   bins are occupied.
2. The remaining sum over occupied bins, sum_k n_k sin(s d_k) / d_k, is evaluated at all target
   s values at once by a type-3 non-uniform FFT (finufft, tolerance 1e-12), which is exact to
   that tolerance relative to the total pair weight.

Together the relative error against the brute-force double sum stays far below 1e-4 at every q
of the study grid (``tests/test_scattering.py`` checks 1e-6 on several shapes).
"""

from __future__ import annotations

import functools

import numpy as np

BIN_PHASE = (
    2e-4  # bin width times the largest s: the largest phase error of a pair is BIN_PHASE / 2
)
#: From this many atoms on, ``debye_intensity(route="auto")`` uses the sub-quadratic routes of
#: ``pairs`` (lattice FFT, columns, symmetry orbits, parallel pass); below it, the binned pass
#: above, so every curve of the study library (at most 11,571 atoms) is unchanged, bit for bit.
FAST_ROUTE_MIN_ATOMS = 20_000
ROUTES = ("auto", "binned", "pairs", "lattice", "column", "orbit", "general")
#: Diagnostics: the route of each element pair in the last ``debye_intensity`` call.
last_routes: tuple[str, ...] = ()
NUFFT_EPS = 1e-12
_CHUNK_PAIRS = 4_000_000
# numba fuses distance, binning and accumulation into one pass (5-10x faster); numpy otherwise
try:
    import numba  # noqa: F401

    _HAS_NUMBA = True
except ImportError:  # pragma: no cover - numba is in requirements.txt
    _HAS_NUMBA = False


def check_q(q) -> np.ndarray:
    """Return q as a contiguous float array after checking it is 1-D, finite, > 0 and strictly
    increasing."""
    q = np.ascontiguousarray(q, dtype=float)
    if q.ndim != 1 or q.size == 0:
        raise ValueError(
            f"q must be a non-empty 1-D array of scattering vectors in 1/Å, got shape {q.shape}."
        )
    if not np.all(np.isfinite(q)):
        raise ValueError(
            "q contains NaN or infinite values: pass finite scattering vectors in 1/Å."
        )
    if np.any(q <= 0):
        raise ValueError(
            f"q must be > 0 (smallest given: {q.min():g}); "
            "the Debye sum at q = 0 is (sum of f_i(0))^2, "
            "use a small positive q such as 0.01 instead."
        )
    if np.any(np.diff(q) <= 0):
        raise ValueError(
            "q must be sorted in strictly increasing order: pass np.sort(np.unique(q))."
        )
    return q


def check_positions(positions) -> np.ndarray:
    positions = np.asarray(positions, dtype=float)
    if positions.ndim != 2 or positions.shape[1] != 3 or len(positions) == 0:
        raise ValueError(
            f"atom positions must be an (N, 3) array with N >= 1, got shape {positions.shape}."
        )
    if not np.all(np.isfinite(positions)):
        bad = np.flatnonzero(~np.all(np.isfinite(positions), axis=1))
        raise ValueError(
            f"atom positions contain NaN or infinite coordinates (atoms {bad[:5].tolist()}...): "
            "fix or remove those atoms before computing I(q)."
        )
    return positions


def check_b_iso(b_iso) -> float:
    b = float(b_iso)
    if not np.isfinite(b) or b < 0:
        raise ValueError(f"b_iso must be a finite Debye-Waller B >= 0 in Å^2, got {b_iso!r}.")
    return b


@functools.lru_cache(maxsize=64)
def _form_factor_cached(element: str, q_bytes: bytes) -> np.ndarray:
    import periodictable

    q = np.frombuffer(q_bytes, dtype=float)
    try:
        el = periodictable.elements.symbol(element)
    except ValueError as exc:
        raise ValueError(
            f"unknown chemical element {element!r}: give a symbol such as 'Au' or 'Co'."
        ) from exc
    f0 = np.asarray(el.xray.f0(q), dtype=float)
    f0.setflags(write=False)
    return f0


def form_factor(element: str, q) -> np.ndarray:
    """Waasmaier-Kirfel atomic X-ray form factor f0(q) in electrons, q in 1/Å
    (q = 4 pi sin(theta)/lambda)."""
    q = np.ascontiguousarray(np.asarray(q, dtype=float))
    if np.any(q < 0) or not np.all(np.isfinite(q)):
        raise ValueError("form factor q must be finite and >= 0 (1/Å).")
    return _form_factor_cached(element, q.tobytes())


def debye_waller(q, b_iso: float) -> np.ndarray:
    """Isotropic Debye-Waller damping exp(-q^2 B / (8 pi^2)) of the pair terms."""
    return np.exp(-(np.asarray(q, dtype=float) ** 2) * check_b_iso(b_iso) / (8.0 * np.pi**2))


@functools.lru_cache(maxsize=1)
def _fused_kernel():
    """numba kernel: every pair's distance, binned and accumulated in one pass (no pair arrays)."""
    import numba

    @numba.njit(cache=True, nogil=True)
    def accumulate(pos_a, pos_b, same, inv_width, counts, sums):
        n_a, n_b = pos_a.shape[0], pos_b.shape[0]
        zero = False
        for i in range(n_a):
            j0 = i + 1 if same else 0
            xi, yi, zi = pos_a[i, 0], pos_a[i, 1], pos_a[i, 2]
            for j in range(j0, n_b):
                dx, dy, dz = xi - pos_b[j, 0], yi - pos_b[j, 1], zi - pos_b[j, 2]
                d = np.sqrt(dx * dx + dy * dy + dz * dz)
                if d <= 0.0:
                    zero = True
                k = int(d * inv_width + 0.5)
                counts[k] += 1.0
                sums[k] += d
        return zero

    return accumulate


def pair_distance_bins(
    pos_a: np.ndarray, pos_b: np.ndarray | None, width: float
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct pairs between two atom sets (or within one, i<j, if ``pos_b`` is None), binned.

    Returns (mean distance, number of pairs) of each occupied bin of width ``width``.
    Raises if two atoms coincide (a pair at distance 0 is not a physical particle).
    """
    from scipy.spatial.distance import cdist

    same = pos_b is None
    pos_b = pos_a if same else pos_b
    if len(pos_a) == 0 or len(pos_b) == 0 or (same and len(pos_a) < 2):
        return np.zeros(0), np.zeros(0)
    extent = np.ptp(np.vstack([pos_a, pos_b]), axis=0)
    d_max = float(np.sqrt(np.sum(extent**2)))
    n_bins = int(np.ceil(d_max / width)) + 2
    counts = np.zeros(n_bins)
    sums = np.zeros(n_bins)
    if _HAS_NUMBA:
        zero = _fused_kernel()(
            np.ascontiguousarray(pos_a, dtype=float),
            np.ascontiguousarray(pos_b, dtype=float),
            same,
            1.0 / width,
            counts,
            sums,
        )
        if zero:
            raise ValueError(
                "two atoms sit at the same position: "
                "remove duplicated atoms before computing I(q)."
            )
        occupied = counts > 0
        return sums[occupied] / counts[occupied], counts[occupied]
    n_a, n_b = len(pos_a), len(pos_b)
    rows = max(1, _CHUNK_PAIRS // n_b)
    for i0 in range(0, n_a, rows):
        i1 = min(n_a, i0 + rows)
        if same:
            d = cdist(pos_a[i0:i1], pos_b[i0:])
            d = d[np.arange(i0, i1)[:, None] < np.arange(i0, n_b)[None, :]]
        else:
            d = cdist(pos_a[i0:i1], pos_b).ravel()
        if d.size == 0:
            continue
        if d.min() <= 0:
            raise ValueError(
                "two atoms sit at the same position: "
                "remove duplicated atoms before computing I(q)."
            )
        idx = (d * (1.0 / width) + 0.5).astype(np.int64)  # the same rounding as the numba kernel
        counts += np.bincount(idx, minlength=n_bins)
        sums += np.bincount(idx, weights=d, minlength=n_bins)
    occupied = counts > 0
    return sums[occupied] / counts[occupied], counts[occupied]


def sinc_sum(distances: np.ndarray, weights: np.ndarray, s: np.ndarray) -> np.ndarray:
    """sum_k weights_k sinc(s distances_k) at every s > 0, by a type-3 NUFFT (single-threaded,
    deterministic)."""
    import finufft

    s = np.asarray(s, dtype=float)
    if len(distances) == 0:
        return np.zeros_like(s)
    strengths = (np.asarray(weights, dtype=float) / distances).astype(np.complex128)
    if len(distances) < 64:  # tiny clusters: the direct sum is cheaper than setting up a NUFFT
        return (np.sin(np.outer(s, distances)) @ strengths.real) / s
    values = finufft.nufft1d3(
        np.asarray(distances, dtype=float), strengths, s, isign=1, eps=NUFFT_EPS, nthreads=1
    )
    return values.imag / s


def positions_sinc_sum(positions: np.ndarray, s: np.ndarray) -> np.ndarray:
    """S(s) = sum_{i<j} sinc(s r_ij) for one set of positions, exact to ~1e-9 of the pair
    weight."""
    s = np.asarray(s, dtype=float)
    distances, weights = pair_distance_bins(positions, None, BIN_PHASE / s.max())
    return sinc_sum(distances, weights, s)


def debye_intensity(atoms, q, b_iso: float = 0.0, *, route: str = "auto") -> np.ndarray:
    """Full Debye double sum I(q) of an ``ase.Atoms`` (any mix of elements), in electrons^2.

    ``q`` in 1/Å, > 0 and strictly increasing; ``b_iso`` the isotropic Debye-Waller B in Å^2,
    applied to the pair terms only. Equals 2 x debyecalculator's ``iq`` at ``qdamp=0``.

    ``route``: ``"auto"`` uses the binned pass below ``FAST_ROUTE_MIN_ATOMS`` atoms and the
    fastest exact route of ``pairs.pair_distribution`` from there on; ``"binned"`` forces the
    binned pass (O(N^2), one core); ``"pairs"`` the fastest exact route of ``pairs`` at any size;
    ``"lattice"``, ``"column"``, ``"orbit"``, ``"general"`` force one route of ``pairs``
    (raising if the atoms do not fit it).
    """
    if route not in ROUTES:
        raise ValueError(f"unknown route {route!r}: choose one of {', '.join(ROUTES)}.")
    q = check_q(q)
    b_iso = check_b_iso(b_iso)
    positions = check_positions(atoms.get_positions())
    global last_routes
    if route != "binned" and (route != "auto" or len(positions) >= FAST_ROUTE_MIN_ATOMS):
        return _fast_intensity(atoms, positions, q, b_iso, route)
    last_routes = ("binned",)
    symbols = np.asarray(atoms.get_chemical_symbols())
    elements = sorted(set(symbols.tolist()))
    f = {el: form_factor(el, q) for el in elements}
    groups = {el: positions[symbols == el] for el in elements}
    width = BIN_PHASE / q.max()
    self_term = sum(len(groups[el]) * f[el] ** 2 for el in elements)
    pair_term = np.zeros_like(q)
    for a_i, a in enumerate(elements):
        for b in elements[a_i:]:
            other = None if a == b else groups[b]
            distances, weights = pair_distance_bins(groups[a], other, width)
            pair_term += f[a] * f[b] * sinc_sum(distances, weights, q)
    return self_term + 2.0 * debye_waller(q, b_iso) * pair_term


def _fast_intensity(atoms, positions, q, b_iso, route) -> np.ndarray:
    """I(q) with the pair distributions of ``pairs`` (one per pair of elements)."""
    from . import pairs

    symbols = np.asarray(atoms.get_chemical_symbols())
    elements = sorted(set(symbols.tolist()))
    f = {el: form_factor(el, q) for el in elements}
    groups = {el: positions[symbols == el] for el in elements}
    self_term = sum(len(groups[el]) * f[el] ** 2 for el in elements)
    pair_term = np.zeros_like(q)
    routes = []
    for a_i, a in enumerate(elements):
        for b in elements[a_i:]:
            other = None if a == b else groups[b]
            dist = pairs.pair_distribution(
                groups[a], other, float(q.max()), route="auto" if route == "pairs" else route
            )
            routes.append(dist.route)
            pair_term += f[a] * f[b] * pairs.sinc_sum(dist, q, eps=NUFFT_EPS)
    global last_routes
    last_routes = tuple(routes)
    return self_term + 2.0 * debye_waller(q, b_iso) * pair_term


def intensity_from_sinc_sum(
    n_atoms: int, f0: np.ndarray, s_q: np.ndarray, q: np.ndarray, b_iso: float
) -> np.ndarray:
    """I(q) of a one-element particle from its pair sum S(q) = sum_{i<j} sinc(q r_ij):
    f^2 (N + 2 DW S)."""
    return f0**2 * (n_atoms + 2.0 * debye_waller(q, b_iso) * s_q)
