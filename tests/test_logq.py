"""The log-q model family: its input transform, a tiny training run, calibration and disk."""

import json
from dataclasses import replace

import numpy as np
import pytest

from helpers.learning import logq, model_set

GRID = logq.LogQGrid(n=64)  # coarse, for fast training runs
STUDY_Q = np.arange(1, 2000) / 100  # the study's grid, 0.01..19.99 Å⁻¹


def _curves(q, n=3, seed=0):
    """Smooth positive curves with a Guinier-like fall and a peak."""
    rng = np.random.default_rng(seed)
    r = rng.uniform(5, 30, size=(n, 1))
    return np.exp(-((q * r) ** 2) / 5) + 1e-3 * np.exp(-((q - 2.7) ** 2) / 0.01) + 1e-4 / q


def test_input_is_scale_free_and_on_the_log_grid():
    I = _curves(STUDY_Q)
    grid = logq.LogQGrid(n=300)
    Z = logq.prepare(STUDY_Q, I, grid=grid)
    assert Z.shape == (3, 300, 2) and Z.dtype == np.float32
    for c in (1e-9, 0.37, 5e8):
        np.testing.assert_allclose(logq.prepare(STUDY_Q, c * I, grid=grid), Z, atol=1e-5)
    measured = Z[..., 1] == 1
    # the grid's ends 0.01 and 20: 0.01 is measured, 20 lies beyond 19.99
    assert measured[:, 0].all() and not measured[:, -1].any()
    assert np.allclose(np.where(measured, Z[..., 0], 0).sum(axis=1), 0, atol=1e-3)
    # at a grid point ln I is the linear interpolation in ln q of the curve's ln I
    g = grid.q[150]
    expected = np.interp(np.log(g), np.log(STUDY_Q), np.log(I[0]))
    mean = np.mean(np.interp(np.log(grid.q[measured[0]]), np.log(STUDY_Q), np.log(I[0])))
    assert Z[0, 150, 0] == pytest.approx(expected - mean, abs=1e-5)


def test_another_q_grid_is_accepted():
    q = np.linspace(0.05, 12, 300)
    Z = logq.prepare(q, _curves(q))
    g = logq.LogQGrid().q
    inside = (g >= 0.05) & (g <= 12)
    n = logq.LogQGrid().n
    assert Z.shape == (3, n, 2)
    np.testing.assert_array_equal(Z[..., 1], np.broadcast_to(inside, (3, n)))
    assert np.all(Z[..., 0][:, ~inside] == 0)


def test_mask_marks_a_window_and_a_gap():
    I = _curves(STUDY_Q, n=2)
    window = (STUDY_Q >= 0.1) & (STUDY_Q <= 5.0)
    gap = (STUDY_Q >= 1.0) & (STUDY_Q <= 1.2)
    mask = np.stack([window & ~gap, window])
    g = logq.LogQGrid().q
    Z = logq.prepare(STUDY_Q, I, mask)
    lo, hi = 0.1 * (1 - 1e-9), 5.0 * (1 + 1e-9)
    in_window = (g >= lo) & (g <= hi)
    # the gap's measured neighbours are 0.99 and 1.21: between them nothing is measured
    outside_gap = (g <= 0.99 * (1 + 1e-9)) | (g >= 1.21 * (1 - 1e-9))
    np.testing.assert_array_equal(Z[0, :, 1], in_window & outside_gap)
    np.testing.assert_array_equal(Z[1, :, 1], in_window)
    # NaN marks unmeasured points the same way as the mask
    np.testing.assert_array_equal(logq.prepare(STUDY_Q, np.where(mask, I, np.nan)), Z)
    # an unmeasured point's intensity does not matter
    np.testing.assert_array_equal(logq.prepare(STUDY_Q, np.where(mask, I, 7.0), mask), Z)


def test_bin_means_keep_every_count_where_a_bin_holds_several_points():
    I = _curves(STUDY_Q, n=2)
    grid = logq.LogQGrid(n=128, average=True)
    Z = logq.prepare(STUDY_Q, I, grid=grid)
    plain = logq.prepare(STUDY_Q, I, grid=logq.LogQGrid(n=128))
    g = grid.q
    edges = np.sqrt(g[1:] * g[:-1])

    def members(k):
        return (STUDY_Q >= edges[k - 1]) & (STUDY_Q < edges[k])

    # two wide-angle grid points: ln of the mean intensity of the curve's points in each bin
    k = int(np.searchsorted(g, 10.0))
    here, there = members(k), members(k + 1)
    assert here.sum() >= 2 and there.sum() >= 2
    for row in range(2):
        step = np.log(I[row, here].mean()) - np.log(I[row, there].mean())
        assert Z[row, k, 0] - Z[row, k + 1, 0] == pytest.approx(step, abs=1e-5)
    # where a bin holds fewer than two points (below 0.1 Å⁻¹ here) it is interpolated as before
    small = g < 0.1
    np.testing.assert_allclose(
        Z[:, small, 0] - Z[:, small, 0].mean(axis=1, keepdims=True),
        plain[:, small, 0] - plain[:, small, 0].mean(axis=1, keepdims=True),
        atol=1e-5,
    )
    np.testing.assert_allclose(logq.prepare(STUDY_Q, 3e5 * I, grid=grid), Z, atol=1e-5)
    # a bin with some points unmeasured takes the mean of the measured ones; none: unmeasured
    mask = np.ones_like(I, dtype=bool)
    kept, *dropped = np.flatnonzero(here)
    mask[:, dropped] = False
    one = logq.prepare(STUDY_Q, I, mask, grid=grid)
    assert one[0, k, 1] == 1
    step = np.log(I[0, kept]) - np.log(I[0, there].mean())
    assert one[0, k, 0] - one[0, k + 1, 0] == pytest.approx(step, abs=1e-5)
    mask[:, kept] = False
    assert logq.prepare(STUDY_Q, I, mask, grid=grid)[0, k, 1] == 0


