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
    (polydispersity, resolution, background, counting noise, q window, scale).
``learning``
    curves + metadata -> fitted models -> scores: ``targets``, ``features``, ``splits``,
    ``estimators``, ``metrics``, ``model_set``, ``attribution``, ``logq`` (curves on a log-q
    grid, calibrated shape and size with intervals).
``report``
    results tables, ``results/summary.md``, figures (drawing only): ``results``, ``summary``,
    ``plots``.
``studies``
    the chapters' protocols, one call per notebook step: ``baseline``, ``robustness``,
    ``realistic``, ``explainability``, ``generalisation`` (every family on structure-grouped
    K folds).
"""

LAYERS = ("paths", "simulation", "measurement", "learning", "report", "studies")
