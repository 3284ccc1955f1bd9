"""A model family meant to recognise particles it has never seen: curves on a log-q axis.

Physics. For a particle of radius R the small-angle part of I(q) is a function of qR (its form
factor): on a log-q axis, ln q + ln R is all that matters, so a change of size **shifts** the SAXS
pattern along ln q instead of reshaping it. The wide-angle (Bragg) pattern of a lattice sits at
fixed q·Rnn, where the element sets the nearest-neighbour distance Rnn: a change of element shifts
it along ln q too, while the size of the particle sets the widths of its peaks (Δq ∝ 1/R). A
measured curve's absolute scale is unknown (arbitrary units: concentration, flux and thickness are
not calibrated), so its level, I(0) ∝ N² f(0)², cannot be used: only ln I up to an additive
constant is.

Hence the input (:func:`prepare`, :class:`LogQGrid`): ln I interpolated linearly in ln q onto a
fixed log-spaced grid (or, with ``LogQGrid(average=True)``, ln of the mean intensity in each grid
point's bin where the bin holds several measured points: at wide angles, where an instrument's
linear grid is denser than the log grid), minus the curve's own mean of ln I over the grid points
it measured (exactly scale-free: c·I gives the same features for every c > 0), with a second
channel marking the measured grid points. Curves measured on any q grid (another instrument, a
window, gaps) go onto the same input. The network (:func:`build_network`) reads the shape through
convolutions and *global* pooling, which do not care where along ln q a pattern sits
(shift-invariant, so an unseen size or element looks familiar), and the size through a flattened
(position-keeping) view of the same features: a size *is* a position on the ln q axis. It predicts
the 9 shape logits and, for ln N (``log_n_atoms``) and ln R_eq (``ln eq_radius``, R in Å), a
Gaussian mean and log-variance, trained by the Gaussian negative log-likelihood, so that every
prediction comes with an interval at any level.

Calibration (:meth:`LogQModel.calibrate`) uses validation structures held out of the training rows
only: a temperature T divides the shape logits (the T minimising the validation negative
log-likelihood), and a factor per size target multiplies the predicted standard deviations (the
one minimising the validation Gaussian negative log-likelihood, i.e. making the mean squared
z-score 1), since a network fitted on its training particles is over-confident on unseen ones.
T is searched between ``min_temperature`` and 20: when every validation curve is named right, the
likelihood keeps falling as T -> 0 (every answer made certain, the wrong ones on unseen particles
too), so the floor bounds how far the network's own confidence is sharpened (the default, 0.05,
leaves that to the validation curves).

Size anchor (``guinier``, :meth:`LogQModel.calibrate_guinier`). Where a curve measures its
forward scattering (q R_g <= 1.3 with at least 4 points), the Guinier fit gives its radius of
gyration directly, with no model in between; R_eq is √(5/3) times the radius of gyration of the
atom centres, so ln R_eq = ln R_g + a + d / R_g², a and d fitted on the training curves (d for the
atoms' own form factor and thermal smearing, which widen the scattering of small particles). A
network has to interpolate between the sizes it was trained on; the anchor does not, and it holds
for sizes outside the training library. Elsewhere (a window that starts too high for the particle)
the size stays the network's.

Training (:meth:`LogQModel.fit`) shows either the clean curves or, each epoch, another of several
versions of every training curve measured under fresh random conditions
(:func:`measured_versions`, from :mod:`helpers.measurement.instrument`), a seeded random part of
them per epoch; early stopping restores the weights of the epoch of best validation shape accuracy
(or, ``monitor``, of lowest validation loss or shape cross-entropy: with one validation structure
per shape the accuracy moves in coarse steps and ties over many epochs, the cross-entropy does
not). Three options make the training curves say what the physics says about particles the library
does not hold:

* ``max_shift``: every training curve is moved along ln q by a random number of grid points
  (:func:`shifted`), its ln R_eq target with it. A move by s points is the same particle with all
  its lengths scaled by exp(−s Δ) (Δ the grid's step), as exact as the atoms' form factor is flat:
  the sizes between and beyond the library's, and lattice constants between its elements'.
* ``max_dilation``: every training curve's small angles are moved along ln q by a random number
  of grid points and its wide angles kept (:func:`dilated`, the physics fit's dilation of
  :mod:`helpers.measurement.fit`), its ln N and ln R_eq targets with it: a particle of another
  size with the same lattice, its small-angle level against the wide angles following its number
  of atoms. The widths of its Bragg peaks stay those of the source particle (an approximation,
  as in the fit).
* ``max_blur``: a share :data:`BLUR_SHARE` of the training curves has its wide angles broadened
  by a Gaussian of a random width up to that many Å⁻¹ in q (:func:`blurred`), its small angles
  kept: the Bragg peaks of a smaller crystal, whose widths grow as 1/R, while the peaks' positions
  (the lattice) stay. The widths of the peaks then say less about which shape the particle has
  and more about how small it is, so a particle smaller than every trained one of its shape has
  peaks the network has seen. An approximation: a real smaller particle's small angles move too,
  and its peaks broaden by its own shape's profile, not a Gaussian.
* ``scherrer_dilation``: both at once, tied by the particle's size (:func:`shrunk`): every
  training curve becomes a particle smaller by s grid points (s drawn in [0, scherrer_dilation]),
  its small angles moved as by ``max_dilation`` and its Bragg peaks broadened by the Gaussian that
  takes a crystal of radius R to one of radius R e^(−sΔ) (:data:`SCHERRER_WIDTH`), its lattice
  kept. With ``max_dilation`` alone a dilated curve shows a small particle's small angles beside a
  larger one's sharp peaks, a pair no particle makes.
* ``part_dropout``: a part of the training curves shows only its small angles or only its wide
  angles (:func:`windowed`, cut at a random q in :data:`PART_CUT`). The small angles carry the
  particle's outer form, the wide angles its lattice (fcc, decahedral or icosahedral twinning) and
  the widths of its peaks: two witnesses of the shape. A network shown whole curves only can
  recognise a training particle from either part alone, for instance by the exact positions of
  its small-angle fringes, and then fails on an unseen size; shown each part alone it has to read
  the shape from both.

Sizes a shape was never trained at (``unseen_size_weight``). The network learns the shape
probabilities of the training set, where every shape comes only in the sizes the library gives
it: a particle smaller or larger than every trained particle of its true shape gets that shape
underrated, because at that size the training only ever showed other shapes (a shift of the label
distribution with size; the correction is the ratio of the priors, Saerens et al. 2002). A real
particle's shape is not tied to the library's sizes, so with weight λ > 0 the probability of each
shape whose trained particles (ln N of the fitted rows, :attr:`LogQModel.trained_log_n`) do not
reach the curve's predicted ln N is multiplied by 1 + λ, and the probabilities renormalised.
The temperature is calibrated on the weighted probabilities.

Ensemble (:class:`LogQEnsemble`, :func:`fit_ensemble`): a few models of one training side, each
early-stopped and calibrated on other validation structures, their shape probabilities averaged
(``pooling="mean"``) or their log-probabilities averaged and renormalised (``"log"``, a geometric
mean: members that agree keep their confidence, where the mean of probabilities dilutes it) and
their sizes pooled as one Gaussian mixture.
"""

from __future__ import annotations

import json
import math
import weakref
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths
from ..measurement import fit as physics_fit
from ..measurement import instrument
from ..simulation import structures
from . import metrics, model_set, targets

#: bumped when a saved model's meaning changes: older records are refused by :meth:`LogQModel.load`
FORMAT = 1
#: two grid points closer than this relative distance to a point of the curve's own q grid are
#: taken to coincide with it (so that 0.01 on a geomspace grid is the library's 0.01)
_COINCIDE = 1e-9
#: a measured ln I minus its mean spans about +-8; this brings the input to order 1
_INPUT_SCALE = 0.25
#: the q_min range of the small-angle-only training versions (:func:`fit_library`), Å⁻¹
#: (from below the library's first q, so that the grid's lowest points are measured in training
#: as they are in a file that starts there)
SAXS_Q_MIN = (0.005, 0.05)
#: the share of training curves :func:`blurred` when ``max_blur`` > 0, and the number of widths
#: drawn from (evenly spaced from max_blur / BLUR_LEVELS to max_blur)
BLUR_SHARE = 0.5
BLUR_LEVELS = 8
#: the widest broadening :attr:`LogQModel.max_blur` accepts, Å⁻¹ (the Bragg peaks of a particle
#: of a few atoms; wider would smear the first peaks into one)
MAX_BLUR = 1.0
#: σ R of the Bragg peak of a sphere of radius R (σ in Å⁻¹, R in Å): the peak's profile is the
#: squared transform of the sphere, half its height at 1.81 / R from its centre, here written as
#: the standard deviation of a Gaussian of that half width (1.81 / sqrt(2 ln 2)). :func:`shrunk`
#: takes R_eq for R: the library's curves of a particle and of a smaller one of its shape agree
#: best with a width between 1 / R and this one (octahedra, cubes, icosahedra, tetrahedra)
SCHERRER_WIDTH = 1.81 / math.sqrt(2.0 * math.log(2.0))
#: the widths :func:`shrunk` rounds to (geometric, Å⁻¹; below the first, no broadening), so that
#: training reuses a few kernels
SCHERRER_LEVELS = np.geomspace(0.005, MAX_BLUR, 24)
#: up to this many curves the network is called directly (as one TensorFlow graph,
#: :func:`_direct`) instead of through Keras' predict
_DIRECT_CALL = 32
#: {network: its graph function} of :func:`_direct`, forgotten with the network
_GRAPHS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _direct(network):
    """``network(x, training=False)`` as one TensorFlow graph (``tf.function``, traced on the
    first calls): the eager call's numbers to the last bit (``tests/test_logq.py``) in a twentieth
    of its time on a few curves (``benchmarks/bench_network_call.py``), where each of the eager
    call's layers costs more than its arithmetic (a characterisation calls each member once per
    curve)."""
    graph = _GRAPHS.get(network)
    if graph is None:
        import tensorflow as tf

        ref = weakref.ref(network)  # the cache must not keep the network alive
        graph = tf.function(lambda x: ref()(x, training=False), reduce_retracing=True)
        _GRAPHS[network] = graph
    return graph


