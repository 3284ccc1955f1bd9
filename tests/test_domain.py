"""What a measured q range can tell."""

import numpy as np
import pytest

from helpers.measurement import domain


def test_the_study_grid_covers_size_and_shape():
    q = np.arange(1, 2000) / 100
    c = domain.coverage(q)
    assert c.size_determinable and c.shape_determinable and c.gaps == ()
    # first minimum inside the window up to R = 4.49 / 0.01 1/Å
    assert c.largest_radius_A == pytest.approx(449.34, rel=1e-4)
    assert c.guinier_radius_A == pytest.approx(np.sqrt(5 / 3) * 130, rel=1e-9)


def test_a_saxs_only_curve_gets_its_size_and_no_shape():
    q = np.geomspace(0.005, 0.5, 200)
    c = domain.coverage(q)
    assert c.size_determinable and not c.shape_determinable
    assert any(n.startswith("shape not determinable") for n in c.notes)


def test_wide_angles_only_and_gaps_are_named():
    q = np.arange(200, 2000) / 100
    mask = np.ones(q.size, dtype=bool)
    mask[(q > 5.0) & (q < 6.0)] = False
    c = domain.coverage(q, mask)
    assert not c.size_determinable and c.shape_determinable
    assert len(c.gaps) == 1 and c.gaps[0][0] == pytest.approx(5.0) and c.gaps[0][1] == 6.0
    assert any("Bragg peak widths" in n for n in c.notes)
    # a model trained on windows reaching 8 Å⁻¹ asks for more
    assert not domain.coverage(q[q < 7.5], shape_q_max=8.0).shape_determinable


def test_bad_masks_are_named():
    with pytest.raises(ValueError, match="length of q"):
        domain.coverage(np.arange(1, 10) / 10, np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="no measured point"):
        domain.coverage(np.arange(1, 10) / 10, np.zeros(9, dtype=bool))


def _sphere(q, radius):
    x = q * radius
    return (3 * (np.sin(x) - x * np.cos(x)) / x**3) ** 2


def test_guinier_recovers_the_radius_of_gyration():
    q = np.arange(1, 400) / 1000
    # an exact Guinier curve, at any scale: R_g to rounding, and no fit error
    exact = 7.0 * np.exp(-((q * 40.0) ** 2) / 3)
    fit = domain.guinier(q, exact)
    assert fit.valid.tolist() == [True]
    assert fit.radius_of_gyration[0] == pytest.approx(40.0, rel=1e-9)
    assert fit.log_rg_std[0] < 1e-9
    # a sphere of radius R has R_g = sqrt(3/5) R; the q⁴ term biases a fit to q R_g = 1.3 by < 2 %
    curves = np.stack([_sphere(q, r) for r in (20.0, 50.0, 100.0)])
    fit = domain.guinier(q, 1e3 * curves)
    np.testing.assert_allclose(
        fit.radius_of_gyration, np.sqrt(3 / 5) * np.array([20.0, 50.0, 100.0]), rtol=0.02
    )
    assert np.all(fit.n_points >= domain.GUINIER_MIN_POINTS)
    # the same answer started from a guess far off (the fit window is iterated)
    again = domain.guinier(q, curves, start=np.array([5.0, 500.0, 20.0]))
    np.testing.assert_allclose(again.radius_of_gyration, fit.radius_of_gyration, rtol=1e-6)


def test_guinier_needs_the_forward_scattering():
    q = np.arange(1, 400) / 1000
    curves = np.stack([_sphere(q, 30.0), _sphere(q, 30.0)])
    mask = np.ones_like(curves, dtype=bool)
    mask[1, q < 0.06] = False  # the second window starts at q R_g = 1.4: no Guinier region
    fit = domain.guinier(q, curves, mask)
    assert fit.valid.tolist() == [True, False]
    assert np.isnan(fit.radius_of_gyration[1]) and fit.n_points[1] < domain.GUINIER_MIN_POINTS
    # a rising curve (e.g. a background at low q) has no radius of gyration
    assert not domain.guinier(q, np.exp(q)).valid[0]
    with pytest.raises(ValueError, match="on the grid q"):
        domain.guinier(q, curves[:, :10])
    with pytest.raises(ValueError, match="min_points"):
        domain.guinier(q, curves, min_points=2)
    with pytest.raises(ValueError, match="shape of I"):
        domain.guinier(q, curves, mask[:1])
