"""Structures: the study's 9 shapes as pyNanoMatBuilder builds them, the element table,
descriptors."""

import contextlib
import io
import math
import warnings

import numpy as np
import pytest
from scipy.spatial import cKDTree
from scipy.spatial.distance import pdist

from helpers.simulation import structures as S


def _magic_icosahedral(k):  # Mackay icosahedron / cuboctahedron with k shells around the centre
    return (10 * k**3 + 15 * k**2 + 11 * k + 3) // 3


EXPECTED_N = {  # closed-form cluster counts, independent of the builder
    "icosahedron": _magic_icosahedral,
    "cuboctahedron": _magic_icosahedral,
    "octahedron": lambda n: (n + 1) * (2 * (n + 1) ** 2 + 1) // 3,
    "tetrahedron": lambda n: n * (n + 1) * (n + 2) // 6,
    "cubefcc": lambda n: (n + 1) ** 3 + 3 * n**2 * (n + 1),
}


@pytest.mark.parametrize("shape", sorted(EXPECTED_N))
@pytest.mark.parametrize("size", [2, 3, 5])
def test_atom_counts_follow_closed_forms(shape, size):
    assert len(S.unit_positions(shape, size)) == EXPECTED_N[shape](size)


@pytest.mark.parametrize("shape", S.SHAPES)
def test_every_shape_builds_with_unit_nearest_neighbour(shape):
    size = S.SHAPE_SPECS[shape].sizes[1]
    d = pdist(S.unit_positions(shape, size))
    if S.SHAPE_SPECS[shape].lattice in ("fcc", "bcc", "decahedral"):
        assert d.min() == pytest.approx(1.0, abs=1e-9)
    else:  # icosahedral particles are strained: radial bonds shorter than tangential ones
        assert 0.8 < d.min() <= 1.0 + 1e-9


@pytest.mark.parametrize("shape", S.SHAPES)
def test_geometry_scales_with_rnn(shape):
    """The library computes pair sums in units of Rnn: a direct build must agree after scaling."""
    size = S.SHAPE_SPECS[shape].sizes[1]
    direct = S.build(shape, size, "Pb").get_positions()
    scaled = S.unit_positions(shape, size) * S.rnn("Pb")
    from scipy.spatial import cKDTree

    dist, match = cKDTree(scaled).query(direct)
    assert len(direct) == len(scaled) and len(set(match)) == len(match)  # one-to-one
    assert dist.max() < 1e-8


def test_build_returns_quiet_centred_atoms(capsys):
    atoms = S.build("icosahedron", 3, "Co")
    assert set(atoms.get_chemical_symbols()) == {"Co"}
    np.testing.assert_allclose(atoms.get_positions().mean(axis=0), 0, atol=1e-9)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_element_table_has_sources_and_matches_study_and_ase():
    from ase.data import atomic_numbers, reference_states

    table = S.element_table()
    assert len(table) == 17 and table["source"].str.len().min() > 10
    study = {
        "Ag": 2.888885,
        "Al": 2.852398,
        "Au": 2.883758,
        "Co": 2.508815,
        "Cr": 2.602153,
        "Cu": 2.551029,
        "Pb": 3.478965,
        "Pt": 2.788829,
        "Ru": 2.708219,
        "Sb": 3.259762,
    }
    for el, value in study.items():
        assert S.rnn(el) == value and table.loc[el, "source"].startswith("study")
    for el in ("Fe", "Mo", "Ni", "Pd", "Si", "Ti"):
        ref = reference_states[atomic_numbers[el]]
        a = ref["a"]
        expected = {
            "fcc": a / math.sqrt(2),
            "bcc": a * math.sqrt(3) / 2,
            "diamond": a * math.sqrt(3) / 4,
            "hcp": min(a, math.sqrt(a**2 / 3 + (ref.get("c/a", 0) * a) ** 2 / 4)),
        }[ref["symmetry"]]
        assert S.rnn(el) == pytest.approx(expected, abs=1e-6), el


def test_mn_rnn_is_shortest_distance_of_alpha_mn_cif():
    from pathlib import Path

    import pyNanoMatBuilder
    from ase.io import read
    from ase.neighborlist import neighbor_list

    cif = (
        Path(pyNanoMatBuilder.__file__).parent
        / "resources"
        / "cif_database"
        / "cod9011068-Mn_alpha.cif"
    )
    d = neighbor_list("d", read(cif), 3.0)
    assert S.rnn("Mn") == pytest.approx(d.min(), abs=1e-6)


