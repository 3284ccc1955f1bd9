"""The physics fit: library Debye curves, log-normal polydispersity, scale and flat background."""

import numpy as np
import pytest

from helpers.measurement import fit, instrument


def _row(lib, **where):
    meta = lib.metadata
    mask = np.ones(len(meta), dtype=bool)
    for key, value in where.items():
        mask &= np.isclose(meta[key], value) if key == "b_iso" else (meta[key] == value)
    return int(np.flatnonzero(mask.to_numpy())[0])


def test_recovers_size_polydispersity_scale_and_background(small_library):
    lib = small_library
    row = _row(lib, shape="icosahedron", element="Au", b_iso=0.1, size_parameter_1=3)
    truth = instrument.polydisperse(lib, [row], 0.1)[0]
    q = lib.q[::2]
    measured = 37.0 * truth[::2] + 5.0
    result = fit.fit_family(lib, q, measured, "icosahedron", "Au", 0.1)
    assert result.radius_A == pytest.approx(lib.metadata.loc[row, "eq_radius"])
    assert result.polydispersity == 0.1 and result.n_atoms == lib.metadata.loc[row, "n_atoms"]
    assert result.scale == pytest.approx(37.0, rel=1e-3)
    assert result.background == pytest.approx(5.0, rel=1e-2)
    assert result.chi2_red < 1e-6 and not result.weighted_by_sigma
    np.testing.assert_allclose(result.fitted, measured, rtol=1e-3)


def test_a_radius_range_limits_the_sizes_tried_and_family_rows_agree(small_library):
    lib = small_library
    row = _row(lib, shape="icosahedron", element="Au", b_iso=0.1, size_parameter_1=3)
    family = lib.metadata.query("shape == 'icosahedron' and element == 'Au' and b_iso == 0.1")
    radii = np.sort(family["eq_radius"].to_numpy())
    measured = 37.0 * instrument.polydisperse(lib, [row], 0.1)[0] + 5.0
    families = fit.family_rows(lib)
    true_r = lib.metadata.loc[row, "eq_radius"]
    around = (0.9 * true_r, 1.1 * true_r)  # the true size only
    kept = fit.fit_family(lib, lib.q, measured, "icosahedron", "Au", 0.1, radius_range=around)
    whole = fit.fit_family(lib, lib.q, measured, "icosahedron", "Au", 0.1)
    assert kept.radius_A == whole.radius_A == pytest.approx(lib.metadata.loc[row, "eq_radius"])
    assert kept.polydispersity == whole.polydispersity == 0.1  # averages still use every size
    assert kept.chi2_red == pytest.approx(whole.chi2_red, rel=1e-6, abs=1e-12)
    away = (1.5 * radii[-1], 3.0 * radii[-1])  # beyond every size: the nearest one is tried
    far = fit.fit_family(lib, lib.q, measured, "icosahedron", "Au", 0.1, radius_range=away)
    assert far.radius_A == pytest.approx(radii[-1])
    table, fits = fit.fit_candidates(
        lib, lib.q, measured, [("icosahedron", "Au", 0.1)], families=families
    )
    assert fits[("icosahedron", "Au", 0.1)].chi2_red == pytest.approx(whole.chi2_red)
    with pytest.raises(ValueError, match="no curves of cubefcc / Xx"):
        fit.fit_candidates(lib, lib.q, measured, [("cubefcc", "Xx", 0.1)], families=families)


def test_the_right_shape_fits_best_and_sigma_gives_an_absolute_chi2(small_library):
    lib = small_library
    row = _row(lib, shape="octahedron", element="Fe", b_iso=0.9, size_parameter_1=4)
    clean = 2.0 * lib.intensities[row]
    sigma = 0.02 * clean
    noisy = clean + np.random.default_rng(0).normal(0.0, 1.0, clean.size) * sigma
    candidates = [(s, "Fe", 0.9) for s in ("cubefcc", "icosahedron", "octahedron")]
    table, fits = fit.fit_candidates(lib, lib.q, noisy, candidates, sigma=sigma)
    assert table["shape"].iloc[0] == "octahedron"
    best = fits[("octahedron", "Fe", 0.9)]
    assert best.weighted_by_sigma and 0.7 < best.chi2_red < 1.4  # noise at its stated level
    assert table["chi2_red"].iloc[1] > 10 * best.chi2_red
    assert best.at_size_edge  # size 4 is the library's largest octahedron


