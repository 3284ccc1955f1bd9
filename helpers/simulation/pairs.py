"""Pair-distance distribution of a particle, exact, in less than O(N^2) where the structure allows.

The Debye sum needs S(s) = sum_{i<j} sinc(s r_ij) only through the distribution of the pair
distances r_ij. ``pair_distribution`` returns it by the first route that applies; each route
checks that it applies and returns None otherwise, so any input gets the exact answer.

1. Lattice route (``lattice_pairs``). If every atom sits, within POSITION_TOL x d_nn, on an
   integer point c of one lattice (basis found from the central atom's neighbour vectors:
   orthogonal grids from two orthogonal vectors of a shell, at spacing 1 and 1/2 - the cubic
   half-grid of fcc and bcc - and primitive bases from the nearest-neighbour shell; the fitting
   basis with the smallest FFT grid wins), the number of pairs with lattice difference v is the
   autocorrelation C(v) = sum_c n(c) n(c + v) of the 0/1 occupancy n: an integer, computed by
   real FFTs on a grid padded to 2 x extent - 1 (no wrap-around) and rounded (the round-off is
   checked to stay below 0.25, the total to be N(N-1)/2). Summing C(v) per value of the integer
   quadratic form |v|^2 = v^T G v (G the integer Gram matrix) gives every distinct distance and
   its exact multiplicity: no binning at all. Cost: FFTs of a grid of about 12-50 N cells,
   O(N log N). It serves the fcc single crystals (cube, cuboctahedron, dihedral rhombic
   dodecahedron, octahedron, tetrahedron) and the bcc rhombic dodecahedron up to nShell 6
   (pyNanoMatBuilder's bccrDD puts atoms off the bcc lattice from nShell 7 on, some at 0.816 Rnn
   from a neighbour; those particles go to the next routes).
2. Column route (``column_pairs``). If the atoms stand in straight columns along one bond
   direction with one spacing a (``columns``: at least 4 atoms per column on average, every atom
   within POSITION_TOL x d_nn of its line and of its place in the column), two columns of lengths
   La and Lb at lateral distance rho have atom pairs only at the La + Lb - 1 offsets
   d = dz0 + k a, each with an integer multiplicity (the overlap of the two index ranges), so
   a pair of columns costs La + Lb - 1 distances instead of La x Lb. Columns that the point
   group (its operations that keep the axis) maps onto each other are counted from one
   representative, as in route 3. It serves the decahedron (pentagonal bipyramid): its five
   twinned segments share the 5-fold axis, along which every atom stands in a column (18 atoms
   per column at 9 x 10^4 atoms, 36 at 8.6 x 10^5); the icosahedral shapes have 1-2 atoms per
   line in any bond direction and go to route 3. Binned as the general route.
3. Symmetry-orbit route (``orbit_pairs``). Every symmetry of the particle (candidates from the
   outermost atoms; a generator is kept only if it maps every atom onto an atom within
   POSITION_TOL x d_nn) permutes the atoms, so every atom of an orbit has the same multiset of
   distances to the others: the sum over pairs is the sum over orbits A <= B of |A| x (A's
   representative with every atom of B), halved for A = B. It evaluates about N^2 / (2|G|)
   distances: |G| = 120 for the icosahedron and the dodecahedron (Ih), 20 for the Marks
   decahedron (D5h). Binned as the general route.
4. General route (``general_pairs``): every pair, on every core (numba prange, representatives
   dealt round-robin to a fixed number of lanes, ``LANES``, one histogram each, so that the sum
   does not depend on the number of threads), the atoms visited in a spatial order so that
   consecutive distances fall in nearby bins.

Binning of routes 2 to 4, exact to ~1e-9: a pair at d = c + delta in the bin of centre c (width
w = MOMENT_BIN_PHASE / s_max, |delta| <= w / 2) enters through the moments T_p = sum delta^p,
p = 0..5, and ``sinc_sum`` expands sin(s d) / d to fifth order in delta around c. The remainder
is at most max|6th derivative of sinc| (s_max w / 2)^6 / 6! < 2e-10 of the pair's weight (the
n-th derivative of sinc is at most 1 / (n + 1) in absolute value), below the level of the binned
engine of ``debye`` (2e-9). Six moments let the bins be 1000 times wider than that engine's, so
the histogram stays small: with narrow bins the pass was measured memory-bound (random histogram
updates), several times slower per pair; with four moments in bins five times narrower (the
previous setting) the orbit pass of a 10^6-atom icosahedron took about 20 % longer.

Why these routes, by measurement (numbers: ``benchmarks/bench_engine.py``): the lattice route costs
a few FFTs, its time growing about linearly with N and far below any pair pass, so it is tried
first; the column route costs about N^2 / L distances for columns of L atoms (divided by the number
of column images), between the two; the orbit route divides the pair pass by |G| but stays O(N^2);
the general pass is the fallback. For a decahedron of 9 x 10^4 atoms the column route took 0.8 s
against 2.3 s for the orbit route, at 8.6 x 10^5 atoms 17 s against an estimated 150-180 s (the
orbit route's time at 9 x 10^4 atoms scaled by N^2; 2 cores, idle). A faster inner loop was tried
and dropped: visiting only the atoms of later orbits (sorted by orbit) changed the orbit pass's
time by less than 10 %, wider bins with six moments gained 20 % at 10^6 atoms and lost at 10^5,
tiling several representatives per pass over the atoms was slower: each pair costs one scattered
histogram update whatever the order.

The positional tolerance of 1e-10 d_nn bounds the first-order phase error of treating an atom as
on its site (or image, or place in its column) by 2e-10 x s_max d_nn; the builders place atoms
within ~1e-13 d_nn of them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

#: Positions within this fraction of the nearest-neighbour distance of an ideal lattice site or of
#: a symmetry image count as on it (builders place atoms to ~1e-13 of it).
POSITION_TOL = 1e-10
#: Bin width times the largest s of the moment-binned routes (column, orbit, general); each bin
#: keeps the moments 0..MOMENT_ORDER of its pairs' offsets from the bin centre.
MOMENT_BIN_PHASE = 0.2
MOMENT_ORDER = 5
_PATCH = 400  # atoms around the centroid used to find the nearest-neighbour vectors
#: The moment pass deals the representatives round-robin to this many lanes, each with its own
#: histogram, summed in lane order at the end: the result is the same bytes whatever the number of
#: threads (a laptop, a CI runner and a Dask worker agree), and up to this many threads share the
#: work.
LANES = 16


@dataclass(frozen=True)
class PairDistribution:
    """Pairs grouped by distance: ``distances`` (bin centres, or exact distinct distances),
    ``counts`` (number of pairs, a sum of weights) and ``moments`` (row p-1: sum over the bin's
    pairs of (d - centre)^p, p = 1..MOMENT_ORDER; no rows for exact distances). ``route`` names
    how it was made."""

    distances: np.ndarray
    counts: np.ndarray
    moments: np.ndarray
    route: str


# --------------------------------------------------------------------------------------------
# local geometry
# --------------------------------------------------------------------------------------------


def _central_patch(x: np.ndarray) -> tuple[np.ndarray, int]:
    """The ``_PATCH`` atoms nearest the centroid, and the index in it of the most central one."""
    c = x.mean(axis=0)
    r2 = np.einsum("ij,ij->i", x - c, x - c)
    k = min(_PATCH, len(x))
    idx = np.argpartition(r2, k - 1)[:k] if k < len(x) else np.arange(len(x))
    patch = x[idx]
    return patch, int(np.argmin(r2[idx]))


def nearest_neighbour_distance(x: np.ndarray) -> float:
    """Shortest interatomic distance among the atoms around the centroid."""
    patch, _ = _central_patch(x)
    if len(patch) < 2:
        return 1.0
    from scipy.spatial import cKDTree

    d, _ = cKDTree(patch).query(patch, k=2)
    return float(d[:, 1].min())


# --------------------------------------------------------------------------------------------
# lattice route
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LatticeBasis:
    """Atoms at ``origin + coords @ basis`` with integer coords; squared lengths of lattice
    vectors are ``unit`` x the integer quadratic form ``gram``."""

    origin: np.ndarray
    basis: np.ndarray
    gram: np.ndarray
    unit: float


def _integer_gram(basis: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The basis' Gram matrix as (integer matrix, unit) with gram x unit = basis @ basis.T, if the
    Gram matrix is a rational multiple of an integer one with denominator up to 12."""
    gram = basis @ basis.T
    ref = np.min(np.abs(gram[np.abs(gram) > 1e-9 * np.abs(gram).max()]))
    for f in (1, 2, 3, 4, 6, 8, 12):
        scaled = gram / ref * f
        if np.max(np.abs(scaled - np.rint(scaled))) <= 1e-9 * np.abs(scaled).max():
            return np.rint(scaled).astype(np.int64), ref / f
    return None


