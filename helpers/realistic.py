"""A realistic measurement model, and inputs that let a model cope with it.

A measured SAXS/WAXS curve differs from the ideal Debye curve of one particle by

1. **size polydispersity** (:func:`polydisperse`): a sample holds many particles of slightly different
   sizes. The curve is the number-weighted average of the curves of one shape over a log-normal
   distribution of the equivalent radius, ``w_k ∝ exp(-(ln R_k - ln R_0)² / 2σ²)`` over the sizes R_k
   of the library (same shape, element and B_iso), R_0 the particle's own size. σ = 0 is the
   monodisperse curve. Labels stay those of the central particle.
2. **instrument resolution** (:func:`smear`): each measured point averages I over a Gaussian in q of
   standard deviation ``σ_q(q) = sqrt(σ_0² + (r q)²)`` (beam size and divergence give σ_0, the
   wavelength spread Δλ/λ gives the relative part r). It washes out fringes and sharp Bragg peaks.
3. **background** (:func:`add_background`): a flat part (fluorescence, incoherent and solvent
   scattering), ``flat`` times the clean curve's intensity at its highest q, plus a power law
   ``power (q / q_0)^-exponent`` with q_0 the lowest q (Porod-like scattering of large aggregates or
   the support; exponent 4), ``power`` times the clean curve's intensity at q_0.
4. **counting noise**: :func:`helpers.degrade.poisson_noise` at a number of photons per curve;
5. **a q window** other than the study's grid: points outside [q_min, q_max] are not measured.

:func:`measure` applies them in this order. A model trained on the study's grid is given a measured
curve on the full grid with a **mask**: the log intensity, standardised, is set to 0 (the training
mean) where nothing was measured, and a second channel holds the mask (1 = measured). This keeps every
point at its true q (a Bragg peak is always at the same input index), lets the network know which
zeros are "not measured" rather than "average", and needs no resampling; the alternative, resampling
the window to a fixed number of points, moves the peaks (notebook 08).
"""
from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from . import degrade, features


@dataclass(frozen=True)
class Measurement:
    """The parameters of one measurement (defaults: the ideal curve on the full grid)."""
    polydispersity: float = 0.0  # σ of ln R_eq
    resolution: float = 0.0  # σ_0 in Å⁻¹
    relative_resolution: float = 0.0  # r = σ_q / q part
    flat: float = 0.0  # flat background, in units of the clean I(q_max)
    power: float = 0.0  # power-law background at q_min, in units of the clean I(q_min)
    exponent: float = 4.0
    photons: float = np.inf  # per curve
    q_min: float = 0.0  # measured window
    q_max: float = np.inf


def polydisperse(lib, rows, sigma) -> np.ndarray:
    """Number-weighted log-normal size average of the curves ``rows`` of a library (see module doc).
    ``sigma``: one value or one per row (σ of ln R_eq, >= 0)."""
    meta, X = lib.metadata, lib.intensities
    rows = np.asarray(rows)
    sigma = np.broadcast_to(np.asarray(sigma, dtype=float), rows.shape)
    if np.any(sigma < 0) or not np.all(np.isfinite(sigma)):
        raise ValueError("polydispersity sigma must be a finite number >= 0 (0: monodisperse).")
    family = meta.groupby(["shape", "element", "b_iso"], sort=False).indices
    log_r = np.log(meta["eq_radius"].to_numpy(float))
    out = np.empty((rows.size, X.shape[1]))
    for k, (row, s) in enumerate(zip(rows, sigma)):
        if s == 0:
            out[k] = X[row]
            continue
        members = family[tuple(meta.loc[row, ["shape", "element", "b_iso"]])]
        w = np.exp(-((log_r[members] - log_r[row]) ** 2) / (2 * s * s))
        out[k] = w @ X[members] / w.sum()
    return out


def resolution_matrix(q, sigma0: float, relative: float = 0.0) -> np.ndarray:
    """R[i, j]: weight of I(q_j) in the measured I(q_i), Gaussian of σ_q(q_i), each row summing to 1."""
    q = np.asarray(q, dtype=float)
    if sigma0 < 0 or relative < 0:
        raise ValueError("resolution widths must be >= 0.")
    s = np.sqrt(sigma0**2 + (relative * q) ** 2)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        R = np.where(s > 0, np.exp(-0.5 * ((q[None, :] - q[:, None]) / s) ** 2), (q[None, :] == q[:, None]) * 1.0)
    return R / R.sum(axis=1, keepdims=True)


