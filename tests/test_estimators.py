"""Estimators on tiny synthetic data: Ridge CV, validated logistic regression, the CNN1D."""

import numpy as np
import pytest

from helpers.learning import estimators
from tests import synthetic


def test_eigen_ridge_matches_sklearn_ridge_and_picks_a_sensible_alpha():
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 30))
    beta = rng.normal(size=30)
    Y = np.stack(
        [X @ beta + rng.normal(scale=0.1, size=200), X[:, 0] + rng.normal(scale=3.0, size=200)],
        axis=1,
    )
    est = estimators.EigenRidgeCV(alphas=np.logspace(-3, 4, 15)).fit(X, Y)
    assert est.alpha_[0] < est.alpha_[1]  # the noisy target gets more shrinkage
    for t in range(2):
        ref = Ridge(alpha=est.alpha_[t]).fit(X, Y[:, t])
        np.testing.assert_allclose(est.predict(X)[:, t], ref.predict(X), atol=1e-8)
    single = estimators.EigenRidgeCV().fit(X, Y[:, 0], groups=np.arange(200) % 10)
    assert np.ndim(single.predict(X)) == 1 and isinstance(single.alpha_, float)


@pytest.mark.parametrize("n_rows", [40, 400])
def test_eigen_ridge_is_sklearn_ridge_with_fewer_and_more_rows_than_columns(n_rows):
    from sklearn.linear_model import Ridge

    # n < p takes the n x n Gram matrix, n >= p the p x p one: the same path either way
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n_rows, 120)) + 3.0
    y = X[:, :4] @ np.array([1.0, -2.0, 0.5, 3.0]) + rng.normal(scale=0.2, size=n_rows)
    est = estimators.EigenRidgeCV(alphas=np.logspace(-2, 3, 11)).fit(X, y)
    ref = Ridge(alpha=est.alpha_).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-9)
    assert est.intercept_ == pytest.approx(ref.intercept_, abs=1e-8)
    np.testing.assert_allclose(est.predict(X[:5]), ref.predict(X[:5]), atol=1e-8)


def test_linear_pipelines_fit_on_synthetic_curves():
    meta = synthetic.meta()
    X = synthetic.curves(len(meta)) * (meta["size_parameter_1"].to_numpy()[:, None] ** 2)
    ridge = estimators.ridge_model().fit(
        X, np.log(meta["size_parameter_1"].to_numpy()), ridge__groups=meta["structure_id"]
    )
    assert ridge.predict(X).shape == (len(meta),)
    logistic = estimators.logistic_model().fit(
        X, meta["shape"], logistic__groups=meta["structure_id"]
    )
    assert (
        set(logistic.predict(X)) <= set(meta["shape"])
        and logistic[-1].C_ in estimators.LOGISTIC_CS
    )


def test_validated_logistic_chooses_C_on_training_rows_only():
    from sklearn.linear_model import LogisticRegression

    meta = synthetic.meta(n_sizes=6, n_variants=6)
    rng = np.random.default_rng(1)
    y = meta["shape"].to_numpy()
    X = rng.normal(size=(len(meta), 12)) + 0.8 * (y[:, None] == np.array(["a", "b", "c"])).repeat(
        4, axis=1
    )
    est = estimators.ValidatedLogistic(Cs=(0.01, 1.0, 100.0), seed=3).fit(
        X, y, groups=meta["structure_id"]
    )
    acc = est.validation_accuracy_
    assert set(acc) == {0.01, 1.0, 100.0}
    assert est.C_ == min(
        C for C in acc if acc[C] == max(acc.values())
    )  # best, ties to the stronger regularisation
    again = estimators.ValidatedLogistic(Cs=(0.01, 1.0, 100.0), seed=3).fit(
        X, y, groups=meta["structure_id"]
    )
    np.testing.assert_array_equal(again.coef_, est.coef_)  # seeded: the same fit twice
    single = estimators.ValidatedLogistic(Cs=(2.0,)).fit(
        X, y
    )  # a given C: no validation, plain logistic regression
    assert single.C_ == 2.0 and single.validation_accuracy_ == {}
    plain = LogisticRegression(C=2.0, max_iter=3000).fit(X, y)
    np.testing.assert_allclose(single.predict_proba(X), plain.predict_proba(X), atol=1e-6)
    with pytest.raises(ValueError, match="positive"):
        estimators.ValidatedLogistic(Cs=(0.0, 1.0)).fit(X, y)


def test_cnn_has_the_study_parameter_counts():
    model = estimators.build_cnn1d(1999, 9)
    counts = [layer.count_params() for layer in model.layers]
    assert counts == [128, 0, 6208, 0, 0, 286857]
    assert estimators.build_cnn1d(999, 5).output_shape == (
        None,
        5,
    )  # reusable for other input lengths


