"""Split protocols: random, grouped, K-fold of whole structures, the extrapolation fold."""

import numpy as np
import pytest

from helpers.learning import splits
from tests import synthetic


@pytest.mark.parametrize("protocol", splits.PROTOCOLS)
def test_splits_are_seeded_disjoint_and_cover_every_shape(protocol):
    meta = synthetic.meta()
    train, test = splits.split_indices(meta, protocol, test_size=0.2, seed=3)
    assert np.intersect1d(train, test).size == 0 and len(train) + len(test) == len(meta)
    assert set(meta["shape"].iloc[test]) == set(meta["shape"]) == set(meta["shape"].iloc[train])
    again = splits.split_indices(meta, protocol, test_size=0.2, seed=3)
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])
    assert not np.array_equal(test, splits.split_indices(meta, protocol, test_size=0.2, seed=4)[1])


def test_grouped_split_never_shares_a_structure():
    meta = synthetic.meta()
    for seed in range(10):
        train, test = splits.split_indices(meta, "grouped", seed=seed)
        assert not set(meta["structure_id"].iloc[train]) & set(meta["structure_id"].iloc[test])


def test_random_split_does_share_structures():  # the leak that the grouped protocol removes
    meta = synthetic.meta()
    train, test = splits.split_indices(meta, "random", seed=0)
    assert set(meta["structure_id"].iloc[train]) & set(meta["structure_id"].iloc[test])


def test_bad_split_arguments_are_named():
    with pytest.raises(ValueError, match="unknown split protocol"):
        splits.split_indices(synthetic.meta(), "stratified")
    with pytest.raises(ValueError, match="test_size"):
        splits.split_indices(synthetic.meta(), "random", test_size=1.5)
    with pytest.raises(ValueError, match="single structure"):
        splits.split_indices(synthetic.meta(n_sizes=1), "grouped")


def test_unstratified_grouped_split_works_with_a_single_structure_per_shape():
    meta = synthetic.meta(n_sizes=1, shapes=tuple("abcdefgh"))
    train, test = splits.split_indices(meta, "grouped", test_size=0.25, seed=0, stratify=False)
    assert len(set(meta["structure_id"].iloc[test])) == 2
    assert not set(meta["structure_id"].iloc[train]) & set(meta["structure_id"].iloc[test])


def test_grouped_kfold_tests_every_structure_once_stratified_by_shape():
    meta = synthetic.meta(n_sizes=7, n_variants=3, shapes=("a", "b", "c", "d"))
    folds = splits.grouped_kfold(meta, k=5, seed=0)
    assert len(folds) == 5
    tested = np.concatenate([test for _, test in folds])
    np.testing.assert_array_equal(np.sort(tested), np.arange(len(meta)))  # every curve once
    for train, test in folds:
        ids_train, ids_test = (
            set(meta["structure_id"].iloc[train]),
            set(meta["structure_id"].iloc[test]),
        )
        assert not ids_train & ids_test  # no structure on both sides
        assert set(meta["shape"].iloc[test]) == {"a", "b", "c", "d"}  # every shape in every fold
        per_shape = meta.iloc[test].groupby("shape")["structure_id"].nunique()
        assert per_shape.max() - per_shape.min() <= 1
    sizes = [meta["structure_id"].iloc[test].nunique() for _, test in folds]
    assert max(sizes) - min(sizes) <= 1  # 28 structures -> folds of 5 or 6
    again = splits.grouped_kfold(meta, k=5, seed=0)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))
    other = splits.grouped_kfold(meta, k=5, seed=1)
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds, other))


def test_grouped_kfold_refuses_what_it_cannot_stratify():
    with pytest.raises(ValueError, match="fewer than k = 5"):
        splits.grouped_kfold(synthetic.meta(n_sizes=3), k=5)
    with pytest.raises(ValueError, match="integer >= 2"):
        splits.grouped_kfold(synthetic.meta(), k=1)


def test_extrapolation_fold_holds_out_the_smallest_and_largest_of_each_shape():
    meta = synthetic.meta(n_sizes=5)
    meta["n_atoms"] = meta["size_parameter_1"] ** 3
    train, test = splits.extrapolation_fold(meta)
    held = set(meta["structure_id"].iloc[test])
    assert held == {f"{s}-{k}" for s in "abc" for k in (2, 6)}
    assert not held & set(meta["structure_id"].iloc[train])
    with pytest.raises(ValueError, match="at least 3"):
        splits.extrapolation_fold(meta[meta["size_parameter_1"] <= 3])