def smear(q, I, sigma0: float, relative: float = 0.0) -> np.ndarray:
    """Gaussian resolution smearing of curves (n, n_q) or one curve."""
    if sigma0 == 0 and relative == 0:
        return np.array(I, dtype=float, copy=True)
    return np.asarray(I, dtype=float) @ resolution_matrix(q, sigma0, relative).T


def add_background(q, I, flat: float = 0.0, power: float = 0.0, exponent: float = 4.0) -> np.ndarray:
    """Flat + power-law background, scaled by each curve's own I(q_max) and I(q_min) (module doc)."""
    if flat < 0 or power < 0:
        raise ValueError("background levels must be >= 0.")
    q = np.asarray(q, dtype=float)
    I = np.asarray(I, dtype=float)
    return I + flat * I[..., -1:] + power * I[..., :1] * (q / q[0]) ** (-exponent)


def window_mask(q, q_min: float, q_max: float) -> np.ndarray:
    mask = (np.asarray(q) >= q_min) & (np.asarray(q) <= q_max)
    if mask.sum() < 2:
        raise ValueError(f"the window [{q_min}, {q_max}] Å⁻¹ holds fewer than 2 grid points: widen it.")
    return mask


def measure(lib, rows, measurements, seed: int = 0):
    """Realistic curves of library ``rows``: one :class:`Measurement` for all, or one per row.
    Returns ``(I, mask)``, both (n, n_q); I is NaN where not measured (mask False)."""
    rows = np.asarray(rows)
    if isinstance(measurements, Measurement):
        measurements = [measurements] * rows.size
    if len(measurements) != rows.size:
        raise ValueError(f"{len(measurements)} measurements for {rows.size} curves: give one, or one per curve.")
    q = lib.q
    table = pd.DataFrame([asdict(m) for m in measurements])
    I = polydisperse(lib, rows, table["polydispersity"].to_numpy())
    for (s0, rel), idx in table.groupby(["resolution", "relative_resolution"]).indices.items():
        I[idx] = smear(q, I[idx], s0, rel)
    for k, m in enumerate(measurements):
        I[k] = add_background(q, I[k], m.flat, m.power, m.exponent)
    rng = np.random.default_rng(seed)
    for k, m in enumerate(measurements):
        if np.isfinite(m.photons):
            I[k] = degrade.poisson_noise(q, I[k], m.photons, seed=int(rng.integers(2**32)))[1]
    mask = np.stack([window_mask(q, m.q_min, m.q_max) for m in measurements])
    return np.where(mask, I, np.nan), mask


def random_measurements(n: int, seed: int = 0, polydispersity=(0.0, 0.15), resolution=(0.0, 0.005, 0.01),
                        relative_resolution=(0.0, 0.01, 0.02), flat=(0.0, 1.0), power=(0.0, 1e-3),
                        photons=(1e5, 1e9), q_min=(0.01, 0.3), q_max=(5.0, 19.99)) -> list[Measurement]:
    """Random measurement conditions for augmentation: uniform in each (low, high) range, log-uniform
    for photons and q_min; the resolution widths are drawn from the listed values (few widths, so that
    curves share resolution matrices)."""
    rng = np.random.default_rng(seed)

    def uniform(lo_hi):
        return rng.uniform(*lo_hi, size=n)

    def log_uniform(lo_hi):
        return np.exp(rng.uniform(np.log(lo_hi[0]), np.log(lo_hi[1]), size=n))

    columns = dict(polydispersity=uniform(polydispersity), resolution=rng.choice(resolution, size=n),
                   relative_resolution=rng.choice(relative_resolution, size=n), flat=uniform(flat),
                   power=uniform(power), photons=log_uniform(photons), q_min=log_uniform(q_min),
                   q_max=uniform(q_max))
    return [Measurement(**{k: float(v[i]) for k, v in columns.items()}) for i in range(n)]