def _sphere(q, radius):
    x = q * radius
    return (3 * (np.sin(x) - x * np.cos(x)) / x**3) ** 2 + 1e-6


def test_a_shift_on_the_log_grid_is_the_same_particle_scaled():
    grid = logq.LogQGrid(q_min=0.01, q_max=2.0, n=128)
    q, step, s = grid.q, np.log(grid.q[1] / grid.q[0]), 7
    Z = logq.prepare(q, _sphere(q, 40.0)[None], grid=grid)
    # a particle smaller by exp(-s step): its curve is the same on ln q, s points higher;
    # its first s points lie below what the larger particle's curve measured
    smaller = _sphere(q, 40.0 * np.exp(-s * step))[None]
    mask = np.ones(smaller.shape, bool)
    mask[:, :s] = False
    expected = logq.prepare(q, smaller, mask, grid=grid)
    moved = logq.shifted(Z, np.array([s]))
    np.testing.assert_allclose(moved, expected, atol=1e-4)
    # and back down: the top s points leave the grid
    back = logq.shifted(moved, np.array([-s]))
    np.testing.assert_array_equal(back[0, -s:, 1], 0)
    np.testing.assert_allclose(
        back[0, s:-s, 0] - back[0, s:-s, 0].mean(), Z[0, s:-s, 0] - Z[0, s:-s, 0].mean(), atol=1e-4
    )
    np.testing.assert_allclose(logq.shifted(Z, np.array([0])), Z, atol=1e-6)
    with pytest.raises(ValueError, match="no measured grid point"):
        logq.shifted(Z, np.array([128]))
    with pytest.raises(ValueError, match="n shifts"):
        logq.shifted(Z, np.array([1, 2]))


def test_a_dilation_moves_the_small_angles_as_the_physics_fit_does():
    from helpers.measurement import fit

    grid = logq.LogQGrid(q_min=0.01, q_max=20.0, n=256)
    q, step = grid.q, np.log(grid.q[1] / grid.q[0])
    curves = _curves(q, n=3)
    Z = logq.prepare(q, curves, grid=grid)
    steps, weight = np.array([6, -9, 0]), fit.dilation_weight(q)
    moved = logq.dilated(Z, steps, weight, step)
    for k, s in enumerate(steps):
        # the physics fit's curve of a particle exp(-s step) times the size, lattice kept
        expected = logq.prepare(q, fit.dilate(q, curves[k][None], q, np.exp(-s * step)), grid=grid)
        # points whose source lies below the grid are not measured; the rest agree
        measured = np.arange(q.size) - s * weight >= 0
        np.testing.assert_array_equal(moved[k, :, 1], measured)
        there = expected[0, measured, 0] - expected[0, measured, 0].mean()
        np.testing.assert_allclose(moved[k, measured, 0], there, atol=1e-5)
    # the wide angles, where w = 0, keep their pattern; no move and no weight change nothing
    wide = weight == 0
    np.testing.assert_allclose(np.diff(moved[0, wide, 0]), np.diff(Z[0, wide, 0]), atol=1e-5)
    np.testing.assert_allclose(moved[2], Z[2], atol=1e-6)
    np.testing.assert_allclose(logq.dilated(Z, steps, np.zeros(q.size), step), Z, atol=1e-6)
    # with w = 1 everywhere it is the whole curve moved (the level is a constant, centred away)
    np.testing.assert_allclose(
        logq.dilated(Z, steps, np.ones(q.size), step), logq.shifted(Z, steps), atol=1e-6
    )
    with pytest.raises(ValueError, match="L weights"):
        logq.dilated(Z, steps, weight[:-1], step)


