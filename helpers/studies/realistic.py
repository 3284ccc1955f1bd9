"""Models trained on realistic curves, and their comparison with the study's clean models.

The measurement model is :mod:`helpers.measurement.instrument`; the models get the measured curve
on the study's grid with a mask channel (:class:`helpers.learning.features.MaskedFeatures`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..learning import estimators, features, logq, model_set, splits, targets
from ..measurement import instrument
from ..report import results


def test_conditions(window=(0.1, 15.0)) -> dict:
    """Realistic test conditions, one part of the measurement model at a time, then all together
    (every one but "ideal" is meant to be measured in arbitrary units)."""
    lo, hi = window
    return {
        "ideal": instrument.Measurement(),
        "polydisperse (σ = 0.1)": instrument.Measurement(polydispersity=0.1),
        "arbitrary units (scale 0.01-100)": instrument.Measurement(),
        "resolution (σ_q = √(0.005² + (0.01 q)²))": instrument.Measurement(
            resolution=0.005, relative_resolution=0.01
        ),
        "background (flat + q⁻⁴)": instrument.Measurement(flat=0.5, power=5e-4),
        "Poisson, 1e6 photons": instrument.Measurement(photons=1e6),
        f"bounds {(lo, hi)}": instrument.Measurement(q_min=lo, q_max=hi),
        "all together": instrument.Measurement(
            polydispersity=0.1,
            resolution=0.005,
            relative_resolution=0.01,
            flat=0.5,
            power=5e-4,
            photons=1e6,
            q_min=lo,
            q_max=hi,
        ),
    }


#: early stopping of the realistic CNN (chosen on realistic validation curves): the same as
#: every CNN's
CNN_EARLY_STOPPING = model_set.EARLY_STOPPING


def fit_models(
    lib,
    train,
    protocol: str,
    seed: int = 0,
    epochs: int = 150,
    rounds: int = 32,
    linear_rounds: int = 2,
    validation_size: float = 0.15,
    early_stopping: dict | None = None,
    **ranges,
) -> dict:
    """Ridge (size targets), logistic (shape) and the CNN with a mask channel (shape, size class),
    trained on realistic versions of the library rows ``train``.

    A validation part of ``train`` (whole structures for the grouped protocol) is measured once
    under random conditions, for early stopping and for choosing the linear models'
    hyperparameters; the other rows are measured ``rounds`` times under fresh random conditions
    (``ranges``: those of :func:`random_measurements`). The CNN sees one version of every curve per
    epoch, the next version the next epoch; trained on the same two noisy versions every epoch it
    learned their noise by heart (99.8 % training, 82 % validation accuracy). The linear models are
    fitted on ``linear_rounds`` versions.
    ``early_stopping``: options of :func:`helpers.learning.estimators.train_cnn` (``monitor``,
    ``patience``, ``lr_patience``) for the CNN's early stopping on the validation curves; default
    :data:`CNN_EARLY_STOPPING`.
    """
    meta = lib.metadata
    train = np.asarray(train)
    if not 1 <= linear_rounds <= rounds:
        raise ValueError(
            f"linear_rounds must be between 1 and rounds = {rounds}, got {linear_rounds}."
        )
    early_stopping = CNN_EARLY_STOPPING if early_stopping is None else early_stopping
    unknown = set(early_stopping) - {"monitor", "patience", "lr_patience"}
    if unknown:
        raise ValueError(
            f"early_stopping takes monitor, patience and lr_patience; got {sorted(unknown)}."
        )
    fit, val = model_set.validation_rows(meta, train, protocol, validation_size, seed)
    versions = []
    for r in range(rounds):
        I, mask = instrument.measure(
            lib,
            fit,
            instrument.random_measurements(
                len(fit), seed=instrument.derived_seed(seed, 1, r), **ranges
            ),
            seed=instrument.derived_seed(seed, 2, r),
            pool=fit,
        )
        if r == 0:
            prep = features.MaskedFeatures(scale_free=True).fit(I, mask)
        versions.append(prep.transform(I, mask).astype("float32"))
    versions = np.stack(versions)  # (rounds, n, L, 2)
    I, mask = instrument.measure(
        lib,
        val,
        instrument.random_measurements(len(val), seed=instrument.derived_seed(seed, 3), **ranges),
        seed=instrument.derived_seed(seed, 4),
        pool=val,
    )
    Z_val = prep.transform(I, mask).astype("float32")

    rows = np.concatenate([np.tile(fit, linear_rounds), val])
    Z1 = np.concatenate(
        [versions[:linear_rounds, ..., 0].reshape(-1, versions.shape[2]), Z_val[..., 0]]
    )
    part = meta.iloc[rows]
    groups = part["structure_id"].to_numpy() if protocol == "grouped" else None
    ridge = estimators.EigenRidgeCV(seed=seed).fit(Z1, targets.size_targets(part), groups=groups)
    logistic = estimators.ValidatedLogistic(seed=seed).fit(
        Z1, part["shape"].to_numpy(), groups=groups
    )
    cnns, histories = {}, {}
    for target in targets.CNN_TARGETS:
        labels, names = targets.class_labels(meta, target)
        cnns[target], histories[target] = estimators.train_cnn(
            versions,
            labels[fit],
            len(names),
            seed=seed,
            epochs=epochs,
            validation_data=(Z_val, labels[val]),
            **early_stopping,
        )
    return {"prep": prep, "ridge": ridge, "logistic": logistic, "cnn": cnns, "history": histories}


def compare(
    lib,
    conditions: dict,
    protocols=("random", "grouped"),
    seed: int = 0,
    epochs: int = 150,
    clean_epochs: int = model_set.CLEAN_EPOCHS,
    rounds: int = 32,
    linear_rounds: int = 2,
    early_stopping: dict | None = None,
    section: str = "realistic",
    absolute=("ideal",),
    logq_rounds: int = 8,
    logq_options: dict | None = None,
    **ranges,
):
    """Models trained on realistic curves against the study's (the clean models of notebooks
    02-03), on the same realistic test curves, for every test condition and split protocol.

    The realistic models are those of :func:`fit_models` and, unless ``logq_rounds`` is 0, the
    log-q family (:mod:`helpers.learning.logq`, model ``logq_realistic``) trained on
    ``logq_rounds`` measured versions of every training curve under the same ``ranges``; it
    validates on whole training structures held out on either protocol (its calibration needs
    particles it has not seen); ``logq_options`` are :class:`helpers.learning.logq.LogQModel`
    fields (default: its defaults).

    ``conditions``: name -> :class:`Measurement` for all test curves; "random conditions" (one draw
    per test curve from ``ranges``) is added. Polydispersity averages a curve only over sizes on
    its own side of the split (training, validation or test), so no held-out particle enters
    training. Every test curve of a condition not named in ``absolute`` is in arbitrary units (a
    random overall factor, :func:`helpers.measurement.instrument.with_random_scale`, range
    ``ranges["scale"]`` or 1e-2..1e2), as a real measurement is. The clean models get the
    measured points at their true q (:func:`as_full_grid`). Returns (tidy results table,
    {protocol: the realistic models' fitted dict}).
    """
    tests = dict(conditions)
    table, fitted = [], {}
    for protocol in protocols:
        train, test = splits.split_indices(lib.metadata, protocol, seed=seed)
        robust = fitted[protocol] = fit_models(
            lib,
            train,
            protocol,
            seed=seed,
            epochs=epochs,
            rounds=rounds,
            linear_rounds=linear_rounds,
            early_stopping=early_stopping,
            **ranges,
        )
        if logq_rounds:
            fit, val = model_set.validation_rows(lib.metadata, train, "grouped", seed=seed)
            robust["logq"] = logq.fit_library(
                lib,
                fit,
                val,
                realistic=True,
                rounds=logq_rounds,
                seed=seed,
                ranges=ranges,
                **(logq_options or {}),
            )
        clean = model_set.load_or_train(lib, protocol, seed=seed, epochs=clean_epochs)
        tests["random conditions"] = instrument.random_measurements(
            len(test), seed=instrument.derived_seed(seed, 5), **ranges
        )
        for k, (name, condition) in enumerate(tests.items()):
            if (
                name not in absolute and name != "random conditions"
            ):  # random ones have their scale
                condition = instrument.with_random_scale(
                    condition,
                    len(test),
                    seed=instrument.derived_seed(seed, 7, k),
                    scale=ranges.get("scale", (1e-2, 1e2)),
                )
            I, mask = instrument.measure(
                lib, test, condition, seed=instrument.derived_seed(seed, 6, k), pool=test
            )
            for s in score_models(robust, lib, test, I, mask):
                table += results.rows(
                    section,
                    name,
                    s["model"],
                    "training_and_prediction",
                    protocol,
                    s["target"],
                    s["metrics"],
                )
            if "logq" in robust:
                model = robust["logq"]
                prediction = model.predict(lib.q, I, mask & (np.nan_to_num(I) > 0))
                for s in logq.score(prediction, model.labels, lib.metadata, test)[0]:
                    table += results.rows(
                        section,
                        name,
                        "logq_realistic",
                        "training_and_prediction",
                        protocol,
                        s["target"],
                        s["metrics"],
                    )
            shown = instrument.as_full_grid(lib.q, I, mask)
            for s in model_set.score(clean, shown, lib.metadata, test, repair=True):
                table += results.rows(
                    section,
                    name,
                    s["model"],
                    "simple_prediction",
                    protocol,
                    s["target"],
                    s["metrics"],
                )
    return pd.DataFrame(table, columns=results.COLUMNS), fitted


def score_models(fitted: dict, lib, rows, I, mask) -> list[dict]:
    """(model, target, metrics) of models from :func:`fit_models` on realistic curves of
    ``rows``."""
    Z2 = fitted["prep"].transform(I, mask).astype("float32")
    Z1 = Z2[..., 0]
    preds = {t: estimators.predict_classes(m, Z2) for t, m in fitted["cnn"].items()}
    return model_set.score_predictions(
        lib.metadata,
        rows,
        size_pred=fitted["ridge"].predict(Z1),
        shape_pred=fitted["logistic"].predict(Z1),
        class_preds=preds,
        converged=fitted["logistic"].converged_,
    )