class MaskedFeatures:
    """Measured curves (NaN where not measured) -> standardised log10 I, 0 where not measured, and the
    mask as a second channel. Fitted on training curves (the standardisation uses measured points only)."""

    def fit(self, I, mask):
        logs = self._logs(I, mask)
        with warnings.catch_warnings():  # q points that no training curve measured get mean 0, scale 1
            warnings.simplefilter("ignore", RuntimeWarning)
            self.mean_ = np.nanmean(logs, axis=0)
            self.scale_ = np.nanstd(logs, axis=0)
        self.mean_ = np.where(np.isfinite(self.mean_), self.mean_, 0.0)
        self.scale_ = np.where(np.isfinite(self.scale_) & (self.scale_ > 0), self.scale_, 1.0)
        return self

    @staticmethod
    def _logs(I, mask):
        I = np.asarray(I, dtype=float)
        filled = features.repair_curves(np.where(mask, I, np.nan))  # zero counts inside the window interpolated
        return np.where(mask, filled, np.nan)

    def transform(self, I, mask, channels: int = 2) -> np.ndarray:
        Z = np.nan_to_num((self._logs(I, mask) - self.mean_) / self.scale_, nan=0.0)
        if channels == 1:
            return Z
        return np.stack([Z, np.asarray(mask, dtype=float)], axis=-1)


def as_full_grid(q, I, mask, how: str = "interpolate") -> np.ndarray:
    """Measured curves (NaN outside each curve's window) for a model trained on the full grid ``q``,
    through :func:`helpers.degrade.present`, curve by curve (each may have its own window)."""
    out = np.empty_like(np.asarray(I, dtype=float))
    for k in range(len(out)):
        measured = mask[k]
        out[k] = degrade.present(q[measured], I[k, measured], q, how)[1]
    return out


# --- models trained on realistic curves ------------------------------------------------------------

def _seed(seed: int, *tags: int) -> int:
    """An independent seed for each random step (round r of the training curves, the validation
    curves, the test conditions ...), derived from the user's ``seed``."""
    return int(np.random.SeedSequence([seed, *tags]).generate_state(1)[0])


#: early stopping of the realistic CNN, chosen on validation curves (notebook 10): keep the epoch of best
#: validation accuracy, stop 20 epochs later, halve the learning rate after 5 without progress
CNN_EARLY_STOPPING = {"monitor": "val_accuracy", "patience": 20, "lr_patience": 5}


def fit_models(lib, train, protocol: str, seed: int = 0, epochs: int = 150, rounds: int = 32, linear_rounds: int = 2,
               validation_size: float = 0.15, early_stopping: dict | None = None, **ranges) -> dict:
    """Ridge (size targets), logistic (shape) and the CNN with a mask channel (shape, size class),
    trained on realistic versions of the library rows ``train``.

    A validation part of ``train`` (whole structures for the grouped protocol) is measured once under
    random conditions, for early stopping and for choosing the linear models' hyperparameters; the
    other rows are measured ``rounds`` times under fresh random conditions (``ranges``: those of
    :func:`random_measurements`). The CNN sees one version of every curve per epoch, the next version
    the next epoch; trained on the same two noisy versions every epoch it learned their noise by heart (99.8 %
    training, 82 % validation accuracy). The linear models are fitted on ``linear_rounds`` versions.
    ``early_stopping``: options of :func:`helpers.models.train_cnn` (``monitor``, ``patience``,
    ``lr_patience``) for the CNN's early stopping on the validation curves; default
    :data:`CNN_EARLY_STOPPING`.
    """
    from . import experiments, models, splits

    meta = lib.metadata
    train = np.asarray(train)
    if not 1 <= linear_rounds <= rounds:
        raise ValueError(f"linear_rounds must be between 1 and rounds = {rounds}, got {linear_rounds}.")
    early_stopping = CNN_EARLY_STOPPING if early_stopping is None else early_stopping
    unknown = set(early_stopping) - {"monitor", "patience", "lr_patience"}
    if unknown:
        raise ValueError(f"early_stopping takes monitor, patience and lr_patience; got {sorted(unknown)}.")
    _, val_pos = splits.split_indices(meta.iloc[train].reset_index(drop=True), protocol, test_size=validation_size,
                                      seed=seed + 1, stratify=False)
    val = train[val_pos]
    fit = np.setdiff1d(train, val)
    versions = []
    for r in range(rounds):
        I, mask = measure(lib, fit, random_measurements(len(fit), seed=_seed(seed, 1, r), **ranges), seed=_seed(seed, 2, r))
        if r == 0:
            prep = MaskedFeatures().fit(I, mask)
        versions.append(prep.transform(I, mask).astype("float32"))
    versions = np.stack(versions)  # (rounds, n, L, 2)
    I, mask = measure(lib, val, random_measurements(len(val), seed=_seed(seed, 3), **ranges), seed=_seed(seed, 4))
    Z_val = prep.transform(I, mask).astype("float32")

    rows = np.concatenate([np.tile(fit, linear_rounds), val])
    Z1 = np.concatenate([versions[:linear_rounds, ..., 0].reshape(-1, versions.shape[2]), Z_val[..., 0]])
    part = meta.iloc[rows]
    groups = part["structure_id"].to_numpy() if protocol == "grouped" else None
    ridge = models.EigenRidgeCV(seed=seed).fit(Z1, experiments.size_targets(part), groups=groups)
    logistic = models.ValidatedLogistic(seed=seed).fit(Z1, part["shape"].to_numpy(), groups=groups)
    cnns, histories = {}, {}
    for target in experiments.CNN_TARGETS:
        labels, names = experiments.cnn_labels(meta, target)
        cnns[target], histories[target] = models.train_cnn(versions, labels[fit], len(names), seed=seed, epochs=epochs,
                                                           validation_data=(Z_val, labels[val]), **early_stopping)
    return {"prep": prep, "ridge": ridge, "logistic": logistic, "cnn": cnns, "history": histories}


