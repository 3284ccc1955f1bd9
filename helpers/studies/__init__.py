"""The study's protocols, one call per notebook step: baseline models, robustness sweeps, realistic
measurements, explainability. The only layer that knows the chapters' designs."""
