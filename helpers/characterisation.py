"""Characterise a measured curve: shape probabilities, size with intervals, a physics fit of the
answer, and what the data cannot tell.

One call, :func:`characterise` (exported as ``helpers.characterise``), on one curve or on a 2-D
array of curves sharing one q grid. The steps, each from a layer below:

1. **check** the input (:func:`helpers.measurement.files.check_curve`: NaN-only, too few points,
   intensities <= 0, unsorted or repeated q, sigma <= 0 are errors naming the fix) and convert q to
   1/Å from ``q_unit`` (never assumed beyond the documented default);
2. **domain** (:func:`helpers.measurement.domain.coverage`): which q ranges the curve covers
   against those that carry the size and the shape; without the wide angles the model was trained
   to see, the shape is reported as "not determinable from this q range" instead of a label;
3. **model** (:class:`helpers.learning.logq.LogQModel`, or several as a
   :class:`helpers.learning.logq.LogQEnsemble`, trained on curves measured under random conditions,
   in arbitrary units, on any window): calibrated shape probabilities, ln N and ln R_eq with 90 %
   intervals; the shape probabilities averaged over the curve dilated by a few grid points of
   log q (:attr:`Characteriser.shape_dilations`, :func:`helpers.learning.logq
   .shape_over_dilations`), the sizes the measured curve's;
4. **novelty** (:class:`helpers.learning.novelty.Novelty`): how unlike every training curve the
   curve is; above its level a named warning;
5. **size range**: an interval reaching outside the training library's sizes is named;
6. **physics fit** (:mod:`helpers.measurement.fit`): the most probable shapes (all shapes when the
   shape is not determinable) with every element of the library (only the caller's ``element``
   when the sample's composition is known), screened at the middle B_iso,
   then the best (shape, element) pairs at every B_iso, each fitted with the library's exact
   curves of sizes near the model's interval (over every size of the library when the best one
   sits at that window's edge), a log-normal polydispersity, a scale and a flat background; then
   the best family of each shape among those best pairs refined (the best of them is the
   answer's fit; one shape for most curves, where the model's probability sits on one), its
   size also between the library's sizes and its curves smeared by
   the measurement's resolution (the σ_q a file gives, else the best of the measurement model's
   resolutions); last, that family fitted at small angles alone (q < 1 Å⁻¹, every resolution),
   whose R_0 is the fit's size: the size lives in the small angles, while the wide angles, many
   more points, also weigh B_iso and the peak widths of the library's neighbouring sizes (on
   validation particles the fit's radius was within 10 % for 94 % of the curves this way, 80 %
   from the whole curve); the best fit's parameters, chi²_red and curve come back, and where
   model and fit disagree (another shape, a radius outside the model's interval) the result
   says so;
7. **the shape answer**: the model's probabilities weighed by how much worse each refined shape
   fits than the best one, the more so the larger the fit's R_0 (:func:`weigh_shapes`; the
   weight's two constants fitted by likelihood on validation particles, :func:`calibrate`): at
   a fixed number of photons a large particle's wide angles get few counts, which the fit of
   the library's curves reads better than the network (on validation particles); with it the
   **shape set**, the fewest labels whose probabilities sum to at least 90 % (:func:`shape_set`):
   one label where the curve tells the shape, two or more where it cannot tell them apart;
8. **the size answer**: ``radius_A`` is the fit's R_0 when there is a fit, with a 90 % interval
   R_0 exp(± k h), h = √((u + c)² + (β ln(R_model / R_0))²) (:func:`size_halfwidth`): u measures
   how sharply the data fix R_0 (the χ² profile,
   :attr:`helpers.measurement.fit.FitResult.log_radius_halfwidth`), c = :data:`FIT_SIZE_FLOOR`
   stands for the library's own misfit, β = :data:`FIT_SIZE_DISAGREEMENT` weighs how far the
   model's own size is from the fit's, and k is calibrated when the
   model is trained, on curves of the structures held out for its validation, measured under
   random conditions and fitted without those structures in the library
   (:func:`calibrate`); the model's own sizes stay as ``model_radius_A`` and
   ``model_n_atoms`` with their intervals. Without a fit the answer is the model's.

The trained model lives in ``models/characterise/`` (:data:`helpers.paths.CHARACTERISE_DIR`) with
its library's fingerprint; :func:`Characteriser.load` finds it, and a missing or stale model gives
the command that makes it (``make model``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import paths
from .learning import logq, model_set, novelty
from .measurement import domain, files, instrument
from .measurement import fit as physics
from .simulation import library, structures

#: the interval level of the size answers and of the shape set
LEVEL = 0.9
#: the labels of a shape set in one table cell
SET_SEPARATOR = ", "
#: shapes whose probability reaches this share of the most probable one are fitted too
FIT_SHARE = 0.1
#: how many shapes the physics fit tries at most (all of them when the shape is not determinable)
FIT_SHAPES = 3
#: the physics fit's screen: σ of ln R_eq tried for every (shape, element) at the middle B_iso
SCREEN_SIGMAS = (0.0, 0.1)
#: the (shape, element) pairs of the screen fitted in full (every B_iso and σ)
FIT_PAIRS = 3
#: the shapes (each its best family of the full fit) refined with sizes between the library's
REFINE_SHAPES = 3
#: the sizes the physics fit tries for R_0: the model's interval widened by this factor each way
FIT_RADIUS_FACTOR = 2.0
#: the small-angle points (q < :data:`helpers.measurement.domain.SAXS_Q`) the size fit needs
SIZE_FIT_POINTS = 10
MAKE_MODEL = "make model"
#: the q_max range of the random training conditions when none is given
#: (:func:`helpers.measurement.instrument.random_measurements`' default)
DEFAULT_Q_MAX = (5.0, 19.99)


#: the answer's sizes with their intervals (and where they come from), the model's own sizes and
#: the novelty score: the scalar fields of a row
SIZE_FIELDS = (
    "n_atoms",
    "n_atoms_low",
    "n_atoms_high",
    "radius_A",
    "radius_A_low",
    "radius_A_high",
    "size_source",
    "model_n_atoms",
    "model_n_atoms_low",
    "model_n_atoms_high",
    "model_radius_A",
    "model_radius_A_low",
    "model_radius_A_high",
    "novelty_score",
)
#: where an answer's size comes from (:attr:`Characterisation.size_source`)
SIZE_FROM_FIT, SIZE_FROM_MODEL = "physics fit", "model"
#: validation curves :func:`calibrate` fits when the model is trained (``make model``), about
#: 0.3 s each. 400, not 200: on validation particles the shape weighting chosen on 200 curves
#: made the probabilities over-confident on curves under notebook 10's conditions (log-loss 0.36
#: against the model's 0.30), those chosen on 400 and 600 did not (0.26); 600 took ``make model``
#: past 10 minutes
CALIBRATION_CURVES = 400
#: c, added to the fit's profile half-width u (ln R_0) in the size interval
#: (:func:`size_halfwidth`): the misfit of the library's curves, which no noise level shrinks.
#: Chosen on validation
#: particles: with c = 0 the calibrated k varied from 6.6 to 16 between resamplings of the
#: validation structures (5-95 %) and the median interval spanned 0.27 in ln R; with c = 0.02,
#: k 1.8-3.5 and 0.19, at the same coverage (94-95 % on curves under notebook 10's conditions)
FIT_SIZE_FLOOR = 0.02
#: β, the weight of the model's and the fit's disagreement on the size, |ln(R_model / R_0)|, in
#: the size interval's width (:func:`size_halfwidth`); 0: the interval R_0 exp(± k (u + c)).
#: Chosen on validation particles (thirty-first session): notebook 12's blind model, k
#: recalibrated for each β as ``make model`` does, then two draws of 800 curves of its 50
#: validation structures under notebook 10's conditions (never the test files). β = 0 / 0.5 / 1:
#: k 1.38 / 0.84 / 0.52; intervals covering 94.4 / 94.5 / 93.4 % of the curves, 81.5 / 84.5 /
#: 82.0 % with every effect at once, median half-width 0.045 / 0.035 / 0.030 in ln R: at the
#: same coverage, narrower where model and fit agree and wider where they do not
FIT_SIZE_DISAGREEMENT = 0.5
#: the width, in ln R_0, over which the physics fit's weight in the shape probabilities rises
#: (:func:`weigh_shapes`)
SHAPE_SWITCH_WIDTH = 0.2
#: the weights τ and the radii R_c (Å) :func:`calibrate_shape_weighting` tries
SHAPE_TAUS = (0.0, *np.geomspace(0.1, 100.0, 28).round(4))
SHAPE_RADII = tuple(np.geomspace(8.0, 128.0, 17).round(2))


@dataclass
class Characterisation:
    """The answer for one curve. ``shape``: the most probable label, or
    :data:`NOT_DETERMINABLE`; ``probabilities``: {label: p} (calibrated, summing to 1, reported
    even when the shape is not determinable): the model's, weighed by the physics fit where the
    characteriser has a calibrated weighting (:func:`weigh_shapes`); ``model_shape``: the model's
    own most probable label; ``shape_set``: the fewest labels, most probable first, whose
    probabilities sum to at least ``LEVEL`` (:func:`shape_set`); sizes as medians with ``LEVEL``
    intervals;
    ``size_source``: :data:`SIZE_FROM_FIT` (the sizes are the physics fit's, with intervals
    calibrated on validation particles) or :data:`SIZE_FROM_MODEL`; ``model_*``: the model's
    own sizes and intervals; ``warnings``: named problems; ``fit``: the best physics fit (None if
    no fit was possible),
    ``size_fit``: that family fitted at small angles only (q < :data:`helpers.measurement.domain
    .SAXS_Q`; None with fewer than :data:`SIZE_FIT_POINTS` points there), whose R_0 is the
    fit's size (:attr:`fit_radius_A`), and ``fits`` the table of every candidate tried;
    ``given_element``: the element the caller gave (the fit tried that element only; None: every
    element of the fit's library); ``q`` (1/Å), ``intensity``, ``sigma``: the curve as
    characterised, kept for :meth:`figure`."""

    shape: str
    probabilities: dict
    n_atoms: float
    n_atoms_low: float
    n_atoms_high: float
    radius_A: float
    radius_A_low: float
    radius_A_high: float
    novelty_score: float
    coverage: domain.Coverage
    size_source: str
    model_n_atoms: float
    model_n_atoms_low: float
    model_n_atoms_high: float
    model_radius_A: float
    model_radius_A_low: float
    model_radius_A_high: float
    warnings: list = field(default_factory=list)
    model_shape: str = ""
    shape_set: list = field(default_factory=list)
    fit: physics.FitResult | None = None
    fits: pd.DataFrame | None = None
    size_fit: physics.FitResult | None = None
    given_element: str | None = None
    q: np.ndarray | None = field(default=None, repr=False)
    intensity: np.ndarray | None = field(default=None, repr=False)
    sigma: np.ndarray | None = field(default=None, repr=False)

    @property
    def fit_radius_A(self) -> float | None:
        """The physics fit's size: R_0 of the small-angle fit, else of the full fit (None
        without a fit)."""
        best = self.size_fit or self.fit
        return None if best is None else best.radius_A

    def as_row(self) -> dict:
        """One row of the batch table (columns of the issue: shape, p_<label>, sizes, warnings)."""
        row = {
            "shape": self.shape,
            "model_shape": self.model_shape,
            "shape_set": SET_SEPARATOR.join(self.shape_set),
        }
        row.update({f"p_{label}": p for label, p in self.probabilities.items()})
        row.update({key: getattr(self, key) for key in SIZE_FIELDS})
        row["given_element"] = self.given_element
        if self.fit is not None:
            row.update(
                fit_shape=self.fit.shape,
                fit_element=self.fit.element,
                fit_radius_A=self.fit_radius_A,
                fit_polydispersity=(self.size_fit or self.fit).polydispersity,
                fit_chi2_red=self.fit.chi2_red,
            )
        row["warnings"] = "; ".join(self.warnings)
        return row

    def as_record(self) -> dict:
        """Every field of the answer as plain JSON values (str, float, int, bool, None, lists,
        dicts; NaN and infinities become None): the shape, the probabilities, the sizes with
        their ``LEVEL`` intervals, the novelty score, the coverage, the warnings, the best fit's
        parameters and chi²_red (``fit``, None without a fit), the small-angle fit's
        (``size_fit``) and every candidate tried (``fits``)."""
        record = {
            "shape": self.shape,
            "shape_determinable": self.shape != NOT_DETERMINABLE,
            "model_shape": self.model_shape,
            "shape_set": list(self.shape_set),
            "probabilities": self.probabilities,
            "interval_level": LEVEL,
            **{key: getattr(self, key) for key in SIZE_FIELDS},
            "coverage": asdict(self.coverage),
            "given_element": self.given_element,
            "warnings": list(self.warnings),
            "fit": None if self.fit is None else self.fit.as_row(),
            "size_fit": None if self.size_fit is None else self.size_fit.as_row(),
            "fits": [] if self.fits is None else self.fits.to_dict("records"),
        }
        return plain_json(record)

    def figure(self, source: str = "", canvas=None):
        """The measured curve, the best fit and its residuals, and the answer in the title
        (:func:`helpers.report.plots.characterisation_fit`): a log-log small-angle panel and a
        linear wide-angle panel with the Bragg positions of the fitted lattice marked.
        ``source`` (e.g. the file name) heads the title; ``canvas``: a
        :class:`helpers.report.plots.CharacterisationCanvas` to draw on (a batch draws every
        file on one) instead of a new figure."""
        from .report import plots  # matplotlib only when a figure is asked for

        if self.q is None or self.intensity is None:
            raise ValueError(
                "this result holds no curve to draw (q and intensity are None): make it with "
                "characterise() or Characteriser.one(), which store them."
            )
        fit, small = self.fit, self.size_fit
        bragg, bragg_label = fitted_bragg_positions(fit.shape, fit.element) if fit else ({}, "")
        determinable = self.shape != NOT_DETERMINABLE
        return plots.characterisation_fit(
            self.q,
            self.intensity,
            sigma=self.sigma,
            shape=self.shape,
            probability=self.probabilities.get(self.shape) if determinable else None,
            also=[s for s in self.shape_set if s != self.shape] if determinable else [],
            radius_A=self.radius_A,
            radius_A_low=self.radius_A_low,
            radius_A_high=self.radius_A_high,
            level=LEVEL,
            size_source=self.size_source,
            fit_q=None if fit is None else fit.q,
            fitted=None if fit is None else fit.fitted,
            residuals=None if fit is None else fit.residuals,
            residuals_per_sigma=bool(fit and fit.weighted_by_sigma),
            chi2_red=None if fit is None else fit.chi2_red,
            fit_label="" if fit is None else fit_description(fit),
            small_fit=None
            if small is None
            else (
                small.q,
                small.fitted,
                small.residuals,
                f"size fit (q < {domain.SAXS_Q:g} Å⁻¹): R_0 = {small.radius_A:.3g} Å, "
                f"σ(ln R) = {small.polydispersity:g}, resolution {small.resolution}",
            ),
            bragg=bragg,
            bragg_label=bragg_label,
            source=source,
            canvas=canvas,
        )


def size_halfwidth(halfwidth, model_radius, radius):
    """h = √((u + c)² + (β ln(R_model / R_0))²), the size interval's half-width in ln R before
    its factor k: u = ``halfwidth`` (the fit's profile, ln R_0), c = :data:`FIT_SIZE_FLOOR`, β =
    :data:`FIT_SIZE_DISAGREEMENT`, R_model = ``model_radius`` (the model's own size; None or NaN:
    no disagreement counted), R_0 = ``radius`` (the fit's). Arrays broadcast."""
    u = np.asarray(halfwidth, dtype=float) + FIT_SIZE_FLOOR
    if model_radius is None:
        return u
    apart = np.log(np.asarray(model_radius, dtype=float) / np.asarray(radius, dtype=float))
    return np.hypot(u, FIT_SIZE_DISAGREEMENT * np.nan_to_num(apart))


def fit_sizes(fit: physics.FitResult, factor: float, model_radius=None) -> dict:
    """The size answer from a physics fit: R_0 with the interval R_0 exp(± k h) (k = ``factor``,
    h = :func:`size_halfwidth` of ``fit.log_radius_halfwidth``, the model's own size
    ``model_radius`` and R_0) and the atom count of the library particle at R_0 with
    N exp(± 3 k h) (N ∝ R_eq³)."""
    if not (np.isfinite(factor) and factor > 0):
        raise ValueError(f"the size factor must be a finite number > 0, got {factor!r}.")
    spread = factor * float(size_halfwidth(fit.log_radius_halfwidth, model_radius, fit.radius_A))
    return {
        "size_source": SIZE_FROM_FIT,
        "n_atoms": float(fit.n_atoms),
        "n_atoms_low": float(fit.n_atoms * np.exp(-3 * spread)),
        "n_atoms_high": float(fit.n_atoms * np.exp(3 * spread)),
        "radius_A": float(fit.radius_A),
        "radius_A_low": float(fit.radius_A * np.exp(-spread)),
        "radius_A_high": float(fit.radius_A * np.exp(spread)),
    }


def shape_set(probabilities: dict, level: float = LEVEL) -> list[str]:
    """The fewest labels, most probable first, whose probabilities sum to at least ``level``:
    a set that holds the true shape ``level`` of the time where the probabilities are calibrated
    (notebook 12 measures how often it does on particles never trained on)."""
    if not 0 < level < 1:
        raise ValueError(f"the level must lie strictly between 0 and 1, got {level!r}.")
    if not probabilities:
        raise ValueError("no probabilities: a shape set needs at least one label.")
    labels = sorted(probabilities, key=lambda label: -probabilities[label])
    total = np.cumsum([probabilities[label] for label in labels])
    # the tolerance keeps a set whose sum falls short of the level by rounding only
    size = int(np.searchsorted(total, level - 1e-12)) + 1
    return labels[: min(size, len(labels))]


def shape_ratios(fits: pd.DataFrame) -> dict:
    """{shape: ln(χ²_red / the best χ²_red)} of the refined fits (``stage`` "refine") of a
    characterisation's table: how much worse each refined shape fits than the best one, free
    of the noise level's scale."""
    refined = fits[fits["stage"] == "refine"]
    best = float(refined["chi2_red"].min())
    return {str(s): float(np.log(c / best)) for s, c in zip(refined["shape"], refined["chi2_red"])}


def weigh_shapes(probabilities: dict, ratios: dict, radius_A: float, weighting: dict) -> dict:
    """The model's shape probabilities weighed by the physics fit: ln p(s) = ln p_model(s) −
    w ln(χ²_s / χ²_best) + const, with w = τ / (1 + exp(−ln(R_0 / R_c) / w_R)) (τ =
    ``weighting["tau"]``, R_c = ``weighting["radius_A"]``, w_R = :data:`SHAPE_SWITCH_WIDTH`,
    R_0 = ``radius_A`` the fit's size). ``ratios``: ln(χ²_s / χ²_best) of the shapes the fit
    refined (:func:`shape_ratios`); every other shape takes the largest of them. The fit
    weighs more for large particles: at a fixed number of photons their wide angles get few
    counts, which the network reads less well than a fit of the library's curves does (on
    validation particles). Returns probabilities summing to 1."""
    labels = list(probabilities)
    worst = max(ratios.values(), default=0.0)
    penalty = np.array([ratios.get(label, worst) for label in labels])
    switch = np.log(radius_A / weighting["radius_A"]) / SHAPE_SWITCH_WIDTH
    weight = weighting["tau"] / (1.0 + np.exp(-np.clip(switch, -50.0, 50.0)))
    with np.errstate(divide="ignore"):
        log_p = np.log(np.array([probabilities[label] for label in labels])) - weight * penalty
    log_p -= log_p.max()
    p = np.exp(log_p)
    p /= p.sum()
    return {label: float(v) for label, v in zip(labels, p, strict=True)}


def calibrate_shape_weighting(evidence: list, true_shapes) -> dict:
    """τ and R_c of :func:`weigh_shapes` minimising the mean negative log-likelihood of the true
    shapes over the grid :data:`SHAPE_TAUS` × :data:`SHAPE_RADII`, from ``evidence``: one
    (probabilities, ratios, R_0) per validation curve with a fit (:func:`calibrate`), and their
    ``true_shapes``. τ = 0 (the model alone) is on the grid, so the weighting never does worse
    than the model on these curves. Returns {"tau", "radius_A", "nll", "model_nll",
    "accuracy", "model_accuracy", "curves"}."""
    if len(evidence) == 0:
        raise ValueError("no validation curve with a physics fit: nothing to weigh the shapes on.")
    true_shapes = list(true_shapes)

    def scores(weighting):
        if weighting is None:
            answers = [p for p, _, _ in evidence]
        else:
            answers = [weigh_shapes(p, r, radius, weighting) for p, r, radius in evidence]
        truth = [p[s] for p, s in zip(answers, true_shapes, strict=True)]
        right = [max(p, key=p.get) == s for p, s in zip(answers, true_shapes, strict=True)]
        return float(-np.mean(np.log(np.maximum(truth, 1e-12)))), float(np.mean(right))

    model_nll, model_accuracy = scores(None)
    best = (model_nll, 0.0, float(SHAPE_RADII[0]))
    for tau in SHAPE_TAUS[1:]:
        for radius in SHAPE_RADII:
            nll = scores({"tau": float(tau), "radius_A": float(radius)})[0]
            if nll < best[0] - 1e-12:
                best = (nll, float(tau), float(radius))
    nll, tau, radius = best
    accuracy = scores({"tau": tau, "radius_A": radius})[1]
    return {
        "tau": tau,
        "radius_A": radius,
        "nll": nll,
        "model_nll": model_nll,
        "accuracy": accuracy,
        "model_accuracy": model_accuracy,
        "curves": len(evidence),
    }


def fit_description(fit: physics.FitResult) -> str:
    """A short line naming the fitted family and its parameters."""
    return (
        f"fit: {fit.shape}, {fit.element}, B = {fit.b_iso:g} Å², R_0 = {fit.radius_A:.3g} Å, "
        f"σ(ln R) = {fit.polydispersity:g}"
        + (f", resolution {fit.resolution}" if fit.resolution else "")
    )


def fitted_bragg_positions(shape: str, element: str) -> tuple[dict, str]:
    """({hkl: q in Å⁻¹}, legend label): the reflections of the lattice of ``shape`` for
    ``element``. fcc and bcc shapes get their own lattice's; icosahedral and decahedral particles
    are twinned fcc (strained fcc tetrahedra), whose peaks lie near, not exactly at, the fcc
    positions: they get those, and the label says so."""
    lattice = structures.SHAPE_SPECS[shape].lattice
    if lattice in ("fcc", "bcc"):
        return structures.bragg_positions(element, lattice), f"{lattice} reflections of {element}"
    return (
        structures.bragg_positions(element, "fcc"),
        f"fcc reflections of {element} ({lattice}: twinned fcc, peaks near them)",
    )


def plain_json(value):
    """``value`` with numpy scalars and arrays, tuples and pandas values turned into plain JSON
    values, and NaN and ±inf into None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(key): plain_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain_json(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise TypeError(f"{type(value).__name__} {value!r} has no plain JSON form.")


NOT_DETERMINABLE = "not determinable from this q range"


@dataclass
class Characteriser:
    """A trained model, its novelty reference and the library it was trained on."""

    model: logq.LogQModel | logq.LogQEnsemble
    novelty: novelty.Novelty
    library: library.Library
    #: the q_max below which the model was never trained (its training ranges)
    trained_q_max: float = domain.SHAPE_Q_MAX
    #: the library rows the physics fit and the size-range check use (None: all); a model
    #: trained on one side of a split keeps the other side's structures out of its fit too
    rows: np.ndarray | None = None
    #: k of the size answer's interval R_0 exp(± k h) (:func:`size_halfwidth`,
    #: :func:`calibrate`); None: not calibrated, the answer's sizes are the model's
    fit_size_factor: float | None = None
    #: τ and R_c of the physics fit's weight in the shape probabilities (:func:`weigh_shapes`,
    #: calibrated by :func:`calibrate_shape_weighting`); None: the model's probabilities alone
    shape_weighting: dict | None = None
    #: the dilations (grid points) over which the model's shape probabilities are averaged
    #: (:func:`helpers.learning.logq.shape_over_dilations`); (0,): the curve as measured
    shape_dilations: tuple = (0,)
    _families: dict | None = field(default=None, init=False, repr=False, compare=False)

    _reference: library.Library | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def reference(self) -> library.Library:
        """The library of the physics fit: :attr:`library`, limited to :attr:`rows` (made once)."""
        if self._reference is None:
            whole = self.rows is None
            self._reference = self.library if whole else self.library.subset(self.rows)
        return self._reference

    @classmethod
    def load(cls, folder=None, library_dir=None) -> Characteriser:
        """The model saved by :meth:`save` in ``folder`` (default :func:`paths.characterise_dir`),
        with the library it was trained on (``data/library/<name>/``, or the folder
        ``library_dir``; checked by its fingerprint); a missing or stale model raises with the
        command that makes it."""
        folder = Path(folder or paths.characterise_dir())
        record = folder / "characteriser.json"
        if not record.exists():
            raise FileNotFoundError(
                f"no trained characterisation model in {folder}: run `{MAKE_MODEL}` to make it."
            )
        meta = json.loads(record.read_text())
        try:
            lib = library.open_library(
                Path(library_dir) if library_dir else paths.library_dir(meta["library_name"])
            )
        except library.LibraryError as error:
            raise FileNotFoundError(
                f"the library {meta['library_name']!r} the model was trained on is missing or "
                f"damaged ({error}): run `{MAKE_MODEL}`."
            ) from None
        if model_set.library_id(lib) != meta["library"]:
            raise ValueError(
                f"the model in {folder} was trained on another version of the library "
                f"{meta['library_name']!r}: run `{MAKE_MODEL}` to train it again."
            )
        if (
            meta.get("fit_size_floor") != FIT_SIZE_FLOOR
            or meta.get("fit_size_disagreement", 0.0) != FIT_SIZE_DISAGREEMENT
            or "fit_size_factor" not in meta
            or "shape_weighting" not in meta
        ):
            raise ValueError(
                f"the model in {folder} was trained before the size answer and the shape "
                f"probabilities were calibrated on validation particles as this version does: "
                f"run `{MAKE_MODEL}` to train it again."
            )
        model = logq.load_model(folder / "logq", library=lib)
        rows = meta.get("rows")
        return cls(
            model,
            novelty.Novelty.load(folder / "novelty.npz"),
            lib,
            float(meta["trained_q_max"]),
            None if rows is None else np.asarray(rows, dtype=int),
            meta["fit_size_factor"],
            meta["shape_weighting"],
            tuple(meta.get("shape_dilations", (0,))),
        )

    def save(self, folder, library_name: str) -> Path:
        """Write the model, the novelty reference and a record of the library (its folder name
        under ``data/library/`` and fingerprint) and of the trained q range."""
        folder = Path(folder)
        self.model.save(folder / "logq")
        self.novelty.save(folder / "novelty.npz")
        record = {
            "library_name": library_name,
            "library": model_set.library_id(self.library),
            "trained_q_max": self.trained_q_max,
            "rows": None if self.rows is None else [int(r) for r in self.rows],
            "fit_size_factor": self.fit_size_factor,
            "fit_size_floor": FIT_SIZE_FLOOR,
            "fit_size_disagreement": FIT_SIZE_DISAGREEMENT,
            "shape_weighting": self.shape_weighting,
            "shape_dilations": list(self.shape_dilations),
        }
        paths.write_atomically(
            folder / "characteriser.json", lambda tmp: tmp.write_text(json.dumps(record, indent=1))
        )
        return folder

    # --------------------------------------------------------------------------------------------

    def _fit(
        self,
        q,
        intensity,
        sigma,
        shapes,
        radius_range=None,
        dq=None,
        element=None,
        fit_pairs: int | None = FIT_PAIRS,
    ):
        """(table, fits) of the physics fit of ``shapes`` (those of the library; all of its shapes
        if none is), in four stages: a screen of every (shape, element) at the middle B_iso with
        σ in :data:`SCREEN_SIGMAS`; the full fit (every B_iso, every σ of
        :data:`helpers.measurement.fit.SIGMAS`) of the ``fit_pairs`` best pairs (None: all), R_0
        over the library sizes in ``radius_range`` (Å); a refinement over the same sizes, R_0 also
        between them (:data:`helpers.measurement.fit.SUBSTEPS`), with the resolution ``dq`` (σ_q
        at each q, 1/Å) or, without it, the resolution of
        :data:`helpers.measurement.fit.RESOLUTIONS` that fits the best family best at the
        library's sizes, of the best family of each of the :data:`REFINE_SHAPES` best shapes
        (the best of these refined fits is the answer's fit: a particle between the library's
        sizes is fitted by a wrong shape at a library size more often than by its own); and the
        size: that family fitted at q < :data:`helpers.measurement.domain.SAXS_Q` alone (with at
        least :data:`SIZE_FIT_POINTS` points there), R_0 between the sizes too, each resolution
        tried (``fits["size"]``). With ``dq`` every stage smears the library curves by it. The
        table lists the size fit first (column ``stage`` "size"), then the refinement ("refine";
        both say their ``resolution``), then the full fits (by chi²_red, "fit"), then the screen
        ("screen"). (None, {}) if too few measured points lie in the library's q range."""
        reference = self.reference
        inside = np.isfinite(intensity) & (q >= reference.q[0]) & (q <= reference.q[-1])
        if inside.sum() <= physics.N_PARAMETERS:
            return None, {}
        if self._families is None:
            self._families = physics.family_rows(reference)
        keys = self._families.keys()
        library_shapes = {key[0] for key in keys}
        present = [s for s in shapes if s in library_shapes] or sorted(library_shapes)
        elements = [element] if element else sorted({key[1] for key in keys})
        b_values = sorted({key[2] for key in keys})
        middle = b_values[(len(b_values) - 1) // 2]
        noise = None
        if sigma is None:  # each point's σ(I)/I estimated once from the points a fit uses
            noise = np.full(q.size, np.nan)
            noise[inside] = physics.relative_noise(q[inside], intensity[inside])
        options = dict(
            sigma=sigma, families=self._families, radius_range=radius_range, dq=dq, noise=noise
        )
        screen, _ = physics.fit_candidates(
            reference,
            q,
            intensity,
            [(shape, element, middle) for shape in present for element in elements],
            sigmas=SCREEN_SIGMAS,
            **options,
        )
        best = screen if fit_pairs is None else screen.head(fit_pairs)
        pairs = best[["shape", "element"]].itertuples(index=False)
        candidates = [(shape, element, b) for shape, element in pairs for b in b_values]
        table, fits = physics.fit_candidates(reference, q, intensity, candidates, **options)
        first = table.iloc[0]
        key = (first["shape"], first["element"], float(first["b_iso"]))
        if dq is not None:
            settings = {"given σ_q": np.asarray(dq, dtype=float)}
        else:
            settings = {
                physics.resolution_label(s0, r): instrument.resolution_width(q, s0, r)
                for s0, r in physics.RESOLUTIONS
            }

        def refit(widths, substeps, part=inside):
            return physics.fit_family(
                reference,
                q[part],
                intensity[part],
                *key,
                sigma=None if sigma is None else sigma[part],
                rows=self._families[key],
                radius_range=radius_range,
                dq=widths[part],
                substeps=substeps,
                noise=None if noise is None else noise[part],
            )

        # the resolution that fits best at the library's sizes, then R_0 between them too
        chi2 = {label: refit(widths, 1).chi2_red for label, widths in settings.items()}
        label = min(chi2, key=chi2.get)
        # each shape's best family of the full fit, refined: sizes between the library's decide
        # between shapes whose library sizes miss the particle's
        best_of_shape = table.drop_duplicates("shape").head(REFINE_SHAPES)
        refined_fits = []
        for row in best_of_shape.itertuples(index=False):
            key = (row.shape, row.element, float(row.b_iso))
            result = refit(settings[label], physics.SUBSTEPS)
            refined_fits.append(
                replace(
                    result,
                    resolution=label,
                    at_range_edge=fits[key].at_range_edge or result.at_range_edge,
                )
            )
        refined_fits.sort(key=lambda f: f.chi2_red)
        refined = refined_fits[0]
        key = (refined.shape, refined.element, refined.b_iso)
        fits = {**fits, "refined": refined}
        stages = [pd.DataFrame([f.as_row() for f in refined_fits]).assign(stage="refine")]
        # the size from the small angles alone, where it lies (module doc): every resolution,
        # R_0 between the library's sizes
        small = inside & (q < domain.SAXS_Q)
        if small.sum() >= SIZE_FIT_POINTS:
            tried = {name: refit(w, physics.SUBSTEPS, small) for name, w in settings.items()}
            name = min(tried, key=lambda k: tried[k].chi2_red)
            fits["size"] = replace(tried[name], resolution=name)
            stages.insert(0, pd.DataFrame([fits["size"].as_row()]).assign(stage="size"))
        stages += [table.assign(stage="fit"), screen.assign(stage="screen")]
        return pd.concat(stages, ignore_index=True), fits

    def checked_element(self, element) -> str | None:
        """``element`` (None, or a chemical symbol of the physics fit's library) as given; any
        other value raises, naming the library's elements."""
        if element is None:
            return None
        known = sorted(self.reference.metadata["element"].unique())
        if not isinstance(element, str) or element not in known:
            raise ValueError(
                f"element {element!r} is not in the physics fit's library: give one of {known} "
                "(the chemical symbol, e.g. 'Au'), or none to fit every element."
            )
        return element

    def one(self, q, intensity, sigma=None, dq=None, element=None) -> Characterisation:
        """Characterise one curve with q (and ``dq``) already in 1/Å (see :func:`characterise`)."""
        files.check_curve(q, intensity, sigma, dq)
        element = self.checked_element(element)
        q = np.asarray(q, dtype=float)
        intensity = np.asarray(intensity, dtype=float)
        warnings = []
        unit = files.looks_like_wrong_unit(q)
        if unit:
            warnings.append(unit)
        measured = np.isfinite(intensity)
        cover = domain.coverage(q, measured, shape_q_max=self.trained_q_max)
        Z = logq.prepare(q, intensity[None, :], measured[None, :], self.model.grid)
        pred = logq.shape_over_dilations(self.model, Z, self.shape_dilations)
        ivl = pred.interval(LEVEL)
        labels = list(self.model.labels)
        proba = {label: float(p) for label, p in zip(labels, pred.proba[0], strict=True)}
        model_shape = str(pred.shape[0])
        shape = model_shape if cover.shape_determinable else NOT_DETERMINABLE
        if not cover.shape_determinable:
            warnings.append(next(n for n in cover.notes if n.startswith("shape not determinable")))
        if not cover.size_determinable:
            warnings.append(cover.notes[0])
        score = float(self.novelty.scores(Z)[0])
        if score > self.novelty.level:
            warnings.append(
                f"unlike the training curves (novelty score {score:.3f} > {self.novelty.level}): "
                "another kind of particle, a wrong unit or background, or aggregates; trust no "
                "answer without the fit below"
            )
        radii = self.reference.metadata["eq_radius"]
        low, high = float(ivl["radius_low"][0]), float(ivl["radius_high"][0])
        if low < radii.min() or high > radii.max():
            warnings.append(
                f"the model's size interval ({low:.3g}-{high:.3g} Å) reaches outside the training "
                "library "
                f"(R_eq {radii.min():.3g}-{radii.max():.3g} Å)"
            )
        order = np.argsort(pred.proba[0])[::-1]
        if cover.shape_determinable:
            top = pred.proba[0][order[0]]
            chosen = [labels[k] for k in order[:FIT_SHAPES] if pred.proba[0][k] >= FIT_SHARE * top]
        else:
            chosen = labels
        window = (low / FIT_RADIUS_FACTOR, high * FIT_RADIUS_FACTOR)
        table, fits = self._fit(q, intensity, sigma, chosen, window, dq, element)
        if table is not None and any(
            fits[k].at_range_edge for k in ("refined", "size") if k in fits
        ):
            # the data pull R_0 out of the window the model's interval set: let them, over
            # every size of the library
            table, fits = self._fit(q, intensity, sigma, chosen, None, dq, element)
        best = None
        sizes = {
            "size_source": SIZE_FROM_MODEL,
            "n_atoms": float(pred.n_atoms[0]),
            "n_atoms_low": float(ivl["n_atoms_low"][0]),
            "n_atoms_high": float(ivl["n_atoms_high"][0]),
            "radius_A": float(pred.radius_A[0]),
            "radius_A_low": low,
            "radius_A_high": high,
        }
        model_sizes = {f"model_{k}": v for k, v in sizes.items() if k != "size_source"}
        if table is None:
            warnings.append("no physics fit: too few measured points inside the library's q range")
        else:
            best, size_fit = fits["refined"], fits.get("size")
            radius = (size_fit or best).radius_A
            if cover.shape_determinable and self.shape_weighting is not None:
                proba = weigh_shapes(proba, shape_ratios(table), radius, self.shape_weighting)
                shape = max(proba, key=proba.get)
            if cover.shape_determinable and best.shape != model_shape:
                warnings.append(
                    f"model and fit disagree on the shape: the model says {model_shape}, the "
                    f"best fit is {best.shape} (chi²_red {best.chi2_red:.3g})"
                    + (f"; weighing both, {shape}" if shape != model_shape else "")
                )
            if not low <= radius <= high:
                warnings.append(
                    f"model and fit disagree on the size: the fit's R_0 = {radius:.3g} Å "
                    f"is outside the model's {LEVEL:.0%} interval"
                )
            if (size_fit or best).at_size_edge:
                warnings.append("the best fit sits at the edge of the library's sizes")
            if self.fit_size_factor is not None:
                sizes = fit_sizes(size_fit or best, self.fit_size_factor, float(pred.radius_A[0]))
        return Characterisation(
            shape=shape,
            probabilities=proba,
            **sizes,
            **model_sizes,
            novelty_score=score,
            coverage=cover,
            warnings=warnings,
            model_shape=model_shape,
            shape_set=shape_set(proba),
            fit=best,
            fits=table,
            size_fit=None if table is None else fits.get("size"),
            given_element=element,
            q=q,
            intensity=intensity,
            sigma=None if sigma is None else np.asarray(sigma, dtype=float),
        )

    def characterise(self, q, intensity, sigma=None, q_unit: str = "1/Å", dq=None, element=None):
        """:func:`characterise` with this model."""
        q_a = files.to_inverse_angstrom(q, q_unit)
        dq_a = None if dq is None else files.to_inverse_angstrom(dq, q_unit)
        intensity = np.asarray(intensity, dtype=float)
        if intensity.ndim == 1:
            return self.one(q_a, intensity, sigma, dq_a, element)
        if intensity.ndim != 2 or intensity.shape[1] != q_a.size:
            raise ValueError(
                f"intensity must be one curve (len(q),) or curves (n, len(q)) = (n, {q_a.size}), "
                f"got shape {intensity.shape}."
            )
        sigmas = [None] * len(intensity) if sigma is None else np.asarray(sigma, dtype=float)
        return pd.DataFrame(
            [
                self.one(q_a, row, s, dq_a, element).as_row()
                for row, s in zip(intensity, sigmas, strict=True)
            ]
        )


_DEFAULT: Characteriser | None = None


def characterise(
    q,
    intensity,
    sigma=None,
    q_unit: str = "1/Å",
    model: Characteriser | None = None,
    dq=None,
    element: str | None = None,
):
    """Shape probabilities, size with intervals, a physics fit and warnings for a measured curve.

    ``q``: the scattering vector in ``q_unit`` ("1/Å" or "1/nm", any common spelling);
    ``intensity``: one curve (len(q),) in any units, NaN where not measured, or a 2-D array of
    curves (n, len(q)) on that grid; ``sigma``: standard deviations of the intensity (same shape)
    or None; ``dq``: the resolution σ_q at each q (in ``q_unit``, as files give it) or None, with
    which the physics fit smears the library curves (without it, the fit tries the resolutions
    of :data:`helpers.measurement.fit.RESOLUTIONS`); ``element``: the particle's element when the
    sample's composition is known (a chemical symbol of the library, e.g. "Au"): the physics fit
    then tries that element only, instead of every element of the library. One curve gives a
    :class:`Characterisation`; several a DataFrame, one row per curve
    (:meth:`Characterisation.as_row`). ``model``: a :class:`Characteriser` (default: the one
    ``make model`` saved)."""
    model = _default_model() if model is None else model
    return model.characterise(q, intensity, sigma, q_unit, dq, element)


def _default_model() -> Characteriser:
    """The model ``make model`` saved, loaded once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Characteriser.load()
    return _DEFAULT


def _check_count(name: str, value) -> None:
    """Refuse ``value`` unless it is an integer >= 1 (not a bool), naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")


def train(
    lib,
    seed: int = 0,
    rounds: int = 4,
    validation_size: float = 0.15,
    ranges=None,
    rows=None,
    reference_rows=None,
    calibration_curves: int = CALIBRATION_CURVES,
    average: bool = False,
    members: int = 1,
    pooling: str = "mean",
    jobs: int = 1,
    shape_dilations=(0,),
    **options,
) -> Characteriser:
    """Train the characterisation model on the library ``lib`` (its rows ``rows``, default all):
    the log-q network on curves measured under random conditions (``ranges``, those of
    :func:`helpers.measurement.instrument.random_measurements`; ``rounds`` versions of every
    curve), early-stopped and calibrated on whole structures held out, and the novelty reference
    (clean training curves; validation curves measured like the training ones). The physics fit
    of the answers uses the curves ``reference_rows`` of ``lib`` (default all): on a split, pass
    the training side's rows to keep the test structures out of the fit as well as the model.
    Last, the interval of the size answer is calibrated on ``calibration_curves`` curves of the
    validation structures (:func:`calibrate`), and with them the physics fit's weight in the
    shape probabilities. ``average``: the log-q grid's bin means (:class:`helpers.learning.logq
    .LogQGrid`), when no ``grid`` is given. ``members`` > 1: that many networks, member k with
    seed ``seed`` + k (its own initial weights and measurement draws), all early-stopped on the
    same validation structures, so that the calibrations below still use particles no member
    trained on; they predict together as a :class:`helpers.learning.logq.LogQEnsemble` with
    ``pooling``. ``shape_dilations``: the answer's shape probabilities are averaged over the curve
    dilated by these grid points (:attr:`Characteriser.shape_dilations`), calibrations included.
    ``jobs`` > 1: the members are trained at the same time, in that many processes
    of one TensorFlow thread each (a network this small keeps only about one core busy), and the
    calibration curves are characterised in that many processes too; the networks' numbers then
    differ from ``jobs=1``'s in the last digits, and the same ``jobs`` gives the same model."""
    _check_count("members", members)
    if pooling not in logq.POOLINGS:
        raise ValueError(f"pooling must be one of {logq.POOLINGS}, got {pooling!r}.")
    _check_count("jobs", jobs)
    ranges = dict(ranges or {})
    rows = np.arange(len(lib)) if rows is None else np.asarray(rows)
    if "grid" not in options:  # the default log-q grid, within the library's q range
        default = logq.LogQGrid()
        options["grid"] = logq.LogQGrid(
            max(default.q_min, float(lib.q[0])),
            min(default.q_max, float(lib.q[-1])),
            default.n,
            average,
        )
    fit_rows, val_rows = model_set.validation_rows(
        lib.metadata, rows, "grouped", validation_size, seed
    )
    settings = dict(realistic=True, rounds=rounds, ranges=ranges, **options)

    def novelty_reference():  # needs no network: done while the members train, with jobs > 1
        grid = options["grid"]
        reference = logq.prepare(lib.q, lib.intensities[fit_rows], grid=grid)
        validation = logq.measured_versions(lib, val_rows, 1, grid, seed=seed + 1, **ranges)[0]
        return novelty.Novelty.fit(reference, validation, seed=seed)

    if jobs == 1 or members == 1:
        networks = [
            logq.fit_library(lib, fit_rows, val_rows, seed=seed + k, **settings)
            for k in range(members)
        ]
        novelty_check = novelty_reference()
    else:
        networks, novelty_check = _train_members(
            lib, fit_rows, val_rows, seed, members, jobs, settings, meanwhile=novelty_reference
        )
    model = networks[0] if members == 1 else logq.LogQEnsemble(networks, pooling)
    lowest_q_max = float(ranges.get("q_max", DEFAULT_Q_MAX)[0])
    characteriser = Characteriser(
        model,
        novelty_check,
        lib,
        lowest_q_max,
        None if reference_rows is None else np.asarray(reference_rows, dtype=int),
        shape_dilations=tuple(int(step) for step in shape_dilations),
    )
    calibration = calibrate(
        characteriser, val_rows, calibration_curves, seed=seed, ranges=ranges, jobs=jobs
    )
    characteriser.fit_size_factor = calibration["factor"]
    characteriser.shape_weighting = {
        k: calibration["shape_weighting"][k] for k in ("tau", "radius_A")
    }
    return characteriser


def _train_member(lib, fit_rows, val_rows, seed: int, settings: dict, folder) -> str:
    """One member of :func:`train` in a worker process, on one TensorFlow thread (set before
    any operation runs), saved to ``folder``."""
    from .learning.estimators import one_thread

    one_thread()
    model = logq.fit_library(lib, fit_rows, val_rows, seed=seed, **settings)
    return str(model.save(folder))


def _train_members(lib, fit_rows, val_rows, seed, members, jobs, settings, meanwhile) -> tuple:
    """The ``members`` networks of :func:`train`, member k with seed ``seed`` + k, trained in
    ``jobs`` worker processes at once and loaded back (checked against ``lib``), and what
    ``meanwhile()`` returns: it runs in this process while they train, which otherwise waits."""
    import multiprocessing
    import tempfile
    from concurrent.futures import ProcessPoolExecutor

    with tempfile.TemporaryDirectory(prefix="members.") as scratch:
        folders = [Path(scratch) / f"member_{k}" for k in range(members)]
        # spawned, not forked: this process may run TensorFlow's threads already
        with ProcessPoolExecutor(
            max_workers=min(jobs, members), mp_context=multiprocessing.get_context("spawn")
        ) as executor:
            saved = [
                executor.submit(
                    _train_member, lib, fit_rows, val_rows, seed + k, settings, folders[k]
                )
                for k in range(members)
            ]
            extra = meanwhile()
            done = [future.result() for future in saved]
        return [logq.LogQModel.load(folder, library=lib) for folder in done], extra


#: a worker process's characteriser (:func:`calibrate` with ``jobs`` > 1)
_CALIBRATION_WORKER: dict = {}


def _start_calibration_worker(folder, novelty_, lib, trained_q_max, rows, dilations) -> None:
    """The characteriser :func:`calibrate` fits with, in a worker process: its network loaded
    from ``folder`` on one TensorFlow thread (set before any operation runs)."""
    from .learning.estimators import one_thread

    one_thread()
    model = logq.load_model(folder, library=lib)
    _CALIBRATION_WORKER["characteriser"] = Characteriser(
        model, novelty_, lib, trained_q_max, rows, shape_dilations=dilations
    )


def _calibration_evidence(item, characteriser=None) -> tuple | None:
    """What :func:`calibrate` keeps of one curve ``item`` = (q, intensity): (R_0, u of the size
    fit, the model's own R_eq, the answer's probabilities and :func:`shape_ratios` where a shape
    was determinable, else None), or None without a fit."""
    characteriser = characteriser or _CALIBRATION_WORKER["characteriser"]
    answer = characteriser.one(*item)
    fit = answer.size_fit or answer.fit
    if fit is None:
        return None
    shapes = None
    if answer.shape != NOT_DETERMINABLE:
        shapes = (answer.probabilities, shape_ratios(answer.fits))
    return fit.radius_A, fit.log_radius_halfwidth, answer.model_radius_A, shapes


def calibrate(
    characteriser: Characteriser,
    rows,
    n_curves: int,
    seed: int = 0,
    ranges=None,
    jobs: int = 1,
) -> dict:
    """The answer's calibrations on validation particles: the weighting of the shape
    probabilities by the physics fit (:func:`calibrate_shape_weighting`, from the model's
    probabilities and the refined fits of the curves below) and the factor k that makes
    R_0 exp(± k h) a :data:`LEVEL` interval of the fit's size (:func:`fit_sizes`),
    calibrated on ``n_curves`` curves of the library rows ``rows`` (the
    validation structures: never trained on), measured under random conditions
    (:func:`helpers.measurement.instrument.random_measurements` with ``ranges``) and
    characterised with every curve of those structures (any element, any B_iso) taken out of
    the physics fit's library, as a new particle's would be missing. The score of a curve is
    |ln(R_0 / R_eq)| / h (:func:`size_halfwidth`); k is the score a :data:`LEVEL` share of the
    curves reach, with the finite-sample correction of split conformal prediction (the
    ⌈(n + 1) LEVEL⌉-th smallest), so that new particles like these are covered at least
    :data:`LEVEL` of the time. Returns
    {"factor": k, "scores", "errors" (|ln(R_0 / R_eq)|) and "halfwidths" (u) per curve (NaN
    where no fit), "rows": the rows measured, "shape_weighting": the weighting's record, and its
    "shape_evidence" and "true_shapes" (:func:`calibrate_shape_weighting`)}. ``jobs`` > 1:
    the curves are characterised in that many worker processes (one TensorFlow thread each)."""
    _check_count("jobs", jobs)
    rows = np.asarray(rows, dtype=int)
    if n_curves < 1 or rows.size == 0:
        raise ValueError(
            f"calibrating the size interval needs curves: got n_curves={n_curves} and "
            f"{rows.size} rows."
        )
    lib = characteriser.library
    meta = lib.metadata
    held_out = meta["structure_id"].iloc[rows].unique()
    kept = characteriser.rows if characteriser.rows is not None else np.arange(len(lib))
    kept = kept[~meta["structure_id"].iloc[kept].isin(held_out).to_numpy()]
    if kept.size == 0:
        raise ValueError("every structure is held out: nothing would be left to fit with.")
    without = replace(characteriser, rows=kept, fit_size_factor=None, shape_weighting=None)
    rng = np.random.default_rng(instrument.derived_seed(seed, 21))
    chosen = rng.choice(rows, size=n_curves, replace=n_curves > rows.size)
    measurements = instrument.random_measurements(
        n_curves, seed=instrument.derived_seed(seed, 22), **dict(ranges or {})
    )
    curves, masks = instrument.measure(
        lib, chosen, measurements, seed=instrument.derived_seed(seed, 23), pool=rows
    )
    errors, halfwidths = np.full(n_curves, np.nan), np.full(n_curves, np.nan)
    radii, model_radii = np.full(n_curves, np.nan), np.full(n_curves, np.nan)
    evidence, true_shapes = [], []
    keeps = [mask & np.isfinite(curve) & (curve > 0) for curve, mask in zip(curves, masks)]
    fitted = [k for k, keep in enumerate(keeps) if keep.sum() >= files.MIN_POINTS]
    items = [(lib.q[keeps[k]], curves[k][keeps[k]]) for k in fitted]
    results = _calibration_results(without, items, jobs)
    for k, result in zip(fitted, results, strict=True):
        if result is None:
            continue
        radius, halfwidth, model_radius, shapes = result
        errors[k] = abs(np.log(radius / float(meta["eq_radius"].iloc[chosen[k]])))
        halfwidths[k], radii[k], model_radii[k] = halfwidth, radius, model_radius
        if shapes is not None:
            evidence.append((*shapes, radius))
            true_shapes.append(str(meta["shape"].iloc[chosen[k]]))
    scores = errors / size_halfwidth(halfwidths, model_radii, radii)
    scored = np.sort(scores[np.isfinite(scores)])
    if scored.size == 0:
        raise ValueError("no calibration curve could be fitted: check the library's q range.")
    rank = min(int(np.ceil((scored.size + 1) * LEVEL)), scored.size)
    return {
        "factor": float(scored[rank - 1]),
        "scores": scores,
        "errors": errors,
        "halfwidths": halfwidths,
        "rows": chosen,
        "shape_weighting": calibrate_shape_weighting(evidence, true_shapes),
        "shape_evidence": evidence,
        "true_shapes": true_shapes,
    }


def _calibration_results(characteriser: Characteriser, items: list, jobs: int) -> list:
    """:func:`_calibration_evidence` of each item, in this process or in ``jobs`` workers (the
    network passed to them through a temporary folder, the rest as it is)."""
    if jobs == 1 or len(items) < 2:
        return [_calibration_evidence(item, characteriser) for item in items]
    import multiprocessing
    import tempfile
    from concurrent.futures import ProcessPoolExecutor

    with tempfile.TemporaryDirectory(prefix="calibration.") as scratch:
        characteriser.model.save(Path(scratch) / "logq")
        start = (
            Path(scratch) / "logq",
            characteriser.novelty,
            characteriser.library,
            characteriser.trained_q_max,
            characteriser.rows,
            characteriser.shape_dilations,
        )
        # spawned, not forked: this process runs TensorFlow's threads already
        with ProcessPoolExecutor(
            max_workers=min(jobs, len(items)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_calibration_worker,
            initargs=start,
        ) as executor:
            return list(executor.map(_calibration_evidence, items, chunksize=8))


#: the recipe of ``make model``: the library it trains on, the rows (elements and B_iso) and the
#: rounds and epochs that keep it within 10 minutes on 2 cores (README, "Run time"); one round of
#: small-angle-only curves (:func:`helpers.learning.logq.fit_library`) for the size of curves
#: without wide angles; the physics fit uses every curve of the library. ``ranges`` widen the
#: measurement model's random conditions so that training covers every input a file can give: q_min
#: from below the library's first q and q_max beyond its last (with the defaults no training curve
#: measured the log-q grid below 0.02 Å⁻¹ nor its last point, and a curve that did got a size off
#: by a factor 1.5-1.8, in either direction from one training to the next), and photons up to 1e16
#: per curve, effectively noise-free (with the cap of 1e9 the network read the noise of the wide
#: angles as a cue of size). ``average``: the network reads the log-q grid's bin means, not values
#: interpolated at its points (shape of 800 validation curves under notebook 10's conditions 85.0
#: -> 88.8 %, with another training seed 88.9 -> 90.4 %; at 1e6 photons 59 -> 70 %; with a grid of
#: 768 points instead of 384, 84.5 %). ``patience`` 24 because with 12 the training stopped while
#: the validation size loss still fell; ``epochs`` is a cap that early stopping reaches first.
#: Chosen on validation particles held out of the training side of notebook 12's split, never its
#: test particles (the commits give the numbers). ``min_temperature``: the shape temperature is
#: kept at 0.5 or above, as in notebooks 11 and 13 (README, "A floor for the temperature"), so
#: that a training whose validation curves are all named right cannot make wrong answers certain.
#: ``off_share``: half the training curves are measured without the polydispersity, half without
#: the resolution and half without the background, each switched off on its own
#: (:func:`helpers.measurement.instrument.random_measurements`). Drawn from the ranges alone, a
#: curve with none of these effects almost never occurs, and the network took the dihedral
#: rhombic dodecahedron for a cuboctahedron under every condition, the ideal curve too, even on
#: its own training particles. On 1,600 curves of the validation structures under notebook 10's
#: eight conditions, for training seeds 0 and 1: the model's shape 88.0 / 90.6 -> 94.6 / 95.0 %,
#: the dihedral rhombic dodecahedron 18.8 / 43.8 -> 86.7 / 93.0 %, negative log-likelihood 0.325
#: / 0.235 -> 0.149 / 0.164, every condition better for seed 0 (29th session). A share of 0.3
#: gave 94.7 / 96.0 %, 0.7 94.9 / 95.6 %: within what the seed moves, so 0.5 stays.
#: ``members`` 2, ``rounds`` 2: two networks of two measured rounds each (seeds 0 and 1, the same
#: validation structures), their log-probabilities averaged (``pooling`` "log"), in about the time
#: of one network of four rounds. On the same 1,600 curves, with member seeds (0, 1) and (2, 3):
#: shape 96.4 / 96.8 % (log) and 96.6 / 96.8 % (mean) against 94.6 / 95.0 % for one network of
#: four rounds; negative log-likelihood 0.119 / 0.099 (log), 0.137 / 0.106 (mean), 0.149 / 0.164
#: (one network); the members alone 93.4-96.4 %; training 266 / 304 s against 213 / 188 s on that
#: training side (30th session). ``jobs`` 2: the two trained at once, one process and one
#: TensorFlow thread each (:func:`train`), and the calibration curves characterised in two
#: processes (119 -> 70 s, the same factor and weighting to the last digit): ``make model`` 599 s
#: -> 460 s; fixed, so that the model does not depend on how many cores the machine has.
#: ``shape_dilations``: the answer's shape probabilities are the geometric mean of the model's for
#: the curve dilated by -4, -2, 0, 2 and 4 grid points (±4 and ±8 % in size, the lattice kept;
#: :func:`helpers.learning.logq.shape_over_dilations`), calibrations included. Notebook 12's blind
#: model on its validation structures under notebook 10's conditions (32nd session): the model
#: alone on three draws of 800 curves 96.0 / 95.6 / 95.6 -> 96.6 / 96.6 / 96.1 % (±1: 96.4 / 95.9
#: / 95.8 %; ±2: 96.6 / 96.1 / 95.9 %; ±6 in steps of 3: 96.5 / 96.8 / 96.0 %; ±12 in steps of 6:
#: 96.5 / 96.4 / 96.0 %), negative log-likelihood lower on each draw; recalibrated as ``make
#: model`` does, the answer on two draws 96.0 / 95.1 -> 96.8 / 95.9 %, no condition worse, the
#: size intervals covering 94.3 / 94.8 -> 94.8 / 95.1 % (the same k to four digits)
MODEL_RECIPE = {
    "library_name": "sizes",
    "elements": ("Ag", "Au", "Cu", "Fe", "Ni", "Pd", "Pt"),
    "b_iso": (0.3, 0.9),
    "rounds": 2,
    "members": 2,
    "pooling": "log",
    "jobs": 2,
    "saxs_rounds": 1,
    "epochs": 150,
    "patience": 24,
    "average": True,
    "min_temperature": 0.5,
    "shape_dilations": (-4, -2, 0, 2, 4),
    "ranges": {
        "photons": (1e5, 1e16),
        "q_min": (0.005, 0.3),
        "q_max": (5.0, 25.0),
        "off_share": 0.5,
    },
}


def recipe_rows(meta: pd.DataFrame, elements=None, b_iso=None) -> np.ndarray:
    """The library rows of the listed elements and B_iso (all where None), in library order."""
    keep = np.ones(len(meta), dtype=bool)
    if elements is not None:
        missing = sorted(set(elements) - set(meta["element"]))
        if missing:
            raise ValueError(
                f"elements {missing} are not in the library: choose among "
                f"{sorted(set(meta['element']))}."
            )
        keep &= meta["element"].isin(list(elements)).to_numpy()
    if b_iso is not None:
        keep &= np.isin(meta["b_iso"].to_numpy(), np.asarray(b_iso, dtype=float))
    if not keep.any():
        raise ValueError("no library row has these elements and B_iso.")
    return np.flatnonzero(keep)


def make_model(folder=None, seed: int = 0, progress: bool = True, within=None, **recipe) -> Path:
    """Train the model ``characterise`` uses by default and save it (``make model``): the
    :data:`MODEL_RECIPE` (any of its keys overridden by ``recipe``; other keys are
    :class:`helpers.learning.logq.LogQModel` fields or :func:`train` options) on its library
    (generated if missing), written to a new folder beside ``folder`` (default
    :func:`paths.characterise_dir`) and moved into place, so that an interrupted run leaves the old
    model whole. ``within``: library rows (e.g. the training side of a split) outside which
    nothing is used, neither to train nor to fit (default: the whole library)."""
    import shutil
    import tempfile
    import time

    options = {**MODEL_RECIPE, **recipe}
    name = options.pop("library_name")
    elements, b_iso = options.pop("elements"), options.pop("b_iso")
    folder = Path(folder or paths.characterise_dir())
    start = time.perf_counter()
    lib = library.load_library(name, progress=progress)
    rows = recipe_rows(lib.metadata, elements, b_iso)
    if within is not None:
        within = np.unique(np.asarray(within, dtype=int))
        rows = np.intersect1d(rows, within)
    model = train(lib, seed=seed, rows=rows, reference_rows=within, **options)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.new."))
    old = folder.with_name(f".{folder.name}.old")
    try:
        model.save(staging, name)
        if old.exists():
            shutil.rmtree(old)
        if folder.exists():
            folder.rename(old)
        staging.rename(folder)
    finally:
        for leftover in (staging, old):
            if leftover.exists():
                shutil.rmtree(leftover)
    if progress:
        seconds = time.perf_counter() - start
        print(
            f"characterisation model saved in {folder.name}/ ({len(rows)} curves, {seconds:.0f} s)"
        )
    return folder


# --- a blind test through files ----------------------------------------------------------------

#: the file that marks a folder of blind-test files as made by :func:`write_blind_files`
BLIND_MARKER = ".blind-test"


def write_blind_files(
    lib,
    rows,
    folder,
    conditions: dict,
    n_files: int,
    seed: int = 0,
    pool=None,
    state_element: bool = False,
) -> pd.DataFrame:
    """Simulated measurements of library ``rows`` written as text files for a blind test of the
    command line: ``n_files`` curves (rows drawn at random, without replacement while there are
    enough), measured under ``conditions`` ({name: Measurement}, taken in turn) in arbitrary
    units (a random scale 0.01-100), only their measured points with I > 0 written, q in 1/nm
    and 1/Å in turn. The files say nothing of the particle (with ``state_element``, its element
    only: a comment ``# element: Au``, as a scientist who knows the sample's metal writes; the
    same curves otherwise); the truth comes back as a table (one row per file: file, row,
    condition, q_unit, the library's labels, and the size distribution a polydisperse curve
    averages over, ``centre_radius_A`` and ``sizes``: :func:`helpers.measurement.instrument
    .size_distributions`). ``pool``: the rows
    polydispersity may average over (the test side of the split). ``folder`` must be new, empty,
    or one this function made (it is then emptied)."""
    import shutil

    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        if not (folder / BLIND_MARKER).exists():
            raise ValueError(
                f"{folder} holds files this function did not write: give a new or empty folder."
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / BLIND_MARKER).write_text("files written by write_blind_files\n")
    if not conditions:
        raise ValueError("give at least one measurement condition.")
    rows = np.asarray(rows)
    rng = np.random.default_rng(instrument.derived_seed(seed, 11))
    chosen = rng.choice(rows, size=n_files, replace=n_files > rows.size)
    names = list(conditions)
    which = [names[i % len(names)] for i in range(n_files)]
    measurements = instrument.with_random_scale(
        [conditions[n] for n in which], n_files, seed=instrument.derived_seed(seed, 12)
    )
    I, mask = instrument.measure(
        lib, chosen, measurements, seed=instrument.derived_seed(seed, 13), pool=pool
    )
    sizes = instrument.size_distributions(
        lib, chosen, [m.polydispersity for m in measurements], pool=pool
    )
    meta = lib.metadata
    table = []
    width = len(str(n_files - 1))
    for i, row in enumerate(chosen):
        keep = mask[i] & np.isfinite(I[i]) & (I[i] > 0)
        unit = ("1/nm", "1/Å")[i % 2]
        name = f"blind_{i:0{width}d}.dat"
        files.write_ascii(
            folder / name,
            lib.q[keep],
            I[i][keep],
            q_unit=unit,
            comments=["a simulated curve"],
            element=meta["element"].iloc[row] if state_element else None,
        )
        table.append(
            {
                "file": name,
                "row": int(row),
                "condition": which[i],
                "q_unit": unit,
                **{k: meta[k].iloc[row] for k in ("shape", "element", "b_iso", "eq_radius")},
                "n_atoms": int(meta["n_atoms"].iloc[row]),
                "centre_radius_A": float(sizes["centre_radius_A"].iloc[i]),
                "sizes": int(sizes["sizes"].iloc[i]),
            }
        )
    return pd.DataFrame(table)


def read_answers(folder) -> pd.DataFrame:
    """The command line's JSON answers in ``folder``, one row per file (by file name): the shape,
    its probability, the model's own shape, the shape set (a tuple), the answer's sizes with
    intervals and where they come from, the model's own radius with its interval, the best fit's
    shape, element and radius, chi²_red, the novelty score, the number of warnings, and the
    element the fit was restricted to (``given_element``; None: every element) and where it came
    from (``element_from``: "file", "--element" or None)."""
    rows = []
    for path in sorted(Path(folder).glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        fit = record.get("fit") or {}
        size = record.get("size_fit") or fit
        rows.append(
            {
                "file": Path(record["file"]).name,
                "shape_answer": record["shape"],
                "p_shape": record["probabilities"].get(record["shape"]),
                "model_shape": record["model_shape"],
                "shape_set": tuple(record["shape_set"]),
                **{
                    k: record[k]
                    for k in (
                        "radius_A",
                        "radius_A_low",
                        "radius_A_high",
                        "n_atoms",
                        "size_source",
                        "model_radius_A",
                        "model_radius_A_low",
                        "model_radius_A_high",
                    )
                },
                "fit_shape": fit.get("shape"),
                "fit_element": fit.get("element"),
                "fit_radius_A": size.get("radius_A"),
                "fit_chi2_red": fit.get("chi2_red"),
                "novelty_score": record["novelty_score"],
                "n_warnings": len(record["warnings"]),
                "given_element": record.get("given_element"),
                "element_from": record.get("element_from"),
            }
        )
    if not rows:
        raise ValueError(f"no .json answers in {folder}: run the command line on the files first.")
    return pd.DataFrame(rows)


def score_answers(truth: pd.DataFrame, answers: pd.DataFrame, tolerance: float = 0.1):
    """(per condition and overall, per file) scores of ``answers`` (:func:`read_answers`) against
    ``truth`` (:func:`write_blind_files`): the share of files answered, the shape accuracy of the
    answer, of the model alone and of the fit, the share with the answer's radius (the fit's where
    there is a fit) and the model's own within ``tolerance`` of the true R_eq, the coverage of
    their 90 % radius intervals (the answer's also of the centre of the size distribution the
    curve was simulated with, ``centre_covered``), the share of shapes not determinable, and of
    the shape sets: how often the set holds the true shape (``set_covers``), its mean number of
    labels (``set_size``), the share of one-label sets (``single_label``) and how often that label
    is right (``single_right``, over those files only; the label counts where the shape is not
    determinable too). A file without an answer counts as wrong."""
    merged = truth.merge(answers, on="file", how="left")
    answered = merged["shape_answer"].notna()
    true_r = merged["eq_radius"].astype(float)
    sets = [labels if isinstance(labels, tuple) else () for labels in merged["shape_set"]]
    size = pd.Series([len(labels) for labels in sets], index=merged.index, dtype=float)
    single = answered & (size == 1)
    right = answered & (merged["shape_answer"] == merged["shape"])
    per_file = merged.assign(
        answered=answered,
        shape_right=right,
        model_shape_right=answered & (merged["model_shape"] == merged["shape"]),
        fit_shape_right=answered & (merged["fit_shape"] == merged["shape"]),
        radius_within=answered & ((merged["radius_A"] / true_r - 1).abs() <= tolerance),
        model_radius_within=answered
        & ((merged["model_radius_A"] / true_r - 1).abs() <= tolerance),
        covered=answered
        & (merged["radius_A_low"] <= true_r)
        & (true_r <= merged["radius_A_high"]),
        centre_covered=answered
        & (merged["radius_A_low"] <= merged["centre_radius_A"])
        & (merged["centre_radius_A"] <= merged["radius_A_high"]),
        model_covered=answered
        & (merged["model_radius_A_low"] <= true_r)
        & (true_r <= merged["model_radius_A_high"]),
        not_determinable=merged["shape_answer"] == NOT_DETERMINABLE,
        set_covers=answered
        & pd.Series([s in labels for s, labels in zip(merged["shape"], sets)], merged.index),
        set_size=size.where(answered),
        single_label=single,
        single_right=pd.Series(
            [labels[:1] == (s,) for s, labels in zip(merged["shape"], sets)], merged.index
        )
        .astype(float)
        .where(single),
    )
    columns = [
        "answered",
        "shape_right",
        "model_shape_right",
        "fit_shape_right",
        "radius_within",
        "covered",
        "centre_covered",
        "model_radius_within",
        "model_covered",
        "not_determinable",
        "set_covers",
        "set_size",
        "single_label",
        "single_right",
    ]
    summary = per_file.groupby("condition", sort=False)[columns].mean()
    summary.loc["all files"] = per_file[columns].mean()
    summary.insert(0, "files", per_file.groupby("condition", sort=False).size())
    summary.loc["all files", "files"] = len(per_file)
    summary["files"] = summary["files"].astype(int)
    return summary, per_file


# --- what the files can tell: the physics fit alone ---------------------------------------------

#: a worker process's characteriser (:func:`fit_shapes`)
_FIT_WORKER: dict = {}


def _fit_characteriser(folder, library_dir, whole_library: bool) -> Characteriser:
    characteriser = Characteriser.load(folder, library_dir=library_dir)
    return replace(characteriser, rows=None) if whole_library else characteriser


def _start_fit_worker(folder, library_dir, whole_library: bool) -> None:
    _FIT_WORKER["characteriser"] = _fit_characteriser(folder, library_dir, whole_library)


def _fitted_shape(item, characteriser=None) -> str | None:
    """The best refined fit's shape of one file ``item`` (path, element, resolution), every
    (shape, element) pair fitted in full; None if too few points lie in the library's q range."""
    path, element, resolution = item
    characteriser = characteriser or _FIT_WORKER["characteriser"]
    curve = files.read_curve(path)
    dq = curve.dq
    if resolution is not None and any(resolution):
        dq = instrument.resolution_width(curve.q, *resolution)
    labels = list(characteriser.model.labels)
    table, fits = characteriser._fit(
        curve.q, np.asarray(curve.intensity), curve.sigma, labels, None, dq, element, None
    )
    return None if table is None else fits["refined"].shape


def fit_shapes(
    folder, paths_, elements, whole_library: bool = False, jobs: int = 1, resolutions=None
) -> list:
    """The physics fit's own shape for each file of ``paths_`` (read by
    :func:`helpers.measurement.files.read_curve`; None where it cannot be fitted), with no
    network: the fit of :meth:`Characteriser._fit` for the model saved in ``folder``, restricted
    to ``elements[i]`` (None: every element), every shape of the library and every size tried,
    and every (shape, element) pair of its screen fitted in full (every B_iso and σ; the answer
    fits the :data:`FIT_PAIRS` best). ``resolutions``: per file the measurement's (σ_0 in Å⁻¹,
    r) of :func:`helpers.measurement.instrument.resolution_width`, given to the fit, or None or
    (0, 0): the file's σ(q) if it has one, else the resolutions of
    :data:`helpers.measurement.fit.RESOLUTIONS` tried, as for a curve of unknown resolution.
    ``whole_library``: the fit uses *every* curve of that model's library, the structures its
    split held out included. For held-out particles, with their element and their
    measurement's resolution, that is an oracle no real measurement has (the particle's own exact
    curve among the candidates, its family fitted in full): where it names another shape, another
    structure fits the file better than the particle's own curve under the fit's model; it
    measures what the data tell, not a method. ``jobs``: worker processes (each loads the
    model)."""
    resolutions = [None] * len(paths_) if resolutions is None else list(resolutions)
    items = list(zip(map(str, paths_), elements, resolutions, strict=True))
    if jobs == 1:
        characteriser = _fit_characteriser(folder, None, whole_library)
        return [_fitted_shape(item, characteriser) for item in items]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    library_dir = Characteriser.load(folder).library.path
    # spawned, not forked: this process may run TensorFlow's threads already
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(items)),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_fit_worker,
        initargs=(folder, library_dir, whole_library),
    ) as executor:
        return list(executor.map(_fitted_shape, items, chunksize=4))


# --- public measured curves ---------------------------------------------------------------------


def read_published(folder=None) -> pd.DataFrame:
    """``published.csv`` of the measured curves' folder (default ``paths.MEASURED_DIR``): per file
    the q unit, the published size and shape, R_eq derived from them, the lowest q to use and
    whether intensities <= 0 are masked."""
    path = Path(folder or paths.MEASURED_DIR) / "published.csv"
    if not path.exists():
        raise FileNotFoundError(f"no {path.name} in {path.parent}: it lists the measured curves.")
    return pd.read_csv(path, dtype={"q_min_A": float, "mask_nonpositive": bool})


def characterise_published(published: pd.DataFrame, model=None, folder=None):
    """Characterise every curve of ``published`` (:func:`read_published`), each read from
    ``folder`` (default ``paths.MEASURED_DIR``) with its q unit, its masking of intensities <= 0
    and its lowest q, the physics fit given its element (every element where none is published,
    and, with a warning saying so, where the model's library lacks it); returns (a table of the
    answers next to the published R_eq, {file: Characterisation})."""
    folder = Path(folder or paths.MEASURED_DIR)
    model = _default_model() if model is None else model
    known = set(model.reference.metadata["element"])
    rows, answers = [], {}
    for item in published.itertuples(index=False):
        curve = files.read_curve(
            folder / item.file,
            q_unit=item.q_unit,
            nonpositive="mask" if item.mask_nonpositive else "error",
        )
        keep = (
            curve.q >= item.q_min_A if np.isfinite(item.q_min_A) else np.ones_like(curve.q, bool)
        )
        sigma = None if curve.sigma is None else curve.sigma[keep]
        named = item.element if isinstance(item.element, str) and item.element else None
        element = named if named in known else None
        result = characterise(
            curve.q[keep], curve.intensity[keep], sigma, model=model, element=element
        )
        if named is not None and element is None:
            result.warnings.append(
                f"the published element {item.element} is not in the physics fit's library: "
                "every element was fitted"
            )
        answers[item.file] = result
        fit, size = result.fit, result.size_fit or result.fit
        rows.append(
            {
                "file": item.file,
                "published R_eq (Å)": item.published_radius_A,
                "R_eq (Å)": result.radius_A,
                "90 % interval (Å)": f"{result.radius_A_low:.3g}-{result.radius_A_high:.3g}",
                "size from": result.size_source,
                "model R_eq (Å)": result.model_radius_A,
                "model 90 % interval (Å)": (
                    f"{result.model_radius_A_low:.3g}-{result.model_radius_A_high:.3g}"
                ),
                "fit shape / element": None if fit is None else f"{fit.shape} / {fit.element}",
                "fit polydispersity": None if size is None else size.polydispersity,
                "fit χ²_red": None if fit is None else fit.chi2_red,
                "size fit χ²_red": None if result.size_fit is None else result.size_fit.chi2_red,
                "shape answer": result.shape,
                "novelty": result.novelty_score,
                "warnings": len(result.warnings),
            }
        )
    return pd.DataFrame(rows), answers


def blind_result_rows(
    summary: pd.DataFrame, section: str = "blind test", model: str = "characterise"
) -> list[dict]:
    """The rows of ``results/<notebook>.csv`` for a :func:`score_answers` summary (or some of its
    columns): one per condition and score (split ``grouped``; input: the condition)."""
    from .report import results

    names = {
        "shape_right": ("shape", "accuracy"),
        "model_shape_right": ("model_shape", "accuracy"),
        "fit_shape_right": ("fit_shape", "accuracy"),
        "radius_within": ("radius", "within_10_percent"),
        "covered": ("radius", "interval_coverage_90"),
        "centre_covered": ("size_distribution_centre", "interval_coverage_90"),
        "model_radius_within": ("model_radius", "within_10_percent"),
        "model_covered": ("model_radius", "interval_coverage_90"),
        "not_determinable": ("shape", "not_determinable"),
        "set_covers": ("shape_set", "coverage_90"),
        "set_size": ("shape_set", "mean_labels"),
        "single_label": ("shape_set", "single_label_share"),
        "single_right": ("shape_set", "single_label_accuracy"),
        "answered": ("file", "answered"),
    }
    out = []
    for condition, row in summary.iterrows():
        for column, (target, metric) in names.items():
            if column not in row:  # a summary of some of the scores
                continue
            out += results.rows(
                section,
                condition,
                model,
                "blind_files",
                "grouped",
                target,
                {metric: float(row[column])},
            )
    return out