#: the interval level at which the size anchor's standard deviations are calibrated
GUINIER_LEVEL = 0.9
#: range of the q (Å⁻¹) that splits a curve into small and wide angles for ``part_dropout``
PART_CUT = (0.5, 2.0)
#: how an ensemble combines its members' shape probabilities (:class:`LogQEnsemble`)
POOLINGS = ("mean", "log")
#: what early stopping may watch (:attr:`LogQModel.monitor`)
MONITORS = ("val_loss", "val_shape_loss", "val_shape_accuracy")
#: bounds of the predicted log-variance of a standardised size target
_LOGVAR_RANGE = (-12.0, 4.0)


# --- input --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogQGrid:
    """A log-spaced q grid, ``n`` points from ``q_min`` to ``q_max`` (Å⁻¹), ends included.

    ``average``: where a grid point's bin (between the geometric midpoints to its neighbours)
    holds at least two of a curve's q points, the input there is the mean intensity of the
    bin's measured points instead of the value interpolated at the grid point (:func:`prepare`).
    On a log grid the bins widen with q, so at wide angles one grid point spans many points of
    an instrument's linear grid: interpolation keeps two of them and drops the rest, which at
    low counts is noise, and for a large particle, whose Bragg peaks are narrower than a bin,
    samples each peak at a random place of its profile; the mean keeps every count and each
    peak's integrated intensity. ``False`` (interpolation everywhere) for the models trained
    before it existed."""

    q_min: float = 0.01
    q_max: float = 20.0
    n: int = 384
    average: bool = False

    def __post_init__(self):
        if isinstance(self.n, bool) or not isinstance(self.n, (int, np.integer)) or self.n < 16:
            raise ValueError(f"the grid needs an integer n >= 16 points, got {self.n!r}.")
        if not (0 < self.q_min < self.q_max and math.isfinite(self.q_max)):
            raise ValueError(
                f"the grid needs 0 < q_min < q_max < inf (Å⁻¹), got {self.q_min}, {self.q_max}."
            )

    @property
    def q(self) -> np.ndarray:
        return np.geomspace(self.q_min, self.q_max, self.n)

    @property
    def log_step(self) -> float:
        """The step between grid points in ln q."""
        return math.log(self.q_max / self.q_min) / (self.n - 1)

    def prepare(self, q, I, mask=None) -> np.ndarray:
        """:func:`prepare` onto this grid."""
        return prepare(q, I, mask, grid=self)


def prepare(q, I, mask=None, grid: LogQGrid | None = None) -> np.ndarray:
    """Curves on any q grid -> the model input on the log-spaced ``grid``, (n, L, 2) float32.

    ``q``: 1-D, strictly increasing, > 0, in Å⁻¹ (converting nm⁻¹ is the caller's job), shared by
    the rows of ``I`` (n, len(q)). A point is *measured* where ``mask`` is True (default: where I
    is not NaN); ``mask=False`` or NaN mark points that were not measured. Measured intensities
    must be finite and > 0 (mask out zero-count points first, e.g. ``mask & (I > 0)``).

    Grid rule: ln I is interpolated linearly in ln q between the two points of the curve's own q
    grid that bracket a grid point g (q_j < g < q_j+1). g is **measured** when it coincides with a
    measured q_j (relative distance below 1e-9), or when both bracketing points are measured;
    otherwise (outside [q_1, q_n], or next to an unmeasured point, i.e. inside a gap) it is not.
    Channel 0: ln I minus its mean over the curve's measured grid points, 0 where not measured;
    channel 1: the mask (1.0 / 0.0). A curve measuring no grid point raises.
    """
    grid = LogQGrid() if grid is None else grid
    q = np.asarray(q, dtype=float)
    if q.ndim != 1 or q.size < 2:
        raise ValueError(f"q must be a 1-D array of >= 2 values, got shape {q.shape}.")
    if not np.all(np.isfinite(q)) or q[0] <= 0 or np.any(np.diff(q) <= 0):
        raise ValueError("q must be finite, > 0 and strictly increasing: sort the curves by q.")
    I = np.asarray(I, dtype=float)
    if I.ndim != 2 or I.shape[1] != q.size:
        raise ValueError(
            f"I must be (n_curves, len(q)) = (n, {q.size}), got shape {I.shape}; "
            "one curve is I[None, :]."
        )
    if mask is None:
        measured = ~np.isnan(I)
    else:
        mask = np.asarray(mask)
        if mask.dtype != bool or mask.shape != I.shape:
            raise ValueError(
                f"mask must be a boolean array of the shape of I {I.shape}, "
                f"got {mask.dtype} {mask.shape}."
            )
        if np.any(mask & np.isnan(I)):
            raise ValueError("mask is True where I is NaN: mark those points unmeasured.")
        measured = mask
    bad = measured & ~(np.isfinite(I) & (I > 0))
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise ValueError(
            f"{int(bad.sum())} measured points of curves {rows[:5].tolist()}... are not finite "
            "and > 0: mask them out (e.g. mask=(I > 0)) instead of taking their log."
        )
    g = grid.q
    log_q, log_g = np.log(q), np.log(g)
    j = np.clip(np.searchsorted(q, g, side="right") - 1, 0, q.size - 2)  # q[j] <= g < q[j+1]
    coincide_lo = np.abs(g - q[j]) <= _COINCIDE * g
    coincide_hi = np.abs(g - q[j + 1]) <= _COINCIDE * g
    inside = (g >= q[0] * (1 - _COINCIDE)) & (g <= q[-1] * (1 + _COINCIDE))
    t = np.clip((log_g - log_q[j]) / (log_q[j + 1] - log_q[j]), 0.0, 1.0)
    t = np.where(coincide_lo, 0.0, np.where(coincide_hi, 1.0, t))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_i = np.where(measured, np.log(np.where(measured, I, 1.0)), 0.0)
    m_lo, m_hi = measured[:, j], measured[:, j + 1]
    on_grid = np.where(coincide_lo, m_lo, np.where(coincide_hi, m_hi, m_lo & m_hi)) & inside
    values = (1 - t) * log_i[:, j] + t * log_i[:, j + 1]
    count = on_grid.sum(axis=1)
    if np.any(count == 0):
        rows = np.flatnonzero(count == 0)
        raise ValueError(
            f"curves {rows[:5].tolist()} measure no point of the grid "
            f"[{grid.q_min}, {grid.q_max}] Å⁻¹ with {grid.n} points: check q's unit (Å⁻¹)."
        )
    if grid.average:
        values, on_grid = _bin_means(q, I, measured, g, values, on_grid)
    return _centred(np.stack([values, on_grid.astype(float)], axis=-1), "the grid", "float32")


def _bin_means(q, I, measured, g, values, on_grid):
    """(values, on_grid) with ln of the mean measured intensity wherever a grid point's bin
    (bounded by the geometric midpoints to its neighbours) holds at least two points of ``q``;
    such a grid point is measured when one of its bin's points is. Elsewhere unchanged."""
    edges = np.sqrt(g[1:] * g[:-1])
    ratio = g[1] / g[0]
    edges = np.concatenate([[g[0] / np.sqrt(ratio)], edges, [g[-1] * np.sqrt(ratio)]])
    which = np.searchsorted(edges, q, side="right") - 1  # the bin of every q point (-1, n: none)
    inside = (which >= 0) & (which < g.size)
    members = np.zeros((g.size, q.size))
    members[which[inside], np.flatnonzero(inside)] = 1.0
    binned = members.sum(axis=1) >= 2
    if not binned.any():
        return values, on_grid
    members = members[binned]
    weights = measured.astype(float)
    counts = weights @ members.T
    sums = np.where(measured, I, 0.0) @ members.T
    with np.errstate(divide="ignore", invalid="ignore"):
        means = np.log(sums / counts)
    has = counts > 0
    values = values.copy()
    on_grid = on_grid.copy()
    values[:, binned] = np.where(has, means, 0.0)
    on_grid[:, binned] = has
    return values, on_grid


# --- targets ------------------------------------------------------------------------------------

SIZE_NAMES = ("log_n_atoms", "log_radius")
#: the table target of the predicted ln R_eq (R in Å)
LOG_R = "log_eq_radius"


def size_targets(meta: pd.DataFrame) -> np.ndarray:
    """(n, 2): ln N (``log_n_atoms``) and ln R_eq (R_eq = ``eq_radius`` in Å) of the rows."""
    for column in ("log_n_atoms", "eq_radius"):
        if column not in meta.columns:
            raise ValueError(f"metadata needs a {column!r} column (as written by the library).")
    return np.stack(
        [meta["log_n_atoms"].to_numpy(float), np.log(meta["eq_radius"].to_numpy(float))], axis=1
    )


def shape_targets(meta: pd.DataFrame) -> np.ndarray:
    """Shape class indices in the order of :data:`helpers.simulation.structures.SHAPES`."""
    if "shape" not in meta.columns:
        raise ValueError("metadata needs a 'shape' column (as written by the library).")
    unknown = set(meta["shape"]) - set(structures.SHAPES)
    if unknown:
        raise ValueError(f"unknown shapes {sorted(unknown)}: labels are {structures.SHAPES}.")
    return np.array([structures.SHAPES.index(s) for s in meta["shape"]], dtype=int)


