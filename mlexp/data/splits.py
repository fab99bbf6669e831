from __future__ import annotations

import logging

from mlexp.lazy import lazy

np = lazy("numpy")
model_selection = lazy("sklearn.model_selection")

log = logging.getLogger(__name__)


def stratified_split(x: np.ndarray, y: np.ndarray, fraction: float, seed: int, stratify: bool = True):
    """Split off `fraction` of the samples, keeping class proportions; same seed, same split.

    Too few samples per class to stratify (tiny data, 100 classes): a plain seeded split, said in the log.
    Numeric targets and label sets (stratify=False) take a plain seeded split.
    """
    if stratify:
        try:
            x_keep, x_out, y_keep, y_out = model_selection.train_test_split(
                x, y, test_size=fraction, random_state=seed, stratify=y
            )
            return (x_keep, y_keep), (x_out, y_out)
        except ValueError as exc:
            log.warning("Split of %d samples not stratified: %s", len(y), exc)
    x_keep, x_out, y_keep, y_out = model_selection.train_test_split(x, y, test_size=fraction, random_state=seed)
    return (x_keep, y_keep), (x_out, y_out)
