from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlexp.lazy import lazy

np = lazy("numpy")


@dataclass
class Raw:
    """A loader's output, before validation split and preprocessing.

    With a `reader` the x arrays hold file paths, decoded by tf.data while training (data larger than
    memory); without one they are the inputs themselves.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str] | None  # None: class indices, named 0..K-1
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    max_value: float = 255.0  # what scale=unit divides by
    origin: str = "the dataset"  # named in error messages: the file, folder or function read
    reader: Any = None  # e.g. images.ImageReader: decode(path) in tf.data, load(paths) in NumPy
    own_validation: bool = False  # the data come with a validation split (a val/ folder): used by default
    files: tuple[str, ...] = ()  # the data files read, for the manifest's fingerprint
    encoder: Any = None  # e.g. table.RowEncoder: x holds row numbers; fit(train rows) -> saved state, transform
    task: str | None = None  # what the loader already knows of the task (a table's numeric target)


def unit_max(x) -> float:
    """What scale=unit divides by: 255 when values exceed 1 (pixels), else 1. An empty array gives 1, so that
    labels.prepare, not a NumPy reduction, says which split is empty."""
    return 255.0 if float(np.max(x, initial=1.0)) > 1.0 else 1.0
