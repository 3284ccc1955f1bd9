"""Saved clean models are reused only for their own library; sweeps give tidy, consistent
tables."""

import numpy as np
import pytest

from helpers.measurement import degrade
from helpers.report import results
from helpers.studies import robustness


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
