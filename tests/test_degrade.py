"""Degradations: identity at level 0, seeded, the promised q grid, valid intensities, clear
errors."""

import numpy as np
import pytest

from helpers.measurement import degrade

Q = np.arange(1, 400) / 100


def _curves(n=6, seed=0):
    """Positive curves spanning several decades, like I(q) of a particle."""
    rng = np.random.default_rng(seed)
    radius = rng.uniform(5, 20, size=(n, 1))
    x = Q * radius
    envelope = (3 * (np.sin(x) - x * np.cos(x)) / x**3) ** 2
    return 1e6 * radius**3 * (envelope + 1e-4) * (1 + 0.1 * np.cos(7 * Q))


IDENTITIES = [
    (degrade.poisson_noise, np.inf),
    (degrade.gaussian_noise, 0.0),
    (degrade.missing_random, 0.0),
    (degrade.missing_blocks, 0.0),
    (degrade.coarsen, 1),
]


@pytest.mark.parametrize("fn, level", IDENTITIES)
def test_level_zero_is_identity(fn, level):
    I = _curves()
    q_out, I_out = fn(Q, I, level, seed=3)
    np.testing.assert_array_equal(q_out, Q)
    np.testing.assert_array_equal(I_out, I)
    assert I_out is not I


def test_full_window_and_present_are_identities():
    I = _curves()
    np.testing.assert_array_equal(degrade.window(Q, I, Q[0], Q[-1])[1], I)
    for how in ("interpolate", "resample"):
        q_out, I_out = degrade.present(Q, I, Q, how)
        np.testing.assert_array_equal(q_out, Q)
        np.testing.assert_allclose(I_out, I, rtol=1e-12)


SEEDED = [
    (degrade.poisson_noise, 1e5),
    (degrade.gaussian_noise, 0.1),
    (degrade.missing_random, 0.3),
    (degrade.missing_blocks, 0.3),
]


@pytest.mark.parametrize("fn, level", SEEDED)
def test_seeded(fn, level):
    I = _curves()
    a = fn(Q, I, level, seed=1)[1]
    np.testing.assert_array_equal(a, fn(Q, I, level, seed=1)[1])
    assert not np.array_equal(a, fn(Q, I, level, seed=2)[1])
    assert not np.array_equal(a, I)
    with pytest.raises(ValueError, match="seed"):
        fn(Q, I, level, seed=None)


@pytest.mark.parametrize("fn, level", SEEDED)
def test_valid_intensities_and_same_grid(fn, level):
    I = _curves()
    q_out, I_out = fn(Q, I, level, seed=0)
    np.testing.assert_array_equal(q_out, Q)
    assert I_out.shape == I.shape
    assert np.all(np.isfinite(I_out)) and np.all(I_out >= 0)
    if (
        fn is not degrade.poisson_noise
    ):  # zero counts are real for Poisson noise; the others stay positive
        assert np.all(I_out > 0)
    one = fn(Q, I[0], level, seed=0)[1]  # a single curve works too
    assert one.shape == (Q.size,)


def test_poisson_mean_and_variance():
    I = np.tile(_curves(1), (4000, 1))
    photons = 1e6
    noisy = degrade.poisson_noise(Q, I, photons, seed=0)[1]
    expected_counts = photons * I[0] / I[0].sum()
    counts = noisy * photons / I.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-6)  # whole photons
    big = expected_counts > 100
    np.testing.assert_allclose(counts.mean(axis=0)[big], expected_counts[big], rtol=0.02)
    np.testing.assert_allclose(counts.var(axis=0)[big], expected_counts[big], rtol=0.1)


def test_gaussian_relative_level():
    I = np.ones((2000, Q.size))
    noisy = degrade.gaussian_noise(Q, I, 0.05, seed=0)[1]
    assert abs(noisy.std() - 0.05) < 0.002
    assert abs(noisy.mean() - 1) < 0.001


