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
