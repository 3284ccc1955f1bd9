"""Attribution methods: occlusion sees only what the model sees; integrated gradients of a linear
model equal coefficient x input; band permutation importance finds the informative band."""

import numpy as np
import pytest

from helpers.learning import attribution, estimators

_SEEN = slice(10, 20)  # the band the blind model looks at (module constant: B008)


def _blind_model(n_q=60, seen=_SEEN):
    """A softmax classifier of 3 classes that looks only at the points ``seen``."""
    rng = np.random.default_rng(0)
    W = np.zeros((n_q, 3))
    W[seen] = rng.normal(size=(seen.stop - seen.start, 3))

    def predict_proba(Z):
        logits = Z @ W
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    return predict_proba


def test_occluding_a_band_the_model_cannot_see_changes_nothing():
    Z = np.random.default_rng(1).normal(size=(40, 60))
    labels = np.random.default_rng(2).integers(0, 3, 40)
    slices, drop = attribution.occlusion(_blind_model(), Z, labels, width=10, stride=10)
    assert [s.start for s in slices] == [0, 10, 20, 30, 40, 50]
    np.testing.assert_array_equal(drop[:, [0, 2, 3, 4, 5]], 0.0)
    assert np.abs(drop[:, 1]).max() > 1e-3  # the band it sees does matter


@pytest.mark.parametrize("batch_size", [7, 40, 100, 10_000])
def test_occlusion_is_the_same_however_the_windows_are_batched(batch_size):
    Z = np.random.default_rng(3).normal(size=(40, 60))
    labels = np.random.default_rng(4).integers(0, 3, 40)
    predict = _blind_model(seen=slice(5, 37))
    slices, drop = attribution.occlusion(predict, Z, labels, 8, 5, batch_size=batch_size)
    rows = np.arange(40)
    for k, sl in enumerate(slices):  # one window at a time, by hand
        occluded = Z.copy()
        occluded[:, sl] = 0.0
        expected = predict(Z)[rows, labels] - predict(occluded)[rows, labels]
        np.testing.assert_allclose(drop[:, k], expected, rtol=1e-6, atol=1e-7)


def test_windows_and_bad_arguments():
    assert attribution.windows(25, 10, 10)[-1] == slice(20, 25)
    with pytest.raises(ValueError, match=">= 1 points"):
        attribution.windows(25, 0, 10)


def test_integrated_gradients_of_a_linear_model_is_coefficient_times_input():
    keras = estimators._keras()
    keras.utils.set_random_seed(0)
    n_q = 30
    model = keras.Sequential(
        [keras.Input(shape=(n_q, 1)), keras.layers.Flatten(), keras.layers.Dense(2)]
    )
    W = model.layers[-1].get_weights()[0]
    Z = np.random.default_rng(0).normal(size=(5, n_q)).astype("float32")
    labels = np.array([0, 1, 1, 0, 1])
    ig = attribution.integrated_gradients(model, Z, labels, steps=4)
    np.testing.assert_allclose(ig, Z * W[:, labels].T, rtol=1e-5, atol=1e-6)


def test_integrated_gradients_completeness_on_the_cnn():
    cnn = estimators.build_cnn1d(input_length=40, n_classes=3, seed=0)
    Z = np.random.default_rng(0).normal(size=(4, 40)).astype("float32")
    labels = np.array([0, 1, 2, 0])
    ig = attribution.integrated_gradients(cnn, Z, labels, steps=256)
    p = cnn.predict(Z[:, :, None], verbose=0)[np.arange(4), labels]
    p0 = cnn.predict(np.zeros((1, 40, 1), "float32"), verbose=0)[0, labels]
    np.testing.assert_allclose(
        ig.sum(axis=1), p - p0, atol=2e-3
    )  # sum of attributions = f(x) - f(baseline)


def test_linear_attribution_and_band_permutation_find_the_informative_band():
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 50))
    y = X[:, 30:35].sum(axis=1)
    pipe = Pipeline([("scale", StandardScaler()), ("ridge", Ridge(alpha=1e-3))]).fit(X, y)
    contribution = attribution.linear_attribution(pipe, X)
    np.testing.assert_allclose(contribution, pipe[:-1].transform(X) * pipe[-1].coef_, rtol=1e-12)
    np.testing.assert_allclose(
        contribution.sum(axis=1) + pipe[-1].intercept_, pipe.predict(X), rtol=1e-9, atol=1e-9
    )

    def r2(Xs):
        return 1 - np.mean((pipe.predict(Xs) - y) ** 2) / np.var(y)

    bands = attribution.windows(50, 10, 10)
    importance = attribution.band_permutation_importance(r2, X, bands, seed=0)
    assert np.argmax(importance) == 3
    np.testing.assert_allclose(importance[[0, 1, 2, 4]], 0.0, atol=1e-3)


def test_per_class_means():
    values = np.arange(12.0).reshape(6, 2)
    np.testing.assert_array_equal(
        attribution.per_class(values, [0, 0, 1, 1, 1, 0], 3)[:2], [[4, 5], [6, 7]]
    )
    assert np.isnan(attribution.per_class(values, [0, 0, 1, 1, 1, 0], 3)[2]).all()


def test_profiles_and_saxs_share():
    slices = attribution.windows(10, 4, 2)  # [0:4] [2:6] [4:8] [6:10] [8:10]
    profile = attribution.to_profile(slices, np.array([1.0, 0.0, 0.0, 0.0, 0.0]), 10)
    np.testing.assert_allclose(profile, [1, 1, 0.5, 0.5, 0, 0, 0, 0, 0, 0])
    q = np.arange(1, 11) / 10
    assert attribution.saxs_share(q, profile, 0.45) > 0.8


def test_saxs_share_is_per_unit_of_q_not_per_point():
    """A flat importance profile shares 50/50 on any grid, although the study's linear grid puts
    5 % of its points below 1 Å⁻¹ (counting points gave 0.05); importance packed into a narrow
    SAXS band outweighs a wider but weaker WAXS band."""
    q = np.arange(1, 2000) / 100  # the study's grid, 0.01 ... 19.99
    assert attribution.saxs_share(q, np.ones_like(q), 1.0) == pytest.approx(0.5, abs=1e-9)
    log_grid = np.geomspace(0.01, 20, 500)  # most points at small q
    assert attribution.saxs_share(log_grid, np.ones_like(log_grid), 1.0) == pytest.approx(
        0.5, abs=1e-9
    )
    profile = np.where(q < 1, 1.0, 0.2)
    assert attribution.saxs_share(q, profile, 1.0) == pytest.approx(1 / 1.2, abs=0.01)
    bands = attribution.importance_per_q(q, profile, [(0.01, 0.99), (1.0, 19.99)])
    np.testing.assert_allclose(bands, [1.0, 0.2])
    with pytest.raises(ValueError, match="fewer than 2"):
        attribution.importance_per_q(q, profile, [(0.5, 0.505)])


def test_smooth_keeps_a_constant_and_averages_windows():
    slices = attribution.windows(10, 5, 5)
    np.testing.assert_allclose(attribution.smooth(np.full(10, 3.0), slices), 3.0)
    np.testing.assert_allclose(attribution.smooth(np.arange(10.0), slices), [2] * 5 + [7] * 5)