def _fft_volume(coords: np.ndarray) -> int:
    extent = coords.max(axis=0) - coords.min(axis=0) + 1
    return int(np.prod([_next_fast(2 * n - 1) for n in extent]))


def _candidate_bases(vec: np.ndarray, length: np.ndarray):
    """Lattice bases to try, from the central atom's neighbour vectors (sorted by length):
    orthogonal grids made of two orthogonal vectors of one shell and their cross product, at
    spacing 1 and 1/2 of their length (fcc and bcc sit on the half-spacing grid of their cubic
    axes), and primitive bases made of three vectors of the nearest-neighbour shell with the
    smallest nonzero volume."""
    d_nn = length[0]
    shells = np.unique(np.round(length / d_nn, 6))[:4]
    for shell in shells:
        members = vec[np.abs(length / d_nn - shell) <= 1e-6]
        ell = float(np.mean(np.sqrt(np.einsum("ij,ij->i", members, members))))
        seen = 0
        for a_i in range(len(members)):
            for b_i in range(a_i + 1, len(members)):
                u, v = members[a_i], members[b_i]
                if abs(u @ v) > 1e-6 * ell * ell:
                    continue
                w = np.cross(u, v) / ell
                for m in (1, 2):
                    yield np.array([u, v, w]) / m
                seen += 1
                if seen >= 2:  # other orthogonal pairs of the shell give the same grids
                    break
            if seen >= 2:
                break
    first = vec[np.abs(length / d_nn - 1.0) <= 1e-6]
    half = []  # one of each +-v pair
    for v in first:
        if not any(np.allclose(v, -h, atol=1e-6 * d_nn) for h in half):
            half.append(v)
    triples = []
    for a_i in range(len(half)):
        for b_i in range(a_i + 1, len(half)):
            for c_i in range(b_i + 1, len(half)):
                basis = np.array([half[a_i], half[b_i], half[c_i]])
                triples.append((abs(np.linalg.det(basis)), basis))
    dets = [t[0] for t in triples if t[0] > 1e-6 * d_nn**3]
    if dets:
        smallest = min(dets)
        for det, basis in triples:
            if abs(det - smallest) <= 1e-6 * smallest:
                yield basis