def test_descriptors_of_a_uniform_ball():
    g = np.arange(-30, 31)
    pts = np.stack(np.meshgrid(g, g, g), -1).reshape(-1, 3).astype(float)
    ball = pts[np.linalg.norm(pts, axis=1) <= 30]
    desc = S.describe_positions(ball + 7.0)
    assert desc["eq_radius"] == pytest.approx(30, rel=0.02)
    assert desc["circumscribed_radius"] == pytest.approx(30, rel=1e-9)
    assert desc["radius_of_gyration"] == pytest.approx(math.sqrt(3 / 5) * desc["eq_radius"])


def test_describe_row_in_angstrom():
    row = S.describe("pentagonal_bipyramid", 4, "Au")
    assert (
        row["size_argument"],
        row["size_parameter_1"],
        row["size_parameter_2"],
        row["size_parameter_3"],
    ) == ("sizeP", 4, 3, 2)
    assert row["n_atoms"] == len(S.build("pentagonal_bipyramid", 4, "Au"))
    assert row["radius_of_gyration"] < row["circumscribed_radius"]


@pytest.mark.parametrize(
    "args, match",
    [
        (("sphere", 3, "Au"), "unknown shape 'sphere'.*choose one of"),
        (("icosahedron", 3, "Xx"), "unknown element 'Xx'.*elements.csv"),
        (("icosahedron", 11, "Au"), "out of range.*nShell goes from 2 to 10"),
        (("pentagonal_bipyramid", 2, "Au"), "out of range.*sizeP goes from 4 to 9"),
    ],
)
def test_bad_input_is_named(args, match):
    with pytest.raises(ValueError, match=match):
        S.build(*args)


def test_non_integer_size_is_refused():
    with pytest.raises(TypeError, match="integer nShell"):
        S.build("icosahedron", 3.5, "Au")


#: Structures of the study's library that pyNanoMatBuilder 0.17.0 builds with atoms closer than
#: one nearest-neighbour distance (sizes below these are exact): the bcc rhombic dodecahedron
#: (bccrDD) from nShell 7 puts most atoms 0.8165 Rnn from a neighbour, not a bcc packing; the
#: Marks pentagonal bipyramid (epbpyM) from sizeP 7 has 62-349 atoms at 0.852 Rnn. Kept visible
#: here (strict xfail: the test fails once they are fixed) until the builds are fixed or replaced.
KNOWN_OFF_LATTICE = {("rhombic_dodecahedron", size) for size in (7, 8, 9, 10)} | {
    ("pentagonal_bipyramid", size) for size in (7, 8, 9)
}


@pytest.mark.parametrize(
    "shape, size",
    [
        pytest.param(
            shape,
            size,
            marks=pytest.mark.xfail(
                strict=True, reason="pyNanoMatBuilder builds these with overlapping atoms"
            ),
        )
        if (shape, size) in KNOWN_OFF_LATTICE
        else (shape, size)
        for shape, size in S.structure_grid()
        if S.SHAPE_SPECS[shape].lattice in ("fcc", "bcc", "decahedral")
    ],
)
def test_every_lattice_structure_of_the_study_has_unit_nearest_neighbours(shape, size):
    """No two atoms of a crystalline structure closer than one nearest-neighbour distance."""
    positions = S.unit_positions(shape, size)
    nearest = cKDTree(positions).query(positions, k=2)[0][:, 1]
    assert nearest.min() == pytest.approx(1.0, abs=1e-6)


def _sites(positions, per_rnn):
    """Positions as a set of integer points: coordinates times ``per_rnn`` (sqrt 2 for fcc, sqrt 3
    for bcc sites, in units of Rnn), shifted to the particle's lowest corner."""
    x = (np.asarray(positions) - np.min(positions, axis=0)) * per_rnn
    u = np.round(x)
    assert np.abs(x - u).max() < 1e-6
    return set(map(tuple, u.astype(np.int64)))


@pytest.mark.parametrize(
    "shape, size",
    [("icosahedron", 2), ("icosahedron", 7), ("dodecahedron", 5), ("pentagonal_bipyramid", 4)],
)
def test_skipping_the_builders_analysis_moves_no_atom(shape, size):
    """``_run_builder`` skips pyNanoMatBuilder's post-build analysis for speed; with it, the
    builder places every atom at the same position to the last bit, in the same order."""
    import importlib

    spec = S.SHAPE_SPECS[shape]
    builder = getattr(importlib.import_module(f"pyNanoMatBuilder.{spec.module}"), spec.cls)
    kwargs = {spec.size_argument: size, **dict(spec.fixed)}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        analysed = builder(
            *spec.positional, "Au", 1.0, noOutput=True, skipSymmetryAnalyzis=True, **kwargs
        )
    assert analysed.postAnalyzis  # the builder's default: the analysis ran
    fast = S._run_builder(shape, size, "Au", 1.0, study_range=False).get_positions()
    assert fast.tobytes() == analysed.NP.get_positions().tobytes()


