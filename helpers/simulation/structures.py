"""Nanoparticle structures of the study, built with pyNanoMatBuilder, and their size descriptors.

The 9 shape labels, their builder classes and size arguments are those of the study
(``STUDY.md``). Every builder places atoms at positions proportional to the nearest-neighbour
distance Rnn, so one (shape, size) is the same structure, in units of Rnn, for every element:
:func:`unit_positions` builds it once at Rnn = 1 and :func:`build` scales it for an element
(``tests/test_structures.py`` checks this against a direct build at the element's own Rnn).
Outside the study's range the single crystals, and the pentagonal bipyramid where
pyNanoMatBuilder misplaces atoms, are built here from their lattice sites (the builder's own sites
wherever it is right, checked in the tests).
"""

from __future__ import annotations

import contextlib
import functools
import io
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import paths

#: The study's labels, in the order of its class indices 0..8.
SHAPES: tuple[str, ...] = (
    "cubefcc",
    "cuboctahedron",
    "dihedral_rhombic_dodecahedron",
    "icosahedron",
    "octahedron",
    "dodecahedron",
    "pentagonal_bipyramid",
    "rhombic_dodecahedron",
    "tetrahedron",
)


@dataclass(frozen=True)
class ShapeSpec:
    module: str
    cls: str
    size_argument: str
    sizes: tuple[int, ...]
    lattice: str
    fixed: tuple[tuple[str, int], ...] = ()  # further builder arguments, fixed by the study
    positional: tuple = ()  # positional arguments before (element, Rnn)


SHAPE_SPECS: dict[str, ShapeSpec] = {
    "cubefcc": ShapeSpec(
        "platonicNPs", "cube", "nOrder", tuple(range(2, 11)), "fcc", positional=("fcc",)
    ),
    "cuboctahedron": ShapeSpec("archimedeanNPs", "fccCubo", "nShell", tuple(range(2, 11)), "fcc"),
    "dihedral_rhombic_dodecahedron": ShapeSpec(
        "catalanNPs", "fccdrDD", "nShell", tuple(range(2, 11)), "fcc"
    ),
    "icosahedron": ShapeSpec(
        "platonicNPs", "regIco", "nShell", tuple(range(2, 11)), "icosahedral"
    ),
    "octahedron": ShapeSpec("platonicNPs", "regfccOh", "nOrder", tuple(range(2, 11)), "fcc"),
    "dodecahedron": ShapeSpec(
        "platonicNPs", "regDD", "nShell", tuple(range(2, 11)), "icosahedral"
    ),
    "pentagonal_bipyramid": ShapeSpec(
        "johnsonNPs",
        "epbpyM",
        "sizeP",
        tuple(range(4, 10)),
        "decahedral",
        fixed=(("sizeE", 3), ("Marks", 2)),
    ),
    "rhombic_dodecahedron": ShapeSpec(
        "catalanNPs", "bccrDD", "nShell", tuple(range(2, 11)), "bcc"
    ),
    "tetrahedron": ShapeSpec("platonicNPs", "regfccTd", "nLayer", tuple(range(2, 11)), "fcc"),
}


@functools.lru_cache(maxsize=1)
def element_table() -> pd.DataFrame:
    """The study's 17 elements with their nearest-neighbour distance Rnn (Å) and its source."""
    table = pd.read_csv(paths.REFERENCE_DIR / "elements.csv").set_index("element")
    return table


ELEMENTS: tuple[str, ...] = tuple(element_table().index)


def rnn(element: str) -> float:
    """Nearest-neighbour distance (Å) of ``element`` from the element table."""
    check_element(element)
    return float(element_table().loc[element, "rnn_angstrom"])


def check_element(element: str) -> None:
    if element not in ELEMENTS:
        raise ValueError(
            f"unknown element {element!r}: the study's elements are {', '.join(ELEMENTS)} "
            f"(add a row with its Rnn and source to data/reference/elements.csv to use another)."
        )


