"""A particle never seen in training: every model family on structure-grouped K folds.

One grouped split of 20 % holds out only 17 of the study's 78 structures, so its accuracy moves by
many points with the seed of the split. Here every structure is tested exactly once:

- **folds** (:func:`helpers.learning.splits.grouped_kfold`): K folds of whole structures (a shape
  and a size, with all its elements and B_iso), stratified by shape; and the **extrapolation fold**
  (:func:`helpers.learning.splits.extrapolation_fold`): the smallest and the largest structure of
  every shape held out together, sizes a model has to extrapolate to;
- **validation inside the training folds only**: the structures that stop a network early, choose
  Ridge's alpha, the logistic C and the temperature of the log-q model are drawn from the training
  folds (:func:`helpers.learning.model_set.validation_rows`, protocol ``grouped``); no test
  structure is ever seen, in any element, B_iso or measurement;
- **families**: ``linear`` (Ridge for the sizes, logistic regression for the shape, on
  standardised log10 I: the study's baselines), ``cnn1d`` (the study's CNN, shape and size class),
  ``logq`` (:mod:`helpers.learning.logq` trained on clean curves) and ``logq_realistic`` (the same
  network trained on curves measured under fresh random conditions);
- **test conditions**: the clean curves, and measurement conditions (name ->
  :class:`helpers.measurement.instrument.Measurement`, e.g.
  :func:`helpers.studies.realistic.test_conditions`) applied to the
  test rows only (polydispersity averages over test structures only), in arbitrary units. The
  clean-trained baselines are shown measured curves at their true q on their full grid, repaired
  where nothing was measured (:func:`helpers.measurement.instrument.as_full_grid`).

The tidy table has the repo's columns (:mod:`helpers.report.results`) with ``split`` =
``grouped_kfold`` and ``level`` = the fold index (``split`` = ``extrapolation``, no level, for the
extrapolation fold); :func:`fold_summary` gives mean, standard deviation and range over folds.
The per-curve predictions (probabilities' confidence, sizes and intervals) feed the reliability
diagram, the parity plots and the accuracy per held-out size and per shape.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..learning import logq, metrics, model_set, splits, targets
from ..measurement import instrument
from ..report import results
from ..simulation import library

FAMILIES = ("linear", "cnn1d", "logq", "logq_realistic")
CLEAN = "clean"
KFOLD, EXTRAPOLATION = "grouped_kfold", "extrapolation"
#: the interval level whose coverage is reported
LEVEL = 0.9
LOG_R = logq.LOG_R


def folds(
    meta: pd.DataFrame, k: int = 5, seed: int = 0, extrapolation: bool = True, rows=None
) -> list:
    """[(split name, fold index or NaN, train rows, test rows)]: the K grouped folds, then the
    extrapolation fold. ``rows``: library rows (e.g. some elements and B_iso only) to which the
    folds are restricted (default: every row); the rows returned are library rows."""
    if rows is None:
        rows = np.arange(len(meta))
    else:
        rows = np.asarray(rows)
        if rows.ndim != 1 or rows.size == 0 or not np.issubdtype(rows.dtype, np.integer):
            raise ValueError("rows must be a non-empty 1-D array of library row numbers.")
        if np.any(np.diff(rows) <= 0) or rows[0] < 0 or rows[-1] >= len(meta):
            raise ValueError(
                f"rows must be increasing library row numbers in 0..{len(meta) - 1}, without "
                "repeats: pass np.unique(rows)."
            )
    part = meta.iloc[rows]
    out = [
        (KFOLD, f, rows[tr], rows[te])
        for f, (tr, te) in enumerate(splits.grouped_kfold(part, k, seed))
    ]
    if extrapolation:
        tr, te = splits.extrapolation_fold(part)
        out.append((EXTRAPOLATION, np.nan, rows[tr], rows[te]))
    return out


#: where a held-out particle's size lies against the sizes of its shape that its fold trains on
SIZE_POSITIONS = ("smaller", "between", "larger")


def size_position(meta: pd.DataFrame, train, test) -> np.ndarray:
    """For every row of ``test``: "between" when the fold trains on a smaller and on a larger
    particle of its shape (by number of atoms, so that the element's lattice does not count),
    "smaller" or "larger" when it is smaller or larger than every particle of its shape in
    ``train``: its shape is then recognised by extrapolation in size. A shape absent from
    ``train`` counts as "smaller"."""
    train, test = np.asarray(train), np.asarray(test)
    trained = meta.iloc[train].groupby("shape")["n_atoms"]
    low, high = trained.min(), trained.max()
    shape = meta["shape"].iloc[test]
    atoms = meta["n_atoms"].iloc[test].to_numpy()
    below = atoms > shape.map(low).to_numpy()  # NaN (shape not trained) compares False
    above = atoms < shape.map(high).to_numpy()
    return np.where(below & above, "between", np.where(below, "larger", "smaller"))


def fit_fold(
    lib,
    train,
    families=FAMILIES,
    seed: int = 0,
    cnn_epochs: int = 150,
    logq_options: dict | None = None,
    clean_logq_options: dict | None = None,
    realistic_logq_options: dict | None = None,
    clean_logq_members: int = 1,
    realistic_logq_members: int = 1,
    clean_logq_variants=None,
    realistic_logq_variants=None,
    rounds: int = 8,
    ranges: dict | None = None,
    cnn_targets=targets.CNN_TARGETS,
    timings: dict | None = None,
) -> dict:
    """The models of ``families`` trained on the library rows ``train`` (validation structures
    drawn from them): {"ridge", "logistic", "cnn1d_<target>" for ``cnn_targets``, "logq",
    "logq_realistic"}. ``logq_options``: :class:`helpers.learning.logq.LogQModel` fields of both
    log-q models; ``clean_logq_options`` (``realistic_logq_options``): more fields (or other
    values) for the clean (realistic) one only;
    ``clean_logq_members`` (``realistic_logq_members``) > 1: the clean (realistic) one is an
    ensemble of that many models, each with other validation structures
    (:func:`helpers.learning.logq.fit_ensemble`; the option ``pooling`` says how its members'
    probabilities combine).
    ``clean_logq_variants``: a library of training-only curves on ``lib``'s grid
    (:func:`helpers.simulation.library.bipyramid_variants`) that the clean log-q model trains on
    besides ``train``, those of :func:`variant_rows` only; ``realistic_logq_variants``: the same
    for the realistic one (measured like its other training curves; polydispersity averages a
    variant with the library's particles of its shape, element and B_iso on the training side).
    ``timings``, if given, receives the wall time in seconds of each family's training."""
    unknown = set(families) - set(FAMILIES)
    if unknown:
        raise ValueError(f"unknown families {sorted(unknown)}: choose from {FAMILIES}.")
    X, meta = lib.intensities, lib.metadata
    fitted = {}
    timings = {} if timings is None else timings
    if "linear" in families:
        start = time.perf_counter()
        fitted["ridge"], fitted["logistic"] = model_set.fit_linear(
            X, meta, train, "grouped", seed=seed
        )
        timings["linear"] = time.perf_counter() - start
    if "cnn1d" in families:
        start = time.perf_counter()
        for target in cnn_targets:
            fitted[f"cnn1d_{target}"] = model_set.fit_cnn(
                X, meta, train, "grouped", target, seed, cnn_epochs
            )
        timings["cnn1d"] = time.perf_counter() - start
    fit, val = model_set.validation_rows(meta, train, "grouped", seed=seed)
    for name, measured in (("logq", False), ("logq_realistic", True)):
        if name in families:
            start = time.perf_counter()
            data, extra = lib, np.array([], dtype=int)
            variants = realistic_logq_variants if measured else clean_logq_variants
            if variants is not None:
                data = library.joined(lib, variants)
                extra = variant_rows(data.metadata, train, len(lib))
            own = realistic_logq_options if measured else clean_logq_options
            options = dict(
                realistic=measured,
                rounds=rounds,
                seed=seed,
                ranges=ranges,
                **{**(logq_options or {}), **(own or {})},
            )
            members = realistic_logq_members if measured else clean_logq_members
            pooling = options.pop("pooling", "mean")
            if members > 1:
                fitted[name] = logq.fit_ensemble(
                    data, train, members, pooling=pooling, extra_rows=extra, **options
                )
            elif pooling != "mean":
                raise ValueError(
                    f"pooling {pooling!r} combines an ensemble's members: give {name} more than "
                    "one member (clean_logq_members / realistic_logq_members)."
                )
            else:
                fitted[name] = logq.fit_library(data, np.concatenate([fit, extra]), val, **options)
            timings[name] = time.perf_counter() - start
    return fitted


def _curves(lib, test, condition, seed: int, k: int, absolute: bool):
    """The test rows' curves under ``condition`` (None: the clean library curves) and their
    measured-point mask."""
    if condition is None:
        return lib.intensities[test], np.ones((len(test), lib.q.size), dtype=bool)
    if not absolute:
        condition = instrument.with_random_scale(
            condition, len(test), seed=instrument.derived_seed(seed, 7, k)
        )
    I, mask = instrument.measure(
        lib, test, condition, seed=instrument.derived_seed(seed, 6, k), pool=test
    )
    return I, mask & (np.nan_to_num(I) > 0)


def _baseline_scores(fitted, X_shown, meta, test, repair) -> tuple[list[dict], dict]:
    """Scores of the study's families, with the Ridge radius (ln R_eq = prediction of
    sqrt_log_eq_radius squared) and the calibration of the classifiers' probabilities."""
    base = {k: v for k, v in fitted.items() if not k.startswith("logq")}
    scores = model_set.score(base, X_shown, meta, test, repair=repair)
    part, per_model = meta.iloc[test], {}
    if "ridge" in base:
        ridge = model_set.repairing(base["ridge"]) if repair else base["ridge"]
        pred = ridge.predict(X_shown)[:, targets.SIZE_TARGET_NAMES.index("sqrt_log_eq_radius")]
        ln_r = np.log(part["eq_radius"].to_numpy())
        rmse = float(np.sqrt(np.mean((ln_r - np.square(pred)) ** 2)))
        scores.append(dict(model="ridge", target=LOG_R, metrics={"RMSE": rmse}))
    for name in ("logistic", "cnn1d_shape"):
        if name in base:
            model = model_set.repairing(base[name]) if repair else base[name]
            proba = model.predict_proba(X_shown)
            classes = list(model.classes_)
            y = np.array([classes.index(s) for s in part["shape"]])
            family = "logistic" if name == "logistic" else "cnn1d"
            scores.append(
                dict(
                    model=family,
                    target=targets.SHAPE,
                    metrics={"ECE": metrics.expected_calibration_error(proba, y)},
                )
            )
            per_model[family] = dict(
                shape_pred=np.asarray(classes)[proba.argmax(axis=1)],
                confidence=proba.max(axis=1),
                p_true=proba[np.arange(len(y)), y],
            )
    return scores, per_model


def evaluate_fold(
    lib, fitted: dict, test, conditions: dict | None = None, seed: int = 0, absolute=("ideal",)
) -> tuple[list[dict], list[pd.DataFrame]]:
    """Score the models of one fold on its clean test curves and under ``conditions``: tidy
    (input, model, protocol, target, metrics) dicts and per-curve prediction frames."""
    meta, out, frames = lib.metadata, [], []
    tests = {CLEAN: None, **(conditions or {})}
    for k, (name, condition) in enumerate(tests.items()):
        I, mask = _curves(lib, test, condition, seed, k, name in absolute)
        shown = I if condition is None else instrument.as_full_grid(lib.q, I, mask)
        clean_protocol = CLEAN if condition is None else "simple_prediction"
        scores, per_model = _baseline_scores(
            fitted, shown, meta, test, repair=condition is not None
        )
        out += [dict(s, input=name, protocol=clean_protocol) for s in scores]
        for model_name in ("logq", "logq_realistic"):
            if model_name not in fitted:
                continue
            model = fitted[model_name]
            prediction = model.predict(lib.q, I, mask)
            scores, per_curve = logq.score(prediction, model.labels, meta, test, LEVEL)
            protocol = clean_protocol if model_name == "logq" else "training_and_prediction"
            out += [dict(s, input=name, model=model_name, protocol=protocol) for s in scores]
            per_model[model_name] = per_curve
        for model_name, columns in per_model.items():
            frame = pd.DataFrame(columns)
            frame.insert(0, "row", np.asarray(test))
            frame.insert(1, "input", name)
            frame.insert(2, "model", model_name)
            frames.append(frame)
    return out, frames


def variant_rows(meta: pd.DataFrame, train, first: int) -> np.ndarray:
    """The rows from ``first`` on of ``meta`` (training-only variants joined after the library,
    :func:`helpers.simulation.library.joined`) that a model trained on the library rows ``train``
    may see: a variant of a shape and builder size (``size_parameter_1``) only where ``train``
    holds the library's structure of that shape and size. A held-out particle's variants (the
    same sizeP, another elongation) are left out with it, so no test structure has a sibling in
    training."""
    train = np.asarray(train)
    if len(train) and train.max() >= first:
        raise ValueError("train must hold library rows only (before the variants).")
    key = ["shape", "size_parameter_1"]
    trained = set(map(tuple, meta.iloc[train][key].itertuples(index=False)))
    rows = np.arange(first, len(meta))
    keys = meta.iloc[rows][key].itertuples(index=False)
    return rows[np.array([tuple(k) in trained for k in keys], dtype=bool)]


def run(
    lib,
    k: int = 5,
    seed: int = 0,
    families=FAMILIES,
    conditions: dict | None = None,
    extrapolation: bool = True,
    section: str = "generalisation",
    progress=None,
    rows=None,
    **fit_options,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every family trained and tested on each grouped fold (and the extrapolation fold): (tidy
    results table, per-curve predictions with the true shape and sizes, and where each size lies
    against its fold's training sizes, :func:`size_position`). ``fit_options``: those
    of :func:`fit_fold`. ``progress``: a callable given a line per finished fold with the training
    time of each family (e.g. print). ``rows``: the library rows the folds are made of (see
    :func:`folds`; default every row)."""
    meta = lib.metadata
    table, frames = [], []
    for split, fold, train, test in folds(meta, k, seed, extrapolation, rows):
        timings = {}
        fitted = fit_fold(lib, train, families, seed=seed, timings=timings, **fit_options)
        scores, per_curve = evaluate_fold(
            lib, fitted, test, conditions, seed=instrument.derived_seed(seed, 9)
        )
        for s in scores:
            table += results.rows(
                section,
                s["input"],
                s["model"],
                s["protocol"],
                split,
                s["target"],
                s["metrics"],
                level=fold,
            )
        position = dict(zip(np.asarray(test), size_position(meta, train, test)))
        for frame in per_curve:
            frame.insert(0, "split", split)
            frame.insert(1, "fold", fold)
            frame["size_position"] = pd.Categorical(
                frame["row"].map(position), categories=SIZE_POSITIONS
            )
            frames.append(frame)
        if progress is not None:
            trained = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items())
            name = split if np.isnan(fold) else f"{split} {int(fold)}"
            progress(f"{name}: {len(test)} test curves; training took {trained}")
    predictions = pd.concat(frames, ignore_index=True)
    truth = meta[["shape", "structure_id", "n_atoms", "log_n_atoms", "eq_radius"]]
    predictions = predictions.join(truth, on="row")
    predictions["log_radius"] = np.log(predictions["eq_radius"])
    return pd.DataFrame(table, columns=results.COLUMNS), predictions


def fold_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation (ddof 1), minimum, maximum and number of the grouped folds of every
    (input, model, protocol, target, metric) (:func:`helpers.report.results.fold_summary`)."""
    return results.fold_summary(table, KFOLD)


def _selected(
    predictions: pd.DataFrame, input_name: str, split: str, model: str | None = None
) -> pd.DataFrame:
    """The per-curve predictions of one input and split (and one model, if given)."""
    part = predictions[(predictions["input"] == input_name) & (predictions["split"] == split)]
    if part.empty:
        inputs = sorted(predictions["input"].unique())
        splits_ = sorted(predictions["split"].unique())
        raise ValueError(
            f"no predictions for input {input_name!r} on split {split!r}: inputs are {inputs}, "
            f"splits {splits_}."
        )
    if model is not None:
        models = sorted(part["model"].unique())
        part = part[part["model"] == model]
        if part.empty:
            raise ValueError(f"no predictions of model {model!r}: models are {models}.")
    return part


def accuracy_by(
    predictions: pd.DataFrame, by: str, input_name: str = CLEAN, split: str = KFOLD
) -> pd.DataFrame:
    """Shape accuracy of every model per value of the per-curve column ``by`` (e.g. ``shape`` or
    a size bin), pooled over the test folds of ``split``: columns ``model``, ``by``,
    ``accuracy``, ``count``."""
    part = _selected(predictions, input_name, split)
    correct = part["shape_pred"] == part["shape"]
    grouped = correct.groupby([part["model"], part[by]], sort=False, observed=True)
    table = grouped.agg(["mean", "size"]).reset_index()
    table = table.sort_values(by, kind="stable", ignore_index=True)  # sizes in order
    return table.rename(columns={"mean": "accuracy", "size": "count"})


def confusions(
    predictions: pd.DataFrame, model: str, input_name: str = CLEAN, split: str = KFOLD
) -> pd.DataFrame:
    """The shapes ``model`` takes held-out particles for, pooled over the test folds of
    ``split``: one row per (true ``shape``, predicted ``shape_pred``) pair among its errors, with
    the number of wrong ``curves``, of ``structures`` and the held-out particles' numbers of atoms
    (``n_atoms``), most curves first."""
    part = _selected(predictions, input_name, split, model)
    wrong = part[part["shape_pred"] != part["shape"]]
    table = wrong.groupby(["shape", "shape_pred"], sort=True).agg(
        curves=("row", "size"),
        structures=("structure_id", "nunique"),
        n_atoms=("n_atoms", lambda n: ", ".join(str(v) for v in sorted(set(n)))),
    )
    return table.sort_values("curves", ascending=False, kind="stable").reset_index()


def reliability(
    predictions: pd.DataFrame,
    model: str,
    input_name: str = CLEAN,
    split: str = KFOLD,
    n_bins: int = 15,
) -> pd.DataFrame:
    """The reliability table (:func:`helpers.learning.metrics.reliability_bins`) of ``model``'s
    shape probabilities, pooled over the test folds of ``split``."""
    part = _selected(predictions, input_name, split, model)
    correct = (part["shape_pred"] == part["shape"]).to_numpy()
    return metrics.reliability_bins(part["confidence"].to_numpy(), correct, n_bins)


def radius_parity(
    predictions: pd.DataFrame, model: str, input_name: str = CLEAN, split: str = KFOLD
) -> tuple:
    """(true, predicted, low, high, shapes) of ``model``'s equivalent radius in Å with its
    interval, pooled over the test folds of ``split`` (for
    :func:`helpers.report.plots.parity_with_intervals`)."""
    part = _selected(predictions, input_name, split, model)
    if "log_radius_pred" not in part or part["log_radius_pred"].isna().all():
        raise ValueError(f"model {model!r} predicts no radius with an interval: use logq models.")
    return (
        part["eq_radius"].to_numpy(),
        np.exp(part["log_radius_pred"].to_numpy()),
        np.exp(part["log_radius_low"].to_numpy()),
        np.exp(part["log_radius_high"].to_numpy()),
        part["shape"].to_numpy(),
    )
