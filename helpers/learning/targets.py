"""Every target the models learn, defined once: names, metadata columns and class definitions.

Regression targets (Ridge) carry the study's names; :data:`SIZE_TARGETS` maps them to the library's
metadata columns. Classification targets (logistic regression and the CNNs):

- ``shape``: the 9 polyhedra, in the study's order (:data:`helpers.simulation.structures.SHAPES`);
- ``size_class``: the ninth of the particle-size range, 9 bins of ln N whose edges are the
  1/9 ... 8/9 quantiles over the library's structures (each structure counted once): a physical
  size that means the same for every shape (the study's Dense(9) head; its own classes were not
  published);
- ``size_parameter``: the builder's size argument 2..10 (nOrder / nShell / nLayer / sizeP), class =
  value - 2; the same value is a different size in each shape;
- ``lattice``: the internal structure alone (fcc / bcc / icosahedral / decahedral). The 9 shape
  labels mix shape with structure: the rhombic dodecahedron is the only bcc class, icosahedron and
  dodecahedron are icosahedral (twinned), the pentagonal bipyramid decahedral, the other five are
  fcc single crystals (:data:`FCC_SINGLE_CRYSTALS`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..simulation import structures

#: the study's names of the regression targets -> metadata columns, in the study's table order
SIZE_TARGETS = {
    "log_n_Atoms": "log_n_atoms",
    "Size_parameter_1": "size_parameter_1",
    "sqrt_log_eq_radius": "sqrt_log_eq_radius",
}
SIZE_TARGET_NAMES = list(SIZE_TARGETS)
LOG_N = "log_n_Atoms"  # the size target every chapter quotes first
SHAPE = "shape"
#: the CNN targets of every chapter; the baseline chapter also reports "size_parameter"
CNN_TARGETS = ("shape", "size_class")
CLASS_TARGETS = ("shape", "size_class", "size_parameter", "lattice")
LATTICES = ("fcc", "bcc", "icosahedral", "decahedral")
#: the shapes that differ by shape alone: one lattice (fcc), no twins
FCC_SINGLE_CRYSTALS = tuple(
    s for s in structures.SHAPES if structures.SHAPE_SPECS[s].lattice == "fcc"
)
N_SIZE_CLASSES = 9
SIZE_PARAMETER_OFFSET = 2


def size_class_edges(meta: pd.DataFrame) -> np.ndarray:
    """The 8 inner edges (in ln n_atoms) of the 9 size classes: quantiles over the structures."""
    per_structure = meta.drop_duplicates("structure_id")["log_n_atoms"].to_numpy(float)
    if per_structure.size < N_SIZE_CLASSES:
        raise ValueError(
            f"{per_structure.size} structures cannot define {N_SIZE_CLASSES} size classes: "
            f"use a library with at least {N_SIZE_CLASSES} structures."
        )
    return np.quantile(per_structure, np.arange(1, N_SIZE_CLASSES) / N_SIZE_CLASSES)


def size_class(log_n_atoms, edges) -> np.ndarray:
    """Size class 0..8 of each curve: the bin of ln n_atoms between ``edges`` (an edge goes up)."""
    edges = np.asarray(edges, dtype=float)
    return np.searchsorted(edges, np.asarray(log_n_atoms, dtype=float), side="right")


def size_parameter_class(size_parameter_1) -> np.ndarray:
    """Class 0..8 of the builder's size parameter 2..10 (value - 2)."""
    values = np.asarray(size_parameter_1)
    top = SIZE_PARAMETER_OFFSET + N_SIZE_CLASSES
    if np.any((values < SIZE_PARAMETER_OFFSET) | (values >= top)):
        raise ValueError("size_parameter_1 must lie in 2..10 to be a size-parameter class.")
    return (values - SIZE_PARAMETER_OFFSET).astype(int)


def size_targets(meta: pd.DataFrame) -> np.ndarray:
    """The regression targets of the rows of ``meta``, (n, 3), columns in
    :data:`SIZE_TARGET_NAMES`."""
    return meta[[SIZE_TARGETS[t] for t in SIZE_TARGET_NAMES]].to_numpy(float)


def class_labels(meta: pd.DataFrame, target: str) -> tuple[np.ndarray, list]:
    """Integer labels of every row of ``meta`` and the class names, for a target of
    :data:`CLASS_TARGETS`. ``meta`` must be the whole library's metadata: the size classes are
    defined on all its structures."""
    if target == "shape":
        return meta["shape_index"].to_numpy(), list(structures.SHAPES)
    if target == "size_class":
        edges = size_class_edges(meta)
        bounds = np.concatenate([[meta["n_atoms"].min()], np.exp(edges), [meta["n_atoms"].max()]])
        names = [f"{bounds[k]:.0f}-{bounds[k + 1]:.0f} atoms" for k in range(N_SIZE_CLASSES)]
        return size_class(meta["log_n_atoms"].to_numpy(), edges), names
    if target == "size_parameter":
        names = [f"size {k + SIZE_PARAMETER_OFFSET}" for k in range(N_SIZE_CLASSES)]
        return size_parameter_class(meta["size_parameter_1"].to_numpy()), names
    if target == "lattice":
        lattice = meta["shape"].map(lambda s: structures.SHAPE_SPECS[s].lattice)
        return lattice.map(LATTICES.index).to_numpy(), list(LATTICES)
    raise ValueError(f"unknown class target {target!r}: use one of {CLASS_TARGETS}.")