def check_shape_size(shape: str, size: int, study_range: bool = True) -> ShapeSpec:
    """The shape's spec after checking the shape name and the size (in the study's range unless
    ``study_range`` is False, then any size from the study's smallest up)."""
    if shape not in SHAPE_SPECS:
        raise ValueError(f"unknown shape {shape!r}: choose one of {', '.join(SHAPES)}.")
    spec = SHAPE_SPECS[shape]
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise TypeError(f"size must be an integer {spec.size_argument}, got {size!r}.")
    if not study_range:
        if int(size) < spec.sizes[0]:
            raise ValueError(
                f"size {size} is too small for {shape}: its {spec.size_argument} starts at "
                f"{spec.sizes[0]}."
            )
        return spec
    if int(size) not in spec.sizes:
        raise ValueError(
            f"size {size} is out of range for {shape}: its {spec.size_argument} goes from "
            f"{spec.sizes[0]} to {spec.sizes[-1]} in the study."
        )
    return spec


def _run_builder(shape: str, size: int, element: str, rnn_value: float, study_range: bool = True):
    """Call the pyNanoMatBuilder class quietly (no printing, no warnings) and return its
    ase.Atoms. Its post-build analysis (moments of inertia, core and surface atoms, a formula
    parsed from one symbol per atom) is skipped: nothing here reads it, it does not move an
    atom (the same positions to the last bit, ``tests/test_structures.py``), and it took more
    than half of the build time of the largest particles."""
    import importlib

    spec = check_shape_size(shape, size, study_range)
    module = importlib.import_module(f"pyNanoMatBuilder.{spec.module}")
    builder = getattr(module, spec.cls)
    kwargs = {spec.size_argument: int(size), **dict(spec.fixed)}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        obj = builder(
            *spec.positional,
            element,
            rnn_value,
            noOutput=True,
            skipSymmetryAnalyzis=True,
            postAnalyzis=False,
            **kwargs,
        )
    atoms = obj.NP
    atoms.pbc = False
    atoms.cell = None
    return atoms


#: Sizes from which pyNanoMatBuilder 0.17.0 places atoms off the shape's lattice (closer than one
#: nearest-neighbour distance to another atom; ``tests/test_structures.py``). The study's library
#: keeps them as the study had them; outside the study's range :func:`unit_positions` builds these
#: shapes from these sizes on with :func:`bcc_rhombic_dodecahedron` and
#: :func:`pentagonal_bipyramid` instead (the same sites as the builder below these sizes).
BUILDER_OFF_LATTICE_FROM: dict[str, int] = {"rhombic_dodecahedron": 7, "pentagonal_bipyramid": 7}


def bcc_rhombic_dodecahedron(n_shell: int) -> np.ndarray:
    """Atom positions (units of Rnn, centred) of the bcc rhombic dodecahedron with {110} facets and
    ``n_shell`` shells: every bcc site (x, y, z), integer coordinates in units of a/2 all of one
    parity, with |x| + |y|, |y| + |z| and |x| + |z| at most 2 n_shell. The bcc cube edge is
    a = 2 Rnn / sqrt(3). pyNanoMatBuilder's ``bccrDD`` builds exactly these sites up to nShell 6
    (``tests/test_structures.py``) and misplaces atoms from nShell 7 on."""
    if isinstance(n_shell, bool) or not isinstance(n_shell, (int, np.integer)) or n_shell < 1:
        raise ValueError(f"n_shell must be a positive integer, got {n_shell!r}.")
    m = 2 * int(n_shell)
    r = np.arange(-m, m + 1)
    x, y, z = np.meshgrid(r, r, r, indexing="ij")
    keep = (
        ((x - y) % 2 == 0)
        & ((y - z) % 2 == 0)
        & (np.abs(x) + np.abs(y) <= m)
        & (np.abs(y) + np.abs(z) <= m)
        & (np.abs(x) + np.abs(z) <= m)
    )
    sites = np.stack([x[keep], y[keep], z[keep]], axis=1).astype(float)
    return sites / np.sqrt(3.0)  # a / 2 = Rnn / sqrt(3)


#: Spacing of the atoms along the 5-fold axis of pyNanoMatBuilder's decahedra, in units of Rnn:
#: twice the height of a pentagonal pyramid of equilateral triangles of unit edge,
#: 2 sqrt((5 - sqrt 5) / 10) = 1.0515 (the builder's ``magicFactorF``).
DECAHEDRAL_AXIAL_SPACING = 2.0 * np.sqrt((5.0 - np.sqrt(5.0)) / 10.0)


