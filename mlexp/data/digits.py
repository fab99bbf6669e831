"""scikit-learn's embedded 8x8 digits: 1,797 real images, no download."""

from __future__ import annotations

from mlexp.config.catalog import OWN_TEST_SPLIT, SOURCE
from mlexp.data.raw import Raw
from mlexp.data.splits import stratified_split
from mlexp.lazy import lazy
from mlexp.registry import DATASETS

np = lazy("numpy")


@DATASETS.register("digits", {**SOURCE, **OWN_TEST_SPLIT})
def load(cfg) -> Raw:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = bunch.images.astype(np.float32)  # pixel values 0..16
    y = bunch.target.astype(np.int32)
    (x_train, y_train), (x_test, y_test) = stratified_split(x, y, cfg.test_split, cfg.split_seed)
    return Raw(x_train, y_train, x_test, y_test, [str(n) for n in bunch.target_names], max_value=16.0)