@pytest.mark.parametrize("shape", sorted(S._FCC_FACETS))
def test_fcc_crystals_from_facets_are_the_builders_sites(shape):
    """Every study size, and two beyond, site for site."""
    for size in (*S.SHAPE_SPECS[shape].sizes, 13, 17):
        built = S._run_builder(shape, size, "Au", 1.0, study_range=False).get_positions()
        own = S.fcc_polyhedron(shape, size)
        assert len(own) == len(built), (shape, size)
        assert _sites(own, np.sqrt(2)) == _sites(built, np.sqrt(2)), (shape, size)
        np.testing.assert_allclose(own.mean(axis=0), 0.0, atol=1e-9)


def test_bcc_rhombic_dodecahedron_is_the_builders_where_the_builder_is_right():
    for size in range(2, 7):
        built = S.unit_positions("rhombic_dodecahedron", size)
        assert _sites(S.bcc_rhombic_dodecahedron(size), np.sqrt(3)) == _sites(built, np.sqrt(3))
    # from nShell 7 on the builder misplaces atoms; this construction stays on the lattice
    for size in (7, 12):
        own = S.unit_positions("rhombic_dodecahedron", size, study_range=False)
        nearest = cKDTree(own).query(own, k=2)[0][:, 1]
        assert nearest.min() == pytest.approx(1.0, abs=1e-9)
    with pytest.raises(ValueError, match="positive integer"):
        S.bcc_rhombic_dodecahedron(0)


def test_sizes_reach_the_wanted_diameter():
    rnn = 2.2435  # Mn, the smallest Rnn of the element table
    for shape in (
        "cubefcc",
        "tetrahedron",
        "rhombic_dodecahedron",
        "octahedron",
        "pentagonal_bipyramid",
    ):
        sizes = S.sizes_up_to(shape, 15.0, rnn)
        assert sizes[0] == S.SHAPE_SPECS[shape].sizes[0] and sizes == list(
            range(sizes[0], sizes[-1] + 1)
        )
        diameter = [
            2 * S.describe_positions(S.unit_positions(shape, n, False))["eq_radius"] * rnn / 10
            for n in sizes[-3:]
        ]
        assert diameter[-1] >= 15.0 and diameter[0] < 15.0, (shape, diameter)


def _same_points(a, b, tol=1e-9):
    """True if the two position arrays hold the same points, one to one, to ``tol``."""
    if len(a) != len(b):
        return False
    dist, match = cKDTree(a).query(b)
    return dist.max() < tol and len(np.unique(match)) == len(match)


def _decahedron_count(s, e, m):
    """Atoms of the Marks/Ino decahedron from its parts: the pentagonal bipyramid of s bonds per
    edge (the decahedral numbers 1, 7, 23, 54, 105, ...), e more pentagonal layers of
    1 + 5 s (s + 1) / 2 atoms (the elongation), less five Marks notches of
    1^2 + 2^2 + ... + m^2 atoms in the caps and m^2 per added layer."""
    bipyramid = (5 * s**3 + 15 * s**2 + 16 * s + 6) // 6
    layer = 1 + 5 * s * (s + 1) // 2
    notch = m * (m + 1) * (2 * m + 1) // 6 + e * m * m
    return bipyramid + e * layer - 5 * notch


#: (sizeP, sizeE, Marks) beyond the study's sizeE 3, Marks 2 where pyNanoMatBuilder is right
#: (sizeP + sizeE <= 9): a plain bipyramid, Ino and Marks decahedra.
OTHER_DECAHEDRA = [(1, 0, 0), (5, 0, 0), (9, 0, 0), (3, 1, 0), (4, 2, 1), (6, 0, 2), (7, 2, 3)]