def test_a_shrunk_curve_is_dilated_and_its_peaks_broadened_as_a_smaller_crystal_s():
    from helpers.measurement import fit

    grid = logq.LogQGrid(q_min=0.01, q_max=20.0, n=256)
    q, step = grid.q, grid.log_step
    weight = fit.dilation_weight(q)
    Z = logq.prepare(q, _curves(q, n=3), grid=grid)
    radius = np.array([10.0, 10.0, 30.0])
    steps = np.array([0, 12, 12])
    sigma = logq.scherrer_sigma(steps, radius, step)
    # no step, no broadening; a width ~ 1/R: the smaller crystal broadens its peaks more
    assert sigma[0] == 0 and sigma[1] > sigma[2] > 0
    # the width, before it is rounded down to the levels, adds to the crystal's own in quadrature
    own = logq.SCHERRER_WIDTH / radius[1]
    exact = np.sqrt((own * np.exp(12 * step)) ** 2 - own**2)
    assert exact / 1.3 < sigma[1] <= exact and sigma[1] in logq.SCHERRER_LEVELS
    # a sphere's peak: half its height at 1.81 / R, written as a Gaussian's sigma
    x = 1.81
    assert (3 * (np.sin(x) - x * np.cos(x)) / x**3) ** 2 == pytest.approx(0.5, abs=0.01)
    np.testing.assert_allclose(logq.SCHERRER_WIDTH * np.sqrt(2 * np.log(2)), x)
    out = logq.shrunk(Z, steps, radius, q, weight, step)
    expected = logq.blurred(logq.dilated(Z, steps, weight, step), sigma, q, weight, step)
    np.testing.assert_allclose(out, expected, atol=1e-6)
    np.testing.assert_allclose(out[0], Z[0], atol=1e-6)
    with pytest.raises(ValueError, match="steps >= 0"):
        logq.shrunk(Z, np.array([0, -1, 2]), radius, q, weight, step)
    with pytest.raises(ValueError, match="radii > 0"):
        logq.scherrer_sigma(steps, np.array([10.0, 0.0, 5.0]), step)


def test_a_blur_broadens_the_wide_angles_and_keeps_the_small_ones():
    from helpers.measurement import fit

    grid = logq.LogQGrid(q_min=0.01, q_max=20.0, n=2048)
    q, step = grid.q, grid.log_step
    weight = fit.dilation_weight(q)
    # a Bragg peak of width 0.05 Å⁻¹ at 3 Å⁻¹ on a flat background, and a small-angle slope
    width, sigma = 0.05, 0.1
    peak = np.exp(-0.5 * ((q - 3.0) / width) ** 2)
    curve = 1e-3 + peak + q**-2.0 * 1e-4
    Z = logq.prepare(q, np.stack([curve, curve]), grid=grid)
    out = logq.blurred(Z, np.array([sigma, 0.0]), q, weight, step)
    # a Gaussian convolved with a Gaussian: widths add in quadrature, the peak's area is kept
    total = np.hypot(width, sigma)
    expected = np.log(
        1e-3 + q**-2.0 * 1e-4 + width / total * np.exp(-0.5 * ((q - 3.0) / total) ** 2)
    )
    near = (q > 2.6) & (q < 3.4)
    got = out[0, near, 0] - out[0, near, 0].mean()
    np.testing.assert_allclose(got, expected[near] - expected[near].mean(), atol=0.01)
    # the small angles (w = 1) keep their pattern; width 0 keeps the curve
    small = weight == 1
    np.testing.assert_allclose(np.diff(out[0, small, 0]), np.diff(Z[0, small, 0]), atol=1e-5)
    np.testing.assert_allclose(out[1], Z[1], atol=1e-6)
    # only measured points are used and kept: a flat curve with a gap stays flat at its edges
    mask = np.ones((1, q.size), dtype=bool)
    mask[0, (q > 2.0) & (q < 4.0)] = False
    flat = logq.prepare(q, np.ones((1, q.size)), mask, grid=grid)
    blurred = logq.blurred(flat, np.array([0.5]), q, weight, step)
    np.testing.assert_array_equal(blurred[:, :, 1], flat[:, :, 1])
    np.testing.assert_allclose(blurred[0, :, 0], 0.0, atol=1e-6)
    with pytest.raises(ValueError, match="n widths"):
        logq.blurred(Z, np.array([0.1]), q, weight, step)
    with pytest.raises(ValueError, match="grid points and weights"):
        logq.blurred(Z, np.array([0.1, 0.1]), q, weight[:-1], step)
    with pytest.raises(ValueError, match=">= 0"):
        logq.blurred(Z, np.array([-0.1, 0.1]), q, weight, step)


def test_a_window_keeps_exactly_its_points_centred():
    Z = logq.prepare(STUDY_Q, _curves(STUDY_Q, n=2))
    low, high = np.array([0, 200]), np.array([150, Z.shape[1]])
    W = logq.windowed(Z, low, high)
    i = np.arange(Z.shape[1])
    for k in range(2):
        inside = (i >= low[k]) & (i < high[k]) & (Z[k, :, 1] == 1)
        np.testing.assert_array_equal(W[k, :, 1], inside)
        assert np.all(W[k, ~inside, 0] == 0)
        assert W[k, inside, 0].sum() == pytest.approx(0, abs=1e-3)
        # the same curve measured in that window alone, up to the constant
        np.testing.assert_allclose(
            W[k, inside, 0], Z[k, inside, 0] - Z[k, inside, 0].mean(), atol=1e-5
        )
    with pytest.raises(ValueError, match="no measured grid point"):
        logq.windowed(Z, np.array([5, 5]), np.array([5, 9]))


