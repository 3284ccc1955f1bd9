"""The realistic measurement model: each part does what its physics says, the mask is exact."""
import numpy as np
import pandas as pd
import pytest

from helpers import dataset, models, realistic

Q = np.arange(1, 400) / 100


@pytest.fixture(scope="module")
def lib():
    return dataset.build_library(
        __import__("tempfile").mkdtemp() + "/lib", shapes=["cubefcc", "icosahedron"], sizes=[2, 3, 4, 5],
        elements=["Au", "Fe"], b_iso=[0.1], q=Q, progress=False)


def test_polydispersity_of_a_single_size_is_the_identity(lib):
    rows = np.arange(len(lib))
    np.testing.assert_array_equal(realistic.polydisperse(lib, rows, 0.0), lib.intensities)
    np.testing.assert_allclose(realistic.polydisperse(lib, rows, 1e-4), lib.intensities, rtol=1e-12)


def test_polydispersity_is_a_weighted_mean_of_the_same_shape_element_and_b(lib):
    meta = lib.metadata
    row = int(np.flatnonzero((meta["shape"] == "icosahedron") & (meta["element"] == "Au")
                             & (meta["size_parameter_1"] == 3))[0])
    family = np.flatnonzero((meta["shape"] == "icosahedron") & (meta["element"] == "Au"))
    curve = realistic.polydisperse(lib, [row], 0.3)[0]
    w = np.exp(-np.log(meta["eq_radius"].to_numpy()[family] / meta.loc[row, "eq_radius"]) ** 2 / (2 * 0.3**2))
    np.testing.assert_allclose(curve, w @ lib.intensities[family] / w.sum(), rtol=1e-12)
    assert curve[0] > lib.intensities[row, 0]  # bigger neighbours weigh more at q -> 0 (I(0) ~ N^2)
    with pytest.raises(ValueError, match="sigma"):
        realistic.polydisperse(lib, [row], -0.1)


def test_smearing_conserves_the_integral_and_broadens_peaks():
    peak = np.exp(-0.5 * ((Q - 2.0) / 0.05) ** 2) + 1e-300
    smeared = realistic.smear(Q, peak, 0.05)
    assert smeared.sum() == pytest.approx(peak.sum(), rel=1e-9)
    assert smeared.max() == pytest.approx(peak.max() / np.sqrt(2), rel=1e-3)  # widths add in quadrature
    np.testing.assert_array_equal(realistic.smear(Q, peak, 0.0), peak)
    R = realistic.resolution_matrix(Q, 0.01, 0.02)
    np.testing.assert_allclose(R.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match=">= 0"):
        realistic.resolution_matrix(Q, -0.01)


def test_background_adds_flat_and_power_law_parts():
    I = np.exp(-Q)
    np.testing.assert_array_equal(realistic.add_background(Q, I), I)
    with_flat = realistic.add_background(Q, I, flat=0.5)
    np.testing.assert_allclose(with_flat - I, 0.5 * I[-1])
    with_power = realistic.add_background(Q, I, power=1.0, exponent=4)
    np.testing.assert_allclose((with_power - I)[[0, 1]], I[0] * np.array([1.0, 2.0 ** -4]))
    with pytest.raises(ValueError, match=">= 0"):
        realistic.add_background(Q, I, flat=-1)


def test_the_mask_marks_exactly_the_missing_points(lib):
    rows = np.arange(6)
    conditions = [realistic.Measurement(q_min=0.1 * (k + 1), q_max=3.0 - 0.2 * k, photons=1e6) for k in rows]
    I, mask = realistic.measure(lib, rows, conditions, seed=0)
    for k, m in enumerate(conditions):
        np.testing.assert_array_equal(mask[k], (Q >= m.q_min) & (Q <= m.q_max))
    np.testing.assert_array_equal(np.isnan(I), ~mask)
    assert np.all(I[mask] >= 0)
    feats = realistic.MaskedFeatures().fit(I, mask).transform(I, mask)
    assert feats.shape == (6, Q.size, 2)
    np.testing.assert_array_equal(feats[..., 1], mask.astype(float))
    np.testing.assert_array_equal(feats[..., 0][~mask], 0.0)
    assert np.all(np.isfinite(feats))


def test_measure_is_seeded_and_ideal_by_default(lib):
    rows = np.arange(len(lib))
    I, mask = realistic.measure(lib, rows, realistic.Measurement(), seed=0)
    np.testing.assert_array_equal(I, lib.intensities)
    assert mask.all()
    conditions = realistic.random_measurements(len(rows), seed=1)
    a = realistic.measure(lib, rows, conditions, seed=2)[0]
    np.testing.assert_array_equal(a, realistic.measure(lib, rows, conditions, seed=2)[0])
    assert conditions == realistic.random_measurements(len(rows), seed=1)
    with pytest.raises(ValueError, match="one per curve"):
        realistic.measure(lib, rows, conditions[:3])


def test_two_channel_cnn_trains_on_masked_inputs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 40, 2)).astype("float32")
    y = (X[:, :20, 0].mean(axis=1) > 0).astype(int)
    model, history = models.train_cnn(X, y, 2, seed=0, epochs=2)
    assert model.input_shape == (None, 40, 2)
    assert models.predict_classes(model, X).shape == (60,)


def test_fit_models_rejects_bad_options_before_any_work(lib):
    rows = np.arange(len(lib))
    with pytest.raises(ValueError, match="linear_rounds"):
        realistic.fit_models(lib, rows, "random", rounds=2, linear_rounds=3)
    with pytest.raises(ValueError, match="early_stopping takes monitor"):
        realistic.fit_models(lib, rows, "random", early_stopping={"monitr": "val_accuracy"})