def test_pentagonal_bipyramid_is_the_builders_where_the_builder_is_right():
    """Every study sizeP the builder gets right (sizeE 3, Marks 2), site for site in the builder's
    orientation, and other elongations and truncations of the same builder."""
    spec = S.SHAPE_SPECS["pentagonal_bipyramid"]
    first_wrong = S.BUILDER_OFF_LATTICE_FROM["pentagonal_bipyramid"]
    right = [size for size in spec.sizes if size < first_wrong]
    assert right == [4, 5, 6]
    for size in right:
        built = S.unit_positions("pentagonal_bipyramid", size)
        own = S.pentagonal_bipyramid(size)
        assert _same_points(own, built), size
        assert _same_points(S.unit_positions("pentagonal_bipyramid", size, False), built)
        np.testing.assert_allclose(own.mean(axis=0), 0.0, atol=1e-12)
    import pyNanoMatBuilder.johnsonNPs as J

    for s, e, m in OTHER_DECAHEDRA:
        built = J.epbpyM(
            "Au", 1.0, sizeP=s, sizeE=e, Marks=m, noOutput=True, skipSymmetryAnalyzis=True
        ).NP.get_positions()
        assert _same_points(S.pentagonal_bipyramid(s, e, m), built - built.mean(axis=0))
    # the builder goes wrong once a column has 10 bonds: one atom too many on the axis
    built = J.epbpyM(
        "Au", 1.0, sizeP=10, sizeE=0, Marks=0, noOutput=True, skipSymmetryAnalyzis=True
    ).NP.get_positions()
    assert len(built) == len(S.pentagonal_bipyramid(10, 0, 0)) + 1


@pytest.mark.parametrize("s, e, m", [(s, 3, 2) for s in (4, 7, 12, 30, 45)] + OTHER_DECAHEDRA)
def test_pentagonal_bipyramid_atom_count_is_the_closed_form(s, e, m):
    assert len(S.pentagonal_bipyramid(s, e, m)) == _decahedron_count(s, e, m)
    if (e, m) == (3, 2):
        assert len(S.pentagonal_bipyramid(s)) == (5 * s**3 + 60 * s**2 + 61 * s - 486) // 6


@pytest.mark.parametrize("size", [7, 12, 30])
def test_large_pentagonal_bipyramids_have_the_builders_bonds(size):
    """Every atom's nearest neighbour at 1 Rnn (none closer); bonds only at 1 Rnn and, along the
    axis, at the builder's 1.0515 Rnn (as at sizeP <= 6); at most 12 neighbours, 12 in the core;
    unit_positions uses this construction from the builder's first wrong size on."""
    own = S.unit_positions("pentagonal_bipyramid", size, study_range=False)
    assert _same_points(own, S.pentagonal_bipyramid(size))
    tree = cKDTree(own)
    nearest = tree.query(own, k=2)[0][:, 1]
    np.testing.assert_allclose(nearest, 1.0, atol=1e-9)
    pairs = tree.query_pairs(1.2, output_type="ndarray")
    bonds = np.linalg.norm(own[pairs[:, 0]] - own[pairs[:, 1]], axis=1)
    axial = S.DECAHEDRAL_AXIAL_SPACING
    assert axial == pytest.approx(1.0515, abs=1e-4)
    assert np.all(np.isclose(bonds, 1.0, atol=1e-9) | np.isclose(bonds, axial, atol=1e-9))
    along_axis = np.abs(own[pairs[:, 0], 2] - own[pairs[:, 1], 2])
    assert np.allclose(along_axis[np.isclose(bonds, axial)], axial, atol=1e-9)
    coordination = np.bincount(pairs.ravel(), minlength=len(own))
    assert coordination.max() == 12 and coordination.min() >= 3


@pytest.mark.parametrize("size", [4, 12])
def test_pentagonal_bipyramid_has_d5h_symmetry(size):
    own = S.pentagonal_bipyramid(size)
    angle = 2 * np.pi / 5
    rotation = np.array(
        [[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]]
    )
    for operation in (rotation, np.diag([1.0, 1.0, -1.0]), np.diag([1.0, -1.0, 1.0])):
        assert _same_points(own @ operation.T, own)
    assert not _same_points(own @ np.diag([-1.0, 1.0, 1.0]), own)  # a vertex on +x, none on -x


def test_pentagonal_bipyramid_refuses_bad_sizes():
    with pytest.raises(ValueError, match="size_p must be an integer >= 1"):
        S.pentagonal_bipyramid(0)
    with pytest.raises(ValueError, match="size_e must be an integer >= 0"):
        S.pentagonal_bipyramid(5, -1)
    with pytest.raises(ValueError, match="marks must be at most size_p / 2"):
        S.pentagonal_bipyramid(5, 3, 3)
    with pytest.raises(ValueError, match="size_p must be an integer"):
        S.pentagonal_bipyramid(5.0)
