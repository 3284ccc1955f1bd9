"""Fitted model sets: trained once, reused only for their own library and seed."""

import numpy as np

from helpers.learning import model_set
from helpers.simulation import library


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
    proba = again["cnn1d_shape"].predict_proba(X)
    assert proba.shape == (len(X), len(again["cnn1d_shape"].classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    np.testing.assert_array_equal(proba.argmax(axis=1), again["cnn1d_shape"].predict(X))


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


def test_a_clean_cnn_of_another_epoch_cap_is_not_reused(small_library, models_dir, capsys):
    # a chapter run alone must get the CNN the baseline would have trained, not a shorter one
    model_set.load_or_train(small_library, "random", epochs=1, cnn_targets=("shape",))
    assert "cap of 1 epochs" in capsys.readouterr().out
    model_set.load_or_train(small_library, "random", epochs=1, cnn_targets=("shape",))
    assert "training the clean CNN1D" not in capsys.readouterr().out
    model_set.load_or_train(small_library, "random", epochs=2, cnn_targets=("shape",))
    out = capsys.readouterr().out
    assert "training the clean CNN1D for shape (random split)" in out and "cap of 2 epochs" in out
