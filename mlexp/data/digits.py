"""scikit-learn's embedded 8x8 digits: 1,797 real images, no download."""

from __future__ import annotations

import numpy as np

from mlexp.data.splits import stratified_split


def load(cfg):
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32)[..., np.newaxis]  # pixel values are 0..16
    y = bunch.target.astype(np.int32)
    train, test = stratified_split(x, y, cfg.test_split, cfg.split_seed)
    return train, test, [str(name) for name in bunch.target_names]