def test_points_outside_the_library_and_missing_points_are_left_out(small_library):
    lib = small_library
    row = _row(lib, shape="cubefcc", element="Au", b_iso=0.9, size_parameter_1=2)
    q = np.concatenate([lib.q, [lib.q[-1] + 1.0, lib.q[-1] + 2.0]])
    measured = np.concatenate([lib.intensities[row], [1.0, 1.0]])
    measured[10:20] = np.nan
    result = fit.fit_family(lib, q, measured, "cubefcc", "Au", 0.9)
    assert result.n_points == lib.q.size - 10 and result.q.size == result.n_points


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(shape="tetrahedron"), "no curves of tetrahedron"),
        (dict(q_scale=100.0), "only 3 measured points"),
        (dict(sigmas=(-0.1,)), "finite and >= 0"),
        (dict(bad_sigma=True), "sigma must have the length"),
    ],
)
def test_bad_requests_are_named(small_library, kwargs, match):
    lib = small_library
    q = lib.q * kwargs.pop("q_scale", 1.0)
    sigma = np.ones(3) if kwargs.pop("bad_sigma", False) else None
    args = dict(shape="cubefcc", element="Au", b_iso=0.1) | kwargs
    with pytest.raises(ValueError, match=match):
        fit.fit_family(lib, q, lib.intensities[0], sigma=sigma, **args)


def test_a_best_size_at_the_edge_of_the_range_tried_is_flagged(small_library):
    lib = small_library
    row = _row(lib, shape="octahedron", element="Fe", b_iso=0.9, size_parameter_1=4)
    meta = lib.metadata
    family = (meta["shape"] == "octahedron") & (meta["element"] == "Fe") & (meta["b_iso"] == 0.9)
    radii = np.sort(meta.loc[family, "eq_radius"].to_numpy())  # sizes 2, 3, 4
    curve = lib.intensities[row]
    only_3 = (radii[1] * 0.99, radii[1] * 1.01)
    boxed = fit.fit_family(lib, lib.q, curve, "octahedron", "Fe", 0.9, radius_range=only_3)
    assert boxed.radius_A == radii[1] and boxed.at_range_edge and not boxed.at_size_edge
    free = fit.fit_family(lib, lib.q, curve, "octahedron", "Fe", 0.9)
    assert free.radius_A == radii[2] and not free.at_range_edge and free.at_size_edge
    three_and_4 = (radii[1] * 0.99, radii[2] * 1.01)  # up to the library's largest: nothing beyond
    edge = fit.fit_family(lib, lib.q, curve, "octahedron", "Fe", 0.9, radius_range=three_and_4)
    assert edge.radius_A == radii[2] and not edge.at_range_edge


def _family(lib, shape, element, b_iso):
    rows = fit.family_rows(lib)[(shape, element, b_iso)]
    return rows[np.argsort(lib.metadata["eq_radius"].to_numpy()[rows])]


def test_a_smeared_curve_is_fitted_with_its_resolution(small_library):
    lib = small_library
    row = _row(lib, shape="cubefcc", element="Au", b_iso=0.1, size_parameter_1=3)
    measured = 4.0 * instrument.smear(lib.q, lib.intensities[row], 0.02, 0.02)
    dq = instrument.resolution_width(lib.q, 0.02, 0.02)
    np.testing.assert_allclose(dq[[0, -1]], np.hypot(0.02, 0.02 * lib.q[[0, -1]]))
    smeared = fit.fit_family(lib, lib.q, measured, "cubefcc", "Au", 0.1, dq=dq)
    plain = fit.fit_family(lib, lib.q, measured, "cubefcc", "Au", 0.1)
    assert smeared.radius_A == lib.metadata.loc[row, "eq_radius"]
    assert smeared.scale == pytest.approx(4.0, rel=1e-3)
    assert smeared.chi2_red < 1e-3 < plain.chi2_red  # the unsmeared curves cannot follow it
    assert (0.005, 0.02) in fit.RESOLUTIONS and (0.0, 0.0) in fit.RESOLUTIONS


