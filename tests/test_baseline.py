"""The baseline chapters' runs (notebooks 02 and 03): each scores its own test split, agrees with
the predictions it returns, and saves the models the later chapters reuse."""

import contextlib
import io

import numpy as np
import pandas as pd

from helpers.learning import model_set, splits, targets
from helpers.report import results
from helpers.studies import baseline


def _value(table, model, target, metric="accuracy", input_name=None):
    rows = pd.DataFrame(table)
    rows = rows[(rows["model"] == model) & (rows["target"] == target) & (rows["metric"] == metric)]
    if input_name is not None:
        rows = rows[rows["input"] == input_name]
    assert len(rows) == 1, rows
    return float(rows["value"].iloc[0])


def test_run_linear_scores_its_test_split_and_saves_what_load_or_train_reuses(
    small_library, models_dir
):
    meta = small_library.metadata
    run = baseline.run_linear(small_library, "random", normalise=False, seed=0)
    _, test = splits.split_indices(meta, "random", seed=0)
    assert list(pd.DataFrame(run.table).columns) == results.COLUMNS
    # the reported accuracy is that of the predictions the run returns, on the test rows
    assert np.array_equal(run.y_true["shape"], meta["shape"].to_numpy()[test])
    accuracy = float(np.mean(run.y_true["shape"] == run.y_pred["shape"]))
    assert _value(run.table, "logistic", "shape") == accuracy
    assert int(run.confusion.to_numpy().sum()) == test.size
    assert np.trace(run.confusion.to_numpy()) == round(accuracy * test.size)
    # the size targets: on the random split (every test structure seen in another element or
    # B_iso) Ridge on absolute intensities measures ln N almost exactly
    assert set(run.alphas) == set(targets.SIZE_TARGET_NAMES)
    assert _value(run.table, "ridge", "log_n_Atoms", "Q2") > 0.9
    assert run.logistic_C in run.validation_accuracy
    # saved: a later chapter gets these models back instead of training its own
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        reused = model_set.load_or_train(small_library, "random", seed=0, cnn_targets=())
    assert "training" not in printed.getvalue()
    X = small_library.intensities[test]
    assert np.array_equal(reused["logistic"].predict(X), run.y_pred["shape"])


def test_run_cnn_reports_the_accuracy_of_its_confusion_table(small_library, models_dir):
    run = baseline.run_cnn(small_library, "grouped", "shape", seed=0, epochs=2)
    _, test = splits.split_indices(small_library.metadata, "grouped", seed=0)
    confusion = run.confusion.to_numpy()
    assert int(confusion.sum()) == test.size
    assert _value(run.table, "cnn1d", "shape") == np.trace(confusion) / test.size
    assert 1 <= len(run.history["loss"]) <= 2  # the epoch cap holds
    assert run.model_path.exists() and run.model_path.is_relative_to(models_dir)


def test_run_confounds_scores_the_fcc_crystals_alone_and_the_lattice_on_every_curve(
    small_library,
):
    meta = small_library.metadata
    table = pd.DataFrame(baseline.run_confounds(small_library, "random", C=1.0, seed=0))
    assert list(table.columns) == results.COLUMNS
    assert set(zip(table["input"], table["target"])) == {
        ("fcc_single_crystals", "shape"),
        ("all", "lattice"),
    }
    assert table["value"].between(0.0, 1.0).all()
    # each accuracy counts its own test rows: the fcc crystals' among the test split, or all
    _, test = splits.split_indices(meta, "random", seed=0)
    fcc = meta["shape"].iloc[test].isin(targets.FCC_SINGLE_CRYSTALS).to_numpy()
    assert 0 < fcc.sum() < test.size  # the small library's icosahedra are not fcc
    for input_name, target, n_test in (
        ("fcc_single_crystals", "shape", fcc.sum()),
        ("all", "lattice", test.size),
    ):
        value = _value(table, "logistic", target, input_name=input_name)
        assert np.isclose(value * n_test, round(value * n_test))
    # on the random split every test structure has siblings in training: the cube and the
    # octahedron are told apart
    assert _value(table, "logistic", "shape") == 1.0