def test_bad_inputs_raise():
    I = _curves(STUDY_Q, n=2)
    with pytest.raises(ValueError, match="strictly increasing"):
        logq.prepare(STUDY_Q[::-1], I)
    with pytest.raises(ValueError, match="n_curves"):
        logq.prepare(STUDY_Q, I[0])
    with pytest.raises(ValueError, match="n_curves"):
        logq.prepare(STUDY_Q[:-1], I)
    bad = I.copy()
    bad[1, 10] = 0.0
    with pytest.raises(ValueError, match="finite and > 0"):
        logq.prepare(STUDY_Q, bad)
    logq.prepare(STUDY_Q, bad, mask=bad > 0)  # masked out, it is fine
    with pytest.raises(ValueError, match="boolean"):
        logq.prepare(STUDY_Q, I, mask=np.ones(I.shape))
    with pytest.raises(ValueError, match="mask is True where I is NaN"):
        logq.prepare(STUDY_Q, np.where(STUDY_Q > 5, np.nan, I), mask=np.ones(I.shape, bool))
    with pytest.raises(ValueError, match="no point of the grid"):
        logq.prepare(STUDY_Q + 50, I)  # e.g. q in nm⁻¹ by mistake
    with pytest.raises(ValueError, match="n >= 16"):
        logq.LogQGrid(n=4)


@pytest.fixture(scope="module")
def trained(small_library):
    """A few epochs on the small library: fit and validation rows are whole structures."""
    meta = small_library.metadata
    val = np.flatnonzero((meta["size_parameter_1"] == 3).to_numpy())
    fit = np.setdiff1d(np.arange(len(meta)), val)
    model = logq.fit_library(
        small_library, fit, val, seed=0, epochs=3, width=4, grid=GRID, epoch_fraction=1.0
    )
    return model, small_library


def test_tiny_training_gives_probabilities_and_intervals(trained):
    model, lib = trained
    pred = model.predict(lib.q, lib.intensities[:10])
    assert pred.proba.shape == (10, 9)
    np.testing.assert_allclose(pred.proba.sum(axis=1), 1.0, atol=1e-9)
    assert set(pred.shape) <= set(model.labels)
    assert model.temperature > 0 and all(s > 0 for s in model.size_scale)
    assert model.library == model_set.library_id(lib)
    for level in (0.5, 0.9):
        iv = pred.interval(level)
        assert np.all(iv["log_n_atoms_low"] <= pred.log_n_atoms)
        assert np.all(pred.log_n_atoms <= iv["log_n_atoms_high"])
        assert np.all(iv["radius_low"] <= pred.radius_A)
        assert np.all(pred.radius_A <= iv["radius_high"])
    assert np.all(pred.interval(0.9)["radius_high"] > pred.interval(0.5)["radius_high"])
    with pytest.raises(ValueError, match="level"):
        pred.interval(1.0)
    # arbitrary units: the same predictions
    scaled = model.predict(lib.q, 123.0 * lib.intensities[:10])
    np.testing.assert_allclose(scaled.proba, pred.proba, atol=1e-5)


def test_the_graph_call_gives_the_eager_call_to_the_last_bit(trained):
    """A few curves go through the network as one TensorFlow graph (``logq._direct``): the same
    numbers as the eager call, for every batch size up to ``_DIRECT_CALL``, and as Keras'
    predict above it, traced once per network."""
    model, lib = trained
    Z = logq.prepare(lib.q, lib.intensities[:40], grid=model.grid).astype("float32")
    graph = logq._direct(model.network)
    for size in (1, 2, 5, 1, logq._DIRECT_CALL):
        eager = model.network(Z[:size], training=False)
        for key, value in graph(Z[:size]).items():
            assert value.numpy().tobytes() == eager[key].numpy().tobytes(), (size, key)
    assert logq._direct(model.network) is graph
    direct, batched = model._raw(Z[: logq._DIRECT_CALL]), model._raw(Z)
    for a, b in zip(direct, batched):
        np.testing.assert_allclose(a, b[: logq._DIRECT_CALL], rtol=1e-5, atol=1e-6)


def test_shape_over_dilations_is_the_geometric_mean_of_the_dilated_predictions(trained):
    model, lib = trained
    Z = logq.prepare(lib.q, lib.intensities[:6], grid=model.grid)
    base = model.predict_inputs(Z)
    same = logq.shape_over_dilations(model, Z, (0,))
    np.testing.assert_array_equal(same.proba, base.proba)
    steps = (-3, 0, 3)
    pooled = logq.shape_over_dilations(model, Z, steps)
    weight = logq.physics_fit.dilation_weight(model.grid.q)
    log_step = model.grid.log_step
    each = [
        model.predict_inputs(logq.dilated(Z, np.full(len(Z), s), weight, log_step)).proba
        for s in steps
    ]
    expected = np.exp(np.mean(np.log(each), axis=0))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(pooled.proba, expected, rtol=1e-9)
    assert not np.allclose(pooled.proba, base.proba)  # the dilations do change the answer
    assert list(pooled.shape) == [model.labels[k] for k in expected.argmax(axis=1)]
    np.testing.assert_array_equal(pooled.log_radius, base.log_radius)  # sizes: Z's own
    np.testing.assert_array_equal(pooled.log_n_atoms_std, base.log_n_atoms_std)
    for bad in ((), (model.grid.n,)):
        with pytest.raises(ValueError, match="steps must be grid points"):
            logq.shape_over_dilations(model, Z, bad)