def lattice_basis(x: np.ndarray) -> LatticeBasis | None:
    """A lattice basis on which every atom sits within ``POSITION_TOL`` x d_nn of an integer
    point, chosen among the candidates (``_candidate_bases``) for the smallest FFT grid of the
    autocorrelation; None if no candidate fits every atom (atoms off a Bravais lattice)."""
    if len(x) < 4:
        return None
    patch, c0 = _central_patch(x)
    vec = patch - patch[c0]
    length = np.sqrt(np.einsum("ij,ij->i", vec, vec))
    keep = length > 0
    vec, length = vec[keep], length[keep]
    if len(vec) < 3:
        return None
    order = np.argsort(length, kind="stable")
    vec, length = vec[order], length[order]
    tol = POSITION_TOL * length[0]
    origin = patch[c0]

    def coordinates(points, basis):
        coords = (points - origin) @ np.linalg.inv(basis)
        rounded = np.rint(coords)
        if np.max(np.linalg.norm((coords - rounded) @ basis, axis=1)) > tol:
            return None
        return rounded.astype(np.int64)

    best, best_volume = None, None
    for basis in _candidate_bases(vec, length):
        if abs(np.linalg.det(basis)) <= 1e-9 * length[0] ** 3:
            continue
        if coordinates(patch, basis) is None:
            continue
        coords = coordinates(x, basis)
        if coords is None:
            continue
        gram = _integer_gram(basis)
        if gram is None:
            continue
        volume = _fft_volume(coords)
        if best_volume is None or volume < best_volume:
            best, best_volume = LatticeBasis(origin, basis, *gram), volume
    return best


def _next_fast(n: int) -> int:
    import scipy.fft

    return scipy.fft.next_fast_len(int(n), real=True)


def _duplicates() -> ValueError:
    return ValueError(
        "two atoms sit at the same position: remove duplicated atoms before computing I(q)."
    )


