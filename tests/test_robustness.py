"""Saved clean models are reused only for their own library; sweeps give tidy, consistent
tables."""

import numpy as np
import pytest

from helpers import paths
from helpers.learning import model_set
from helpers.measurement import degrade
from helpers.report import results
from helpers.simulation import library
from helpers.studies import robustness


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "MODELS_DIR", tmp_path / "models")
    monkeypatch.setenv(paths.SMOKE_ENV, "1")
    return tmp_path / "models"


def test_clean_models_are_trained_once_then_reused(small_library, models_dir, capsys):
    first = model_set.load_or_train(small_library, "grouped", epochs=2)
    assert "training the clean" in capsys.readouterr().out
    assert sorted(p.name for p in models_dir.iterdir()) == sorted(
        [
            "linear_grouped_smoke.joblib",
            "cnn1d_shape_grouped_smoke.keras",
            "cnn1d_shape_grouped_smoke.joblib",
            "cnn1d_size_class_grouped_smoke.keras",
            "cnn1d_size_class_grouped_smoke.joblib",
        ]
    )
    again = model_set.load_or_train(small_library, "grouped", epochs=2)
    assert "training" not in capsys.readouterr().out
    X = small_library.intensities
    np.testing.assert_array_equal(first["ridge"].predict(X), again["ridge"].predict(X))
    np.testing.assert_array_equal(first["cnn1d_shape"].predict(X), again["cnn1d_shape"].predict(X))


def test_models_of_another_library_or_seed_are_not_reused(small_library, models_dir, capsys):
    model_set.load_or_train(small_library, "random", epochs=1, cnn_targets=())
    capsys.readouterr()
    model_set.load_or_train(small_library, "random", seed=1, epochs=1, cnn_targets=())
    assert "training the clean linear" in capsys.readouterr().out
    other = library.Library(
        small_library.q,
        small_library.intensities * 2,
        small_library.metadata,
        {**small_library.manifest, "sha256": {"intensities.npy": "another"}},
        small_library.path,
    )
    model_set.load_or_train(other, "random", seed=1, epochs=1, cnn_targets=())
    assert "training the clean linear" in capsys.readouterr().out


def test_sweep_is_tidy_and_level_zero_matches_the_clean_models(small_library, models_dir):
    table = robustness.sweep(
        small_library,
        degrade.gaussian_noise,
        [0.0, 1.0],
        section="IV.1",
        input_name="gaussian",
        protocols=("random", "grouped"),
        epochs=2,
        train_levels=[0.0, 1.0],
    )
    assert list(table.columns) == results.COLUMNS
    assert set(table["protocol"]) == set(robustness.MODES)
    assert set(table["model"]) == {"ridge", "logistic", "cnn1d"}
    assert set(table["target"]) == {
        "log_n_Atoms",
        "Size_parameter_1",
        "sqrt_log_eq_radius",
        "shape",
        "size_class",
    }
    trained = table[table["protocol"] == "training_and_prediction"]
    assert set(trained["split"]) == {"grouped"}  # trained again only on the splits asked for
    # at level 0 the degraded data are the clean data: both protocols give the clean models'
    # numbers
    at_zero = table[(table["level"] == 0.0) & (table["split"] == "grouped")].pivot_table(
        index=["model", "target", "metric"], columns="protocol", values="value"
    )
    np.testing.assert_allclose(
        at_zero["simple_prediction"], at_zero["training_and_prediction"], rtol=1e-9
    )
    noisy = table[
        (table["level"] == 1.0)
        & (table["protocol"] == "simple_prediction")
        & (table["metric"] == "Q2")
    ]
    clean = table[
        (table["level"] == 0.0)
        & (table["protocol"] == "simple_prediction")
        & (table["metric"] == "Q2")
    ]
    assert (
        noisy["value"].mean() < clean["value"].mean()
    )  # noise of a factor e per point hurts clean models


def test_sweep_rejects_unknown_modes(small_library, models_dir):
    with pytest.raises(ValueError, match="unknown modes"):
        robustness.sweep(
            small_library,
            degrade.coarsen,
            [1],
            section="IV.3",
            input_name="step",
            modes=("train",),
        )


def test_split_point_sweep_trains_what_it_promises(small_library, models_dir):
    table = robustness.split_point_sweep(
        small_library,
        degrade.saxs,
        [1.0, 2.0],
        q_split=1.0,
        section="V.2",
        input_name="saxs",
        epochs=1,
    )
    trained = table[table["protocol"] == "training_and_prediction"]
    linear = trained[trained["model"] != "cnn1d"]
    assert set(map(tuple, linear[["level", "split"]].drop_duplicates().to_numpy())) == {
        (1.0, "random"),
        (1.0, "grouped"),
        (2.0, "grouped"),
    }
    assert set(trained.loc[trained["model"] == "cnn1d", "level"]) == {1.0}
    simple = table[table["protocol"] == "simple_prediction"]
    assert set(simple["level"]) == {1.0, 2.0} and set(simple["model"]) == {
        "ridge",
        "logistic",
        "cnn1d",
    }
    study = robustness.as_study_rows(table, 1.0, "V.2", "saxs")
    assert set(study["protocol"]) == {"clean"} and study["level"].isna().all()


def test_by_level_keeps_each_degradation_apart():
    """Two degradations at the same level are two rows, never averaged (the old pivot averaged
    random missing points with detector gaps)."""
    table = []
    for name, value in (("missing_random", 0.978), ("missing_blocks", 0.369)):
        for split in ("random", "grouped"):
            table += results.rows(
                "IV.2",
                name,
                "logistic",
                "simple_prediction",
                split,
                "shape",
                {"accuracy": value},
                level=0.5,
            )
    table += results.rows(
        "IV.2",
        "missing_random",
        "logistic",
        "training_and_prediction",
        "grouped",
        "shape",
        {"accuracy": 0.9},
        level=0.5,
    )
    wide = results.by_level(table)
    assert (
        wide.loc[("missing_random", "logistic", "shape", "simple_prediction"), ("random", "0.5")]
        == "0.978"
    )
    assert (
        wide.loc[("missing_blocks", "logistic", "shape", "simple_prediction"), ("random", "0.5")]
        == "0.369"
    )
    assert (
        wide.loc[
            ("missing_random", "logistic", "shape", "training_and_prediction"), ("random", "0.5")
        ]
        == results.NOT_MEASURED
    )
    assert list(wide.columns.get_level_values("split").unique()) == ["random", "grouped"]
    with pytest.raises(ValueError, match="own input name"):
        results.by_level(table + table)