def test_score_reads_the_prediction_against_the_truth(trained):
    model, lib = trained
    rows = np.arange(0, len(lib), 7)
    pred = model.predict(lib.q, lib.intensities[rows])
    scores, per_curve = logq.score(pred, model.labels, lib.metadata, rows)
    by_target = {s["target"]: s["metrics"] for s in scores}
    truth = lib.metadata["shape"].to_numpy()[rows]
    assert by_target["shape"]["accuracy"] == pytest.approx(np.mean(pred.shape == truth))
    assert 0 <= by_target["shape"]["ECE"] <= 1
    ln_r = np.log(lib.metadata["eq_radius"].to_numpy()[rows])
    inside = (per_curve["log_radius_low"] <= ln_r) & (ln_r <= per_curve["log_radius_high"])
    assert by_target[logq.LOG_R]["coverage_90"] == pytest.approx(inside.mean())
    with pytest.raises(ValueError, match="not among the model's labels"):
        logq.score(pred, [s for s in model.labels if s != truth[0]], lib.metadata, rows)


def test_fit_records_the_sizes_each_shape_was_trained_at(trained):
    model, lib = trained
    meta = lib.metadata
    fit = meta[(meta["size_parameter_1"] != 3).to_numpy()]
    assert set(model.trained_log_n) == set(fit["shape"])
    for label in model.trained_log_n:
        low, high = model.trained_log_n[label]
        assert low == pytest.approx(fit.loc[fit["shape"] == label, "log_n_atoms"].min())
        assert high == pytest.approx(fit.loc[fit["shape"] == label, "log_n_atoms"].max())


def test_unseen_size_weight_raises_the_shapes_not_trained_at_that_size():
    model = logq.LogQModel(labels=("a", "b", "c"), unseen_size_weight=3.0)
    model.trained_log_n = {"a": (1.0, 2.0), "b": (1.5, 4.0)}  # "c" never trained
    factors = model._unseen_factors([1.2, 3.0, 5.0])
    np.testing.assert_array_equal(factors, [[1, 4, 4], [4, 1, 4], [4, 4, 4]])
    model.unseen_size_weight = 0.0
    np.testing.assert_array_equal(model._unseen_factors([1.2, 3.0]), np.ones((2, 3)))


def test_unseen_size_weight_moves_probability_to_the_unseen_shapes(trained, tmp_path):
    model, lib = trained
    Z = logq.prepare(lib.q, lib.intensities[:12], grid=model.grid)
    plain = model.predict_inputs(Z)
    weighted = replace(model, unseen_size_weight=3.0)
    pred = weighted.predict_inputs(Z)
    factors = weighted._unseen_factors(pred.log_n_atoms)
    expected = plain.proba * factors
    np.testing.assert_allclose(pred.proba, expected / expected.sum(axis=1, keepdims=True))
    np.testing.assert_array_equal(pred.log_n_atoms, plain.log_n_atoms)
    loaded = logq.LogQModel.load(weighted.save(tmp_path / "weighted"), library=lib)
    assert loaded.unseen_size_weight == 3.0 and loaded.trained_log_n == model.trained_log_n
    np.testing.assert_array_equal(loaded.predict_inputs(Z).proba, pred.proba)
    meta = lib.metadata
    val = np.flatnonzero((meta["size_parameter_1"] == 3).to_numpy())
    fit = np.setdiff1d(np.arange(len(meta)), val)
    with pytest.raises(ValueError, match="unseen_size_weight"):
        logq.fit_library(lib, fit, val, epochs=1, grid=GRID, unseen_size_weight=-1)


def test_training_is_seeded(trained, small_library):
    model, lib = trained
    meta = lib.metadata
    val = np.flatnonzero((meta["size_parameter_1"] == 3).to_numpy())
    fit = np.setdiff1d(np.arange(len(meta)), val)
    again = logq.fit_library(
        lib, fit, val, seed=0, epochs=3, width=4, grid=GRID, epoch_fraction=1.0
    )
    np.testing.assert_allclose(
        again.predict(lib.q, lib.intensities[:5]).proba,
        model.predict(lib.q, lib.intensities[:5]).proba,
        atol=1e-6,
    )
    with pytest.raises(ValueError, match="overlap"):
        logq.fit_library(lib, fit, np.concatenate([val, fit[:1]]), epochs=1)
    with pytest.raises(ValueError, match="structures are in both"):
        logq.fit_library(lib, fit[1:], np.concatenate([val, fit[:1]]), epochs=1)