@pytest.mark.parametrize("kind", ["random", "blocks"])
def test_missing_fraction_and_interpolation(kind):
    n, fraction = 5, 0.4
    mask = (degrade.random_mask if kind == "random" else degrade.block_mask)(
        n, Q.size, fraction, seed=0
    )
    np.testing.assert_array_equal(mask.sum(axis=1), round(fraction * Q.size))
    if kind == "blocks":  # contiguous runs of DETECTOR_GAP_POINTS points, but for one shorter rest
        edges = np.diff(np.concatenate([[0], mask[0].astype(int), [0]]))
        widths = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
        assert (widths % degrade.DETECTOR_GAP_POINTS == 0).sum() >= len(widths) - 1
    exponential = np.exp(-Q) * np.ones(
        (n, 1)
    )  # exactly linear in log I vs q: refilled exactly between
    filled = degrade.fill_missing(
        Q, exponential, mask
    )  # measured points, constant beyond the ends
    np.testing.assert_array_equal(filled[~mask], exponential[~mask])
    assert np.all(np.isfinite(filled)) and np.all(filled > 0)
    inside = (
        mask & (np.cumsum(~mask, axis=1) > 0) & (np.cumsum(~mask[:, ::-1], axis=1)[:, ::-1] > 0)
    )
    assert inside.any()
    np.testing.assert_allclose(filled[inside], exponential[inside], rtol=1e-12)
    for row, bad in zip(filled, mask):  # beyond the ends: the nearest measured value
        first, last = np.flatnonzero(~bad)[[0, -1]]
        np.testing.assert_array_equal(row[:first], row[first])
        np.testing.assert_array_equal(row[last:], row[last])


def test_coarsen_and_windows_keep_the_promised_grid():
    I = _curves()
    q2, I2 = degrade.coarsen(Q, I, 5)
    np.testing.assert_array_equal(q2, Q[::5])
    np.testing.assert_array_equal(I2, I[:, ::5])
    qs, Is = degrade.saxs(Q, I, 1.0)
    qw, Iw = degrade.waxs(Q, I, 1.0)
    assert qs.max() < 1.0 <= qw.min()
    assert qs.size + qw.size == Q.size
    np.testing.assert_array_equal(np.hstack([Is, Iw]), I)
    qb, _ = degrade.window(Q, I, 0.5, 2.0)
    assert qb.min() >= 0.5 and qb.max() <= 2.0
    np.testing.assert_array_equal(degrade.raise_qmin(Q, I, 0.5, q_max=2.0)[0], qb)
    np.testing.assert_array_equal(degrade.lower_qmax(Q, I, 2.0, q_min=0.5)[0], qb)


def test_present_interpolates_at_true_q_or_resamples():
    I = np.exp(-Q)[None, :] * np.ones((2, 1))
    qw, Iw = degrade.window(Q, I, 1.0, 3.0)
    grid, shown = degrade.present(qw, Iw, Q, "interpolate")
    inside = (Q >= 1.0) & (Q <= 3.0)
    np.testing.assert_allclose(shown[:, inside], I[:, inside], rtol=1e-12)
    np.testing.assert_allclose(
        shown[:, Q < 1.0], np.broadcast_to(Iw[:, :1], (2, int((Q < 1.0).sum())))
    )  # constant beyond the measured range
    _, moved = degrade.present(qw, Iw, Q, "resample")
    np.testing.assert_allclose(moved[:, 0], Iw[:, 0])
    np.testing.assert_allclose(moved[:, -1], Iw[:, -1])
    assert not np.allclose(moved, shown)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda I: degrade.poisson_noise(Q, I, -5), "photons must be > 0"),
        (lambda I: degrade.poisson_noise(Q, I, 0), "photons must be > 0"),
        (lambda I: degrade.poisson_noise(Q, -I, 1e5), "non-negative"),
        (lambda I: degrade.gaussian_noise(Q, I, -0.1), "relative noise"),
        (lambda I: degrade.missing_random(Q, I, 1.0), r"\[0, 1\)"),
        (lambda I: degrade.missing_blocks(Q, I, -0.1), r"\[0, 1\)"),
        (lambda I: degrade.missing_random(Q, I, 0.999), "fewer than 2"),
        (lambda I: degrade.coarsen(Q, I, 0), "k must be an integer >= 1"),
        (lambda I: degrade.coarsen(Q, I, 2.5), "k must be an integer >= 1"),
        (lambda I: degrade.coarsen(Q, I, 1000), "fewer than 2"),
        (lambda I: degrade.window(Q, I, 5.0, 6.0), "widen it"),
        (lambda I: degrade.present(Q, I, Q, "stretch"), "unknown presentation"),
        (lambda I: degrade.poisson_noise(Q[:-1], I, 1e5), "n_q"),
    ],
)
def test_impossible_levels_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call(_curves())