def test_substeps_put_r0_between_the_library_sizes(small_library):
    lib = small_library
    rows = _family(lib, "icosahedron", "Au", 0.1)
    log_r = np.log(lib.metadata["eq_radius"].to_numpy()[rows])
    centre = 0.75 * log_r[1] + 0.25 * log_r[2]  # a quarter of the way from size 3 to size 4
    n = lib.metadata["n_atoms"].to_numpy()[rows]
    on_sizes = fit.fit_family(lib, lib.q, 2.0 * lib.intensities[rows[1]], "icosahedron", "Au", 0.1)
    assert np.isclose(on_sizes.radius_A, np.exp(log_r)).any()  # only the library's sizes
    # "average": a log-normal average re-centred between the sizes is recovered exactly
    measured = 2.0 * fit._size_average(lib.intensities[rows], log_r, 0.1, [centre])[0]
    options = dict(substeps=4, between="average")
    between = fit.fit_family(lib, lib.q, measured, "icosahedron", "Au", 0.1, **options)
    assert between.radius_A == pytest.approx(np.exp(centre), rel=1e-9)
    assert between.polydispersity == 0.1 and between.chi2_red < 1e-6
    assert fit.fit_family(lib, lib.q, measured, "icosahedron", "Au", 0.1).chi2_red > 1e-6
    assert n[1] < between.n_atoms < n[2]
    # "dilate": one size-3 particle grown by the quarter step, recovered exactly
    factor = np.exp(centre - log_r[1])
    grown = 2.0 * fit.dilate(lib.q, lib.intensities[rows[1:2]], lib.q, factor)[0]
    options = dict(substeps=4, between="dilate")
    found = fit.fit_family(lib, lib.q, grown, "icosahedron", "Au", 0.1, **options)
    assert found.radius_A == pytest.approx(np.exp(centre), rel=1e-9)
    assert found.polydispersity == 0.0 and found.chi2_red < 1e-6
    assert found.scale == pytest.approx(2.0, rel=1e-6) and n[1] < found.n_atoms < n[2]
    # "blend" (the default): sizes 3 and 4 both grown (shrunk) to the point, ln I weighted 3:1
    shrunk = fit.dilate(lib.q, lib.intensities[rows[2:3]], lib.q, np.exp(centre - log_r[2]))[0]
    blend = 2.0 * np.exp(0.75 * np.log(grown / 2.0) + 0.25 * np.log(shrunk))
    found = fit.fit_family(lib, lib.q, blend, "icosahedron", "Au", 0.1, substeps=4)
    assert found.radius_A == pytest.approx(np.exp(centre), rel=1e-9)
    assert found.polydispersity == 0.0 and found.chi2_red < 1e-6
    assert fit.fit_family(lib, lib.q, blend, "icosahedron", "Au", 0.1, **options).chi2_red > 1e-6
    with pytest.raises(ValueError, match="between must be one of"):
        fit.fit_family(lib, lib.q, grown, "icosahedron", "Au", 0.1, between="nearest")


def test_a_size_missing_from_the_library_blends_both_neighbours(small_library):
    # size 3 of a family of cubes left out: its curve fitted from sizes 2 and 4 both dilated and
    # blended follows it closer than from the nearest alone (measured: χ²_red 412 against 633 of
    # a noiseless curve, R 9.43 against 8.75 Å for 9.15 Å). Not so for every particle: the
    # library's tiny octahedra (6 to 44 atoms) go the other way (1197 against 1133); the blend
    # was chosen on validation curves (module doc of helpers.measurement.fit)
    lib = small_library
    rows = _family(lib, "cubefcc", "Au", 0.1)
    radius = lib.metadata["eq_radius"].to_numpy()[rows[1]]
    curve, kept = lib.intensities[rows[1]], np.delete(rows, 1)
    options = dict(rows=kept, substeps=8, sigmas=(0.0,))
    blend = fit.fit_family(lib, lib.q, curve, "cubefcc", "Au", 0.1, **options)
    nearest = fit.fit_family(lib, lib.q, curve, "cubefcc", "Au", 0.1, between="dilate", **options)
    assert blend.chi2_red < 0.8 * nearest.chi2_red
    assert abs(np.log(blend.radius_A / radius)) < abs(np.log(nearest.radius_A / radius))


