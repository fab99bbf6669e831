"""Datasets as NumPy arrays plus a DatasetSpec. Loading imports no TensorFlow; pipeline.py does."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mlexp.data import digits, synthetic
from mlexp.data.splits import stratified_split

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    input_shape: tuple[int, ...]
    num_classes: int
    class_names: list[str]
    sizes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Splits:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    spec: DatasetSpec


# name -> loader(cfg) returning ((x_train, y_train), (x_test, y_test), class_names)
LOADERS: dict[str, Callable] = {"digits": digits.load, "synthetic": synthetic.load}


def load(cfg_dataset, validation_split: float) -> Splits:
    (x_train, y_train), (x_test, y_test), class_names = LOADERS[cfg_dataset.name](cfg_dataset)
    (x_train, y_train), (x_val, y_val) = stratified_split(
        x_train, y_train, validation_split, cfg_dataset.split_seed
    )
    sizes = {"train": len(x_train), "val": len(x_val), "test": len(x_test)}
    spec = DatasetSpec(cfg_dataset.name, tuple(x_train.shape[1:]), len(class_names), class_names, sizes)
    log.info(
        "Dataset %r: input %s, %d classes, %d train / %d val / %d test",
        spec.name, spec.input_shape, spec.num_classes, sizes["train"], sizes["val"], sizes["test"],
    )  # fmt: skip
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test, spec)