def test_cnn_training_is_deterministic_and_learns():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 30)
    X = rng.normal(size=(90, 40)) + y[:, None] * np.sin(np.arange(40))[None, :]
    val = np.arange(0, 90, 6)
    m1, h1 = estimators.train_cnn(X, y, 3, seed=1, epochs=8, batch_size=16, validation_idx=val)
    m2, h2 = estimators.train_cnn(X, y, 3, seed=1, epochs=8, batch_size=16, validation_idx=val)
    assert h1["loss"] == h2["loss"]
    assert np.mean(estimators.predict_classes(m1, X) == y) > 0.9


def _masked_versions(seed: int, rounds: int, val_every: int):
    """Three classes of 30 curves (sin pattern x class), ``rounds`` noisy two-channel versions of
    each (intensity, mask of ones), and a noisy validation set of every ``val_every``-th curve."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), 30)
    signal = 2.0 * y[:, None] * np.sin(np.arange(40))[None, :]
    versions = np.stack(
        [
            np.stack([signal + rng.normal(size=(90, 40)), np.ones((90, 40))], -1)
            for _ in range(rounds)
        ]
    )
    n_val = len(y[::val_every])
    val = (
        np.stack([signal[::val_every] + rng.normal(size=(n_val, 40)), np.ones((n_val, 40))], -1),
        y[::val_every],
    )
    return y, versions, val


def test_cnn_trains_on_rotating_augmented_versions():
    y, versions, val = _masked_versions(seed=0, rounds=3, val_every=5)
    m1, h1 = estimators.train_cnn(
        versions, y, 3, seed=1, epochs=6, batch_size=16, validation_data=val
    )
    m2, h2 = estimators.train_cnn(
        versions, y, 3, seed=1, epochs=6, batch_size=16, validation_data=val
    )
    assert h1["loss"] == h2["loss"] and "val_loss" in h1  # seeded, validated
    assert np.mean(estimators.predict_classes(m1, val[0]) == val[1]) > 0.9
    keras = estimators._keras()
    data = estimators._rotating_versions(keras, versions, y, batch_size=90, seed=0)
    for epoch in range(4):  # epoch e shows version e mod 3 of every curve
        X, labels = data[0]
        np.testing.assert_array_equal(np.sort(X[:, 0, 0]), np.sort(versions[epoch % 3][:, 0, 0]))
        data.on_epoch_end()
    with pytest.raises(ValueError, match="labels"):
        estimators.train_cnn(versions, y[:10], 3, epochs=1)


def test_cnn_early_stopping_on_validation_accuracy():
    # an easy problem: validation accuracy saturates within a few epochs while validation loss
    # keeps falling
    y, versions, val = _masked_versions(seed=2, rounds=2, val_every=3)
    model, h = estimators.train_cnn(
        versions,
        y,
        3,
        seed=0,
        epochs=15,
        batch_size=16,
        validation_data=val,
        monitor="val_accuracy",
        patience=3,
    )
    best = int(np.argmax(h["val_accuracy"]))
    assert len(h["val_accuracy"]) == best + 1 + 3 < 15  # stopped 3 epochs after the best accuracy
    assert np.mean(estimators.predict_classes(model, val[0]) == val[1]) == pytest.approx(
        h["val_accuracy"][best]
    )
    _, h_loss = estimators.train_cnn(
        versions, y, 3, seed=0, epochs=15, batch_size=16, validation_data=val, patience=3
    )
    assert len(h_loss["val_loss"]) > len(h["val_loss"])  # the default (validation loss) trains on
    with pytest.raises(ValueError, match="monitor"):
        estimators.train_cnn(versions, y, 3, epochs=1, validation_data=val, monitor="accuracy")


def test_validated_logistic_when_validation_takes_a_whole_class():
    # two structures of class "c" only: a grouped validation part can hold all of "c", so the fits
    # along C never see it; the final fit on every row must still learn all classes
    rng = np.random.default_rng(0)
    y = np.array(["a"] * 20 + ["b"] * 20 + ["c"] * 4)
    groups = np.array(
        [f"a{i % 5}" for i in range(20)] + [f"b{i % 5}" for i in range(20)] + ["c0"] * 4
    )
    X = rng.normal(size=(len(y), 6)) + (y[:, None] == np.array(["a", "b", "c"])).repeat(2, axis=1)
    for seed in range(12):
        est = estimators.ValidatedLogistic(Cs=(0.1, 1.0), validation_size=0.3, seed=seed)
        est.fit(X, y, groups=groups)
        assert list(est.classes_) == ["a", "b", "c"]
