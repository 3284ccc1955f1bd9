"""Shared fixtures, and the order of the run: the checks of the notebooks' smoke results
(tests/test_smoke_results.py) run after the notebooks themselves (nbval items).

Under pytest-xdist (``make test`` runs the notebooks and tests on two workers) no worker can know
when the others' notebooks are done, so the smoke-results checks are skipped there and ``make
test`` runs them in a second step with ``NP_SMOKE_RECORDED=1``. Each worker's TensorFlow (and the
notebook kernels it starts) then uses one thread, so that two workers share two cores.
"""

import os

import numpy as np
import pytest

from helpers import paths
from helpers.simulation import library

#: a small library shared by the tests that need real Debye curves (3 shapes, 3 sizes, 2 elements)
SMALL = dict(
    shapes=["cubefcc", "icosahedron", "octahedron"],
    sizes=[2, 3, 4],
    elements=["Au", "Fe"],
    b_iso=[0.1, 0.9],
    q=np.arange(1, 301) / 50,
)


#: two shapes, four sizes, one B_iso, q up to 4 1/A: for the measurement model
TINY = dict(
    shapes=["cubefcc", "icosahedron"],
    sizes=[2, 3, 4, 5],
    elements=["Au", "Fe"],
    b_iso=[0.1],
    q=np.arange(1, 400) / 100,
)


@pytest.fixture(scope="session")
def small_library(tmp_path_factory):
    return library.build_library(tmp_path_factory.mktemp("lib") / "small", progress=False, **SMALL)


@pytest.fixture(scope="session")
def bipyramid_library(tmp_path_factory):
    """Two bipyramids (sizeP 4, 5) and two icosahedra, short q grid: for the training-only
    variants of the bipyramid (helpers.simulation.library.bipyramid_variants)."""
    return library.build_library(
        tmp_path_factory.mktemp("lib") / "bipyramids",
        shapes=["icosahedron", "pentagonal_bipyramid"],
        sizes=[4, 5],
        elements=["Au", "Fe"],
        b_iso=[0.1],
        q=np.arange(1, 301) / 50,
        progress=False,
    )


@pytest.fixture(scope="session")
def tiny_library(tmp_path_factory):
    return library.build_library(
        tmp_path_factory.mktemp("lib") / "tiny",
        shapes=["cubefcc", "icosahedron"],
        sizes=[2, 3, 4, 5],
        elements=["Au", "Fe"],
        b_iso=[0.1],
        q=np.arange(1, 400) / 100,
        progress=False,
    )


@pytest.fixture(scope="session")
def characteriser(small_library):
    """A tiny characterisation model on the small library (q up to 6 Å⁻¹): 2 epochs, trained for
    q_max >= 4 (shared by the tests of helpers.characterisation and of the command line)."""
    from helpers.characterisation import train
    from helpers.learning import logq

    return train(
        small_library,
        rounds=2,
        validation_size=0.4,
        ranges={"q_max": (4.0, 6.0), "q_min": (0.02, 0.1)},
        epochs=2,
        width=4,
        grid=logq.LogQGrid(q_min=0.02, q_max=6.0, n=64, average=True),
        epoch_fraction=1.0,
        calibration_curves=12,
    )


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    """models/ in a temporary folder, smoke names: trained models never touch the repo's."""
    monkeypatch.setattr(paths, "MODELS_DIR", tmp_path / "models")
    monkeypatch.setenv(paths.SMOKE_ENV, "1")
    return tmp_path / "models"


ON_XDIST_WORKER = "PYTEST_XDIST_WORKER" in os.environ
if ON_XDIST_WORKER:
    for _name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ.setdefault(_name, "1")


def pytest_collection_modifyitems(session, config, items):
    last = [item for item in items if item.nodeid.startswith("tests/test_smoke_results.py")]
    others = [item for item in items if item not in last]
    config.notebooks_collected = any(
        item.nodeid.endswith(".ipynb") or ".ipynb::" in item.nodeid for item in others
    )
    if ON_XDIST_WORKER:
        skip = pytest.mark.skip(
            reason="checked after the parallel run (make test's second step, NP_SMOKE_RECORDED=1)"
        )
        for item in last:
            item.add_marker(skip)
    items[:] = others + last