# --- training conditions ------------------------------------------------------------------------


def measured_versions(
    lib, rows, rounds: int, grid: LogQGrid, seed: int = 0, pool=None, **ranges
) -> np.ndarray:
    """(rounds, n, L, 2) inputs of the library ``rows``, each round measured under fresh random
    conditions (:func:`helpers.measurement.instrument.random_measurements` with ``ranges``,
    which include a random overall scale). Polydispersity averages only over ``pool`` (default:
    ``rows``; pass the rows of the same side of a split). Zero-count points are unmeasured."""
    rows = np.asarray(rows)
    pool = rows if pool is None else pool
    out = []
    for r in range(rounds):
        I, mask = _measured(lib, rows, r, seed, pool, ranges)
        out.append(prepare(lib.q, I, mask, grid))
    return np.stack(out)


def _measured(lib, rows, r: int, seed: int, pool, ranges: dict):
    """Round ``r`` of :func:`measured_versions` as curves: (I, mask), zero counts unmeasured."""
    conditions = instrument.random_measurements(
        len(rows), seed=instrument.derived_seed(seed, 1, r), **ranges
    )
    I, mask = instrument.measure(
        lib, rows, conditions, seed=instrument.derived_seed(seed, 2, r), pool=pool
    )
    return I, mask & (np.nan_to_num(I) > 0)


# --- network ------------------------------------------------------------------------------------


def build_network(
    length: int, n_classes: int = 9, width: int = 32, seed: int = 0, dropout: float = 0.0
):
    """The Keras network: input (length, 2) -> {"shape": n_classes logits, "size": (4,)}.

    Two branches of the same convolutional trunk (four blocks of convolution, batch
    normalisation, ReLU and max-pooling; kernels 5, 5, 3, 3 with ``width``, 2·``width``,
    4·``width`` and 4·``width`` filters), one per task, so that the Gaussian likelihood of
    the size (whose gradients grow as its predicted variance shrinks) cannot starve the shape
    of features.
    Shape branch: global average and global max pooling of its trunk (blind to where along ln q
    a pattern sits) -> Dropout(``dropout``) -> Dense(64) -> logits. Size branch: a 1x1
    convolution to 8 channels, flattened (keeps the positions) -> Dense(64) -> means and
    log-variances of the two standardised size targets.
    """
    from .estimators import _keras

    keras = _keras()
    if length < 32:
        raise ValueError(f"the network needs an input length >= 32 grid points, got {length}.")
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    inputs = keras.Input(shape=(length, 2), name="curve")
    scaled = layers.Rescaling(np.array([_INPUT_SCALE, 1.0], dtype="float32"))(inputs)

    def conv(x, filters, kernel):
        # batch normalisation before the ReLU keeps every fold trainable (without it the shape
        # branch stayed at chance on some folds); momentum 0.9 so that its inference statistics
        # settle within the few steps of an epoch that shows a fraction of the curves
        x = layers.Conv1D(filters, kernel, padding="same", use_bias=False)(x)
        return layers.Activation("relu")(layers.BatchNormalization(momentum=0.9)(x))

    def trunk(x):
        for filters, kernel in ((width, 5), (2 * width, 5), (4 * width, 3), (4 * width, 3)):
            x = layers.MaxPooling1D(2)(conv(x, filters, kernel))
        return x

    t = trunk(scaled)
    pooled = layers.Concatenate()(
        [layers.GlobalAveragePooling1D()(t), layers.GlobalMaxPooling1D()(t)]
    )
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
    pooled = layers.Dropout(dropout, seed=seed)(pooled) if dropout else pooled
    shape = layers.Dense(n_classes, name="shape")(layers.Dense(64, activation="relu")(pooled))
    f = layers.Flatten()(layers.Conv1D(8, 1, activation="relu")(trunk(scaled)))
    size = layers.Dense(4, name="size")(layers.Dense(64, activation="relu")(f))
    return keras.Model(inputs, {"shape": shape, "size": size}, name="logq")


def _gaussian_nll(y_true, y_pred):
    from .estimators import _keras

    ops = _keras().ops
    mean, logvar = y_pred[:, :2], ops.clip(y_pred[:, 2:], *_LOGVAR_RANGE)
    return ops.mean(0.5 * (logvar + ops.square(y_true - mean) * ops.exp(-logvar)), axis=-1)