def compare(lib, conditions: dict, protocols=("random", "grouped"), seed: int = 0, epochs: int = 150,
            clean_epochs: int = 150, rounds: int = 32, linear_rounds: int = 2, early_stopping: dict | None = None,
            **ranges):
    """Models trained on realistic curves against the study's (the clean models of notebooks 02-03),
    on the same realistic test curves, for every test condition and split protocol.

    ``conditions``: name -> :class:`Measurement` for all test curves; "random conditions" (one draw per
    test curve from ``ranges``) is added. The clean models get the measured points at their true q
    (:func:`as_full_grid`). Returns (tidy results table, {protocol: the realistic models' fitted dict}).
    """
    from . import experiments, results, splits

    tests = dict(conditions)
    table, fitted = [], {}
    for protocol in protocols:
        train, test = splits.split_indices(lib.metadata, protocol, seed=seed)
        robust = fitted[protocol] = fit_models(lib, train, protocol, seed=seed, epochs=epochs, rounds=rounds,
                                               linear_rounds=linear_rounds, early_stopping=early_stopping, **ranges)
        clean = experiments.clean_models(lib, protocol, seed=seed, epochs=clean_epochs)
        tests["random conditions"] = random_measurements(len(test), seed=_seed(seed, 5), **ranges)
        for k, (name, condition) in enumerate(tests.items()):
            I, mask = measure(lib, test, condition, seed=_seed(seed, 6, k))
            for s in score_models(robust, lib, test, I, mask):
                table += results.rows("X", name, s["model"], "training_and_prediction", protocol, s["target"], s["metrics"])
            for s in experiments.score(clean, as_full_grid(lib.q, I, mask), lib.metadata, test):
                table += results.rows("X", name, s["model"], "simple_prediction", protocol, s["target"], s["metrics"])
    return pd.DataFrame(table, columns=results.COLUMNS), fitted


def score_models(fitted: dict, lib, rows, I, mask) -> list[dict]:
    """(model, target, metrics) of models from :func:`fit_models` on realistic curves of ``rows``."""
    from . import experiments, models, results

    meta = lib.metadata
    Z2 = fitted["prep"].transform(I, mask).astype("float32")
    Z1 = Z2[..., 0]
    part = meta.iloc[rows]
    out = []
    pred = fitted["ridge"].predict(Z1)
    true = experiments.size_targets(part)
    for j, target in enumerate(experiments.SIZE_TARGET_NAMES):
        out.append(dict(model="ridge", target=target, metrics=results.regression_metrics(true[:, j], pred[:, j])))
    out.append(dict(model="logistic", target="shape",
                    metrics=results.accuracy(part["shape"].to_numpy(), fitted["logistic"].predict(Z1))))
    for target, model in fitted["cnn"].items():
        labels = experiments.cnn_labels(meta, target)[0][rows]
        out.append(dict(model="cnn1d", target=target, metrics=results.accuracy(labels, models.predict_classes(model, Z2))))
    return out
