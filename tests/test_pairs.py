"""Pair-distribution routes (lattice FFT, columns, symmetry orbits, all pairs) vs brute force."""

import numpy as np
import pytest
from ase import Atoms

from helpers.simulation import debye as X
from helpers.simulation import pairs as P
from helpers.simulation import structures as S

Q = np.r_[np.linspace(0.01, 20.0, 120)]
RNN = 2.88


def brute_sinc_sum(pos_a, pos_b, q):
    """sum over i<j (one set) or all i, j (two sets) of sin(q r)/(q r): O(N^2 Q), by hand."""
    if pos_b is None:
        i, j = np.triu_indices(len(pos_a), k=1)
        r = np.linalg.norm(pos_a[i] - pos_a[j], axis=1)
    else:
        r = np.linalg.norm(pos_a[:, None, :] - pos_b[None, :, :], axis=-1).ravel()
    out = np.zeros_like(q)
    for chunk in np.array_split(r, max(1, len(r) // 20000)):
        qr = np.outer(q, chunk)
        out += (np.sin(qr) / qr).sum(axis=1)
    return out


def worst_relative(pos, dist):
    """Max over q of |I - I_exact| / I_exact for one element (f = 1, B = 0): I = N + 2 S."""
    exact = len(pos) + 2 * brute_sinc_sum(pos, None, Q)
    ours = len(pos) + 2 * P.sinc_sum(dist, Q)
    return np.max(np.abs(ours - exact) / exact)


def positions(shape, size):
    return np.asarray(S.unit_positions(shape, size)) * RNN


@pytest.mark.parametrize(
    "shape, size",
    [
        ("cubefcc", 3),
        ("cuboctahedron", 3),
        ("dihedral_rhombic_dodecahedron", 3),
        ("octahedron", 5),
        ("rhombic_dodecahedron", 4),
        ("tetrahedron", 7),
    ],
)
def test_lattice_route_is_exact(shape, size):
    pos = positions(shape, size)
    dist = P.pair_distribution(pos, None, Q.max(), route="lattice")
    assert dist.route == "lattice"
    assert dist.counts.sum() == len(pos) * (len(pos) - 1) / 2
    assert worst_relative(pos, dist) <= 1e-6


@pytest.mark.parametrize(
    "shape, size",
    [("icosahedron", 4), ("dodecahedron", 2), ("pentagonal_bipyramid", 5), ("cubefcc", 3)],
)
def test_orbit_route_is_exact(shape, size):
    pos = positions(shape, size)
    labels, sizes = P.orbits(pos)
    assert len(sizes) < len(pos) / 4  # a point group of order >= 4 was found
    dist = P.pair_distribution(pos, None, Q.max(), route="orbit")
    assert dist.route == "orbit"
    assert dist.counts.sum() == pytest.approx(len(pos) * (len(pos) - 1) / 2, rel=1e-12)
    assert worst_relative(pos, dist) <= 1e-6


@pytest.mark.parametrize("size, study_range", [(5, True), (8, False), (11, False)])
def test_column_route_is_exact(size, study_range):
    """The decahedra stand in columns along their 5-fold axis (pyNanoMatBuilder's at sizeP 5,
    the column-built ones beyond the study's range)."""
    pos = np.asarray(S.unit_positions("pentagonal_bipyramid", size, study_range)) * RNN
    cols = P.columns(pos)
    assert cols is not None and len(cols.length) < len(pos) / 4
    assert abs(abs(cols.axis[2]) - 1.0) < 1e-12  # the 5-fold axis
    dist = P.pair_distribution(pos, None, Q.max())
    assert dist.route == "column"
    assert dist.counts.sum() == len(pos) * (len(pos) - 1) / 2
    assert worst_relative(pos, dist) <= 1e-6


def test_column_route_without_symmetry_and_in_any_frame_is_exact():
    pos = np.asarray(S.unit_positions("pentagonal_bipyramid", 8, False)) * RNN
    cols = P.columns(pos)
    keep = cols.atom_column != int(np.argmax(cols.length))  # remove the longest column
    rng = np.random.default_rng(5)
    rot, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    moved = pos[keep] @ rot.T + rng.normal(scale=30.0, size=3)
    dist = P.column_pairs(moved, P.MOMENT_BIN_PHASE / Q.max())
    assert dist is not None and dist.route == "column"
    assert dist.counts.sum() == keep.sum() * (keep.sum() - 1) / 2
    assert worst_relative(moved, dist) <= 1e-6
    symmetric = P.column_pairs(pos, P.MOMENT_BIN_PHASE / Q.max())
    plain = P.column_pairs(pos, P.MOMENT_BIN_PHASE / Q.max(), no_symmetry=True)
    assert np.array_equal(symmetric.distances, plain.distances)
    assert np.allclose(symmetric.counts, plain.counts, rtol=1e-12)


def test_atoms_off_a_uniform_column_spacing_leave_the_column_route():
    pos = np.asarray(S.unit_positions("pentagonal_bipyramid", 8, False)) * RNN
    cols = P.columns(pos)
    moved = pos.copy()
    moved[int(np.argmax(cols.length == cols.length.max())), :] += cols.axis * 1e-7 * RNN
    assert P.columns(moved) is None
    dist = P.pair_distribution(moved, None, Q.max())
    assert dist.route in ("orbit", "general")
    assert worst_relative(moved, dist) <= 1e-6
    assert P.columns(positions("icosahedron", 4)) is None  # 1-2 atoms per line: no gain


def test_column_pass_gives_the_same_bytes_on_any_number_of_threads(monkeypatch):
    pos = np.asarray(S.unit_positions("pentagonal_bipyramid", 8, False)) * RNN
    many = P.column_pairs(pos, 0.01)
    monkeypatch.setattr(P, "_threads", lambda: 1)
    one = P.column_pairs(pos, 0.01)
    for a, b in ((many.distances, one.distances), (many.counts, one.counts)):
        assert a.tobytes() == b.tobytes()
    assert many.moments.tobytes() == one.moments.tobytes()


def test_general_route_is_exact():
    pos = positions("pentagonal_bipyramid", 4)
    dist = P.pair_distribution(pos, None, Q.max(), route="general")
    assert dist.route == "general"
    assert worst_relative(pos, dist) <= 1e-6


def test_off_lattice_particle_falls_back_and_stays_exact():
    pos = positions("cubefcc", 3) + np.random.default_rng(0).normal(scale=1e-3, size=(172, 3))
    assert P.lattice_basis(pos) is None
    assert P.orbits(pos) is None
    dist = P.pair_distribution(pos, None, Q.max())
    assert dist.route == "general"
    assert worst_relative(pos, dist) <= 1e-6


def test_tiny_shift_of_one_atom_leaves_the_lattice():
    """Tolerance 1e-10 x Rnn: a shift of 1e-7 Rnn is already off the lattice."""
    pos = positions("octahedron", 4).copy()
    pos[3, 0] += 1e-7 * RNN
    assert P.lattice_basis(pos) is None
    assert P.lattice_basis(positions("octahedron", 4)) is not None


def test_broken_symmetry_falls_back_and_stays_exact():
    full = positions("icosahedron", 4)
    _, full_sizes = P.orbits(full)
    pos = np.delete(full, int(np.argmax(np.linalg.norm(full, axis=1))), axis=0)  # one vertex
    found = P.orbits(pos)
    assert found is None or len(found[1]) > len(full_sizes)  # the full group is not used
    assert P.lattice_basis(pos) is None
    dist = P.pair_distribution(pos, None, Q.max())
    assert dist.route in ("orbit", "general")
    assert worst_relative(pos, dist) <= 1e-6


def test_rotated_translated_lattice_is_found():
    pos = positions("cuboctahedron", 3)
    rng = np.random.default_rng(3)
    rot, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    moved = pos @ rot.T + rng.normal(scale=40.0, size=3)
    dist = P.pair_distribution(moved, None, Q.max())
    assert dist.route == "lattice"
    assert worst_relative(moved, dist) <= 1e-6


@pytest.mark.parametrize("route", ["lattice", "orbit", "general"])
def test_two_sets_are_exact(route):
    pos = positions("cubefcc", 3)
    a, b = pos[::2], pos[1::2]
    if route == "orbit":  # a set of its own orbits under the cube's group: the outer shell
        r = np.round(np.linalg.norm(pos, axis=1), 6)
        a, b = pos[r == r.max()], pos[r < r.max()]
    dist = P.pair_distribution(a, b, Q.max(), route=route)
    assert dist.route == route
    exact = brute_sinc_sum(a, b, Q)
    total = len(pos) + 2 * exact  # the cross term inside a particle's I(q), f = 1
    assert np.max(np.abs(P.sinc_sum(dist, Q) - exact) * 2 / total) <= 1e-6


def test_fast_routes_of_debye_intensity_for_a_mixed_particle(monkeypatch):
    atoms = S.build("cuboctahedron", 3, "Au")
    symbols = np.array(atoms.get_chemical_symbols())
    r = np.round(np.linalg.norm(atoms.get_positions(), axis=1), 6)
    symbols[r == r.max()] = "Co"  # a symmetric shell of Co
    atoms.set_chemical_symbols(symbols.tolist())
    binned = X.debye_intensity(atoms, Q, 0.4, route="binned")
    monkeypatch.setattr(X, "FAST_ROUTE_MIN_ATOMS", 10)
    for route in ("auto", "lattice", "orbit", "general"):
        ours = X.debye_intensity(atoms, Q, 0.4, route=route)
        assert np.max(np.abs(ours - binned) / binned) <= 1e-6, route


def test_auto_keeps_the_binned_pass_for_the_library():
    atoms = S.build("icosahedron", 3, "Ag")
    assert len(atoms) < X.FAST_ROUTE_MIN_ATOMS
    assert np.array_equal(
        X.debye_intensity(atoms, Q, 0.3), X.debye_intensity(atoms, Q, 0.3, route="binned")
    )


def test_forced_routes_that_do_not_fit_are_named():
    pos = positions("icosahedron", 3)
    with pytest.raises(ValueError, match="route='lattice' but"):
        P.pair_distribution(pos, None, Q.max(), route="lattice")
    noisy = pos + np.random.default_rng(1).normal(scale=1e-3, size=pos.shape)
    with pytest.raises(ValueError, match="route='orbit' but"):
        P.pair_distribution(noisy, None, Q.max(), route="orbit")
    with pytest.raises(ValueError, match="route='column' but"):
        P.pair_distribution(pos, None, Q.max(), route="column")
    with pytest.raises(ValueError, match="unknown route"):
        X.debye_intensity(Atoms("Au2", positions=[[0, 0, 0], [2.9, 0, 0]]), Q, route="fast")


@pytest.mark.parametrize("route", ["lattice", "general"])
def test_coinciding_atoms_are_named(route):
    pos = positions("cubefcc", 2)
    pos = np.vstack([pos, pos[:1]])
    with pytest.raises(ValueError, match="same position"):
        P.pair_distribution(pos, None, Q.max(), route=route)


def test_moment_pass_gives_the_same_bytes_on_any_number_of_threads(monkeypatch):
    """Representatives go to a fixed number of lanes, so one thread and many sum the same way
    (a Dask worker, a laptop and CI write the same library)."""
    pos = np.random.default_rng(3).normal(size=(300, 3)) * 4.0
    many = P.general_pairs(pos, None, 0.01)
    monkeypatch.setattr(P, "_threads", lambda: 1)
    one = P.general_pairs(pos, None, 0.01)
    for a, b in ((many.distances, one.distances), (many.counts, one.counts)):
        assert a.tobytes() == b.tobytes()
    assert many.moments.tobytes() == one.moments.tobytes()
