"""Nanoparticle structures of the study, built with pyNanoMatBuilder, and their size descriptors.

The 9 shape labels, their builder classes and size arguments are those of the study
(``STUDY.md``). Every builder places atoms at positions proportional to the nearest-neighbour
distance Rnn, so one (shape, size) is the same structure, in units of Rnn, for every element:
:func:`unit_positions` builds it once at Rnn = 1 and :func:`build` scales it for an element
(``tests/test_structures.py`` checks this against a direct build at the element's own Rnn).
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
    ase.Atoms."""
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
            **kwargs,
        )
    atoms = obj.NP
    atoms.pbc = False
    atoms.cell = None
    return atoms


@functools.lru_cache(maxsize=128)
def _unit_positions_cached(shape: str, size: int) -> np.ndarray:
    positions = _run_builder(shape, size, "Au", 1.0).get_positions()
    positions = positions - positions.mean(axis=0)
    positions.setflags(write=False)
    return positions


def unit_positions(shape: str, size: int, study_range: bool = True) -> np.ndarray:
    """Atom positions of (shape, size) in units of Rnn, centred on the centroid (read-only
    array). ``study_range=False`` allows any size from the study's smallest up (large particles
    for the engine benchmark; built every time, not cached)."""
    check_shape_size(shape, size, study_range)
    if study_range:
        return _unit_positions_cached(shape, int(size))
    positions = _run_builder(shape, int(size), "Au", 1.0, study_range=False).get_positions()
    return positions - positions.mean(axis=0)


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


def structure_row(shape: str, size: int, element: str, unit_description: dict) -> dict:
    """One metadata row: builder size parameters and the descriptors of ``describe_positions``
    (computed in units of Rnn) scaled to Å for ``element``."""
    spec = check_shape_size(shape, size)
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
    """The (shape, size) pairs of the study, or of a subset: ``sizes`` limits every shape's
    range."""
    out = []
    for shape in shapes:
        if shape not in SHAPE_SPECS:
            raise ValueError(f"unknown shape {shape!r}: choose among {', '.join(SHAPES)}.")
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
