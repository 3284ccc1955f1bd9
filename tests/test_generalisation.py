"""The grouped K-fold study (studies.generalisation): folds, every family, tidy rows."""

import numpy as np
import pandas as pd
import pytest

from helpers.learning import logq
from helpers.measurement import instrument
from helpers.studies import generalisation


def test_folds_test_every_structure_once_and_hold_out_extremes(small_library):
    meta = small_library.metadata
    folds = generalisation.folds(meta, k=3, seed=0)
    kfold = [f for f in folds if f[0] == generalisation.KFOLD]
    assert [f[1] for f in kfold] == [0, 1, 2]
    tested = np.concatenate([te for _, _, _, te in kfold])
    assert np.array_equal(np.sort(tested), np.arange(len(meta)))
    for _, _, train, test in folds:
        ids = meta["structure_id"].to_numpy()
        assert not set(ids[train]) & set(ids[test])
    split, fold, train, test = folds[-1]
    assert split == generalisation.EXTRAPOLATION and np.isnan(fold)
    assert set(meta["size_parameter_1"].iloc[test]) == {2, 4}


def test_folds_restricted_to_rows_use_only_those_rows(small_library):
    meta = small_library.metadata
    rows = np.flatnonzero(meta["element"].to_numpy() == meta["element"].iloc[0])
    folds = generalisation.folds(meta, k=3, seed=0, rows=rows)
    kfold = [f for f in folds if f[0] == generalisation.KFOLD]
    tested = np.concatenate([te for _, _, _, te in kfold])
    assert np.array_equal(np.sort(tested), rows)  # library rows, each tested once
    for _, _, train, test in folds:
        assert set(train) <= set(rows) and set(test) <= set(rows)
        ids = meta["structure_id"].to_numpy()
        assert not set(ids[train]) & set(ids[test])
    # the same deal as the folds of the subset on its own
    own = generalisation.folds(meta.iloc[rows].reset_index(drop=True), k=3, seed=0)
    for (_, _, tr, te), (_, _, tr0, te0) in zip(folds, own):
        assert np.array_equal(te, rows[te0]) and np.array_equal(tr, rows[tr0])
    with pytest.raises(ValueError, match="increasing library row numbers"):
        generalisation.folds(meta, k=3, rows=rows[::-1])


def test_run_scores_every_family_on_every_fold(small_library):
    conditions = {"window": instrument.Measurement(q_min=0.1, q_max=4.0)}
    table, predictions = generalisation.run(
        small_library,
        k=3,
        families=("linear", "logq"),
        conditions=conditions,
        extrapolation=False,
        logq_options={"epochs": 1, "patience": 1, "width": 8},
    )
    assert set(table["split"]) == {generalisation.KFOLD}
    assert set(table["level"]) == {0, 1, 2}
    assert set(table["input"]) == {generalisation.CLEAN, "window"}
    assert {"ridge", "logistic", "logq"} <= set(table["model"])
    logq_rows = table[table["model"] == "logq"]
    assert {"accuracy", "ECE", "coverage_90", "RMSE"} <= set(logq_rows["metric"])
    # the clean-trained log-q model under a measurement condition is a simple prediction
    window = logq_rows[logq_rows["input"] == "window"]
    assert set(window["protocol"]) == {"simple_prediction"}
    summary = generalisation.fold_summary(table)
    # a fold whose test structures share one size parameter has no Q2 (zero test variance)
    assert summary["count"].between(1, 3).all()
    assert (summary[summary["target"] == "shape"]["count"] == 3).all()
    accuracy = summary[(summary["model"] == "logistic") & (summary["metric"] == "accuracy")]
    assert accuracy["mean"].between(0, 1).all()
    # every curve is predicted once per (condition, model): each held out in exactly one fold
    clean = predictions[(predictions["input"] == generalisation.CLEAN)]
    for model, part in clean.groupby("model"):
        assert np.array_equal(np.sort(part["row"]), np.arange(len(small_library))), model
    assert predictions["confidence"].between(0, 1).all()
    # the true shape's probability: the predicted one's where the answer is right, lower elsewhere
    right = predictions["shape_pred"] == predictions["shape"]
    assert np.allclose(predictions.loc[right, "p_true"], predictions.loc[right, "confidence"])
    assert (predictions.loc[~right, "p_true"] <= predictions.loc[~right, "confidence"]).all()
    wrong = clean[(clean["model"] == "logistic") & (clean["shape_pred"] != clean["shape"])]
    assert generalisation.confusions(predictions, "logistic")["curves"].sum() == len(wrong)
    # pooled views of the per-curve predictions: per shape, reliability bins, radius parity
    per_shape = generalisation.accuracy_by(predictions, "shape")
    assert set(per_shape["model"]) == {"logistic", "logq"}
    logistic = per_shape[per_shape["model"] == "logistic"]
    assert logistic["count"].sum() == len(small_library)
    expected = (clean[clean["model"] == "logistic"].eval("shape_pred == shape")).mean()
    weighted = (logistic["accuracy"] * logistic["count"]).sum() / logistic["count"].sum()
    assert weighted == pytest.approx(expected)
    bins = generalisation.reliability(predictions, "logq", n_bins=5)
    assert bins["count"].sum() == len(small_library)
    true, pred, low, high, shapes = generalisation.radius_parity(predictions, "logq")
    assert len(true) == len(small_library) and np.all((low <= pred) & (pred <= high))
    with pytest.raises(ValueError, match="no radius"):
        generalisation.radius_parity(predictions, "logistic")
    with pytest.raises(ValueError, match="no predictions for input"):
        generalisation.accuracy_by(predictions, "shape", input_name="moon")
    # where each held-out size lies against its fold's training sizes, as size_position says
    for fold, (_, _, train, test) in enumerate(
        generalisation.folds(small_library.metadata, 3, 0)[:3]
    ):
        part = clean[(clean["fold"] == fold) & (clean["model"] == "logq")].set_index("row")
        expected = generalisation.size_position(small_library.metadata, train, test)
        assert list(part.loc[test, "size_position"]) == list(expected)