def test_save_load_round_trip(trained, tmp_path):
    model, lib = trained
    path = model.save(tmp_path / "logq")
    assert sorted(p.name for p in path.iterdir()) == ["logq.json", "logq.weights.h5"]
    record = json.loads((path / "logq.json").read_text())
    assert record["seed"] == 0 and record["grid"]["n"] == 64
    assert record["temperature"] == model.temperature
    loaded = logq.LogQModel.load(path, library=lib)
    a = model.predict(lib.q, lib.intensities[:8])
    b = loaded.predict(lib.q, lib.intensities[:8])
    np.testing.assert_array_equal(a.proba, b.proba)
    np.testing.assert_array_equal(a.log_radius_std, b.log_radius_std)
    record["library"] = "another"
    (path / "logq.json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match="trained on library"):
        logq.LogQModel.load(path, library=lib)
    with pytest.raises(ValueError, match="no saved LogQModel"):
        logq.LogQModel.load(tmp_path / "nothing")


def test_training_with_moved_and_cut_curves_is_seeded_and_saved(small_library, tmp_path):
    lib = small_library
    meta = lib.metadata
    val = np.flatnonzero((meta["size_parameter_1"] == 3).to_numpy())
    fit = np.setdiff1d(np.arange(len(meta)), val)
    options = dict(epochs=2, width=4, grid=GRID, epoch_fraction=1.0, max_shift=3)
    moves = dict(part_dropout=0.5, max_dilation=2, max_blur=0.3, scherrer_dilation=2)
    models = [logq.fit_library(lib, fit, val, seed=0, **moves, **options) for _ in range(2)]
    a, b = (m.predict(lib.q, lib.intensities[:4]).proba for m in models)
    np.testing.assert_allclose(a, b, atol=1e-6)
    loaded = logq.LogQModel.load(models[0].save(tmp_path / "m"), library=lib)
    assert (loaded.max_shift, loaded.part_dropout, loaded.max_dilation) == (3, 0.5, 2)
    assert (loaded.max_blur, loaded.scherrer_dilation) == (0.3, 2)
    np.testing.assert_array_equal(loaded.predict(lib.q, lib.intensities[:4]).proba, a)
    with pytest.raises(ValueError, match="max_shift"):
        logq.fit_library(lib, fit, val, **{**options, "max_shift": GRID.n})
    with pytest.raises(ValueError, match="max_dilation"):
        logq.fit_library(lib, fit, val, max_dilation=-1, **options)
    with pytest.raises(ValueError, match="scherrer_dilation"):
        logq.fit_library(lib, fit, val, scherrer_dilation=1.5, **options)
    with pytest.raises(ValueError, match="part_dropout"):
        logq.fit_library(lib, fit, val, part_dropout=1.5, **options)
    for bad in (-0.1, logq.MAX_BLUR + 0.5, True, "0.2"):
        with pytest.raises(ValueError, match="max_blur"):
            logq.fit_library(lib, fit, val, max_blur=bad, **options)


def test_early_stopping_on_the_shape_cross_entropy_keeps_its_best_epoch(small_library):
    from scipy.special import log_softmax

    lib = small_library
    meta = lib.metadata
    val = np.flatnonzero((meta["size_parameter_1"] == 3).to_numpy())
    fit = np.setdiff1d(np.arange(len(meta)), val)
    options = dict(epochs=4, patience=4, width=4, grid=GRID, epoch_fraction=1.0)
    model = logq.fit_library(lib, fit, val, seed=0, monitor="val_shape_loss", **options)
    watched = model.history["val_shape_loss"]
    assert len(watched) == 4 and np.argmin(watched) < 3  # the best epoch is not the last one
    Z_val = logq.prepare(lib.q, lib.intensities[val], grid=GRID)
    logits = model.network.predict(Z_val, verbose=0)["shape"]
    y = logq.shape_targets(meta.iloc[val])
    kept = -np.mean(log_softmax(logits.astype(float), axis=1)[np.arange(len(y)), y])
    assert kept == pytest.approx(min(watched), rel=1e-4)  # the weights of the lowest epoch
    with pytest.raises(ValueError, match="monitor must be one of"):
        logq.fit_library(lib, fit, val, monitor="val_shape_los", **options)


def test_cut_curves_keep_a_measured_part():
    from helpers.learning.estimators import _keras

    Z = logq.prepare(STUDY_Q, _curves(STUDY_Q, n=8))
    only_small = logq.windowed(Z, np.zeros(8, int), np.full(8, 100))  # measured below 100 only
    versions = np.stack([Z, only_small])
    batches = logq._batches(
        _keras(),
        versions,
        np.zeros(8, int),
        np.zeros((8, 2), "float32"),
        8,
        seed=0,
        part_dropout=1.0,
        cut_range=(150, 250),
    )
    x, _ = batches[0]
    measured = x[..., 1] == 1
    # every whole curve lost one side of a cut in 150..250; all kept a measured part
    assert measured.any(axis=1).all() and (measured.sum(axis=1) < Z[..., 1].sum(axis=1)).all()
    batches.on_epoch_end()
    x, _ = batches[0]  # the curves measured below 100 only: a wide-angle cut would leave nothing
    np.testing.assert_array_equal(x[..., 1].sum(axis=1) > 0, True)


def test_realistic_training_draws_measured_versions(small_library):
    lib = small_library
    meta = lib.metadata
    val = np.flatnonzero((meta["size_parameter_1"] == 3).to_numpy())
    fit = np.setdiff1d(np.arange(len(meta)), val)
    versions = logq.measured_versions(lib, fit, 2, GRID, seed=1)
    assert versions.shape == (2, fit.size, GRID.n, 2)
    assert not np.array_equal(versions[0], versions[1])  # fresh conditions each round
    np.testing.assert_array_equal(versions, logq.measured_versions(lib, fit, 2, GRID, seed=1))
    measured = versions[..., 1] == 1
    assert np.all(versions[..., 0][~measured] == 0) and measured.any(axis=-1).all()
    model = logq.fit_library(
        lib, fit, val, realistic=True, rounds=2, epochs=2, width=4, grid=GRID, epoch_fraction=1.0
    )
    assert len(model.history["loss"]) == 2
    np.testing.assert_allclose(model.predict(lib.q, lib.intensities[:3]).proba.sum(axis=1), 1.0)


def test_guinier_anchor_takes_the_size_from_the_forward_scattering(trained, tmp_path):
    model, lib = trained
    meta = lib.metadata
    val = np.flatnonzero((meta["size_parameter_1"] == 3).to_numpy())
    fit = np.setdiff1d(np.arange(len(meta)), val)
    anchored = logq.LogQModel.load(model.save(tmp_path / "network"), library=lib)
    anchored.calibrate_guinier(
        lib.q, lib.intensities[fit], meta.iloc[fit], lib.intensities[val], meta.iloc[val]
    )
    record = anchored.history["guinier"]
    assert anchored.guinier and record["anchored"] == len(val)
    # R_eq = sqrt(5/3) R_g of the atom centres: the offset is near ln sqrt(5/3), the form factor
    # and thermal smearing widen the scattering R_g of small particles (d < 0)
    a, d = anchored.guinier_offset
    assert a == pytest.approx(0.5 * np.log(5 / 3), abs=0.03) and d < 0
    assert record["rmse_log_radius_anchored"] < 0.02 < record["rmse_log_radius_network"]
    rows = np.arange(0, len(lib), 5)
    net, anc = (
        model.predict(lib.q, lib.intensities[rows]),
        anchored.predict(lib.q, lib.intensities[rows]),
    )
    truth = logq.size_targets(meta.iloc[rows])
    assert anc.guinier.all() and net.guinier is None
    assert np.sqrt(np.mean((anc.log_radius - truth[:, 1]) ** 2)) < 0.02
    np.testing.assert_array_equal(anc.proba, net.proba)  # the shape is the network's
    # ln N moves with ln R_eq: the network's element term is kept
    np.testing.assert_allclose(
        anc.log_n_atoms - 3 * anc.log_radius, net.log_n_atoms - 3 * net.log_radius, atol=1e-9
    )
    # a window that starts above the forward scattering keeps the network's size
    mask = np.broadcast_to(lib.q >= 0.5, (rows.size, lib.q.size))
    I = np.where(mask, lib.intensities[rows], np.nan)
    cut = anchored.predict(lib.q, I, mask)
    assert not cut.guinier.any()
    np.testing.assert_array_equal(cut.log_radius, model.predict(lib.q, I, mask).log_radius)
    # saved and loaded with the anchor
    again = logq.LogQModel.load(anchored.save(tmp_path / "anchored"), library=lib)
    np.testing.assert_array_equal(
        again.predict(lib.q, lib.intensities[rows]).log_radius, anc.log_radius
    )


class _Fixed:
    """A stand-in member whose predictions are given."""

    def __init__(self, prediction, labels=("a", "b")):
        self.prediction, self.labels, self.grid = prediction, labels, GRID

    def predict_inputs(self, Z):
        return self.prediction

    predict = None


def _prediction(proba, log_r, std_r, guinier):
    proba = np.asarray(proba, dtype=float)
    return logq.LogQPrediction(
        proba=proba,
        shape=np.array(["a", "b"], dtype=object)[proba.argmax(axis=1)],
        log_n_atoms=3 * np.asarray(log_r, dtype=float),
        log_n_atoms_std=3 * np.asarray(std_r, dtype=float),
        log_radius=np.asarray(log_r, dtype=float),
        log_radius_std=np.asarray(std_r, dtype=float),
        guinier=None if guinier is None else np.asarray(guinier),
    )


def test_ensemble_averages_probabilities_and_mixes_the_sizes():
    one = _prediction([[0.9, 0.1], [0.4, 0.6]], [0.0, 1.0], [1.0, 0.1], [True, True])
    two = _prediction([[0.3, 0.7], [0.2, 0.8]], [2.0, 1.0], [1.0, 0.3], [True, False])
    both = logq.LogQEnsemble([_Fixed(one), _Fixed(two)]).predict_inputs(None)
    np.testing.assert_allclose(both.proba, [[0.6, 0.4], [0.3, 0.7]])
    assert list(both.shape) == ["a", "b"]
    np.testing.assert_allclose(both.log_radius, [1.0, 1.0])
    # mixture: mean of the variances plus the variance of the means
    np.testing.assert_allclose(both.log_radius_std, [np.sqrt(2.0), np.sqrt(0.05)])
    np.testing.assert_allclose(both.log_n_atoms_std, 3 * both.log_radius_std)
    assert list(both.guinier) == [True, False]  # anchored where every member anchored
    unanchored = _prediction([[0.5, 0.5], [0.5, 0.5]], [0.0, 0.0], [1.0, 1.0], None)
    assert (
        logq.LogQEnsemble([_Fixed(one), _Fixed(unanchored)]).predict_inputs(None).guinier is None
    )
    with pytest.raises(ValueError, match="at least one"):
        logq.LogQEnsemble([])
    with pytest.raises(ValueError, match="share their labels"):
        logq.LogQEnsemble([_Fixed(one), _Fixed(two, labels=("b", "a"))])


def test_ensemble_members_hold_out_other_structures(small_library, tmp_path):
    lib = small_library
    meta = lib.metadata
    train = np.arange(len(meta))
    options = dict(epochs=2, width=4, grid=GRID, epoch_fraction=1.0)
    ensemble = logq.fit_ensemble(lib, train, 2, seed=0, **options)
    assert len(ensemble.members) == 2
    # member 0 is the single model of the same seed
    fit, val = model_set.validation_rows(meta, train, "grouped", seed=0)
    single = logq.fit_library(lib, fit, val, seed=0, **options)
    np.testing.assert_allclose(
        ensemble.members[0].predict(lib.q, lib.intensities[:4]).proba,
        single.predict(lib.q, lib.intensities[:4]).proba,
        atol=1e-6,
    )
    held_out = [
        set(
            meta["structure_id"].iloc[model_set.validation_rows(meta, train, "grouped", seed=k)[1]]
        )
        for k in (0, 1)
    ]
    assert held_out[0] != held_out[1]
    pred = ensemble.predict(lib.q, lib.intensities[:6])
    np.testing.assert_allclose(pred.proba.sum(axis=1), 1.0, atol=1e-9)
    loaded = logq.LogQEnsemble.load(ensemble.save(tmp_path / "ens"), library=lib)
    np.testing.assert_array_equal(loaded.predict(lib.q, lib.intensities[:6]).proba, pred.proba)
    assert loaded.pooling == "mean"
    logged = replace(ensemble, pooling="log")
    loaded = logq.LogQEnsemble.load(logged.save(tmp_path / "log"), library=lib)
    assert loaded.pooling == "log"
    np.testing.assert_array_equal(
        loaded.predict(lib.q, lib.intensities[:6]).proba,
        logged.predict(lib.q, lib.intensities[:6]).proba,
    )
    with pytest.raises(ValueError, match="pooling"):
        logq.fit_ensemble(lib, train, 2, pooling="max", **options)
    with pytest.raises(ValueError, match="no saved LogQEnsemble"):
        logq.LogQEnsemble.load(tmp_path / "nothing")
    with pytest.raises(ValueError, match="members"):
        logq.fit_ensemble(lib, train, 0, **options)
    with pytest.raises(ValueError, match="extra_rows share structures"):
        logq.fit_ensemble(lib, train[4:], 2, extra_rows=train[:6], **options)


def test_min_temperature_bounds_the_calibration(trained, tmp_path):
    """Validation curves all named right: the likelihood falls as T -> 0; T stops at the floor."""
    model, lib = trained
    meta = lib.metadata
    val = np.flatnonzero((meta["size_parameter_1"] == 3).to_numpy())
    Z_val = logq.prepare(lib.q, lib.intensities[val], grid=model.grid)
    named = meta.iloc[val].assign(shape=model.predict_inputs(Z_val).shape)
    floored = replace(model, min_temperature=0.5).calibrate(Z_val, named)
    assert floored.temperature == pytest.approx(0.5, rel=1e-3)
    free = replace(model, min_temperature=0.05).calibrate(Z_val, named)
    assert free.temperature < 0.1
    loaded = logq.LogQModel.load(floored.save(tmp_path / "floored"), library=lib)
    assert loaded.min_temperature == 0.5 and loaded.temperature == floored.temperature
    for bad in (0.0, -1.0, 25.0, float("nan")):
        with pytest.raises(ValueError, match="min_temperature"):
            replace(model, min_temperature=bad).calibrate(Z_val, named)
    fit = np.setdiff1d(np.arange(len(meta)), val)
    with pytest.raises(ValueError, match="min_temperature"):
        logq.fit_library(lib, fit, val, epochs=1, grid=GRID, min_temperature=0)


def test_geometric_mean_renormalises_and_lets_a_zero_veto():
    first, second = np.array([[0.9, 0.1], [0.5, 0.5]]), np.array([[0.4, 0.6], [0.5, 0.5]])
    pooled = logq.geometric_mean([first, second])
    expected = np.array([[0.6, np.sqrt(0.06)], [1.0, 1.0]])
    np.testing.assert_allclose(pooled, expected / expected.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(logq.geometric_mean([first]), first)  # one answer: itself
    vetoed = logq.geometric_mean([np.array([[0.0, 1.0]]), np.array([[0.99, 0.01]])])
    assert np.all(np.isfinite(vetoed)) and vetoed[0, 0] < 1e-100 and vetoed[0, 1] == 1.0


def test_ensemble_log_pooling_is_the_renormalised_geometric_mean():
    one = _prediction([[0.9, 0.1], [0.4, 0.6]], [0.0, 1.0], [1.0, 0.1], [True, True])
    two = _prediction([[0.3, 0.7], [0.2, 0.8]], [2.0, 1.0], [1.0, 0.3], [True, False])
    both = logq.LogQEnsemble([_Fixed(one), _Fixed(two)], pooling="log").predict_inputs(None)
    geometric = np.sqrt([[0.27, 0.07], [0.08, 0.48]])
    np.testing.assert_allclose(both.proba, geometric / geometric.sum(axis=1, keepdims=True))
    assert list(both.shape) == ["a", "b"]
    np.testing.assert_allclose(both.log_radius, [1.0, 1.0])  # the sizes pool as before
    certain = _prediction([[1.0, 0.0], [0.0, 1.0]], [0.0, 1.0], [1.0, 0.1], None)
    np.testing.assert_allclose(  # a zero probability does not break the logarithm
        logq.LogQEnsemble([_Fixed(certain), _Fixed(one)], "log").predict_inputs(None).proba,
        [[1.0, 0.0], [0.0, 1.0]],
        atol=1e-12,
    )
    with pytest.raises(ValueError, match="pooling"):
        logq.LogQEnsemble([_Fixed(one)], pooling="median")