def shifted(x: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Inputs ``x`` (n, L, 2) from :func:`prepare`, each moved by ``shifts`` (n integers) grid
    points along ln q (positive: to higher q); points moved in from beyond the grid are not
    measured, and channel 0 is centred again on the measured points that remain. On a log grid
    a move by s points is the curve of the same particle with every length (its size and its
    lattice) scaled by exp(−s Δ), Δ the grid's step in ln q, apart from the atoms' own form
    factor. A curve left with no measured point raises."""
    x = np.asarray(x)
    shifts = np.asarray(shifts)
    if x.ndim != 3 or x.shape[2] != 2 or shifts.shape != (len(x),):
        raise ValueError(f"need inputs (n, L, 2) and n shifts, got {x.shape} and {shifts.shape}.")
    length = x.shape[1]
    source = np.arange(length)[None, :] - shifts[:, None]
    inside = (source >= 0) & (source < length)
    moved = np.take_along_axis(x, np.clip(source, 0, length - 1)[:, :, None], axis=1)
    return _centred(np.where(inside[:, :, None], moved, 0.0), "a shift", x.dtype)


def dilated(x: np.ndarray, steps: np.ndarray, weight: np.ndarray, log_step: float) -> np.ndarray:
    """Inputs ``x`` (n, L, 2) from :func:`prepare` of particles with their outer form scaled and
    their lattice kept: grid point i takes the value at i − ``steps``·w_i (linear between grid
    points), w = ``weight`` (L values, 1 at small angles, 0 at wide angles: the physics fit's
    :func:`helpers.measurement.fit.dilation_weight` on the grid), and ln I is raised by
    −3 ``steps`` Δ w_i (Δ = ``log_step``, the grid's step in ln q). A move by s points (positive:
    to higher q) is a particle exp(−s Δ) times the size with the same lattice: its small-angle
    pattern moves and its level against the wide angles follows the number of atoms (the
    physics fit's dilation, which bridges the library's sizes there). Points moved in from
    beyond the grid or from unmeasured points are not measured; channel 0 is centred again."""
    x = np.asarray(x)
    steps, weight = np.asarray(steps), np.asarray(weight, dtype=float)
    if x.ndim != 3 or x.shape[2] != 2 or steps.shape != (len(x),) or weight.shape != (x.shape[1],):
        raise ValueError(
            f"need inputs (n, L, 2), n steps and L weights, got {x.shape}, {steps.shape} and "
            f"{weight.shape}."
        )
    length = x.shape[1]
    source = np.arange(length)[None, :] - steps[:, None] * weight[None, :]
    inside = (source >= 0) & (source <= length - 1)
    j, t = physics_fit.bracket(np.arange(length, dtype=float), source)
    lo = np.take_along_axis(x, j[:, :, None], axis=1)
    hi = np.take_along_axis(x, (j + 1)[:, :, None], axis=1)
    value = lo[:, :, 0] + t * (hi[:, :, 0] - lo[:, :, 0])
    value = value - 3.0 * steps[:, None] * log_step * weight[None, :]
    measured = inside & (lo[:, :, 1] > 0) & ((hi[:, :, 1] > 0) | (t == 0))
    out = np.stack([np.where(measured, value, 0.0), measured.astype(float)], axis=2)
    return _centred(out, "a dilation", x.dtype)


def _blur_kernel(q: np.ndarray, sigma: float, log_step: float) -> np.ndarray:
    """(L, L): the Gaussian of width ``sigma`` (Å⁻¹) between the points of the log grid ``q``,
    each column weighted by its point's width in q (q times the step ``log_step`` in ln q).
    Not :func:`helpers.measurement.instrument.resolution_matrix`, whose rows sum to 1 over every
    point of an evenly spaced grid: on a log grid the points crowd at low q and would outweigh
    the higher ones, and :func:`blurred` normalises over the measured points only."""
    return np.exp(-0.5 * ((q[:, None] - q[None, :]) / sigma) ** 2) * (q * log_step)[None, :]


def blurred(
    x: np.ndarray,
    sigma: np.ndarray,
    q: np.ndarray,
    weight: np.ndarray,
    log_step: float,
    kernels: dict | None = None,
) -> np.ndarray:
    """Inputs ``x`` (n, L, 2) from :func:`prepare` on the log grid ``q`` (L values, Å⁻¹, step
    ``log_step`` in ln q) with their wide angles broadened: the intensity is convolved in q with
    a Gaussian of standard deviation ``sigma`` (n values, Å⁻¹; 0 leaves a curve as it is) over
    its measured points only (each grid point weighted by its width in q, the sum normalised by
    the kernel's measured part, so a gap or a window's edge does not darken its neighbours), and
    ln I becomes w ln I + (1 − w) ln I_broadened, w = ``weight`` (L values, 1 at small angles, 0
    at wide angles: the physics fit's :func:`helpers.measurement.fit.dilation_weight` on the
    grid). What is measured does not change; channel 0 is centred again. ``kernels``: {width:
    :func:`_blur_kernel`} already computed for this grid (training draws from a few widths)."""
    x = np.array(x, dtype=float)
    sigma, q = np.asarray(sigma, dtype=float), np.asarray(q, dtype=float)
    weight = np.asarray(weight, dtype=float)
    length = x.shape[1] if x.ndim == 3 else -1
    if x.ndim != 3 or x.shape[2] != 2 or sigma.shape != (len(x),):
        raise ValueError(f"need inputs (n, L, 2) and n widths, got {x.shape} and {sigma.shape}.")
    if q.shape != (length,) or weight.shape != (length,):
        raise ValueError(
            f"need L = {length} grid points and weights, got {q.shape} and {weight.shape}."
        )
    if not np.all(np.isfinite(sigma) & (sigma >= 0)):
        raise ValueError("the widths sigma must be finite numbers >= 0 (Å⁻¹).")
    kernels = {} if kernels is None else kernels
    for s in np.unique(sigma[sigma > 0]):
        chosen = sigma == s
        measured = x[chosen, :, 1] > 0
        kernel = kernels.get(float(s))
        kernel = _blur_kernel(q, float(s), log_step) if kernel is None else kernel
        intensity = np.where(measured, np.exp(x[chosen, :, 0]), 0.0)
        total = intensity @ kernel.T
        norm = measured.astype(float) @ kernel.T
        broad = np.log(np.maximum(total, 1e-300) / np.maximum(norm, 1e-300))
        mixed = weight * x[chosen, :, 0] + (1.0 - weight) * broad
        x[chosen, :, 0] = np.where(measured, mixed, 0.0)
    return _centred(x, "a blur", "float32")


def scherrer_sigma(steps: np.ndarray, radius_A: np.ndarray, log_step: float) -> np.ndarray:
    """The width (Å⁻¹, rounded down to :data:`SCHERRER_LEVELS`; 0 below them) of the Gaussian
    that broadens the Bragg peaks of a crystal of radius ``radius_A`` (Å) into those of one
    exp(−``steps`` Δ) times as large (Δ = ``log_step``; steps >= 0): peak widths grow as 1 / R
    (:data:`SCHERRER_WIDTH`) and Gaussian widths add in quadrature."""
    steps, radius_A = np.asarray(steps, dtype=float), np.asarray(radius_A, dtype=float)
    if np.any(steps < 0) or not np.all(np.isfinite(radius_A) & (radius_A > 0)):
        raise ValueError("need steps >= 0 (toward a smaller particle) and radii > 0 (Å).")
    sigma = SCHERRER_WIDTH / radius_A * np.sqrt(np.expm1(2.0 * steps * log_step))
    at = np.searchsorted(SCHERRER_LEVELS, sigma, side="right") - 1
    return np.where(at >= 0, SCHERRER_LEVELS[np.clip(at, 0, None)], 0.0)


def shrunk(
    x: np.ndarray,
    steps: np.ndarray,
    radius_A: np.ndarray,
    q: np.ndarray,
    weight: np.ndarray,
    log_step: float,
    kernels: dict | None = None,
) -> np.ndarray:
    """Inputs ``x`` (n, L, 2) from :func:`prepare` on the log grid ``q`` of particles of
    equivalent radius ``radius_A`` (n values, Å) made exp(−``steps`` Δ) times as large
    (``steps`` >= 0 grid points, Δ = ``log_step``), their lattice kept: the small angles
    :func:`dilated` and the wide angles :func:`blurred` by :func:`scherrer_sigma`, so that the
    Bragg peaks are as wide as the smaller crystal's. ``weight``: the physics fit's dilation
    weight on the grid (1 at small angles, 0 at wide angles); ``kernels``: {width:
    :func:`_blur_kernel`}, filled as widths are met."""
    sigma = scherrer_sigma(steps, radius_A, log_step)
    if kernels is None:
        kernels = {}
    for s in np.unique(sigma[sigma > 0]):
        kernels.setdefault(float(s), _blur_kernel(np.asarray(q, dtype=float), float(s), log_step))
    moved = dilated(x, np.asarray(steps), weight, log_step)
    return blurred(moved, sigma, q, weight, log_step, kernels)


def windowed(x: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Inputs ``x`` (n, L, 2) from :func:`prepare` with only the grid points ``low`` <= i <
    ``high`` (n integers each) left measured, channel 0 centred again on them: the curve as a
    measurement of that q window would give it. A curve left with no measured point raises."""
    x = np.asarray(x)
    low, high = np.asarray(low), np.asarray(high)
    if x.ndim != 3 or x.shape[2] != 2 or low.shape != (len(x),) or high.shape != (len(x),):
        raise ValueError(f"need inputs (n, L, 2) and n lows and highs, got {x.shape}.")
    i = np.arange(x.shape[1])[None, :]
    keep = (i >= low[:, None]) & (i < high[:, None])
    return _centred(np.where(keep[:, :, None], x, 0.0), "a window", x.dtype)


def _centred(x, what, dtype):
    """Inputs (n, L, 2) with channel 0 minus its mean over the measured points (channel 1 > 0)
    and 0 elsewhere, as ``dtype``; a curve with no measured point raises, naming ``what``."""
    x = np.array(x, dtype=float)
    measured = x[:, :, 1] > 0
    count = measured.sum(axis=1)
    if np.any(count == 0):
        raise ValueError(f"{what} left a curve with no measured grid point.")
    mean = np.where(measured, x[:, :, 0], 0.0).sum(axis=1) / count
    x[:, :, 0] = np.where(measured, x[:, :, 0] - mean[:, None], 0.0)
    return x.astype(dtype)


def _batches(
    keras,
    versions,
    shape,
    size,
    batch_size: int,
    seed: int,
    fraction: float = 1.0,
    max_shift: int = 0,
    radius_step: float = 0.0,
    part_dropout: float = 0.0,
    cut_range: tuple = (0, 0),
    max_dilation: int = 0,
    dilation: tuple = (None, 0.0, (0.0, 0.0)),
    max_blur: float = 0.0,
    grid_q: np.ndarray | None = None,
    scherrer: tuple = (0, 0.0, 1.0),
):
    """A keras dataset over (rounds, n, L, 2) versions of n curves: epoch e shows version
    e mod rounds of a seeded random ``fraction`` of the curves, in a seeded random order (the 68
    element and B_iso variants of a structure are near-copies: a part of them per epoch is
    enough, and more epochs see them all). ``max_shift`` > 0: every curve of a batch is moved
    along ln q by a seeded random number of grid points in [−max_shift, max_shift]
    (:func:`shifted`), and its standardised ln R_eq target by ``radius_step`` per point.
    ``part_dropout`` > 0: that part of the curves keeps only the grid points below a seeded
    random index in ``cut_range`` or only those from it on (half each; :func:`windowed`); a curve
    measured on the other side of its cut only is shown whole. ``max_dilation`` > 0: every curve
    is also :func:`dilated` by a seeded random number of grid points in [−max_dilation,
    max_dilation]; ``dilation`` = (weight, log_step, (ln N step, ln R_eq step)): the grid's
    weights, its step, and the standardised targets' change per point. ``max_blur`` > 0: last,
    a seeded :data:`BLUR_SHARE` of the curves has its wide angles :func:`blurred` by one of
    :data:`BLUR_LEVELS` widths evenly spaced up to ``max_blur`` (Å⁻¹), drawn at random, on the
    grid ``grid_q`` (its step and weights those of ``dilation``). ``scherrer`` = (max steps,
    mean, standard deviation of ln R_eq): with max steps > 0, after the dilation every curve is
    :func:`shrunk` by a seeded random number of grid points in [0, max steps], its R_eq read
    from its standardised target, and its targets moved as by the dilation."""
    n_shown = max(int(round(fraction * versions.shape[1])), 1)
    levels = np.linspace(0.0, max_blur, BLUR_LEVELS + 1)[1:]
    kernels = (
        {float(s): _blur_kernel(grid_q, float(s), dilation[1]) for s in levels} if max_blur else {}
    )
    shrink_kernels: dict = {}

    class Versions(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.epoch, self.rng = 0, np.random.default_rng(seed)
            self.order = self.rng.permutation(versions.shape[1])[:n_shown]

        def __len__(self):
            return int(np.ceil(n_shown / batch_size))

        def __getitem__(self, i):
            idx = self.order[i * batch_size : (i + 1) * batch_size]
            x, y = versions[self.epoch % len(versions)][idx], size[idx]
            if max_shift:
                rng = np.random.default_rng([seed, self.epoch, i])
                steps = rng.integers(-max_shift, max_shift + 1, len(idx))
                x = shifted(x, steps)
                y = y + np.stack([np.zeros(len(idx)), radius_step * steps], axis=1)
                y = y.astype("float32")
            if max_dilation:
                rng = np.random.default_rng([seed, self.epoch, i, 2])
                steps = rng.integers(-max_dilation, max_dilation + 1, len(idx))
                weight, log_step, per_step = dilation
                x = dilated(x, steps, weight, log_step)
                y = (y + np.outer(steps, per_step)).astype("float32")
            if scherrer[0]:
                rng = np.random.default_rng([seed, self.epoch, i, 3])
                steps = rng.integers(0, scherrer[0] + 1, len(idx))
                weight, log_step, per_step = dilation
                radius = np.exp(y[:, 1] * scherrer[2] + scherrer[1])
                x = shrunk(x, steps, radius, grid_q, weight, log_step, shrink_kernels)
                y = (y + np.outer(steps, per_step)).astype("float32")
            if part_dropout:
                rng = np.random.default_rng([seed, self.epoch, i, 1])
                u = rng.random(len(idx))
                cut = rng.integers(cut_range[0], cut_range[1] + 1, len(idx))
                small_only, wide_only = u < part_dropout / 2, u > 1 - part_dropout / 2
                low = np.where(wide_only, cut, 0)
                high = np.where(small_only, cut, x.shape[1])
                at = np.arange(x.shape[1])
                kept = (at >= low[:, None]) & (at < high[:, None]) & (x[:, :, 1] > 0)
                whole = ~kept.any(axis=1)  # a curve measured on one side of the cut only
                x = windowed(x, np.where(whole, 0, low), np.where(whole, x.shape[1], high))
            if max_blur:
                rng = np.random.default_rng([seed, self.epoch, i, 7])
                on = rng.random(len(idx)) < BLUR_SHARE
                sigma = np.where(on, rng.choice(levels, len(idx)), 0.0)
                weight, log_step, _ = dilation
                x = blurred(x, sigma, grid_q, weight, log_step, kernels)
            return x, {"shape": shape[idx], "size": y}

        def on_epoch_end(self):
            self.epoch += 1
            self.order = self.rng.permutation(versions.shape[1])[:n_shown]

    return Versions()


# --- predictions --------------------------------------------------------------------------------


def geometric_mean(probas) -> np.ndarray:
    """The renormalised geometric mean of probability arrays (each (n, classes)): exp of the
    mean of their logarithms (a probability of 0 counts as the smallest positive float), scaled
    so that each row sums to 1. Answers that agree keep their confidence, where the mean of the
    probabilities dilutes it; one answer near 0 vetoes a class."""
    tiny = np.finfo(float).tiny
    log_p = np.mean([np.log(np.maximum(p, tiny)) for p in probas], axis=0)
    proba = np.exp(log_p - log_p.max(axis=1, keepdims=True))
    return proba / proba.sum(axis=1, keepdims=True)


def shape_over_dilations(model, Z, steps=(0,)) -> LogQPrediction:
    """``model.predict_inputs(Z)`` (a :class:`LogQModel` or :class:`LogQEnsemble`) with its shape
    probabilities the renormalised geometric mean of its probabilities for the inputs
    :func:`dilated` by each of ``steps`` grid points: the same curve's particle a few per cent
    smaller and larger, with the same lattice. A particle's shape does not change with its size,
    so a shape the network names only at the measured size, one of a handful of sizes per shape
    it was trained on, counts for less. The sizes are the prediction's for ``Z`` itself;
    ``steps`` (0,) leaves the prediction as it is."""
    steps = tuple(int(s) for s in steps)
    if not steps or any(abs(s) >= model.grid.n // 2 for s in steps):
        raise ValueError(
            f"steps must be grid points in (-{model.grid.n // 2}, {model.grid.n // 2}), got "
            f"{steps!r}."
        )
    base = model.predict_inputs(Z)
    if steps == (0,):
        return base
    weight = physics_fit.dilation_weight(model.grid.q)
    probas = [
        base.proba
        if step == 0
        else model.predict_inputs(
            dilated(Z, np.full(len(Z), step), weight, model.grid.log_step)
        ).proba
        for step in steps
    ]
    proba = geometric_mean(probas)
    labels = np.array(model.labels, dtype=object)
    return replace(base, proba=proba, shape=labels[proba.argmax(axis=1)])


@dataclass
class LogQPrediction:
    """Predictions for n curves. ``proba`` (n, n_classes) calibrated shape probabilities, ``shape``
    the most probable labels; ``log_n_atoms`` / ``log_radius`` Gaussian means of ln N and ln R_eq
    (R in Å), ``*_std`` their standard deviations."""

    proba: np.ndarray
    shape: np.ndarray
    log_n_atoms: np.ndarray
    log_n_atoms_std: np.ndarray
    log_radius: np.ndarray
    log_radius_std: np.ndarray
    #: where the size is the Guinier anchor's (:meth:`LogQModel.predict` with ``guinier``); None:
    #: the network's everywhere
    guinier: np.ndarray | None = None

    @property
    def radius_A(self) -> np.ndarray:
        """exp of the mean of ln R_eq (the median of the predicted log-normal R_eq), in Å."""
        return np.exp(self.log_radius)

    @property
    def n_atoms(self) -> np.ndarray:
        return np.exp(self.log_n_atoms)

    def interval(self, level: float = 0.9) -> dict[str, np.ndarray]:
        """Central intervals at ``level``: mean ± z·std in ln N and ln R_eq (keys
        ``log_n_atoms_low`` ...), and their exponentials ``n_atoms_low/high``,
        ``radius_low/high`` (Å)."""
        from scipy.stats import norm

        if not 0 < level < 1:
            raise ValueError(f"level must be a probability strictly between 0 and 1, got {level}.")
        z = float(norm.ppf(0.5 + level / 2))
        out = {}
        for name, mean, std in (
            ("log_n_atoms", self.log_n_atoms, self.log_n_atoms_std),
            ("log_radius", self.log_radius, self.log_radius_std),
        ):
            out[f"{name}_low"], out[f"{name}_high"] = mean - z * std, mean + z * std
        out["n_atoms_low"], out["n_atoms_high"] = (
            np.exp(out["log_n_atoms_low"]),
            np.exp(out["log_n_atoms_high"]),
        )
        out["radius_low"], out["radius_high"] = (
            np.exp(out["log_radius_low"]),
            np.exp(out["log_radius_high"]),
        )
        return out


# --- the model ----------------------------------------------------------------------------------


@dataclass
class LogQModel:
    """The log-q network with its grid, target standardisation and calibration.

    Typical use: ``LogQModel(seed=0).fit(Z_fit, meta_fit, Z_val, meta_val)`` with inputs from
    :func:`prepare` (or :func:`measured_versions` for realistic training), then
    :meth:`calibrate` on the validation inputs, :meth:`predict` on curves of any q grid, and
    :meth:`save` / :meth:`load`. :func:`fit_library` does all of it for library rows.
    """

    grid: LogQGrid = field(default_factory=LogQGrid)
    seed: int = 0
    width: int = 32
    epochs: int = 60
    patience: int = 12
    batch_size: int = 64
    learning_rate: float = 1e-3
    epoch_fraction: float = 0.25
    dropout: float = 0.0
    #: training curves move along ln q by up to this many grid points (:func:`shifted`; 0: none)
    max_shift: int = 0
    #: the part of the training curves shown with only their small angles (q below a cut drawn
    #: in :data:`PART_CUT`) or only their wide angles (above it), half each (:func:`windowed`)
    part_dropout: float = 0.0
    #: training curves' small angles move along ln q by up to this many grid points, their
    #: lattice kept (:func:`dilated`; 0: none)
    max_dilation: int = 0
    #: a share of the training curves has its wide angles broadened by a Gaussian of up to this
    #: width in q, Å⁻¹ (:func:`blurred`; 0: none)
    max_blur: float = 0.0
    #: training curves become particles up to this many grid points smaller, small angles moved
    #: and Bragg peaks broadened together, lattice kept (:func:`shrunk`; 0: none)
    scherrer_dilation: int = 0
    #: early stopping and learning-rate schedule: "val_loss" (shape + size), "val_shape_loss"
    #: (the shape's cross-entropy alone) or "val_shape_accuracy" (the repo's CNN convention)
    monitor: str = "val_shape_accuracy"
    labels: tuple = tuple(structures.SHAPES)
    #: λ: a shape never trained at the predicted size has its probability times 1 + λ (module doc)
    unseen_size_weight: float = 0.0
    #: the lowest temperature :meth:`calibrate` may choose (module doc)
    min_temperature: float = 0.05
    #: {label: (min, max) ln N of its training curves}, recorded by :meth:`fit`
    trained_log_n: dict = field(default_factory=dict)
    temperature: float = 1.0
    size_scale: tuple = (1.0, 1.0)
    size_mean: tuple = (0.0, 0.0)
    size_std: tuple = (1.0, 1.0)
    #: size from the curve's forward scattering where it is measured (:meth:`calibrate_guinier`)
    guinier: bool = False
    #: ln R_eq − ln R_g = a + d / R_g² (R_g in Å), fitted on the training curves
    guinier_offset: tuple = (0.0, 0.0)
    #: rms of that relation on the training curves, and the variance of the network's element
    #: term (ln N − 3 ln R_eq) on the validation curves
    guinier_spread: tuple = (0.0, 0.0)
    #: factors of the anchored ln R_eq and ln N standard deviations (their 90 % intervals hold
    #: 90 % of the validation curves)
    guinier_scale: tuple = (1.0, 1.0)
    library: str | None = None
    history: dict = field(default_factory=dict)
    network: object = field(default=None, repr=False)

    # training ----------------------------------------------------------------------------------

    def fit(self, Z, meta: pd.DataFrame, Z_val, meta_val: pd.DataFrame) -> LogQModel:
        """Train on inputs ``Z`` ((n, L, 2), or (rounds, n, L, 2) versions of which epoch e shows
        version e mod rounds) of the curves described by ``meta``; early stopping and the
        learning-rate schedule watch the validation loss on ``Z_val`` / ``meta_val`` (whole
        structures held out of the training rows), and the weights of the best epoch are kept.
        Then :meth:`calibrate` on the same validation data."""
        from .estimators import _keras

        keras = _keras()
        import tensorflow as tf

        if self.monitor not in MONITORS:
            raise ValueError(f"monitor must be one of {MONITORS}, got {self.monitor!r}.")
        mode = "max" if self.monitor.endswith("accuracy") else "min"
        for name in ("max_shift", "max_dilation", "scherrer_dilation"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}.")
            if not 0 <= value < self.grid.n // 2:
                raise ValueError(
                    f"{name} must be in [0, {self.grid.n // 2}) grid points, got {value}."
                )
        if not 0 <= self.part_dropout <= 1:
            raise ValueError(f"part_dropout must be in [0, 1], got {self.part_dropout}.")
        if isinstance(self.max_blur, bool) or not (
            isinstance(self.max_blur, (int, float, np.integer, np.floating))
            and 0 <= self.max_blur <= MAX_BLUR
        ):
            raise ValueError(
                f"max_blur must be a width in [0, {MAX_BLUR}] Å⁻¹, got {self.max_blur!r}."
            )
        if not 0 < self.epoch_fraction <= 1:
            raise ValueError(f"epoch_fraction must be in (0, 1], got {self.epoch_fraction}.")
        if not (np.isfinite(self.unseen_size_weight) and self.unseen_size_weight >= 0):
            raise ValueError(
                f"unseen_size_weight must be a finite number >= 0, got {self.unseen_size_weight}."
            )
        self._check_min_temperature()
        Z = np.asarray(Z, dtype="float32")
        versions = Z if Z.ndim == 4 else Z[None]
        Z_val = np.asarray(Z_val, dtype="float32")
        for name, array in (("Z", versions[0]), ("Z_val", Z_val)):
            if array.ndim != 3 or array.shape[1:] != (self.grid.n, 2):
                raise ValueError(
                    f"{name} must be inputs (n, {self.grid.n}, 2) on this model's grid "
                    f"(from prepare), got {array.shape}."
                )
        if len(meta) == 0 or len(meta_val) == 0:
            raise ValueError("training and validation data must both hold curves.")
        if versions.shape[1] != len(meta) or len(Z_val) != len(meta_val):
            raise ValueError("inputs and metadata must describe the same number of curves.")
        y = size_targets(meta)
        mean, std = y.mean(axis=0), y.std(axis=0)
        ranges = meta.groupby("shape")["log_n_atoms"].agg(["min", "max"])
        self.trained_log_n = {
            label: tuple(map(float, ranges.loc[label]))
            for label in self.labels
            if label in ranges.index
        }
        self.size_mean, self.size_std = tuple(map(float, mean)), tuple(map(float, std))
        y_std = ((y - mean) / std).astype("float32")
        y_val = ((size_targets(meta_val) - mean) / std).astype("float32")
        tf.config.experimental.enable_op_determinism()
        self.network = build_network(
            self.grid.n, len(self.labels), self.width, self.seed, self.dropout
        )
        self.network.compile(
            optimizer=keras.optimizers.Adam(self.learning_rate),
            loss={
                "shape": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                "size": _gaussian_nll,
            },
            metrics={"shape": ["accuracy"]},
        )
        callbacks = [
            keras.callbacks.EarlyStopping(
                monitor=self.monitor, mode=mode, patience=self.patience, restore_best_weights=True
            ),
            keras.callbacks.ReduceLROnPlateau(
                monitor=self.monitor,
                mode=mode,
                factor=0.5,
                patience=max(self.patience // 3, 1),
                min_lr=1e-5,
            ),
        ]
        log_step = self.grid.log_step
        data = _batches(
            keras,
            versions,
            shape_targets(meta),
            y_std,
            self.batch_size,
            instrument.derived_seed(self.seed, 9),
            self.epoch_fraction,
            self.max_shift,
            -log_step / std[1],
            self.part_dropout,
            tuple(int(np.searchsorted(self.grid.q, c)) for c in PART_CUT),
            self.max_dilation,
            (
                physics_fit.dilation_weight(self.grid.q),
                log_step,
                (-3 * log_step / std[0], -log_step / std[1]),
            ),
            float(self.max_blur),
            self.grid.q,
            (self.scherrer_dilation, float(mean[1]), float(std[1])),
        )
        history = self.network.fit(
            data,
            epochs=self.epochs,
            validation_data=(Z_val, {"shape": shape_targets(meta_val), "size": y_val}),
            callbacks=callbacks,
            verbose=0,
        )
        self.history = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        return self.calibrate(Z_val, meta_val)

    def _check_min_temperature(self):
        if not (np.isfinite(self.min_temperature) and 0 < self.min_temperature < 20):
            raise ValueError(
                f"min_temperature must be a number in (0, 20), got {self.min_temperature}."
            )

    def calibrate(self, Z_val, meta_val: pd.DataFrame) -> LogQModel:
        """Temperature of the shape logits and factors of the size standard deviations, each
        minimising the validation negative log-likelihood (module doc). Use validation
        structures, never test ones."""
        from scipy.optimize import minimize_scalar
        from scipy.special import log_softmax

        self._check_min_temperature()
        logits, mean, std = self._raw(Z_val)
        y = shape_targets(meta_val)
        log_w = np.log(self._unseen_factors(mean[:, 0]))

        def nll(log_t):
            return -np.mean(
                log_softmax(logits / np.exp(log_t) + log_w, axis=1)[np.arange(len(y)), y]
            )

        bounds = (np.log(self.min_temperature), np.log(20.0))
        best = minimize_scalar(nll, bounds=bounds, method="bounded")
        self.temperature = float(np.exp(best.x))
        z = (size_targets(meta_val) - mean) / std
        self.size_scale = tuple(float(np.sqrt(np.mean(z[:, k] ** 2))) for k in range(2))
        return self

    # prediction --------------------------------------------------------------------------------

    def _unseen_factors(self, log_n) -> np.ndarray:
        """(n, labels): 1 + λ for each label whose training curves do not reach ln N ``log_n``
        (a label never trained counts as not reaching it), 1 elsewhere (module doc)."""
        log_n = np.asarray(log_n, dtype=float)[:, None]
        if self.unseen_size_weight == 0:
            return np.ones((log_n.shape[0], len(self.labels)))
        nan = (np.nan, np.nan)
        low, high = np.array([self.trained_log_n.get(label, nan) for label in self.labels]).T
        reached = (log_n >= low[None, :]) & (log_n <= high[None, :])
        return np.where(reached, 1.0, 1.0 + self.unseen_size_weight)

    def _raw(self, Z):
        if self.network is None:
            raise ValueError("the model is not trained: fit it or load a saved one.")
        Z = np.asarray(Z, dtype="float32")
        if len(Z) <= _DIRECT_CALL:  # a few curves: predict's set-up costs more than the network
            out = {k: v.numpy() for k, v in _direct(self.network)(Z).items()}
        else:
            out = self.network.predict(Z, verbose=0, batch_size=256)
        size = np.asarray(out["size"], dtype=float)
        s_mean, s_std = np.array(self.size_mean), np.array(self.size_std)
        mean = size[:, :2] * s_std + s_mean
        std = np.exp(0.5 * np.clip(size[:, 2:], *_LOGVAR_RANGE)) * s_std
        return np.asarray(out["shape"], dtype=float), mean, std

    def predict_inputs(self, Z) -> LogQPrediction:
        """Predictions from inputs already on the grid (:func:`prepare`)."""
        from scipy.special import softmax

        logits, mean, std = self._raw(Z)
        proba = softmax(
            logits / self.temperature + np.log(self._unseen_factors(mean[:, 0])), axis=1
        )
        std = std * np.array(self.size_scale)
        return LogQPrediction(
            proba=proba,
            shape=np.array(self.labels, dtype=object)[proba.argmax(axis=1)],
            log_n_atoms=mean[:, 0],
            log_n_atoms_std=std[:, 0],
            log_radius=mean[:, 1],
            log_radius_std=std[:, 1],
        )

    def predict(self, q, I, mask=None) -> LogQPrediction:
        """Predictions for curves ``I`` measured at ``q`` (Å⁻¹; any grid, see :func:`prepare`).
        With ``guinier``, the size of every curve whose forward scattering is measured comes from
        its Guinier radius (:meth:`calibrate_guinier`); elsewhere the network's."""
        prediction = self.predict_inputs(prepare(q, I, mask, self.grid))
        return self._anchored(q, I, mask, prediction) if self.guinier else prediction

    # size from the forward scattering ---------------------------------------------------------

    def _anchored(self, q, I, mask, prediction: LogQPrediction) -> LogQPrediction:
        """``prediction`` with ln R_eq = ln R_g + a + d / R_g² where a Guinier fit is valid, and
        ln N moved by 3 × the change of ln R_eq (the network's element term ln N − 3 ln R_eq
        kept). Standard deviations: the relation's rms and the fit's own error in ln R_g, and
        for ln N also the element term's validation variance, each times its calibrated factor."""
        from ..measurement import domain

        I = np.asarray(I, dtype=float)
        I = I[None] if I.ndim == 1 else I
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            mask = mask[None] if mask.ndim == 1 else mask
        start = np.exp(prediction.log_radius) / math.sqrt(5.0 / 3.0)
        fit = domain.guinier(q, I, mask, start=start)
        ok = fit.valid
        rg = np.where(ok, fit.radius_of_gyration, 1.0)
        a, d = self.guinier_offset
        log_r = np.log(rg) + a + d / rg**2
        var_r = self.guinier_spread[0] ** 2 + np.nan_to_num(fit.log_rg_std) ** 2
        k_r, k_n = self.guinier_scale
        log_n = prediction.log_n_atoms + 3.0 * (log_r - prediction.log_radius)
        std_n = k_n * np.sqrt(9.0 * var_r + self.guinier_spread[1])
        return LogQPrediction(
            proba=prediction.proba,
            shape=prediction.shape,
            log_n_atoms=np.where(ok, log_n, prediction.log_n_atoms),
            log_n_atoms_std=np.where(ok, std_n, prediction.log_n_atoms_std),
            log_radius=np.where(ok, log_r, prediction.log_radius),
            log_radius_std=np.where(ok, k_r * np.sqrt(var_r), prediction.log_radius_std),
            guinier=ok,
        )

    def calibrate_guinier(self, q, I_fit, meta_fit, I_val, meta_val, mask_val=None):
        """Fit the size anchor and switch it on (``guinier``). Physics: R_eq is √(5/3) times the
        radius of gyration of the atom centres, and a curve's Guinier radius R_g is that of its
        scattering density, wider by the atoms' own form factor and thermal smearing, which
        matter more the smaller the particle: ln R_eq = ln R_g + a + d / R_g² (a also takes the
        Guinier fit's small bias up to q R_g = 1.3). a and d by least squares on the training
        curves ``I_fit`` (clean library curves on ``q``), the relation's rms with them; the
        element term's variance and the two factors of the standard deviations (each the one
        whose central :data:`GUINIER_LEVEL` interval holds that share of them) on the validation
        curves ``I_val`` (measured as the model will be tested: structures held out of the
        training rows). Records the validation RMSE of ln R_eq with and without the
        anchor in ``history["guinier"]``."""
        from scipy.stats import norm

        from ..measurement import domain

        fit = domain.guinier(q, I_fit)
        ok = fit.valid
        if ok.sum() < 3:
            raise ValueError(
                f"only {int(ok.sum())} training curves measure their forward scattering: the "
                "Guinier anchor needs small-angle data (q R_g <= 1.3) on the training grid."
            )
        rg = fit.radius_of_gyration[ok]
        y = size_targets(meta_fit)[ok, 1] - np.log(rg)
        A = np.stack([np.ones_like(rg), 1.0 / rg**2], axis=1)
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        spread = float(np.sqrt(np.sum((y - A @ coef) ** 2) / max(len(y) - 2, 1)))
        self.guinier_offset = (float(coef[0]), float(coef[1]))
        self.guinier_spread, self.guinier_scale, self.guinier = (spread, 0.0), (1.0, 1.0), True
        network = self.predict_inputs(prepare(q, I_val, mask_val, self.grid))
        anchored = self._anchored(q, I_val, mask_val, network)
        truth = size_targets(meta_val)
        ok = anchored.guinier
        record = {"validation_curves": int(len(ok)), "anchored": int(ok.sum())}
        if ok.sum() >= 2:
            element = (truth[ok, 0] - 3 * truth[ok, 1]) - (
                network.log_n_atoms[ok] - 3 * network.log_radius[ok]
            )
            self.guinier_spread = (spread, float(np.mean(element**2)))
            anchored = self._anchored(q, I_val, mask_val, network)
            z_r = (truth[ok, 1] - anchored.log_radius[ok]) / anchored.log_radius_std[ok]
            z_n = (truth[ok, 0] - anchored.log_n_atoms[ok]) / anchored.log_n_atoms_std[ok]
            # the factor that makes the central 90 % interval hold 90 % of the validation curves:
            # the errors are heavy-tailed (a few of the smallest particles), so a factor making
            # the rms z-score 1 would leave the bulk's intervals too wide
            z90 = float(norm.ppf(0.5 + GUINIER_LEVEL / 2))
            self.guinier_scale = (
                float(np.quantile(np.abs(z_r), GUINIER_LEVEL) / z90),
                float(np.quantile(np.abs(z_n), GUINIER_LEVEL) / z90),
            )
            for name, pred in (("network", network), ("anchored", anchored)):
                err = truth[ok, 1] - pred.log_radius[ok]
                record[f"rmse_log_radius_{name}"] = float(np.sqrt(np.mean(err**2)))
        self.history = {**self.history, "guinier": record}
        return self

    # disk --------------------------------------------------------------------------------------

    def _record(self) -> dict:
        return {
            "format": FORMAT,
            "library": self.library,
            "seed": self.seed,
            "grid": asdict(self.grid),
            "width": self.width,
            "epochs": self.epochs,
            "patience": self.patience,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "epoch_fraction": self.epoch_fraction,
            "dropout": self.dropout,
            "max_shift": self.max_shift,
            "max_dilation": self.max_dilation,
            "max_blur": self.max_blur,
            "scherrer_dilation": self.scherrer_dilation,
            "part_dropout": self.part_dropout,
            "monitor": self.monitor,
            "labels": list(self.labels),
            "unseen_size_weight": self.unseen_size_weight,
            "min_temperature": self.min_temperature,
            "trained_log_n": {k: list(v) for k, v in self.trained_log_n.items()},
            "temperature": self.temperature,
            "size_scale": list(self.size_scale),
            "size_mean": list(self.size_mean),
            "size_std": list(self.size_std),
            "guinier": self.guinier,
            "guinier_offset": list(self.guinier_offset),
            "guinier_spread": list(self.guinier_spread),
            "guinier_scale": list(self.guinier_scale),
            "history": self.history,
        }

    def save(self, path) -> Path:
        """Write the folder ``path``: ``logq.weights.h5`` (the Keras weights) and ``logq.json``
        (grid, seed, library fingerprint, temperature, size calibration, ...). Each file is
        written under a temporary name in the same folder and then moved into place."""
        if self.network is None:
            raise ValueError("the model is not trained: nothing to save.")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        paths.write_atomically(path / "logq.weights.h5", self.network.save_weights)
        record = json.dumps(self._record(), indent=1)
        paths.write_atomically(path / "logq.json", lambda tmp: tmp.write_text(record))
        return path

    @classmethod
    def load(cls, path, library=None) -> LogQModel:
        """A model written by :meth:`save`. With ``library`` (a loaded library), refuse a model
        trained on another library (its fingerprint, :func:`model_set.library_id`)."""
        path = Path(path)
        record_path, weights = path / "logq.json", path / "logq.weights.h5"
        if not (record_path.exists() and weights.exists()):
            raise ValueError(f"{path} holds no saved LogQModel (logq.json + logq.weights.h5).")
        record = json.loads(record_path.read_text())
        if record.get("format") != FORMAT:
            raise ValueError(
                f"{path} was saved in format {record.get('format')}, this code reads {FORMAT}: "
                "train the model again."
            )
        if library is not None and record["library"] != model_set.library_id(library):
            raise ValueError(
                f"{path} was trained on library {record['library']}, not on the one given "
                f"({model_set.library_id(library)}): train it on this library."
            )
        model = cls(
            grid=LogQGrid(**record["grid"]),
            seed=record["seed"],
            width=record["width"],
            epochs=record["epochs"],
            patience=record["patience"],
            batch_size=record["batch_size"],
            learning_rate=record["learning_rate"],
            epoch_fraction=record["epoch_fraction"],
            dropout=record["dropout"],
            max_shift=record.get("max_shift", 0),
            max_dilation=record.get("max_dilation", 0),
            max_blur=record.get("max_blur", 0.0),
            scherrer_dilation=record.get("scherrer_dilation", 0),
            part_dropout=record.get("part_dropout", 0.0),
            monitor=record["monitor"],
            labels=tuple(record["labels"]),
            unseen_size_weight=record.get("unseen_size_weight", 0.0),
            min_temperature=record.get("min_temperature", 0.05),
            trained_log_n={k: tuple(v) for k, v in record.get("trained_log_n", {}).items()},
            temperature=record["temperature"],
            size_scale=tuple(record["size_scale"]),
            size_mean=tuple(record["size_mean"]),
            size_std=tuple(record["size_std"]),
            guinier=record.get("guinier", False),
            guinier_offset=tuple(record.get("guinier_offset", (0.0, 0.0))),
            guinier_spread=tuple(record.get("guinier_spread", (0.0, 0.0))),
            guinier_scale=tuple(record.get("guinier_scale", (1.0, 1.0))),
            library=record["library"],
            history=record["history"],
        )
        model.network = build_network(
            model.grid.n, len(model.labels), model.width, model.seed, model.dropout
        )
        model.network.load_weights(weights)
        return model


def fit_library(
    lib,
    fit_rows,
    val_rows,
    realistic: bool = False,
    rounds: int = 8,
    seed: int = 0,
    ranges: dict | None = None,
    saxs_rounds: int = 0,
    saxs_q_max: tuple = (0.25, 1.0),
    **options,
) -> LogQModel:
    """A :class:`LogQModel` trained on the library rows ``fit_rows`` and early-stopped and
    calibrated on ``val_rows`` (whole structures held out of the training rows, e.g.
    :func:`helpers.learning.model_set.validation_rows`).

    ``realistic=False``: the clean curves. ``realistic=True``: ``rounds`` versions of every
    training curve, each measured under fresh random conditions (``ranges``: those of
    :func:`helpers.measurement.instrument.random_measurements`, with a random overall scale;
    polydispersity averages over ``fit_rows`` only), one shown per epoch; the validation curves
    are measured once (averaging over ``val_rows`` only). ``saxs_rounds`` more versions
    (realistic only) are measured with q_max drawn from ``saxs_q_max`` and q_min from
    :data:`SAXS_Q_MIN` (small angles only), so that the size of a curve without wide angles
    is read from what the model has seen; early stopping and
    calibration still use the ``ranges`` conditions. ``options``: :class:`LogQModel` fields
    (``grid``, ``width``, ``epochs``, ``patience`` ...); ``guinier=True`` fits the size anchor
    (:meth:`LogQModel.calibrate_guinier`) on the clean training curves and the validation curves
    (measured like ``Z_val`` for a realistic model)."""
    fit_rows, val_rows = np.asarray(fit_rows), np.asarray(val_rows)
    if fit_rows.size == 0 or val_rows.size == 0:
        raise ValueError("fit_rows and val_rows must both hold library rows.")
    if np.intersect1d(fit_rows, val_rows).size:
        raise ValueError("fit_rows and val_rows overlap: validation rows must be held out.")
    meta = lib.metadata
    shared = set(meta["structure_id"].iloc[fit_rows]) & set(meta["structure_id"].iloc[val_rows])
    if shared:
        raise ValueError(
            f"{len(shared)} structures are in both fit_rows and val_rows: hold whole structures "
            "out (helpers.learning.model_set.validation_rows with protocol 'grouped')."
        )
    model = LogQModel(seed=seed, **options)
    ranges = ranges or {}
    if realistic:
        Z = measured_versions(
            lib, fit_rows, rounds, model.grid, instrument.derived_seed(seed, 3), **ranges
        )
        if saxs_rounds:
            saxs = {**ranges, "q_min": SAXS_Q_MIN, "q_max": tuple(saxs_q_max)}
            extra = measured_versions(
                lib, fit_rows, saxs_rounds, model.grid, instrument.derived_seed(seed, 5), **saxs
            )
            Z = np.concatenate([Z, extra])
        Z_val = measured_versions(
            lib, val_rows, 1, model.grid, instrument.derived_seed(seed, 4), **ranges
        )[0]
    else:
        Z = prepare(lib.q, lib.intensities[fit_rows], grid=model.grid)
        Z_val = prepare(lib.q, lib.intensities[val_rows], grid=model.grid)
    model.fit(Z, meta.iloc[fit_rows], Z_val, meta.iloc[val_rows])
    if model.guinier:
        if realistic:  # the validation curves of Z_val, as measured curves
            I_val, mask_val = _measured(
                lib, val_rows, 0, instrument.derived_seed(seed, 4), val_rows, ranges
            )
        else:
            I_val, mask_val = lib.intensities[val_rows], None
        model.calibrate_guinier(
            lib.q,
            lib.intensities[fit_rows],
            meta.iloc[fit_rows],
            I_val,
            meta.iloc[val_rows],
            mask_val,
        )
    model.library = model_set.library_id(lib)
    return model


def _check_pooling(pooling):
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}.")


@dataclass
class LogQEnsemble:
    """Log-q models of one training side predicting together: each early-stopped and calibrated
    on other validation structures (:func:`fit_ensemble`), or all on the same ones with
    different seeds (:func:`helpers.characterisation.train`). A single model's choice of epoch
    and temperature rests on the handful of structures it holds out, and which structures those
    are moves its accuracy on unseen particles by several points; with other validation
    structures each member leaves out other ones and learns from the rest, so that together they
    learn from nearly every structure of the training side and depend on no one validation draw;
    with the same ones they differ in their initial weights and training curves only. Shape: the
    mean of the members' calibrated probabilities (``pooling`` "mean") or of their logarithms,
    renormalised ("log"; module doc). Size: the members' Gaussians as one mixture (mean of the
    means; variance the mean of the variances plus the spread of the means); a curve is anchored
    where every member anchored it.
    """

    members: list
    pooling: str = "mean"

    def __post_init__(self):
        if not self.members:
            raise ValueError("an ensemble needs at least one member model.")
        _check_pooling(self.pooling)
        first = self.members[0]
        for m in self.members[1:]:
            if m.labels != first.labels or m.grid != first.grid:
                raise ValueError("ensemble members must share their labels and log-q grid.")

    @property
    def labels(self) -> tuple:
        return self.members[0].labels

    @property
    def grid(self) -> LogQGrid:
        return self.members[0].grid

    @property
    def library(self) -> str | None:
        return self.members[0].library

    def predict_inputs(self, Z) -> LogQPrediction:
        """Predictions from inputs already on the grid (:func:`prepare`)."""
        return self._combined([m.predict_inputs(Z) for m in self.members])

    def predict(self, q, I, mask=None) -> LogQPrediction:
        """Predictions for curves ``I`` measured at ``q`` (Å⁻¹; any grid, see :func:`prepare`)."""
        return self._combined([m.predict(q, I, mask) for m in self.members])

    def _combined(self, parts: list) -> LogQPrediction:
        if self.pooling == "log":
            proba = geometric_mean([p.proba for p in parts])
        else:
            proba = np.mean([p.proba for p in parts], axis=0)
        sizes = {}
        for name in ("log_n_atoms", "log_radius"):
            means = np.array([getattr(p, name) for p in parts])
            stds = np.array([getattr(p, f"{name}_std") for p in parts])
            sizes[name] = means.mean(axis=0)
            sizes[f"{name}_std"] = np.sqrt(np.mean(stds**2, axis=0) + means.var(axis=0))
        flags = [p.guinier for p in parts]
        return LogQPrediction(
            proba=proba,
            shape=np.array(self.labels, dtype=object)[proba.argmax(axis=1)],
            guinier=None if any(f is None for f in flags) else np.all(flags, axis=0),
            **sizes,
        )

    def save(self, path) -> Path:
        """Write each member to ``path``/member_<k> (:meth:`LogQModel.save`) and the pooling to
        ``path``/ensemble.json."""
        path = Path(path)
        for k, member in enumerate(self.members):
            member.save(path / f"member_{k}")
        record = json.dumps({"pooling": self.pooling})
        paths.write_atomically(path / "ensemble.json", lambda tmp: tmp.write_text(record))
        return path

    @classmethod
    def load(cls, path, library=None) -> LogQEnsemble:
        """An ensemble written by :meth:`save` (``library``: see :meth:`LogQModel.load`)."""
        path = Path(path)
        folders = sorted(path.glob("member_*"), key=lambda f: int(f.name.split("_")[1]))
        if not folders:
            raise ValueError(f"{path} holds no saved LogQEnsemble (member_<k> folders).")
        record = path / "ensemble.json"
        pooling = json.loads(record.read_text())["pooling"] if record.exists() else "mean"
        return cls([LogQModel.load(f, library) for f in folders], pooling)


def load_model(path, library=None) -> LogQModel | LogQEnsemble:
    """The model saved in ``path``: a :class:`LogQEnsemble` where the folder holds one
    (``ensemble.json``), else a :class:`LogQModel` (``library``: see :meth:`LogQModel.load`)."""
    path = Path(path)
    kind = LogQEnsemble if (path / "ensemble.json").exists() else LogQModel
    return kind.load(path, library=library)


def fit_ensemble(
    lib, train, members: int, seed: int = 0, pooling: str = "mean", extra_rows=None, **options
) -> LogQEnsemble:
    """``members`` log-q models on the library rows ``train``: member k is early-stopped and
    calibrated on the whole structures :func:`helpers.learning.model_set.validation_rows` holds
    out with seed ``seed`` + k and trained on the rest (member 0 is the model a single
    :func:`fit_library` call with ``seed`` gives); ``pooling``: :class:`LogQEnsemble`'s.
    ``extra_rows``: library rows every member trains on and none validates on (e.g. the
    training-only variants of :func:`helpers.simulation.library.bipyramid_variants`), structures
    apart from those of ``train``. ``options``: those of :func:`fit_library`."""
    _check_pooling(pooling)  # before any training
    if isinstance(members, bool) or not isinstance(members, (int, np.integer)) or members < 1:
        raise ValueError(f"members must be an integer >= 1, got {members!r}.")
    meta = lib.metadata
    extra = np.asarray([] if extra_rows is None else extra_rows, dtype=int)
    shared = set(meta["structure_id"].iloc[extra]) & set(meta["structure_id"].iloc[train])
    if shared:
        raise ValueError(
            f"extra_rows share structures {sorted(shared)} with train: give extra structures only "
            "(they are trained on by every member, never validated on)."
        )
    models = []
    for k in range(members):
        fit, val = model_set.validation_rows(meta, train, "grouped", seed=seed + k)
        models.append(fit_library(lib, np.concatenate([fit, extra]), val, seed=seed, **options))
    return LogQEnsemble(models, pooling)


def score(prediction: LogQPrediction, labels, meta: pd.DataFrame, rows, level: float = 0.9):
    """Scores of a prediction for the library rows ``rows`` (columns of ``prediction.proba`` in
    the order ``labels``): shape accuracy and expected calibration error; ln N (as
    :data:`helpers.learning.targets.LOG_N`) and ln R_eq (:data:`LOG_R`) with the coverage of their
    ``level`` intervals. Returns ([{"target", "metrics"}], per-curve columns: predicted shape, its
    probability, the probability of the true shape, ln R_eq with its interval, ln N)."""
    part = meta.iloc[np.asarray(rows)]
    true_shape = part["shape"].to_numpy()
    labels = list(labels)
    unknown = sorted(set(true_shape) - set(labels))
    if unknown:
        raise ValueError(f"shapes {unknown} are not among the model's labels {labels}.")
    y = np.array([labels.index(s) for s in true_shape])
    ivl = prediction.interval(level)
    ln_n, ln_r = part["log_n_atoms"].to_numpy(), np.log(part["eq_radius"].to_numpy())
    shape_scores = metrics.accuracy(true_shape, prediction.shape)
    shape_scores["ECE"] = metrics.expected_calibration_error(prediction.proba, y)
    n_scores = metrics.regression_metrics(ln_n, prediction.log_n_atoms)
    n_scores["coverage_90"] = metrics.interval_coverage(
        ln_n, ivl["log_n_atoms_low"], ivl["log_n_atoms_high"]
    )
    r_scores = {
        "RMSE": float(np.sqrt(np.mean((ln_r - prediction.log_radius) ** 2))),
        "coverage_90": metrics.interval_coverage(
            ln_r, ivl["log_radius_low"], ivl["log_radius_high"]
        ),
    }
    per_curve = dict(
        shape_pred=prediction.shape,
        confidence=prediction.proba.max(axis=1),
        p_true=prediction.proba[np.arange(len(y)), y],
        log_radius_pred=prediction.log_radius,
        log_radius_low=ivl["log_radius_low"],
        log_radius_high=ivl["log_radius_high"],
        log_n_pred=prediction.log_n_atoms,
        guinier=(
            np.zeros(len(part), dtype=bool) if prediction.guinier is None else prediction.guinier
        ),
    )
    scores = [
        dict(target=targets.SHAPE, metrics=shape_scores),
        dict(target=targets.LOG_N, metrics=n_scores),
        dict(target=LOG_R, metrics=r_scores),
    ]
    return scores, per_curve
