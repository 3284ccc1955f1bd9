"""The measurement model: polydispersity, resolution, background, counting noise, window, scale."""

import numpy as np
import pytest

from helpers.learning import features
from helpers.measurement import instrument

Q = np.arange(1, 400) / 100  # the grid of the tiny library (conftest)


def test_polydispersity_of_a_single_size_is_the_identity(tiny_library):
    rows = np.arange(len(tiny_library))
    np.testing.assert_array_equal(
        instrument.polydisperse(tiny_library, rows, 0.0), tiny_library.intensities
    )
    np.testing.assert_allclose(
        instrument.polydisperse(tiny_library, rows, 1e-4), tiny_library.intensities, rtol=1e-12
    )


def test_polydispersity_is_a_weighted_mean_of_the_same_shape_element_and_b(tiny_library):
    meta = tiny_library.metadata
    row = int(
        np.flatnonzero(
            (meta["shape"] == "icosahedron")
            & (meta["element"] == "Au")
            & (meta["size_parameter_1"] == 3)
        )[0]
    )
    family = np.flatnonzero((meta["shape"] == "icosahedron") & (meta["element"] == "Au"))
    curve = instrument.polydisperse(tiny_library, [row], 0.3)[0]
    w = np.exp(
        -(np.log(meta["eq_radius"].to_numpy()[family] / meta.loc[row, "eq_radius"]) ** 2)
        / (2 * 0.3**2)
    )
    np.testing.assert_allclose(curve, w @ tiny_library.intensities[family] / w.sum(), rtol=1e-12)
    assert (
        curve[0] > tiny_library.intensities[row, 0]
    )  # bigger neighbours weigh more at q -> 0 (I(0) ~ N^2)
    with pytest.raises(ValueError, match="sigma"):
        instrument.polydisperse(tiny_library, [row], -0.1)


def test_smearing_conserves_the_integral_and_broadens_peaks():
    peak = np.exp(-0.5 * ((Q - 2.0) / 0.05) ** 2) + 1e-300
    smeared = instrument.smear(Q, peak, 0.05)
    assert smeared.sum() == pytest.approx(peak.sum(), rel=1e-9)
    assert smeared.max() == pytest.approx(
        peak.max() / np.sqrt(2), rel=1e-3
    )  # widths add in quadrature
    np.testing.assert_array_equal(instrument.smear(Q, peak, 0.0), peak)
    R = instrument.resolution_matrix(Q, 0.01, 0.02)
    np.testing.assert_allclose(R.sum(axis=1), 1.0)
    # kept for the next call on the same grid and widths, and nobody can change the kept copy
    assert instrument.resolution_matrix(Q.copy(), 0.01, 0.02) is R and not R.flags.writeable
    assert instrument.resolution_matrix(Q, 0.01, 0.03) is not R
    with pytest.raises(ValueError, match=">= 0"):
        instrument.resolution_matrix(Q, -0.01)


def test_background_adds_flat_and_power_law_parts():
    I = np.exp(-Q)
    np.testing.assert_array_equal(instrument.add_background(Q, I), I)
    with_flat = instrument.add_background(Q, I, flat=0.5)
    np.testing.assert_allclose(with_flat - I, 0.5 * I[-1])
    with_power = instrument.add_background(Q, I, power=1.0, exponent=4)
    np.testing.assert_allclose((with_power - I)[[0, 1]], I[0] * np.array([1.0, 2.0**-4]))
    with pytest.raises(ValueError, match=">= 0"):
        instrument.add_background(Q, I, flat=-1)


def test_the_mask_marks_exactly_the_missing_points(tiny_library):
    rows = np.arange(6)
    conditions = [
        instrument.Measurement(q_min=0.1 * (k + 1), q_max=3.0 - 0.2 * k, photons=1e6) for k in rows
    ]
    I, mask = instrument.measure(tiny_library, rows, conditions, seed=0)
    for k, m in enumerate(conditions):
        np.testing.assert_array_equal(mask[k], (Q >= m.q_min) & (Q <= m.q_max))
    np.testing.assert_array_equal(np.isnan(I), ~mask)
    assert np.all(I[mask] >= 0)
    feats = features.MaskedFeatures().fit(I, mask).transform(I, mask)
    assert feats.shape == (6, Q.size, 2)
    np.testing.assert_array_equal(feats[..., 1], mask.astype(float))
    np.testing.assert_array_equal(feats[..., 0][~mask], 0.0)
    assert np.all(np.isfinite(feats))


def test_measure_is_seeded_and_ideal_by_default(tiny_library):
    rows = np.arange(len(tiny_library))
    I, mask = instrument.measure(tiny_library, rows, instrument.Measurement(), seed=0)
    np.testing.assert_array_equal(I, tiny_library.intensities)
    assert mask.all()
    conditions = instrument.random_measurements(len(rows), seed=1)
    a = instrument.measure(tiny_library, rows, conditions, seed=2)[0]
    np.testing.assert_array_equal(a, instrument.measure(tiny_library, rows, conditions, seed=2)[0])
    assert conditions == instrument.random_measurements(len(rows), seed=1)
    with pytest.raises(ValueError, match="one per curve"):
        instrument.measure(tiny_library, rows, conditions[:3])


