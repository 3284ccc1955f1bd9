"""Curves + metadata -> fitted models -> scores: ``targets``, ``features``, ``splits``,
``estimators``, ``metrics``, ``model_set`` (fit / score / save / load-or-train),
``attribution``, ``logq`` (curves of any q grid on a log-q axis -> calibrated shape
probabilities and size intervals), ``novelty`` (an out-of-distribution score on the same
inputs)."""