def _int_at_least(name: str, value, smallest: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < smallest:
        raise ValueError(f"{name} must be an integer >= {smallest}, got {value!r}.")
    return int(value)


_STUDY_DECAHEDRON = dict(SHAPE_SPECS["pentagonal_bipyramid"].fixed)  # sizeE 3, Marks 2


def pentagonal_bipyramid(
    size_p: int,
    size_e: int = _STUDY_DECAHEDRON["sizeE"],
    marks: int = _STUDY_DECAHEDRON["Marks"],
) -> np.ndarray:
    """Atom positions (units of Rnn, centred) of the decahedron that pyNanoMatBuilder's ``epbpyM``
    builds with sizeP ``size_p``, sizeE ``size_e`` and Marks ``marks`` (the study's shape
    "pentagonal_bipyramid" has sizeE 3 and Marks 2: a Marks decahedron elongated along its axis,
    Ino-like), in the builder's orientation: 5-fold axis along z, a pentagon vertex along +x.

    Five fcc tetrahedral segments share the 5-fold axis; segment k lies between the twin planes
    through the axis and the pentagon vertices k and k + 1 (at 72 k degrees, k mod 5), and is
    bounded by {111} outer facets above and below. The builder closes the 7.35 degree gap by
    stretching along the axis, not by opening the segments: the pentagon is regular with unit
    edge, every bond is 1 Rnn except those parallel to the axis,
    :data:`DECAHEDRAL_AXIAL_SPACING` = 1.0515 Rnn (+5.1 %).

    The atoms stand in columns parallel to the axis, c = 1.0515 apart. Column (k, i, j) stands at
    i u_k + j u_(k+1) in the xy plane (u_k the unit-edge pentagon's vertex k, i >= 1, j >= 0,
    i + j <= size_p; plus the axis column) and holds the m + 1 atoms
    z = (m / 2 - n) c, n = 0..m, with m = size_p + size_e - i - j: from the segment's facet above
    to its mirror image below, size_e bonds longer than in the plain bipyramid (the elongation,
    with {100} side facets). The Marks truncation drops the columns with i or j above
    size_p - marks: a re-entrant notch along each of the five vertical edges, bounded by {111}
    planes parallel to the twin planes, leaving size_p + 1 - 2 marks atoms on every pentagon edge.
    The atom count is
    [5 s^3 + 15 s^2 + 16 s + 6 + e (15 s^2 + 15 s + 6) - 5 M (M + 1)(2 M + 1) - 30 e M^2] / 6
    (s, e, M = size_p, size_e, marks), (5 s^3 + 60 s^2 + 61 s - 486) / 6 for the study's.

    pyNanoMatBuilder builds exactly these sites while size_p + size_e <= 9
    (``tests/test_structures.py``: sizeP 4 to 6 of the study, and other sizeE and Marks). It fills
    a column of m bonds with int(m c^2) - 1 inner atoms instead of m - 1; the two agree only while
    m (c^2 - 1) = 0.106 m < 1, so from size_p + size_e = 10 on its longest columns get one atom too
    many, squeezed in closer than 1 Rnn (hence the study's sizeP 7 to 9 have atoms 0.85 Rnn from a
    neighbour). This construction is vectorised: about 0.03 s for 2 x 10^5 atoms."""
    s = _int_at_least("size_p", size_p, 1)
    e = _int_at_least("size_e", size_e, 0)
    m_cut = _int_at_least("marks", marks, 0)
    if 2 * m_cut > s:
        raise ValueError(
            f"marks must be at most size_p / 2 (a pentagon edge keeps size_p + 1 - 2 marks "
            f"atoms), got marks {m_cut} for size_p {s}."
        )
    angles = 2.0 * np.pi * np.arange(5) / 5.0
    u = np.stack([np.cos(angles), np.sin(angles)], axis=1) / (2.0 * np.sin(np.pi / 5.0))
    top = s - m_cut  # largest i and j left by the Marks truncation
    i, j = np.meshgrid(np.arange(1, top + 1), np.arange(0, top + 1), indexing="ij")
    inside = i + j <= s
    i, j = np.tile(i[inside], 5), np.tile(j[inside], 5)
    k = np.repeat(np.arange(5), np.count_nonzero(inside))
    xy = np.vstack([np.zeros((1, 2)), i[:, None] * u[k] + j[:, None] * u[(k + 1) % 5]])
    bonds = np.concatenate([[s + e], s + e - i - j])  # bonds per column, the axis column first
    length = bonds + 1
    column = np.repeat(np.arange(len(bonds)), length)
    n = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
    z = (bonds[column] / 2.0 - n) * DECAHEDRAL_AXIAL_SPACING
    positions = np.column_stack([xy[column], z])
    return positions - positions.mean(axis=0)


#: The fcc single crystals as lattice sites inside facet planes. Site coordinates u are integers
#: in units of a/2 (a = sqrt(2) Rnn the cubic cell), shifted to start at 0, with u_x + u_y + u_z of
#: one parity. Per shape: the box (upper bound of each coordinate as (k, c): k n + c), the parity
#: (k, c) of the coordinate sum (k n + c mod 2), and facets (normal, k, c): normal . u <= k n + c.
#: Read off pyNanoMatBuilder's builds (facets of their convex hulls), and checked site for site
#: against them at every size of the study and beyond (``tests/test_structures.py``).
_FCC_FACETS: dict[str, tuple] = {
    "cubefcc": (((2, 0), (2, 0), (2, 0)), (0, 0), ()),
    "cuboctahedron": (
        ((2, 0), (2, 0), (2, 0)),
        (1, 0),
        (
            ((-1, 1, -1), 1, 0),
            ((-1, -1, 1), 1, 0),
            ((1, -1, -1), 1, 0),
            ((-1, -1, -1), -1, 0),
            ((-1, 1, 1), 3, 0),
            ((1, -1, 1), 3, 0),
            ((1, 1, -1), 3, 0),
            ((1, 1, 1), 5, 0),
        ),
    ),
    "dihedral_rhombic_dodecahedron": (
        ((2, 0), (2, 0), (4, 0)),
        (0, 0),
        (
            ((-1, 1, -1), 0, 0),
            ((1, -1, -1), 0, 0),
            ((-1, -1, 1), 2, 0),
            ((1, 1, -1), 2, 0),
            ((-1, -1, -1), -2, 0),
            ((-1, 1, 1), 4, 0),
            ((1, -1, 1), 4, 0),
            ((1, 1, 1), 6, 0),
        ),
    ),
    "octahedron": (
        ((2, 0), (2, 0), (2, 0)),
        (0, 0),
        (
            ((-1, 1, -1), 0, 0),
            ((-1, -1, 1), 0, 0),
            ((1, -1, -1), 0, 0),
            ((-1, -1, -1), -2, 0),
            ((-1, 1, 1), 2, 0),
            ((1, -1, 1), 2, 0),
            ((1, 1, -1), 2, 0),
            ((1, 1, 1), 4, 0),
        ),
    ),
    "tetrahedron": (
        ((1, -1), (1, -1), (1, -1)),
        (1, -1),
        (
            ((1, -1, 1), 1, -1),
            ((1, 1, -1), 1, -1),
            ((-1, 1, 1), 1, -1),
            ((-1, -1, -1), -1, 1),
        ),
    ),
}


def fcc_polyhedron(shape: str, size: int) -> np.ndarray:
    """Atom positions (units of Rnn, centred) of an fcc single crystal of the study (cube,
    cuboctahedron, dihedral rhombic dodecahedron, octahedron, tetrahedron) at builder size
    ``size``, as the lattice sites inside its facet planes (:data:`_FCC_FACETS`): the same sites as
    pyNanoMatBuilder's build, in milliseconds at any size (the builder takes about a minute per
    million atoms)."""
    if shape not in _FCC_FACETS:
        raise ValueError(
            f"{shape!r} is not an fcc single crystal: use one of {list(_FCC_FACETS)}."
        )
    spec = check_shape_size(shape, size, study_range=False)
    n = int(size)
    box, (pk, pc), facets = _FCC_FACETS[shape]
    axes = [np.arange(k * n + c + 1) for k, c in box]
    u = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    keep = u.sum(axis=1) % 2 == (pk * n + pc) % 2
    for normal, k, c in facets:
        keep &= u @ np.asarray(normal) <= k * n + c
    positions = u[keep] / np.sqrt(2.0)  # a / 2 = Rnn / sqrt(2)
    if len(positions) == 0:  # pragma: no cover - every size >= the study's smallest has atoms
        raise ValueError(f"no atom in {shape} of {spec.size_argument} {size}.")
    return positions - positions.mean(axis=0)


@functools.lru_cache(maxsize=128)
def _unit_positions_cached(shape: str, size: int) -> np.ndarray:
    positions = _run_builder(shape, size, "Au", 1.0).get_positions()
    positions = positions - positions.mean(axis=0)
    positions.setflags(write=False)
    return positions


def unit_positions(shape: str, size: int, study_range: bool = True) -> np.ndarray:
    """Atom positions of (shape, size) in units of Rnn, centred on the centroid (read-only
    array). ``study_range=False`` allows any size from the study's smallest up (large particles;
    built every time, not cached) and builds the single crystals as lattice sites inside their
    facets: the fcc ones with :func:`fcc_polyhedron` (pyNanoMatBuilder's sites, about a thousand
    times faster) and the rhombic dodecahedron with :func:`bcc_rhombic_dodecahedron`
    (pyNanoMatBuilder misplaces atoms from nShell 7 on; the same sites below), and the pentagonal
    bipyramid from sizeP 7 on with :func:`pentagonal_bipyramid` (pyNanoMatBuilder misplaces atoms
    there; below, its builds are kept, atom order included, and are the same sites). The study's
    range keeps pyNanoMatBuilder's builds, atom order included, so the study's library stays the
    same bytes."""
    check_shape_size(shape, size, study_range)
    if study_range:
        return _unit_positions_cached(shape, int(size))
    construction = _construction(shape, int(size))
    if construction is not None:
        positions = construction(int(size))
    else:
        positions = _run_builder(shape, int(size), "Au", 1.0, study_range=False).get_positions()
    return positions - positions.mean(axis=0)


def _construction(shape: str, size: int):
    """The function of one size argument that builds (shape, size) here outside the study's
    range, or None where pyNanoMatBuilder's build is used (see :func:`unit_positions`)."""
    if shape == "rhombic_dodecahedron":
        return bcc_rhombic_dodecahedron
    if shape == "pentagonal_bipyramid" and size >= BUILDER_OFF_LATTICE_FROM[shape]:
        return pentagonal_bipyramid
    if shape in _FCC_FACETS:
        return functools.partial(fcc_polyhedron, shape)
    return None


def sizes_up_to(shape: str, eq_diameter_nm: float, rnn_angstrom: float) -> list[int]:
    """The builder sizes of ``shape`` from the study's smallest to the first whose equivalent
    diameter 2 R_eq reaches ``eq_diameter_nm`` at the nearest-neighbour distance ``rnn_angstrom``
    (every integer size: one more shell is the finest step a closed polyhedron has). R_eq grows
    linearly with the size for large sizes; it is extrapolated from the study's two largest sizes
    (one more size is added as a margin). Where the last size is built here, not by
    pyNanoMatBuilder (milliseconds), it is checked: if it falls short (the pentagonal bipyramid,
    whose fixed elongation and Marks notches make R_eq grow more slowly than the study's sizes
    suggest), the sizes go on to the first that reaches, plus the margin. Every shape reaches the
    diameter: where pyNanoMatBuilder fails (:data:`BUILDER_OFF_LATTICE_FROM`),
    :func:`unit_positions` builds the sites itself."""
    spec = check_shape_size(shape, SHAPE_SPECS[shape].sizes[0])
    if not eq_diameter_nm > 0 or not rnn_angstrom > 0:
        raise ValueError("eq_diameter_nm and rnn_angstrom must be positive.")

    def eq_radius(n: int) -> float:
        return describe_positions(unit_positions(shape, n, study_range=False))["eq_radius"]

    a, b = spec.sizes[-2], spec.sizes[-1]
    r_a, r_b = eq_radius(a), eq_radius(b)
    slope = (r_b - r_a) / (b - a)
    wanted = 10.0 * eq_diameter_nm / 2.0 / rnn_angstrom  # R_eq in units of Rnn
    last = max(b, int(np.ceil(b + (wanted - r_b) / slope)) + 1)
    if _construction(shape, last) is not None and eq_radius(last) < wanted:
        reached = last + 1
        while eq_radius(reached) < wanted:
            reached += 1
        last = reached + 1
    return list(range(spec.sizes[0], last + 1))


def build(shape: str, size: int, element: str = "Co"):
    """Build the (shape, size) nanoparticle of ``element`` with pyNanoMatBuilder, as an
    ``ase.Atoms``.

    The builder is called with the element's Rnn from the element table; the particle is
    centred on its centroid.
    """
    check_element(element)
    atoms = _run_builder(shape, size, element, rnn(element))
    atoms.positions -= atoms.positions.mean(axis=0)
    return atoms


def describe_positions(positions: np.ndarray) -> dict[str, float]:
    """Size descriptors of a set of equal-weight atom positions (any length unit).

    - ``radius_of_gyration``: sqrt of the mean squared distance of the atoms from their centroid.
    - ``eq_radius``: radius of the uniform solid sphere with the same radius of gyration,
      R_eq = sqrt(5/3) * R_g (a uniform sphere of radius R has R_g^2 = 3 R^2 / 5).
    - ``circumscribed_radius``: largest distance of an atom centre from the centroid.
    """
    positions = np.asarray(positions, dtype=float)
    centred = positions - positions.mean(axis=0)
    r2 = np.einsum("ij,ij->i", centred, centred)
    rg = float(np.sqrt(r2.mean()))
    return {
        "n_atoms": int(len(positions)),
        "radius_of_gyration": rg,
        "eq_radius": float(np.sqrt(5.0 / 3.0) * rg),
        "circumscribed_radius": float(np.sqrt(r2.max())),
    }


def structure_row(
    shape: str, size: int, element: str, unit_description: dict, study_range: bool = True
) -> dict:
    """One metadata row: builder size parameters and the descriptors of ``describe_positions``
    (computed in units of Rnn) scaled to Å for ``element``."""
    spec = check_shape_size(shape, size, study_range)
    scale = rnn(element)
    fixed = dict(spec.fixed)
    row = {
        "shape": shape,
        "shape_index": SHAPES.index(shape),
        "element": element,
        "rnn": scale,
        "size_argument": spec.size_argument,
        "size_parameter_1": int(size),
        "size_parameter_2": fixed.get("sizeE", np.nan),
        "size_parameter_3": fixed.get("Marks", np.nan),
        "n_atoms": unit_description["n_atoms"],
    }
    for key in ("radius_of_gyration", "eq_radius", "circumscribed_radius"):
        row[key] = unit_description[key] * scale
    return row


def describe(shape: str, size: int, element: str = "Co") -> dict:
    """One row describing a structure: builder size parameters and size descriptors in Å."""
    check_shape_size(shape, size)
    check_element(element)
    return structure_row(shape, size, element, describe_positions(unit_positions(shape, size)))


def structure_grid(shapes=SHAPES, sizes=None) -> list[tuple[str, int]]:
    """The (shape, size) pairs of the study, or of a subset: a list ``sizes`` limits every
    shape's range; a dict {shape: [sizes]} gives each shape its own sizes, any from the study's
    smallest up (:func:`unit_positions` with ``study_range=False``)."""
    out = []
    for shape in shapes:
        if shape not in SHAPE_SPECS:
            raise ValueError(f"unknown shape {shape!r}: choose among {', '.join(SHAPES)}.")
        if isinstance(sizes, dict):
            if shape not in sizes:
                raise ValueError(
                    f"sizes is a dict of sizes per shape but has none for {shape!r}: give every "
                    "shape its list of sizes."
                )
            for size in sizes[shape]:
                check_shape_size(shape, size, study_range=False)
            out.extend((shape, int(s)) for s in sizes[shape])
            continue
        allowed = SHAPE_SPECS[shape].sizes
        chosen = allowed if sizes is None else [s for s in sizes if s in allowed]
        out.extend((shape, int(s)) for s in chosen)
    if not out:
        raise ValueError(
            f"no structure left: sizes {sizes} fit none of the shapes {list(shapes)}."
        )
    return out


FCC_REFLECTIONS = ((1, 1, 1), (2, 0, 0), (2, 2, 0), (3, 1, 1), (2, 2, 2), (4, 0, 0))
BCC_REFLECTIONS = ((1, 1, 0), (2, 0, 0), (2, 1, 1), (2, 2, 0), (3, 1, 0), (2, 2, 2))


def bragg_positions(element: str, lattice: str) -> dict[str, float]:
    """q of the first reflections of the bulk fcc or bcc lattice with nearest-neighbour distance
    Rnn."""
    r = rnn(element)
    if lattice == "fcc":
        a, hkls = r * np.sqrt(2.0), FCC_REFLECTIONS
    elif lattice == "bcc":
        a, hkls = 2.0 * r / np.sqrt(3.0), BCC_REFLECTIONS
    else:
        raise ValueError(f"lattice must be 'fcc' or 'bcc', got {lattice!r}.")
    return {
        "".join(map(str, hkl)): 2 * np.pi * np.sqrt(sum(h * h for h in hkl)) / a for hkl in hkls
    }