def test_polydispersity_stays_on_its_side_of_the_split(tiny_library):
    """A curve averaged over a pool of training rows draws nothing from held-out rows: with the
    other sizes of its family outside the pool it is the monodisperse curve."""
    meta = tiny_library.metadata
    family = np.flatnonzero((meta["shape"] == "cubefcc") & (meta["element"] == "Au"))
    row, others = family[1], np.setdiff1d(np.arange(len(tiny_library)), family)
    alone = instrument.polydisperse(tiny_library, [row], 0.3, pool=np.append(others, row))
    np.testing.assert_array_equal(alone[0], tiny_library.intensities[row])
    mixed = instrument.polydisperse(tiny_library, [row], 0.3)
    assert not np.allclose(mixed[0], tiny_library.intensities[row])
    with pytest.raises(ValueError, match="in pool"):
        instrument.polydisperse(tiny_library, [row], 0.3, pool=others)


def test_size_distributions_describe_what_polydispersity_averages(tiny_library):
    """The centre of the size distribution a polydisperse curve averages over: the row's own
    size without polydispersity or without neighbours in the pool, else the weighted mean of ln
    R_eq, which a sparse pool moves away from the row's own size."""
    meta = tiny_library.metadata
    radii = meta["eq_radius"].to_numpy()
    family = np.flatnonzero((meta["shape"] == "icosahedron") & (meta["element"] == "Au"))
    family = family[np.argsort(radii[family])]
    row, others = family[1], np.setdiff1d(np.arange(len(tiny_library)), family)
    sizes = instrument.size_distributions(tiny_library, [row, row], [0.0, 0.3])
    assert sizes["centre_radius_A"][0] == radii[row] and sizes["sizes"][0] == 1
    w = np.exp(-(np.log(radii[family] / radii[row]) ** 2) / (2 * 0.3**2))
    expected = np.exp(w @ np.log(radii[family]) / w.sum())
    assert sizes["centre_radius_A"][1] == pytest.approx(expected, rel=1e-12)
    assert sizes["sizes"][1] == int((w / w.sum() >= 0.01).sum()) > 1
    # a pool of the row and its larger neighbour only: the distribution lies above the row's size
    pool = np.concatenate([others, family[1:3]])
    one_side = instrument.size_distributions(tiny_library, [row], 0.3, pool=pool)
    assert radii[row] < one_side["centre_radius_A"][0] < radii[family[2]]
    alone = instrument.size_distributions(tiny_library, [row], 0.3, pool=np.append(others, row))
    assert alone["centre_radius_A"][0] == radii[row] and alone["sizes"][0] == 1
    with pytest.raises(ValueError, match="in pool"):
        instrument.size_distributions(tiny_library, [row], 0.3, pool=others)


def test_scale_multiplies_the_measured_curve(tiny_library):
    I1, _ = instrument.measure(tiny_library, [0, 1], instrument.Measurement(), seed=0)
    I2, _ = instrument.measure(tiny_library, [0, 1], instrument.Measurement(scale=0.01), seed=0)
    np.testing.assert_allclose(I2, 0.01 * I1, rtol=1e-12)
    with pytest.raises(ValueError, match="scale"):
        instrument.measure(tiny_library, [0], instrument.Measurement(scale=0.0))
    scales = [m.scale for m in instrument.random_measurements(200, seed=1)]
    assert 1e-2 <= min(scales) < 0.1 and 10 < max(scales) <= 1e2


def test_off_share_switches_each_effect_off_on_its_own():
    """off_share 0 draws the conditions it drew before; 1 switches the polydispersity, the
    resolution and the background off for every curve and leaves the rest as drawn; a share in
    between switches each effect off for about that share of the curves, independently."""
    n = 4000
    base = instrument.random_measurements(n, seed=5)
    assert instrument.random_measurements(n, seed=5, off_share=0.0) == base
    none = instrument.random_measurements(n, seed=5, off_share=1.0)
    for m, b in zip(none, base, strict=True):
        assert (m.polydispersity, m.resolution, m.relative_resolution, m.flat, m.power) == (0,) * 5
        assert (m.photons, m.q_min, m.q_max, m.scale) == (b.photons, b.q_min, b.q_max, b.scale)
    half = instrument.random_measurements(n, seed=5, off_share=0.5)
    poly = np.array([m.polydispersity == 0 for m in half])
    smeared = np.array([m.resolution == m.relative_resolution == 0 for m in half])
    background = np.array([m.flat == m.power == 0 for m in half])
    assert abs(poly.mean() - 0.5) < 0.03 and abs(background.mean() - 0.5) < 0.03
    # the resolution is also off where both widths were drawn as 0 (1 in 9 of the default lists)
    assert abs(smeared.mean() - (0.5 + 0.5 / 9)) < 0.03
    assert abs((poly & background).mean() - 0.25) < 0.03  # independent of each other
    # a numpy number is a number
    as_numpy = instrument.random_measurements(20, seed=5, off_share=np.float32(0.5))
    assert as_numpy == instrument.random_measurements(20, seed=5, off_share=0.5)
    for bad in (-0.1, 1.5, float("nan"), "half", True):
        with pytest.raises(ValueError, match="off_share"):
            instrument.random_measurements(3, off_share=bad)


def test_with_random_scale_gives_each_curve_its_own_factor():
    base = instrument.Measurement(photons=1e6)
    scaled = instrument.with_random_scale(base, 50, seed=3)
    factors = np.array([m.scale for m in scaled])
    assert len(set(factors)) == 50 and factors.min() >= 1e-2 and factors.max() <= 1e2
    assert all(m.photons == 1e6 for m in scaled)
    again = instrument.with_random_scale(base, 50, seed=3)
    assert [m.scale for m in again] == list(factors)
    with pytest.raises(ValueError, match="one per curve"):
        instrument.with_random_scale([base] * 3, 4)
