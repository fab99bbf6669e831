from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split


def stratified_split(x: np.ndarray, y: np.ndarray, fraction: float, seed: int):
    """Split off `fraction` of the samples, keeping class proportions; same seed, same split."""
    x_keep, x_out, y_keep, y_out = train_test_split(x, y, test_size=fraction, random_state=seed, stratify=y)
    return (x_keep, y_keep), (x_out, y_out)
