"""Models trained on realistic curves (studies.realistic)."""

import numpy as np
import pytest

from helpers.learning import estimators
from helpers.studies import realistic


def test_two_channel_cnn_trains_on_masked_inputs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 40, 2)).astype("float32")
    y = (X[:, :20, 0].mean(axis=1) > 0).astype(int)
    model, history = estimators.train_cnn(X, y, 2, seed=0, epochs=2)
    assert model.input_shape == (None, 40, 2)
    assert estimators.predict_classes(model, X).shape == (60,)


def test_fit_models_rejects_bad_options_before_any_work(tiny_library):
    rows = np.arange(len(tiny_library))
    with pytest.raises(ValueError, match="linear_rounds"):
        realistic.fit_models(tiny_library, rows, "random", rounds=2, linear_rounds=3)
    with pytest.raises(ValueError, match="early_stopping takes monitor"):
        realistic.fit_models(
            tiny_library, rows, "random", early_stopping={"monitr": "val_accuracy"}
        )


def test_test_conditions_name_each_effect_and_all_together():
    conditions = realistic.test_conditions((0.2, 10.0))
    assert conditions["ideal"] == realistic.instrument.Measurement()
    assert conditions["bounds (0.2, 10.0)"].q_min == 0.2
    together = conditions["all together"]
    assert (together.q_min, together.q_max, together.photons) == (0.2, 10.0, 1e6)
    assert together.polydispersity > 0 and together.resolution > 0 and together.flat > 0
