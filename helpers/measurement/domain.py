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
