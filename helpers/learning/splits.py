"""Train/test split protocols, used by every model notebook.

- ``random`` (the study's protocol): curves drawn at random, stratified by shape, seeded. Every
  test curve then has near-copies in training: the same particle with another element or B_iso.
- ``grouped``: whole structures (one shape + size, i.e. all its element and B_iso variants) are
  held out together, stratified by shape (each shape keeps some sizes in training and puts at least
  one in test). A test particle has never been seen in training in any variant, so this measures
  how a model generalises to a particle size it has not seen.
- :func:`grouped_kfold`: the same idea, K times: every structure in exactly one test fold,
  stratified by shape, so that every particle is tested once and the spread over folds is known.
- :func:`extrapolation_fold`: the smallest and the largest size of every shape held out together
  (a model must extrapolate in size, not interpolate).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PROTOCOLS = ("random", "grouped")


def split_indices(
    meta: pd.DataFrame,
    protocol: str,
    test_size: float = 0.2,
    seed: int = 0,
    stratify: bool | str = True,
):
    """Return (train_idx, test_idx), sorted integer positions into ``meta``.

    ``stratify=False`` draws from all curves (or structures) at once instead of shape by shape.
    ``stratify="where_possible"`` (for a validation split of a training set, in which a shape may
    have a single structure left) stratifies by shape but keeps a shape with one structure whole
    on the training side.
    """
    if stratify not in (True, False, "where_possible"):
        raise ValueError(f"stratify must be True, False or 'where_possible', got {stratify!r}.")
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown split protocol {protocol!r}: use 'random' or 'grouped'.")
    if not 0.0 < test_size < 1.0:
        raise ValueError(
            f"test_size must be a fraction strictly between 0 and 1, got {test_size}."
        )
    for column in ("shape", "structure_id"):
        if column not in meta.columns:
            raise ValueError(
                f"metadata needs a {column!r} column (as written by helpers.simulation.library)."
            )
    rng = np.random.default_rng(seed)
    test = []
    positions = np.arange(len(meta))
    strata = sorted(meta["shape"].unique()) if stratify else [None]
    for shape in strata:
        in_shape = positions if shape is None else positions[(meta["shape"] == shape).to_numpy()]
        if protocol == "random":
            n_test = int(round(test_size * in_shape.size))
            if in_shape.size >= 2:
                n_test = min(max(n_test, 1), in_shape.size - 1)
            test.extend(rng.choice(in_shape, size=n_test, replace=False))
        else:
            groups = np.array(sorted(meta["structure_id"].iloc[in_shape].unique()))
            if groups.size < 2 and stratify == "where_possible":
                continue
            if groups.size < 2:
                raise ValueError(
                    f"shape {shape!r} has a single structure: "
                    "a grouped split needs at least two per shape."
                )
            n_test = min(max(int(round(test_size * groups.size)), 1), groups.size - 1)
            held = set(rng.choice(groups, size=n_test, replace=False))
            test.extend(in_shape[meta["structure_id"].iloc[in_shape].isin(held).to_numpy()])
    test = np.sort(np.asarray(test, dtype=int))
    train = np.setdiff1d(positions, test)
    return train, test


def grouped_kfold(
    meta: pd.DataFrame, k: int = 5, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """K folds of whole structures, stratified by shape: the structures of each shape are shuffled
    (seeded) and dealt in turn to the folds, the deal of each shape starting where the previous
    one stopped, so that fold sizes differ by at most one structure per shape. Returns K pairs
    (train positions, test positions) into ``meta``; every structure is in exactly one test fold.
    """
    for column in ("shape", "structure_id"):
        if column not in meta.columns:
            raise ValueError(f"metadata needs a {column!r} column (as written by the library).")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"k must be an integer >= 2, got {k!r}.")
    rng = np.random.default_rng(seed)
    fold_of = {}
    start = 0
    for shape in sorted(meta["shape"].unique()):
        groups = np.array(sorted(meta.loc[meta["shape"] == shape, "structure_id"].unique()))
        if groups.size < k:
            raise ValueError(
                f"shape {shape!r} has {groups.size} structures, fewer than k = {k}: every fold "
                "needs one of each shape; lower k."
            )
        for j, group in enumerate(rng.permutation(groups)):
            fold_of[group] = (start + j) % k
        start = (start + groups.size) % k
    folds = meta["structure_id"].map(fold_of).to_numpy()
    positions = np.arange(len(meta))
    return [(positions[folds != f], positions[folds == f]) for f in range(k)]


def extrapolation_fold(meta: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) positions with the smallest and the largest structure (by atom count) of every
    shape in the test set: the sizes a model has to extrapolate to."""
    for column in ("shape", "structure_id", "n_atoms"):
        if column not in meta.columns:
            raise ValueError(f"metadata needs a {column!r} column (as written by the library).")
    per_structure = meta.drop_duplicates("structure_id")
    held = set()
    for _, part in per_structure.groupby("shape"):
        if len(part) < 3:
            raise ValueError(
                f"shape {part['shape'].iloc[0]!r} has {len(part)} structures: holding out its "
                "smallest and largest needs at least 3."
            )
        ordered = part.sort_values("n_atoms")["structure_id"]
        held |= {ordered.iloc[0], ordered.iloc[-1]}
    test = meta["structure_id"].isin(held).to_numpy()
    positions = np.arange(len(meta))
    return positions[~test], positions[test]