def test_dilation_turns_a_small_particle_into_a_larger_one_at_small_angles(tiny_library):
    # the physics behind "dilate": on log q a larger particle's small-angle curve is the smaller
    # one's moved to lower q, (R_4 / R_3)^6 = (N_4 / N_3)^2 higher at q -> 0; the Bragg peaks stay
    lib = tiny_library
    rows = _family(lib, "cubefcc", "Au", 0.1)
    radii = lib.metadata["eq_radius"].to_numpy()[rows]
    small, large = lib.intensities[rows[2]], lib.intensities[rows[3]]
    factor = radii[3] / radii[2]
    grown = fit.dilate(lib.q, small[None, :], lib.q, factor)[0]
    low, high = lib.q < fit.DILATION_Q[0], lib.q > fit.DILATION_Q[1]
    grown_ratio, small_ratio = np.log(grown / large), np.log(small / large)
    # up to a constant (the fit's scale) the grown curve follows the larger one: measured 0.03
    # against 1.05 (the spread of ln I ratios), sizes 4 -> 5
    assert np.std(grown_ratio[low]) < 0.1 * np.std(small_ratio[low])
    # and its small- to wide-angle ratio grows like N (measured: 0.58 against 0.46)
    assert abs(np.median(grown_ratio[low]) - np.median(grown_ratio[high])) < 0.2
    np.testing.assert_allclose(grown[high], small[high], rtol=1e-12)  # wide angles as they are
    np.testing.assert_allclose(fit.dilate(lib.q, small[None, :], lib.q, 1.0)[0], small, rtol=1e-12)
    assert fit.dilation_weight([0.1, fit.DILATION_Q[1], 5.0]).tolist() == [1.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="dilation factor"):
        fit.dilate(lib.q, small[None, :], lib.q, 0.0)


def test_the_noise_of_a_curve_is_read_from_its_scatter(small_library):
    lib = small_library
    row = _row(lib, shape="cubefcc", element="Au", b_iso=0.1, size_parameter_1=2)
    clean = lib.intensities[row]
    smooth = fit.relative_noise(lib.q, clean)
    assert np.all(smooth >= fit.NOISE_FLOOR) and np.median(smooth) < 1.1 * fit.NOISE_FLOOR
    rng = np.random.default_rng(1)
    noisy = clean * np.exp(0.05 * rng.normal(size=clean.size))
    estimate = fit.relative_noise(lib.q, noisy)
    assert 0.04 < np.median(estimate) < 0.06
    louder = np.where(lib.q > 3, clean * np.exp(0.2 * rng.normal(size=clean.size)), noisy)
    tail = fit.relative_noise(lib.q, louder)[lib.q > 3.5]
    assert 0.15 < np.median(tail) < 0.25  # the noisier part is weighted less


def test_counting_noise_is_read_where_few_counts_repeat(small_library):
    # half a count at wide angles on average: the zero counts dropped (as a file of I > 0 holds
    # them), equal counts repeating, so the scatter of the points says little there
    lib = small_library
    row = _row(lib, shape="cubefcc", element="Au", b_iso=0.1, size_parameter_1=2)
    clean = lib.intensities[row]
    expected = 0.5 * clean / np.median(clean[lib.q > 2])
    counts = np.random.default_rng(2).poisson(expected).astype(float)
    kept = counts > 0
    q, measured, expected = lib.q[kept], 3.7 * counts[kept], expected[kept]
    truth = 3.7 * np.sqrt(expected)  # the counting noise in the curve's units
    estimate = fit.relative_noise(q, measured) * measured
    few = expected < 5
    assert few.sum() > 50
    # measured over seeds 0-4: 0.73-0.83; the scatter of ln I alone gave 0.39-0.51 (too small:
    # those points would weigh 4-6 times their due)
    assert 0.6 < np.median(estimate[few] / truth[few]) < 1.5


