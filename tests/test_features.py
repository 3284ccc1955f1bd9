"""Feature preparation: log intensity, per-curve normalisation, repair of invalid points."""

import numpy as np
import pytest

from helpers.learning import features
from tests import synthetic


def test_log_and_standardise_shapes_and_values():
    X = synthetic.curves(20)
    F = features.feature_pipeline().fit_transform(X)
    assert F.shape == X.shape
    np.testing.assert_allclose(F.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(features.LogIntensity().fit_transform(X), np.log10(X))


def test_per_curve_normalisation_is_scale_invariant():
    X = synthetic.curves(10)
    scales = np.logspace(-3, 6, 10)[:, None]
    norm = features.PerCurveNormaliser()
    logs = features.LogIntensity().fit_transform(X)
    np.testing.assert_allclose(
        norm.fit_transform(features.LogIntensity().fit_transform(X * scales)),
        norm.fit_transform(logs),
        atol=1e-12,
    )
    pipe = features.feature_pipeline(normalise=True).fit(X)
    np.testing.assert_allclose(pipe.transform(X * 1e4), pipe.transform(X), atol=1e-9)


@pytest.mark.parametrize("bad", [np.nan, 0.0, -1.0, np.inf])
def test_invalid_curves_raise_unless_repaired(bad):
    X = synthetic.curves(4)
    X[2, 7] = bad
    with pytest.raises(ValueError, match="curve.*repair=True"):
        features.feature_pipeline().fit(X)
    repaired = features.LogIntensity(repair=True).fit_transform(X)
    assert np.all(np.isfinite(repaired))
    assert repaired[2, 7] == pytest.approx((np.log10(X[2, 6]) + np.log10(X[2, 8])) / 2)


def test_unrepairable_curve_is_named():
    X = synthetic.curves(3)
    X[1, 1:] = np.nan
    with pytest.raises(ValueError, match="curve 1 has fewer than 2 valid"):
        features.LogIntensity(repair=True).fit_transform(X)


def test_scale_free_masked_features_ignore_an_overall_factor():
    rng = np.random.default_rng(0)
    I = np.exp(rng.normal(size=(6, 40)))
    mask = np.ones_like(I, dtype=bool)
    mask[:, :5] = False  # a window that starts later
    prep = features.MaskedFeatures(scale_free=True).fit(I, mask)
    factors = np.array([1e-2, 0.5, 1.0, 3.0, 70.0, 100.0])[:, None]
    np.testing.assert_allclose(
        prep.transform(I * factors, mask), prep.transform(I, mask), atol=1e-12
    )
    plain = features.MaskedFeatures().fit(I, mask)
    assert not np.allclose(plain.transform(I * factors, mask), plain.transform(I, mask))
    np.testing.assert_array_equal(prep.transform(I, mask)[..., 1], mask)
