"""Robustness sweeps: the study's two protocols on degraded curves, as tidy results tables.

- ``simple_prediction``: the clean models of notebooks 02 and 03 (loaded from ``models/``) applied
  to degraded test curves, presented on the grid they were trained on
  (:func:`helpers.measurement.degrade.present`);
- ``training_and_prediction``: the same model families trained on degraded training curves and
  tested on degraded test curves (a CNN rebuilt for the degraded input length).

Each sweep degrades the whole library once per level with one seed, so both protocols and every
model see the very same degraded test curves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..learning import model_set, splits
from ..measurement import degrade
from ..report import results

MODES = ("simple_prediction", "training_and_prediction")
FAMILIES = ("ridge", "logistic", "cnn1d")


def _wanted(fitted: dict, families) -> dict:
    return {k: v for k, v in fitted.items() if k.split("_")[0] in families}


def _rows(scores, section, input_name, mode, protocol, level) -> list[dict]:
    out = []
    for s in scores:
        out += results.rows(
            section, input_name, s["model"], mode, protocol, s["target"], s["metrics"], level=level
        )
    return out


def sweep(
    lib,
    degradation,
    levels,
    *,
    section: str,
    input_name: str,
    protocols=("grouped",),
    modes=MODES,
    families=FAMILIES,
    train_levels=None,
    train_protocols=("grouped",),
    presentation: str = "interpolate",
    seed: int = 0,
    epochs: int = 40,
    clean_epochs: int = model_set.CLEAN_EPOCHS,
    options: dict | None = None,
) -> pd.DataFrame:
    """Metric against degradation level for every model family and protocol.

    ``degradation``: a function of :mod:`helpers.measurement.degrade`, called as
    ``degradation(q, I, level, seed=seed, **options)``. For ``training_and_prediction`` the models
    are trained again at ``train_levels`` (default: every level) on the splits in
    ``train_protocols`` (training is the costly step: about a minute per family and level on 2
    cores); where a level leaves the curves unchanged the clean models are used. ``presentation``:
    how simple prediction shows degraded curves to the clean models
    (:func:`helpers.measurement.degrade.present`). ``epochs``: the cap of the CNNs trained on
    degraded curves; ``clean_epochs``: the cap of the clean ones, reused from the baseline
    (:func:`helpers.learning.model_set.load_or_train`; trained only if missing or saved with
    another cap). Returns the tidy table of :mod:`helpers.report.results`.
    """
    unknown = set(modes) - set(MODES)
    if unknown:
        raise ValueError(f"unknown modes {sorted(unknown)}: use {MODES}.")
    options = options or {}
    train_levels = list(levels) if train_levels is None else list(train_levels)
    q, X, meta = lib.q, lib.intensities, lib.metadata
    table = []
    for protocol in protocols:
        train, test = splits.split_indices(meta, protocol, seed=seed)
        clean = _wanted(
            model_set.load_or_train(lib, protocol, seed=seed, epochs=clean_epochs), families
        )
        for level in levels:
            q_deg, X_deg = degradation(q, X, level, seed=seed, **options)
            if "simple_prediction" in modes:
                _, shown = degrade.present(q_deg, X_deg[test], q, presentation)
                scores = model_set.score(clean, shown, meta, test, repair=True)
                table += _rows(scores, section, input_name, "simple_prediction", protocol, level)
            if (
                "training_and_prediction" in modes
                and protocol in train_protocols
                and level in train_levels
            ):
                unchanged = q_deg.shape == q.shape and np.array_equal(X_deg, X)
                C = model_set.chosen_C(clean["logistic"]) if "logistic" in clean else None
                fitted = (
                    clean
                    if unchanged
                    else model_set.fit_all(
                        X_deg,
                        meta,
                        train,
                        protocol,
                        seed,
                        epochs,
                        families,
                        logistic_C=C,
                        repair=True,
                    )
                )
                scores = model_set.score(fitted, X_deg[test], meta, test, repair=True)
                table += _rows(
                    scores, section, input_name, "training_and_prediction", protocol, level
                )
    return pd.DataFrame(table, columns=results.COLUMNS)


def as_study_rows(table: pd.DataFrame, level, section: str, input_name: str) -> pd.DataFrame:
    """The rows of models trained and tested at one ``level`` relabelled as the study's table has
    them (protocol 'clean', no level), e.g. SAXS-only models at the default split for
    section V.2."""
    rows = table[
        (table["protocol"] == "training_and_prediction") & np.isclose(table["level"], level)
    ].copy()
    rows["protocol"], rows["level"], rows["section"], rows["input"] = (
        "clean",
        np.nan,
        section,
        input_name,
    )
    return rows


def split_point_sweep(
    lib,
    part,
    levels,
    *,
    q_split: float,
    section: str,
    input_name: str,
    protocols=("random", "grouped"),
    seed: int = 0,
    epochs: int = 40,
    clean_epochs: int = model_set.CLEAN_EPOCHS,
) -> pd.DataFrame:
    """SAXS-only or WAXS-only models (``part`` = :func:`helpers.measurement.degrade.saxs` or
    ``waxs``) as the split point moves over ``levels``: simple prediction at every level on every
    split; the linear models trained again at every level on the grouped split; at ``q_split``
    (the study's table) the linear models and the CNNs trained on every split in ``protocols``."""
    common = dict(
        section=section, input_name=input_name, seed=seed, epochs=epochs, clean_epochs=clean_epochs
    )
    linear = ("ridge", "logistic")
    tables = [
        sweep(lib, part, levels, protocols=protocols, modes=("simple_prediction",), **common),
        sweep(
            lib,
            part,
            [lv for lv in levels if lv != q_split],
            protocols=("grouped",),
            modes=("training_and_prediction",),
            families=linear,
            **common,
        ),
        sweep(
            lib,
            part,
            [q_split],
            protocols=protocols,
            modes=("training_and_prediction",),
            train_protocols=protocols,
            **common,
        ),
    ]
    return pd.concat(tables, ignore_index=True)