def test_a_fit_without_sigma_needs_positive_intensities(small_library):
    lib = small_library
    curve = lib.intensities[0].copy()
    curve[100] = 0.0
    with pytest.raises(ValueError, match=r"intensity <= 0 at q = .* give sigma, or NaN"):
        fit.fit_family(lib, lib.q, curve, "cubefcc", "Au", 0.1)
    fit.fit_family(lib, lib.q, curve, "cubefcc", "Au", 0.1, sigma=np.ones(lib.q.size))


def test_bad_resolution_and_substeps_are_named(small_library):
    lib = small_library
    args = (lib, lib.q, lib.intensities[0], "cubefcc", "Au", 0.1)
    with pytest.raises(ValueError, match="dq must be finite values >= 0"):
        fit.fit_family(*args, dq=-np.ones(lib.q.size))
    with pytest.raises(ValueError, match="dq must be finite values >= 0"):
        fit.fit_family(*args, dq=np.ones(3))
    with pytest.raises(ValueError, match="substeps must be an integer >= 1"):
        fit.fit_family(*args, substeps=0)
    with pytest.raises(ValueError, match="noise must hold one"):
        fit.fit_family(*args, noise=np.ones(3))


def test_the_profile_width_grows_with_the_noise_and_is_at_least_half_a_step(small_library):
    # how sharply the data fix R_0 (log_radius_halfwidth): the χ² profile over R_0 widens when
    # the points are noisier, and never falls below half the R_0 grid's step next to the best
    lib = small_library
    row = _row(lib, shape="icosahedron", element="Au", b_iso=0.1, size_parameter_1=3)
    truth = instrument.polydisperse(lib, [row], 0.1)[0]
    q = lib.q[lib.q < 0.5]  # few points: the small library's sizes are far apart at small q
    clean = np.interp(q, lib.q, truth)
    widths = {}
    for noise in (0.003, 1.0):
        sigma = noise * clean
        measured = clean + sigma * np.random.default_rng(0).standard_normal(q.size)
        result = fit.fit_family(
            lib, q, measured, "icosahedron", "Au", 0.1, sigma=sigma, substeps=fit.SUBSTEPS
        )
        widths[noise] = result.log_radius_halfwidth
        assert result.as_row()["log_radius_halfwidth"] == widths[noise]
    family = lib.metadata.query("shape == 'icosahedron' and element == 'Au' and b_iso == 0.1")
    log_r = np.log(np.sort(family["eq_radius"].to_numpy()))
    half_step = np.diff(log_r).min() / fit.SUBSTEPS / 2
    assert widths[0.003] >= half_step * (1 - 1e-9)
    assert widths[1.0] > 2 * widths[0.003]  # measured: 0.30 against 0.032


def test_linear_fits_chi2_is_the_sum_of_squared_residuals():
    rng = np.random.default_rng(4)
    models = rng.uniform(0.5, 2.0, (6, 40))
    weight = rng.uniform(0.05, 0.2, 40)
    data = 3.0 * models[2] + 0.4 + rng.normal(0, 0.05, 40)
    models[5] = -models[2]  # a negative scale breaks a bound: scale-only fit, background 0
    scale, background, chi2 = fit._linear_fits(models, data, weight)
    residual = (data - scale[:, None] * models - background[:, None]) / weight
    np.testing.assert_allclose(chi2, (residual**2).sum(axis=1), rtol=1e-9)
    assert scale[2] == pytest.approx(3.0, rel=0.05)
    assert background[2] == pytest.approx(0.4, abs=0.1)
    assert background[5] == 0.0 and int(np.argmin(chi2)) == 2
    # a model that matches exactly: χ² near 0, not the rounding of the expanded sums
    matched = 7.0 * models[2] * 1e6 + 1e3
    _, _, exact = fit._linear_fits(models[2:3] * 1e6, matched, weight)
    assert 0.0 <= exact[0] < 1e-20 * np.sum((matched / weight) ** 2)