def test_size_position_says_where_a_held_out_size_lies():
    meta = pd.DataFrame(
        {
            "shape": ["cube"] * 4 + ["octahedron"] * 3,
            "n_atoms": [8, 27, 64, 125, 6, 19, 44],
        }
    )
    train = [1, 2, 5]  # cubes of 27 and 64 atoms, one octahedron of 19
    test = [0, 3, 6, 4]
    assert list(generalisation.size_position(meta, train, test)) == [
        "smaller",
        "larger",
        "larger",
        "smaller",
    ]
    assert list(generalisation.size_position(meta, [0, 3, 4, 6], [1, 2, 5])) == ["between"] * 3
    # a shape the fold never trains on has no size to interpolate between
    assert list(generalisation.size_position(meta, [0, 1, 2], [5])) == ["smaller"]


def test_confusions_count_each_wrong_pair_with_its_particles():
    predictions = pd.DataFrame(
        {
            "split": generalisation.KFOLD,
            "input": generalisation.CLEAN,
            "model": ["logq"] * 5 + ["logistic"],
            "row": [0, 1, 2, 3, 4, 0],
            "shape": ["cube", "cube", "cube", "ico", "ico", "cube"],
            "shape_pred": ["octa", "octa", "cube", "deca", "ico", "ico"],
            "structure_id": ["c63", "c63b", "c63", "i55", "i147", "c63"],
            "n_atoms": [63, 63, 63, 55, 147, 63],
        }
    )
    table = generalisation.confusions(predictions, "logq")
    assert table.to_dict("records") == [
        {"shape": "cube", "shape_pred": "octa", "curves": 2, "structures": 2, "n_atoms": "63"},
        {"shape": "ico", "shape_pred": "deca", "curves": 1, "structures": 1, "n_atoms": "55"},
    ]
    with pytest.raises(ValueError, match="no predictions of model"):
        generalisation.confusions(predictions, "cnn1d")


def test_unknown_family_is_refused(small_library):
    with pytest.raises(ValueError, match="unknown families"):
        generalisation.fit_fold(small_library, np.arange(10), families=("svm",))


