"""Tiny seeded Gaussian blobs shaped as images: learnable in a few epochs, for tests."""

from __future__ import annotations

from mlexp.config.catalog import NON_NEGATIVE, OWN_TEST_SPLIT, SOURCE
from mlexp.config.rules import integer
from mlexp.data.raw import Raw
from mlexp.data.splits import stratified_split
from mlexp.lazy import lazy
from mlexp.registry import DATASETS

np = lazy("numpy")

RULES = {
    "samples": integer(20),
    "classes": integer(2),
    "image_size": integer(1),
    "channels": integer(1),
    "noise": NON_NEGATIVE,
    **SOURCE,
    **OWN_TEST_SPLIT,
}


@DATASETS.register("synthetic", RULES)
def load(cfg) -> Raw:
    rng = np.random.default_rng(cfg.split_seed)
    shape = (cfg.image_size, cfg.image_size, cfg.channels)
    centres = rng.uniform(0.2, 0.8, size=(cfg.classes, *shape))
    y = np.arange(cfg.samples, dtype=np.int32) % cfg.classes
    x = centres[y] + rng.normal(0.0, cfg.noise, size=(cfg.samples, *shape))
    x = np.clip(x, 0.0, 1.0).astype(np.float32)
    (x_train, y_train), (x_test, y_test) = stratified_split(x, y, cfg.test_split, cfg.split_seed)
    return Raw(x_train, y_train, x_test, y_test, [f"class_{i}" for i in range(cfg.classes)], max_value=1.0)
