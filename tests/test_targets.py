"""Targets: size classes, the builder's size parameter, lattice types."""

import numpy as np
import pandas as pd
import pytest

from helpers.learning import targets


def test_size_classes():
    meta = pd.DataFrame(
        {
            "structure_id": [f"s{k}" for k in range(18) for _ in range(2)],
            "log_n_atoms": [np.log(10.0 * (k + 1)) for k in range(18) for _ in range(2)],
        }
    )
    edges = targets.size_class_edges(meta)
    labels = targets.size_class(meta["log_n_atoms"], edges)
    assert edges.size == 8 and np.all(np.diff(edges) > 0)
    np.testing.assert_array_equal(
        np.bincount(labels), [4] * 9
    )  # two structures (four curves) per class
    assert np.all(np.diff(labels) >= 0)  # bigger particles never in a smaller class
    with pytest.raises(ValueError, match="cannot define 9 size classes"):
        targets.size_class_edges(meta.iloc[:10])
    assert targets.size_parameter_class([2, 10, 5]).tolist() == [0, 8, 3]
    with pytest.raises(ValueError, match="2..10"):
        targets.size_parameter_class([11])


def test_lattice_types_and_the_fcc_single_crystals():
    from helpers.simulation import structures

    meta = pd.DataFrame({"shape": list(structures.SHAPES)})
    labels, names = targets.class_labels(meta, "lattice")
    assert names == ["fcc", "bcc", "icosahedral", "decahedral"]
    by_shape = dict(zip(meta["shape"], np.array(names)[labels]))
    assert by_shape["rhombic_dodecahedron"] == "bcc"
    assert by_shape["icosahedron"] == by_shape["dodecahedron"] == "icosahedral"
    assert by_shape["pentagonal_bipyramid"] == "decahedral"
    assert set(targets.FCC_SINGLE_CRYSTALS) == {s for s, lat in by_shape.items() if lat == "fcc"}
    assert len(targets.FCC_SINGLE_CRYSTALS) == 5
    with pytest.raises(ValueError, match="unknown class target"):
        targets.class_labels(meta, "colour")
