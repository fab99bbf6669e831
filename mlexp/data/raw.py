from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Raw:
    """A loader's output, before validation split and preprocessing."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    max_value: float = 255.0  # what scale=unit divides by
