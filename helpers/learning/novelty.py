"""How unlike every training curve a curve is: an out-of-distribution score for any model.

A model answers whatever it is given; on a curve unlike anything it was trained on (another kind
of particle, a wrong unit, a badly subtracted background, aggregates) its answer and its
confidence mean little. This module measures that distance directly on the model's input, so it
does not depend on the model's internals.

Distance. Inputs are those of :func:`helpers.learning.logq.prepare`: channel 0 is ln I minus its
mean over the measured grid points, channel 1 the measured mask. A curve x is compared with every
reference curve r (clean library curves, measured at every grid point) over the points x measured,
M, after removing the best constant offset (an unknown scale, or a mean taken over another
window): d(x, r)² = mean_M((x - r)²) - (mean_M(x - r))², the variance of x - r over M. The
distance of x to the training set is its smallest d over the references.

Score. The distances of validation curves (measured like the training curves, from structures
held out of training) calibrate it: a curve's score is the share of validation curves that lie
nearer to the references than it does, 0.5 for a typical curve, above ``level`` (default 0.99) a
curve unlike what the model saw, whose answer deserves a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import paths

#: the score above which a curve is named unlike the training curves
LEVEL = 0.99
#: at most this many reference curves are kept (a seeded random subset): the cost of a score is
#: one pass over them
MAX_REFERENCE = 4000
#: fewest validation curves that calibrate a score (its resolution is 1 / their number)
MIN_VALIDATION = 10


def _inputs(Z, name: str) -> tuple[np.ndarray, np.ndarray]:
    Z = np.asarray(Z, dtype=float)
    if Z.ndim != 3 or Z.shape[2] != 2:
        raise ValueError(
            f"{name} must be model inputs (n, L, 2) from helpers.learning.logq.prepare, got "
            f"shape {Z.shape}."
        )
    return Z[..., 0], Z[..., 1] > 0.5


def _nearest(reference: np.ndarray, values: np.ndarray, measured: np.ndarray) -> np.ndarray:
    """For every row of ``values`` (with its ``measured`` mask), the smallest offset-free RMS
    distance to a row of ``reference`` over the measured points."""
    out = np.empty(len(values))
    for k, (x, m) in enumerate(zip(values, measured, strict=True)):
        if m.sum() < 2:
            raise ValueError(f"curve {k} measures fewer than 2 grid points: no distance.")
        diff = reference[:, m] - x[m]
        out[k] = np.sqrt(np.clip(diff.var(axis=1), 0.0, None).min())
    return out


@dataclass
class Novelty:
    """Reference inputs and the calibrating distances of validation curves (see module doc)."""

    reference: np.ndarray
    validation_distances: np.ndarray
    level: float = LEVEL

    @classmethod
    def fit(cls, Z_reference, Z_validation, level: float = LEVEL, seed: int = 0) -> Novelty:
        """References: the training inputs (clean, every grid point measured; a seeded subset of
        at most :data:`MAX_REFERENCE`); validation: inputs of held-out structures, measured as
        the model's training curves were."""
        ref, ref_measured = _inputs(Z_reference, "Z_reference")
        if not ref_measured.all():
            raise ValueError(
                "reference curves must be measured at every grid point (clean library curves)."
            )
        if len(ref) == 0:
            raise ValueError("no reference curve: give the training inputs.")
        if not 0.5 < level < 1:
            raise ValueError(f"level must be a probability in (0.5, 1), got {level}.")
        if len(ref) > MAX_REFERENCE:
            keep = np.random.default_rng(seed).choice(len(ref), MAX_REFERENCE, replace=False)
            ref = ref[np.sort(keep)]
        values, measured = _inputs(Z_validation, "Z_validation")
        if len(values) < MIN_VALIDATION:
            raise ValueError(
                f"{len(values)} validation curves cannot calibrate a score: give at least "
                f"{MIN_VALIDATION}."
            )
        reference = ref.astype("float32")
        distances = np.sort(_nearest(reference.astype(float), values, measured))
        return cls(reference, distances, float(level))

    def distances(self, Z) -> np.ndarray:
        """Offset-free RMS distance of each curve to its nearest reference curve (ln I units)."""
        values, measured = _inputs(Z, "Z")
        return _nearest(self.reference.astype(float), values, measured)

    def scores(self, Z) -> np.ndarray:
        """Share of validation curves nearer to the references than each curve (0 to 1)."""
        d = self.distances(Z)
        return np.searchsorted(self.validation_distances, d, side="left") / len(
            self.validation_distances
        )

    def is_novel(self, Z) -> np.ndarray:
        """True for the curves whose score exceeds :attr:`level`."""
        return self.scores(Z) > self.level

    def save(self, path) -> Path:
        """Write ``path`` (an .npz file), atomically."""
        path = Path(path)
        if path.suffix != ".npz":
            raise ValueError(f"{path}: name the novelty file with the suffix .npz.")
        return paths.write_atomically(
            path,
            lambda tmp: np.savez(
                tmp,
                reference=self.reference,
                validation_distances=self.validation_distances,
                level=np.array(self.level),
            ),
        )

    @classmethod
    def load(cls, path) -> Novelty:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no novelty reference at {path}: fit one and save it.")
        with np.load(path) as data:
            return cls(data["reference"], data["validation_distances"], float(data["level"]))
