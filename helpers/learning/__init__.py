"""Curves + metadata -> fitted models -> scores: ``targets``, ``features``, ``splits``,
``estimators``, ``metrics``, ``model_set`` (fit / score / save / load-or-train),
``attribution``."""