def lattice_pairs(pos_a: np.ndarray, pos_b: np.ndarray | None = None) -> PairDistribution | None:
    """Exact pair distances and counts of atoms on one lattice, by FFT autocorrelation.

    The occupancy n(c) of the integer lattice coordinates c is autocorrelated (cross-correlated
    for two sets) by real FFTs on a grid padded to 2 x extent - 1 (no wrap-around): C(v) =
    sum_c n_a(c) n_b(c + v) is the number of ordered pairs with lattice difference v, an integer
    (rounded; the FFT round-off is checked to stay below 0.25). Counts are summed per integer
    |v|^2 (the lattice's integer quadratic form), giving each distinct distance and its exact
    multiplicity. Returns None if the atoms (both sets together) are not on one lattice.
    """
    import scipy.fft

    same = pos_b is None
    union = pos_a if same else np.vstack([pos_a, pos_b])
    lattice = lattice_basis(union)
    if lattice is None:
        return None
    coords = np.rint((union - lattice.origin) @ np.linalg.inv(lattice.basis)).astype(np.int64)
    coords -= coords.min(axis=0)
    extent = coords.max(axis=0) + 1
    shape = tuple(_next_fast(2 * n - 1) for n in extent)
    n_a = len(pos_a)
    n_b = n_a if same else len(pos_b)

    def occupancy(c):
        occ = np.zeros(tuple(extent), dtype=float)
        np.add.at(occ, (c[:, 0], c[:, 1], c[:, 2]), 1.0)
        if occ.max() > 1:
            raise _duplicates()
        return occ

    spec_a = scipy.fft.rfftn(occupancy(coords[:n_a]), s=shape, workers=2)
    if same:
        spec_a *= spec_a.conj()
    else:
        spec_a = spec_a.conj() * scipy.fft.rfftn(occupancy(coords[n_a:]), s=shape, workers=2)
    corr = scipy.fft.irfftn(spec_a, s=shape, workers=2)
    del spec_a
    signed = [np.where(np.arange(s) <= s // 2, np.arange(s), np.arange(s) - s) for s in shape]
    gram = lattice.gram
    j, k = signed[1][:, None], signed[2][None, :]
    jk = gram[1, 1] * j * j + gram[2, 2] * k * k + 2 * gram[1, 2] * j * k
    totals = np.zeros(1)
    worst = 0.0
    for i_index, i in enumerate(signed[0]):  # slice by slice: no grid-sized integer arrays
        plane = corr[i_index]
        counts = np.rint(plane)
        worst = max(worst, float(np.max(np.abs(plane - counts))))
        nz = counts > 0
        if not nz.any():
            continue
        k2 = (gram[0, 0] * i * i + 2 * i * (gram[0, 1] * j + gram[0, 2] * k) + jk)[nz]
        if k2.min() < 0:
            return None
        part = np.bincount(k2, weights=counts[nz])
        if len(part) > len(totals):
            part[: len(totals)] += totals
            totals = part
        else:
            totals[: len(part)] += part
    if worst > 0.25:  # FFT round-off far larger than expected: do not trust the rounding
        return None
    if same:
        if totals[0] != n_a:
            raise _duplicates()
        totals[0] = 0
        totals = totals / 2.0
        expected = n_a * (n_a - 1) / 2
    else:
        if totals[0] != 0:
            raise _duplicates()
        expected = n_a * n_b
    if totals.sum() != expected:
        return None
    k2 = np.flatnonzero(totals)
    distances = np.sqrt(k2 * lattice.unit)
    return PairDistribution(distances, totals[k2], np.zeros((0, len(k2))), "lattice")


# --------------------------------------------------------------------------------------------
# symmetry-orbit route
# --------------------------------------------------------------------------------------------


def _rotation_from_pairs(a, b, a2, b2, improper):
    """The orthogonal map sending a -> a2, b -> b2 (equal lengths and angle assumed)."""

    def frame(u, v, flip):
        e1 = u / np.linalg.norm(u)
        e2 = v - (v @ e1) * e1
        e2 /= np.linalg.norm(e2)
        e3 = np.cross(e1, e2) * (-1.0 if flip else 1.0)
        return np.array([e1, e2, e3])

    return frame(a2, b2, improper).T @ frame(a, b, False)


def symmetry_operations(x: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Point-group operations (k, 3, 3) about the centroid that map the outer atoms onto
    themselves, and the centroid; None if only the identity does.

    The outermost shell of atoms (extended inwards until it holds two non-collinear atoms a, b) is
    mapped onto itself by every symmetry of the particle; each symmetry is fixed by the images of
    a and b, so trying every image pair (a', b') with the same lengths and angle, proper and
    improper, finds them all. The full atom set is checked later (``orbits``).
    """
    from scipy.spatial import cKDTree

    if len(x) < 3:
        return None
    center = x.mean(axis=0)
    y = x - center
    r = np.sqrt(np.einsum("ij,ij->i", y, y))
    d_nn = nearest_neighbour_distance(x)
    tol = 1e-6 * d_nn  # loose here: candidates only; exactness is checked on every atom later
    radii = np.unique(np.round(r / d_nn, 6))[::-1]
    for n_shells in range(1, min(len(radii), 6) + 1):
        outer = y[r / d_nn >= radii[n_shells - 1] - 1e-6]
        a = outer[np.argmax(np.linalg.norm(outer, axis=1))]
        na = np.linalg.norm(a)
        if na <= tol:
            continue
        cross = np.linalg.norm(np.cross(outer, a), axis=1)
        if cross.max() > 1e-3 * na * np.linalg.norm(outer, axis=1).max():
            break
    else:
        return None
    b = outer[np.argmax(cross)]
    nb, ab = np.linalg.norm(b), a @ b
    norms = np.linalg.norm(outer, axis=1)
    cand_a = outer[np.abs(norms - na) <= tol]
    cand_b = outer[np.abs(norms - nb) <= tol]
    tree = cKDTree(outer)
    ops = []
    for a2 in cand_a:
        for b2 in cand_b[np.abs(cand_b @ a2 - ab) <= tol * (na + nb)]:
            if np.linalg.norm(np.cross(a2, b2)) <= 1e-9 * na * nb:
                continue
            for improper in (False, True):
                rot = _rotation_from_pairs(a, b, a2, b2, improper)
                d, _ = tree.query(outer @ rot.T)
                if d.max() <= tol:
                    ops.append(rot)
    if len(ops) <= 1:
        return None
    return np.array(ops), center


def _generators(ops: np.ndarray) -> list[np.ndarray]:
    """A small set of ``ops`` generating the same group (greedy: add an op not yet generated)."""

    def key(m):
        return tuple(np.round(m, 6).ravel())

    generated = {key(np.eye(3))}
    elements = [np.eye(3)]
    gens = []
    for op in ops:
        if key(op) in generated:
            continue
        gens.append(op)
        frontier = list(elements)
        while frontier:  # close the group under the generators found so far
            new = []
            for e in frontier:
                for g in gens:
                    p = g @ e
                    if key(p) not in generated:
                        generated.add(key(p))
                        elements.append(p)
                        new.append(p)
            frontier = new
    return gens


def orbits(x: np.ndarray, axis: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """Orbits of the atoms under the particle's point group: (labels per atom, orbit sizes), or
    None if no symmetry other than the identity maps the whole atom set onto itself.

    Each generator of the group found by ``symmetry_operations`` is applied to every atom and
    its image matched to the nearest atom; a generator is kept only if that is a permutation of
    the atoms with every image within ``POSITION_TOL`` x d_nn of its atom. The orbits are the
    connected components of the kept permutations. With ``axis`` (a unit vector), only the
    operations that map the axis onto itself or its opposite are used (the subgroup that maps
    lines along the axis onto lines along it).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    found = symmetry_operations(x)
    if found is None:
        return None
    ops, center = found
    if axis is not None:
        ops = ops[np.abs(np.abs((ops @ axis) @ axis) - 1.0) <= 1e-9]
        if len(ops) <= 1:
            return None
    y = x - center
    tol = POSITION_TOL * nearest_neighbour_distance(x)
    tree = cKDTree(y)
    n = len(y)
    rows, cols = [], []
    for gen in _generators(ops):
        d, perm = tree.query(y @ gen.T, workers=2)
        if d.max() > tol or len(np.unique(perm)) != n:
            continue
        rows.append(np.arange(n))
        cols.append(perm)
    if not rows:
        return None
    graph = coo_matrix(
        (np.ones(n * len(rows)), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    n_orbits, labels = connected_components(graph, directed=True, connection="weak")
    if n_orbits == n:
        return None
    return labels, np.bincount(labels)


# --------------------------------------------------------------------------------------------
# moment-binned pair pass (orbit and general routes), on every core
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _moment_kernel():
    import numba

    @numba.njit(parallel=True, cache=True, nogil=True)
    def accumulate(pos_a, rep, rep_label, w_lt, w_eq, w_gt, pos_b, label_b, inv_w, n_bins, n_t):
        """For each representative r (round-robin over n_t lanes) and every atom j of b, with
        weight w_lt / w_eq / w_gt[r] as label_b[j] is below / equal to / above rep_label[r]: bin
        the distance and add the weighted moments 0..5 of its offset from the bin centre (in bin
        units). Zero distances (a representative meeting itself) are counted, not binned."""
        hist = np.zeros((n_t, n_bins, 6))
        zero = np.zeros(n_t, dtype=np.int64)
        n_rep = rep.shape[0]
        n_b = pos_b.shape[0]
        for t in numba.prange(n_t):
            h = hist[t]
            for r in range(t, n_rep, n_t):
                i = rep[r]
                a = rep_label[r]
                xi, yi, zi = pos_a[i, 0], pos_a[i, 1], pos_a[i, 2]
                wl, we, wg = w_lt[r], w_eq[r], w_gt[r]
                for j in range(n_b):
                    lj = label_b[j]
                    w = wl if lj < a else (we if lj == a else wg)
                    if w == 0.0:
                        continue
                    dx = xi - pos_b[j, 0]
                    dy = yi - pos_b[j, 1]
                    dz = zi - pos_b[j, 2]
                    u = np.sqrt(dx * dx + dy * dy + dz * dz) * inv_w
                    if u <= 0.0:
                        zero[t] += 1
                        continue
                    k = int(u + 0.5)
                    e = u - k
                    m1 = w * e
                    m2 = m1 * e
                    m3 = m2 * e
                    h[k, 0] += w
                    h[k, 1] += m1
                    h[k, 2] += m2
                    h[k, 3] += m3
                    h[k, 4] += m3 * e
                    h[k, 5] += m3 * e * e
        return hist, zero

    return accumulate


def _threads() -> int:
    """Every core numba may use (pyNanoMatBuilder's import lowers numba's active threads to
    half the cores; the pair pass takes them all back for its own call)."""
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)


def spatial_order(x: np.ndarray) -> np.ndarray:
    """An order of the atoms in which consecutive atoms are near each other (rows along x within
    slabs of one nearest-neighbour distance), so that consecutive pair distances from a fixed
    atom fall in nearby bins (cache-friendly histogram updates)."""
    cell = nearest_neighbour_distance(x)
    if not cell > 0:  # coinciding atoms: any row height will do, the pass will name them
        cell = max(float(np.ptp(x)), 1.0) / 100.0
    lo = x.min(axis=0)
    iy = np.floor((x[:, 1] - lo[1]) / cell).astype(np.int64)
    iz = np.floor((x[:, 2] - lo[2]) / cell).astype(np.int64)
    xs = np.where(iy % 2 == 0, x[:, 0], -x[:, 0])  # serpentine rows: no jump at a row's end
    return np.lexsort((xs, iy, iz))


def _moment_pass(pos_a, rep, rep_label, w_lt, w_eq, w_gt, pos_b, label_b, width, route, n_self):
    """Run the kernel; ``n_self`` zero distances are expected (a representative meeting
    itself)."""
    extent = np.ptp(np.vstack([pos_a, pos_b]), axis=0)
    n_bins = int(np.ceil(np.sqrt(np.sum(extent**2)) / width)) + 2
    import numba

    n_threads = min(_threads(), LANES)
    previous = numba.get_num_threads()
    numba.set_num_threads(n_threads)
    try:
        hist, zero = _moment_kernel()(
            np.ascontiguousarray(pos_a, dtype=float),
            np.ascontiguousarray(rep, dtype=np.int64),
            np.ascontiguousarray(rep_label, dtype=np.int64),
            np.ascontiguousarray(w_lt, dtype=float),
            np.ascontiguousarray(w_eq, dtype=float),
            np.ascontiguousarray(w_gt, dtype=float),
            np.ascontiguousarray(pos_b, dtype=float),
            np.ascontiguousarray(label_b, dtype=np.int64),
            1.0 / width,
            n_bins,
            LANES,
        )
    finally:
        numba.set_num_threads(previous)
    if zero.sum() != n_self:
        raise ValueError(
            "two atoms sit at the same position: remove duplicated atoms before computing I(q)."
        )
    h = hist.sum(axis=0)
    k = np.flatnonzero(h[:, 0] > 0)
    moments = np.array([h[k, p] * width**p for p in range(1, MOMENT_ORDER + 1)])
    return PairDistribution(k * width, h[k, 0], moments, route)


def general_pairs(pos_a: np.ndarray, pos_b: np.ndarray | None, width: float) -> PairDistribution:
    """Every pair (i<j within one set, or all of a x b), moment-binned, on every core."""
    if pos_b is None:
        pos = pos_a[spatial_order(pos_a)]
        n = len(pos)
        idx = np.arange(n)
        zeros = np.zeros(n)
        return _moment_pass(pos, idx, idx, zeros, zeros, np.ones(n), pos, idx, width, "general", 0)
    pos_a = pos_a[spatial_order(pos_a)]
    pos_b = pos_b[spatial_order(pos_b)]
    n_a = len(pos_a)
    ones = np.ones(n_a)
    return _moment_pass(
        pos_a,
        np.arange(n_a),
        np.zeros(n_a),
        ones,
        ones,
        ones,
        pos_b,
        np.zeros(len(pos_b)),
        width,
        "general",
        0,
    )


def orbit_pairs(
    pos_a: np.ndarray, pos_b: np.ndarray | None, width: float, labels=None
) -> PairDistribution | None:
    """Pairs counted from one representative per symmetry orbit times the orbit's size.

    Within one set: for orbits A <= B (in label order), the pairs between A and B are
    |A| x (pairs of A's representative with every atom of B), halved for A = B. Between two sets a
    and b each mapped onto itself by the group: |A| x (A's representative with every atom of b).
    None if the atoms have no symmetry (``orbits``) or if it mixes the two sets.
    """
    union = pos_a if pos_b is None else np.vstack([pos_a, pos_b])
    if labels is None:
        found = orbits(union)
        if found is None:
            return None
        labels = found[0]
    n_a = len(pos_a)
    labels_a = labels[:n_a]
    if pos_b is not None and np.intersect1d(labels_a, labels[n_a:]).size:
        return None  # a symmetry exchanges atoms of a and b: not a symmetry of the pair
    reps, first, size = np.unique(labels_a, return_index=True, return_counts=True)
    size = size.astype(float)
    if pos_b is None:
        order = spatial_order(pos_a)
        where = np.empty(n_a, dtype=np.int64)
        where[order] = np.arange(n_a)
        pos = pos_a[order]
        return _moment_pass(
            pos,
            where[first],
            reps,
            np.zeros(len(reps)),
            size / 2.0,
            size,
            pos,
            labels_a[order],
            width,
            "orbit",
            len(reps),
        )
    pos_b = pos_b[spatial_order(pos_b)]
    return _moment_pass(
        pos_a,
        first,
        reps,
        size,
        size,
        size,
        pos_b,
        np.full(len(pos_b), -1),
        width,
        "orbit",
        0,
    )


# --------------------------------------------------------------------------------------------
# column route
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Columns:
    """Atoms in straight columns along ``axis`` with one spacing: column c holds ``length[c]``
    atoms at ``rho[c]`` (coordinates across the axis) + (``z0[c]`` + m ``spacing``) ``axis``,
    m = 0..length-1. ``atom_column`` gives each atom's column."""

    axis: np.ndarray
    spacing: float
    rho: np.ndarray
    z0: np.ndarray
    length: np.ndarray
    atom_column: np.ndarray


def _frame(axis: np.ndarray) -> np.ndarray:
    """Two unit vectors orthogonal to ``axis`` and to each other, as rows."""
    helper = np.array([1.0, 0.0, 0.0]) if abs(axis[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    e1 = np.cross(axis, helper)
    e1 /= np.linalg.norm(e1)
    return np.array([e1, np.cross(axis, e1)])


def _axis_candidates(x: np.ndarray) -> list[np.ndarray]:
    """Directions of the bonds of the most central atom (up to 1.2 d_nn), one per +-pair."""
    patch, c = _central_patch(x)
    v = patch - patch[c]
    d = np.linalg.norm(v, axis=1)
    d_nn = nearest_neighbour_distance(x)
    found: list[np.ndarray] = []
    for u in v[(d > 0) & (d <= 1.2 * d_nn)] / d[(d > 0) & (d <= 1.2 * d_nn), None]:
        if all(abs(u @ f) < 1.0 - 1e-9 for f in found):
            found.append(u)
    return found


def columns(x: np.ndarray, min_length: float = 4.0) -> Columns | None:
    """The atoms as columns along one bond direction, or None if no direction gives at least
    ``min_length`` atoms per column on average, or if the atoms of a line are not all within
    ``POSITION_TOL`` x d_nn of one uniform spacing (then the route does not apply).

    The direction is the central atom's bond direction with the fewest distinct lines. Atoms are
    grouped by their coordinates across the axis (rounded to 1e-6 d_nn, groups closer than
    1e-5 d_nn merged, every atom then checked within the tolerance of its line's centre); a line
    is cut into columns wherever two consecutive atoms are more than 1.5 spacings apart.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    n = len(x)
    if n < 2 * min_length:
        return None
    d_nn = nearest_neighbour_distance(x)
    if not d_nn > 0:
        return None
    tol = POSITION_TOL * d_nn
    y = x - x.mean(axis=0)
    best = None
    for axis in _axis_candidates(x):
        rho = y @ _frame(axis).T
        key = np.round(rho / (1e-6 * d_nn)).astype(np.int64)
        if np.abs(key).max() < 1 << 30:  # one int64 per atom: a faster unique
            _, inverse = np.unique(key[:, 0] * (1 << 31) + key[:, 1], return_inverse=True)
        else:
            _, inverse = np.unique(key, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        n_lines = int(inverse.max()) + 1
        if best is None or n_lines < best[0]:
            best = (n_lines, axis, rho, inverse)
    if best is None or n / best[0] < min_length:
        return None
    _, axis, rho, line = best
    # merge lines split by the rounding, then check every atom against its line's centre
    counts = np.bincount(line)
    centre = np.stack([np.bincount(line, rho[:, k]) / counts for k in range(2)], axis=1)
    close = cKDTree(centre).query_pairs(1e-5 * d_nn, output_type="ndarray")
    if len(close):
        graph = coo_matrix(
            (np.ones(len(close)), (close[:, 0], close[:, 1])), shape=(len(centre), len(centre))
        )
        _, merged = connected_components(graph, directed=False)
        line = merged[line]
        counts = np.bincount(line)
        centre = np.stack([np.bincount(line, rho[:, k]) / counts for k in range(2)], axis=1)
    if np.max(np.linalg.norm(rho - centre[line], axis=1)) > tol:
        return None
    z = y @ axis
    order = np.lexsort((z, line))
    zs, ls = z[order], line[order]
    step = np.diff(zs)
    same_line = ls[1:] == ls[:-1]
    inner = step[same_line]
    if len(inner) == 0:
        return None
    spacing = float(np.median(inner))
    if not spacing > 0:
        return None
    start = np.r_[True, ~same_line | (step > 1.5 * spacing)]
    column_sorted = np.cumsum(start) - 1
    first = np.flatnonzero(start)
    m = np.arange(n) - first[column_sorted]
    if np.max(np.abs(zs - (zs[first][column_sorted] + m * spacing))) > tol:
        return None  # atoms off a uniform spacing (or coinciding): not a column structure
    atom_column = np.empty(n, dtype=np.int64)
    atom_column[order] = column_sorted
    return Columns(
        axis=axis,
        spacing=spacing,
        rho=centre[ls[first]],
        z0=zs[first],
        length=np.diff(np.r_[first, n]).astype(np.int64),
        atom_column=atom_column,
    )


@functools.lru_cache(maxsize=1)
def _column_kernel():
    # The six-moment update is written out here as in ``_moment_kernel``: a shared jitted helper
    # captured by both kernels defeats numba's on-disk cache (tried: every process recompiled).
    import numba

    @numba.njit(parallel=True, cache=True, nogil=True)
    def accumulate(rho, z0, length, spacing, rep, same_end, w_self, w_same, w_other, inv_w,
                   n_bins, n_t):  # fmt: skip
        """For each representative column a (round-robin over n_t lanes): its own pairs (d
        spacings apart, length - d of them) with weight w_self, and every later column b (weight
        w_same up to same_end, w_other beyond): the distances at every offset d of the two
        columns, each weighted by the number of atom pairs at that offset. Moments as in the
        moment pass; zero distances are counted, not binned."""
        hist = np.zeros((n_t, n_bins, 6))
        zero = np.zeros(n_t, dtype=np.int64)
        n_rep = rep.shape[0]
        n_col = rho.shape[0]
        for t in numba.prange(n_t):
            h = hist[t]
            for r in range(t, n_rep, n_t):
                a = rep[r]
                la = length[a]
                for d in range(1, la):
                    u = d * spacing * inv_w
                    k = int(u + 0.5)
                    e = u - k
                    w = w_self[r] * (la - d)
                    m1 = w * e
                    m2 = m1 * e
                    m3 = m2 * e
                    h[k, 0] += w
                    h[k, 1] += m1
                    h[k, 2] += m2
                    h[k, 3] += m3
                    h[k, 4] += m3 * e
                    h[k, 5] += m3 * e * e
                xa, ya, za = rho[a, 0], rho[a, 1], z0[a]
                for b in range(a + 1, n_col):
                    wb = w_same[r] if b < same_end[r] else w_other[r]
                    lb = length[b]
                    dx = xa - rho[b, 0]
                    dy = ya - rho[b, 1]
                    r2 = dx * dx + dy * dy
                    dz0 = z0[b] - za
                    for d in range(1 - la, lb):
                        mult = min(la, lb - d) - max(0, -d)
                        dz = dz0 + d * spacing
                        u = np.sqrt(r2 + dz * dz) * inv_w
                        if u <= 0.0:
                            zero[t] += 1
                            continue
                        k = int(u + 0.5)
                        e = u - k
                        w = wb * mult
                        m1 = w * e
                        m2 = m1 * e
                        m3 = m2 * e
                        h[k, 0] += w
                        h[k, 1] += m1
                        h[k, 2] += m2
                        h[k, 3] += m3
                        h[k, 4] += m3 * e
                        h[k, 5] += m3 * e * e
        return hist, zero

    return accumulate


def column_pairs(
    pos: np.ndarray, width: float, cols: Columns | None = None, no_symmetry: bool = False
) -> PairDistribution | None:
    """Pairs of one atom set counted column by column: two columns of one spacing give at each
    offset d one distance for all their atom pairs at that offset, so a pair of columns of
    lengths La, Lb costs La + Lb - 1 distances instead of La x Lb. Columns that the point group
    (its operations that keep the axis) maps onto each other form orbits, counted from one
    representative as in the orbit route (``no_symmetry``: every column its own orbit). None
    if the atoms do not form columns (``columns``).
    """
    if cols is None:
        cols = columns(pos)
        if cols is None:
            return None
    n_col = len(cols.length)
    found = None if no_symmetry else orbits(pos, axis=cols.axis)
    if found is None:
        label = np.arange(n_col)
    else:  # a column's orbit: that of its atoms (an operation keeping the axis maps columns
        # onto columns, so two columns holding atoms of one atom orbit are images of each other)
        label = np.full(n_col, np.iinfo(np.int64).max)
        np.minimum.at(label, cols.atom_column, found[0])
    order = np.argsort(label, kind="stable")
    lab = label[order]
    reps, first, size = np.unique(lab, return_index=True, return_counts=True)
    size = size.astype(float)
    kernel = _column_kernel()
    rho = np.ascontiguousarray(cols.rho[order], dtype=float)
    z0 = np.ascontiguousarray(cols.z0[order], dtype=float)
    length = np.ascontiguousarray(cols.length[order], dtype=np.int64)
    if found is not None and np.any(length[first].repeat(size.astype(int)) != length):
        return column_pairs(pos, width, cols, no_symmetry=True)  # not expected: be safe
    extent = np.ptp(pos, axis=0)
    n_bins = int(np.ceil(np.sqrt(np.sum(extent**2)) / width)) + 2
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(min(_threads(), LANES))
    try:
        hist, zero = kernel(
            rho, z0, length, float(cols.spacing), first.astype(np.int64),
            (first + size).astype(np.int64), size, size / 2.0, size, 1.0 / width, n_bins, LANES,
        )  # fmt: skip
    finally:
        numba.set_num_threads(previous)
    if zero.sum():
        raise ValueError(
            "two atoms sit at the same position: remove duplicated atoms before computing I(q)."
        )
    h = hist.sum(axis=0)
    k = np.flatnonzero(h[:, 0] > 0)
    moments = np.array([h[k, p] * width**p for p in range(1, MOMENT_ORDER + 1)])
    return PairDistribution(k * width, h[k, 0], moments, "column")


def sinc_sum(dist: PairDistribution, s: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """S(s) = sum over the pairs of sinc(s d), at every s > 0, by one type-3 NUFFT.

    A pair at d = c + delta of a bin of centre c contributes sin(s d) / (s d) = Im[e^{isd}/d] / s,
    expanded in delta to the order P of the stored moments T_p = sum delta^p (T_0 the count):
    e^{isd}/d = e^{isc} sum_m (is)^m / m! delta^m x sum_n (-delta)^n / c^{n+1}, so
    S(s) = Im[sum_m (is)^m / m! F_m(s)] / s with F_m(s) = sum_k a_mk e^{i s c_k} and
    a_mk = sum_{p=m..P} T_pk (-1)^{p-m} / c_k^{p-m+1}. Exact distances have P = 0.
    """
    import finufft

    s = np.ascontiguousarray(s, dtype=float)
    c = np.ascontiguousarray(dist.distances, dtype=float)
    if len(c) == 0:
        return np.zeros_like(s)
    t = np.vstack([dist.counts[None, :], dist.moments]) if len(dist.moments) else dist.counts[None]
    order = len(t) - 1
    strengths = np.zeros((order + 1, len(c)))
    for m in range(order + 1):
        for p in range(m, order + 1):
            strengths[m] += t[p] * (-1.0) ** (p - m) / c ** (p - m + 1)
    if len(c) < 64:
        f = (strengths[:, None, :] * np.exp(1j * np.outer(s, c))[None]).sum(axis=-1)
    else:
        f = finufft.nufft1d3(c, strengths.astype(np.complex128), s, isign=1, eps=eps, nthreads=1)
        f = np.atleast_2d(f)
    total = np.zeros(len(s), dtype=complex)
    factor = np.ones(len(s), dtype=complex)
    for m in range(order + 1):
        total += factor * f[m]
        factor = factor * (1j * s) / (m + 1)
    return total.imag / s


ROUTES = ("auto", "lattice", "column", "orbit", "general")


def pair_distribution(
    pos_a: np.ndarray, pos_b: np.ndarray | None, s_max: float, route: str = "auto"
) -> PairDistribution:
    """Pair distances of one atom set (i<j) or between two, by the fastest exact route.

    ``auto`` tries the lattice route, then the symmetry-orbit route, then the general one;
    naming a route forces it (and raises if the atoms do not fit it).
    """
    if route not in ROUTES:
        raise ValueError(f"unknown route {route!r}: choose one of {', '.join(ROUTES)}.")
    width = MOMENT_BIN_PHASE / s_max
    if route in ("auto", "lattice"):
        found = lattice_pairs(pos_a, pos_b)
        if found is not None:
            return found
        if route == "lattice":
            raise ValueError(
                "route='lattice' but the atoms do not all sit on one cubic (sc, fcc or bcc) "
                "lattice within 1e-10 of the nearest-neighbour distance: use route='auto'."
            )
    if route in ("auto", "column") and pos_b is None:
        found = column_pairs(pos_a, width)
        if found is not None:
            return found
    if route == "column":
        raise ValueError(
            "route='column' but the atoms do not stand in columns of one spacing (at least "
            "4 atoms per column on average) or two sets were given: use route='auto'."
        )
    if route in ("auto", "orbit"):
        found = orbit_pairs(pos_a, pos_b, width)
        if found is not None:
            return found
        if route == "orbit":
            raise ValueError(
                "route='orbit' but no point-group operation other than the identity maps the "
                "atoms onto themselves: use route='auto'."
            )
    return general_pairs(pos_a, pos_b, width)