def test_each_log_q_model_gets_the_options_it_is_given(small_library):
    meta = small_library.metadata
    train = generalisation.folds(meta, k=3, extrapolation=False)[0][2]
    tiny = dict(
        families=("logq", "logq_realistic"),
        rounds=1,
        logq_options={"epochs": 1, "patience": 1, "width": 4},
    )
    fitted = generalisation.fit_fold(
        small_library,
        train,
        clean_logq_options={"max_shift": 2, "part_dropout": 0.5},
        realistic_logq_options={"max_dilation": 3, "width": 2},
        **tiny,
    )
    assert (fitted["logq"].max_shift, fitted["logq"].part_dropout) == (2, 0.5)
    assert (fitted["logq_realistic"].max_shift, fitted["logq_realistic"].part_dropout) == (0, 0)
    assert (fitted["logq"].max_dilation, fitted["logq_realistic"].max_dilation) == (0, 3)
    # a model's own options override the shared ones
    assert (fitted["logq"].width, fitted["logq_realistic"].width) == (4, 2)
    two = generalisation.fit_fold(
        small_library,
        train,
        clean_logq_options={"max_shift": 2, "pooling": "log"},
        clean_logq_members=2,
        **tiny,
    )
    assert [m.max_shift for m in two["logq"].members] == [2, 2]
    assert two["logq"].pooling == "log"
    with pytest.raises(ValueError, match="pooling"):  # before any training
        generalisation.fit_fold(
            small_library, train, clean_logq_options={"pooling": "log"}, **tiny
        )
    assert isinstance(two["logq_realistic"], logq.LogQModel)
    both = generalisation.fit_fold(small_library, train, realistic_logq_members=2, **tiny)
    assert isinstance(both["logq"], logq.LogQModel)
    assert isinstance(both["logq_realistic"], logq.LogQEnsemble)
    assert len(both["logq_realistic"].members) == 2
    assert both["logq_realistic"].pooling == "mean"


def test_variants_of_held_out_sizes_are_left_out_of_training(bipyramid_library):
    from helpers.simulation import library

    lib = bipyramid_library
    variants = library.bipyramid_variants(lib, [(4, 1), (4, 5), (5, 2)])
    both = library.joined(lib, variants)
    meta = both.metadata
    first = len(lib)
    # train on every structure but the bipyramid of sizeP 4: its variants stay out
    train = np.flatnonzero(
        ~(
            (lib.metadata["shape"] == "pentagonal_bipyramid")
            & (lib.metadata["size_parameter_1"] == 4)
        )
    )
    kept = generalisation.variant_rows(meta, train, first)
    assert set(meta["structure_id"].iloc[kept]) == {"pentagonal_bipyramid-5-e2"}
    assert len(kept) == 2  # two elements, one B_iso
    everything = generalisation.variant_rows(meta, np.arange(first), first)
    assert np.array_equal(everything, np.arange(first, len(meta)))
    with pytest.raises(ValueError, match="library rows only"):
        generalisation.variant_rows(meta, np.arange(first + 1), first)
    # the clean log-q model trains on the kept variants (their sizes widen its trained range),
    # the realistic one on the library rows only
    tiny = dict(
        families=("logq", "logq_realistic"),
        rounds=1,
        logq_options={"epochs": 1, "patience": 1, "width": 4},
    )
    fitted = generalisation.fit_fold(lib, train, clean_logq_variants=variants, **tiny)
    trained = np.log(meta["n_atoms"].iloc[kept].min())  # 268 atoms, the library's has 324
    assert fitted["logq"].trained_log_n["pentagonal_bipyramid"][0] == pytest.approx(trained)
    own = fitted["logq_realistic"].trained_log_n.get("pentagonal_bipyramid", (np.inf,))
    assert own[0] > trained


def test_realistic_model_trains_on_its_own_variants_and_grid(bipyramid_library):
    from helpers.simulation import library

    lib = bipyramid_library
    variants = library.bipyramid_variants(lib, [(5, 2)])
    # every structure but the bipyramid of sizeP 4, so that the variant (268 atoms) is the
    # smallest bipyramid trained on (the library's of sizeP 5 has 324)
    shape, size_p = lib.metadata["shape"], lib.metadata["size_parameter_1"]
    train = np.flatnonzero(~((shape == "pentagonal_bipyramid") & (size_p == 4)))
    tiny = dict(
        families=("logq", "logq_realistic"),
        rounds=1,
        logq_options={"epochs": 1, "patience": 1, "width": 4},
    )
    # notebook 11's realistic ensemble reads the grid's bin means; the option is the realistic
    # model's own, the clean one keeps interpolating
    binned = {"grid": logq.LogQGrid(average=True)}
    fitted = generalisation.fit_fold(
        lib, train, realistic_logq_variants=variants, realistic_logq_options=binned, **tiny
    )
    assert fitted["logq_realistic"].grid.average and not fitted["logq"].grid.average
    meta = library.joined(lib, variants).metadata
    trained = np.log(meta["n_atoms"].iloc[len(lib) :].min())
    assert fitted["logq_realistic"].trained_log_n["pentagonal_bipyramid"][0] == pytest.approx(
        trained
    )
    assert fitted["logq"].trained_log_n["pentagonal_bipyramid"][0] > trained
