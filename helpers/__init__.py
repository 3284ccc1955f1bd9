"""Nanoparticle shape and size from X-ray scattering: the package every notebook imports.

The subpackages follow the data flow; each imports only from itself and the layers before it
(``tests/test_layers.py`` checks this):

``paths``
    every path the project reads or writes, the smoke switch, the one figure saver.
``simulation``
    particle -> pair distances -> I(q) -> library on disk: ``structures``, ``pairs`` (exact pair
    distance counts of large particles), ``debye``, ``library``.
``measurement``
    what an instrument records of I(q): ``degrade`` (the study's degradations), ``instrument``
    (polydispersity, resolution, background, counting noise, q window, scale), ``files``
    (measured curves from text and NXcanSAS files, q in 1/Å, checked), ``domain`` (what a q range
    can tell: size, shape), ``fit`` (a measured curve fitted by the library's exact curves).
``learning``
    curves + metadata -> fitted models -> scores: ``targets``, ``features``, ``splits``,
    ``estimators``, ``metrics``, ``model_set``, ``attribution``, ``logq`` (curves on a log-q
    grid, calibrated shape and size with intervals), ``novelty`` (how unlike every training
    curve a curve is).
``report``
    results tables, ``results/summary.md``, figures (drawing only): ``results``, ``summary``,
    ``plots``.
``studies``
    the chapters' protocols, one call per notebook step: ``baseline``, ``robustness``,
    ``realistic``, ``explainability``, ``generalisation`` (every family on structure-grouped
    K folds).
``characterisation``
    a measured curve -> shape probabilities, size with intervals, a physics fit and warnings:
    :func:`characterise` (also ``helpers.characterise``).

Outside the layers, the command line: ``cli`` (``python -m helpers characterise FILE...`` through
``__main__``, and the console script ``np-characterise``), which may import any of them.
"""

import os as _os
import sys as _sys

LAYERS = (
    "paths",
    "simulation",
    "measurement",
    "learning",
    "report",
    "studies",
    "characterisation",
)

#: OpenBLAS's worker threads spin while they wait for work. On 2 cores shared with TensorFlow's
#: threads (or a second process) they made a logistic fit of the smoke library 23x slower (317 s
#: against 13.7 s, measured) and the smaller matrix products of every model wait on them. This
#: package's BLAS work is memory-bound matrix-vector products and one eigendecomposition per Ridge
#: fold, so one BLAS thread is the default; set the variable yourself to choose otherwise.
BLAS_THREADS_ENV = "OPENBLAS_NUM_THREADS"
if BLAS_THREADS_ENV not in _os.environ:
    _os.environ[BLAS_THREADS_ENV] = "1"  # read by numpy's OpenBLAS when it is first imported
    if "numpy" in _sys.modules:  # imported already: limit its running thread pool
        from threadpoolctl import threadpool_limits as _limits

        _limits(1, user_api="blas")


def characterise(q, intensity, sigma=None, q_unit="1/Å", model=None):
    """Characterise measured curves: :func:`helpers.characterisation.characterise` (imported on
    first use, so that ``import helpers`` stays light)."""
    from .characterisation import characterise as _characterise

    return _characterise(q, intensity, sigma=sigma, q_unit=q_unit, model=model)
