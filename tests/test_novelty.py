"""The out-of-distribution score: distance to the nearest training curve, calibrated."""

import numpy as np
import pytest

from helpers.learning import logq, novelty

GRID = logq.LogQGrid(q_min=0.01, q_max=20.0, n=64)


def _family(rng, n, width=(2.0, 6.0)):
    """Damped oscillations of random size on q: a family of smooth curves."""
    q = np.geomspace(0.01, 20.0, 400)
    r = rng.uniform(*width, size=(n, 1))
    return q, np.exp(-0.5 * (q * r / 10) ** 2) * (2 + np.cos(q * r)) + 1e-3


def _fitted(seed=0):
    rng = np.random.default_rng(seed)
    q, ref = _family(rng, 300)
    _, val = _family(rng, 100)
    return q, novelty.Novelty.fit(logq.prepare(q, ref, grid=GRID), logq.prepare(q, val, grid=GRID))


def test_a_curve_of_the_family_is_typical_and_noise_is_novel():
    q, model = _fitted()
    _, same = _family(np.random.default_rng(7), 5)
    noise = np.exp(np.random.default_rng(8).normal(size=(3, q.size)))
    s_same = model.scores(logq.prepare(q, same, grid=GRID))
    s_noise = model.scores(logq.prepare(q, noise, grid=GRID))
    assert np.all(s_same < 0.99) and np.all(s_noise == 1.0)
    assert model.is_novel(logq.prepare(q, noise, grid=GRID)).all()


def test_scale_free_and_masked():
    q, model = _fitted()
    _, curve = _family(np.random.default_rng(3), 1)
    z = logq.prepare(q, curve, grid=GRID)
    d = model.distances(z)
    assert model.distances(logq.prepare(q, 250.0 * curve, grid=GRID)) == pytest.approx(d, abs=1e-5)
    window = logq.prepare(q, curve, ((q > 0.1) & (q < 5.0))[None, :], grid=GRID)
    assert window[0, :, 1].sum() < z[0, :, 1].sum()  # another mean, fewer points
    assert model.scores(window)[0] < 0.99  # still a curve of the family
    # only the measured points count: garbage where the window did not measure changes nothing
    spoiled = window.copy()
    spoiled[0, window[0, :, 1] == 0, 0] = 50.0
    assert model.distances(spoiled) == pytest.approx(model.distances(window))


def test_save_load_round_trip(tmp_path):
    q, model = _fitted()
    again = novelty.Novelty.load(model.save(tmp_path / "n.npz"))
    z = logq.prepare(q, _family(np.random.default_rng(4), 3)[1], grid=GRID)
    np.testing.assert_array_equal(again.scores(z), model.scores(z))
    assert list(tmp_path.iterdir()) == [tmp_path / "n.npz"]  # no temporary file left


def test_bad_inputs_are_named(tmp_path):
    q, model = _fitted()
    z = logq.prepare(q, _family(np.random.default_rng(1), 30)[1], grid=GRID)
    with pytest.raises(ValueError, match=r"\(n, L, 2\)"):
        model.scores(z[..., 0])
    with pytest.raises(ValueError, match="at least 10"):
        novelty.Novelty.fit(z, z[:5])
    masked = z.copy()
    masked[:, :3, 1] = 0.0
    with pytest.raises(ValueError, match="every grid point"):
        novelty.Novelty.fit(masked, z)
    with pytest.raises(FileNotFoundError, match="fit one and save it"):
        novelty.Novelty.load(tmp_path / "missing.npz")
