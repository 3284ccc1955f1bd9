"""Small synthetic inputs shared by the unit tests: tables and curves of known form, no physics."""

import numpy as np
import pandas as pd


def meta(n_sizes=5, n_variants=4, shapes=("a", "b", "c")) -> pd.DataFrame:
    """Metadata of ``n_variants`` curves per (shape, size) structure, sizes 2, 3, ..."""
    rows = [
        {"shape": shape, "structure_id": f"{shape}-{size}", "size_parameter_1": size, "variant": v}
        for shape in shapes
        for size in range(2, 2 + n_sizes)
        for v in range(n_variants)
    ]
    return pd.DataFrame(rows)


def curves(n, n_q=50, seed=0) -> np.ndarray:
    """Positive log-normal 'intensities', (n, n_q), seeded."""
    return np.exp(np.random.default_rng(seed).normal(size=(n, n_q)))
