"""Datasets as NumPy arrays plus a DatasetSpec. Loading imports no TensorFlow; pipeline.py does."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mlexp.data import builtin, digits, npz, synthetic
from mlexp.data.raw import Raw
from mlexp.data.sources import DataError
from mlexp.data.splits import stratified_split

log = logging.getLogger(__name__)

# dataset name -> loader(cfg_dataset) -> Raw
LOADERS: dict[str, Callable[..., Raw]] = {
    "digits": digits.load,
    "synthetic": synthetic.load,
    "mnist": builtin.mnist,
    "fashion_mnist": builtin.fashion_mnist,
    "cifar10": builtin.cifar10,
    "cifar100": builtin.cifar100,
    "imdb": builtin.imdb,
    "npz": npz.load,
}


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    input_shape: tuple[int, ...]
    num_classes: int
    class_names: list[str]
    sizes: dict[str, int] = field(default_factory=dict)
    validation_source: str = "split"


@dataclass(frozen=True)
class Splits:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    spec: DatasetSpec


def load(cfg_dataset, cfg_trainer) -> Splits:
    raw = LOADERS[cfg_dataset.name](cfg_dataset)
    x_train, y_train, x_val, y_val = _validation(raw, cfg_dataset, cfg_trainer)
    if cfg_trainer.get("train_samples"):
        x_train, y_train = x_train[: cfg_trainer.train_samples], y_train[: cfg_trainer.train_samples]
    x_train, x_val, x_test = _preprocess(cfg_dataset.scale, raw.max_value, x_train, x_val, raw.x_test)
    y_train, y_val, y_test = (np.asarray(y, dtype=np.int32).ravel() for y in (y_train, y_val, raw.y_test))
    sizes = {"train": len(x_train), "val": len(x_val), "test": len(x_test)}
    spec = DatasetSpec(
        cfg_dataset.name, tuple(x_train.shape[1:]), len(raw.class_names), list(raw.class_names), sizes,
        cfg_trainer.validation,
    )  # fmt: skip
    log.info(
        "Dataset %r: input %s, %d classes, %d train / %d val (%s) / %d test",
        spec.name, spec.input_shape, spec.num_classes, sizes["train"], sizes["val"],
        cfg_trainer.validation, sizes["test"],
    )  # fmt: skip
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test, spec)


def _validation(raw: Raw, cfg_dataset, cfg_trainer):
    source = cfg_trainer.validation
    if source == "split":
        (x, y), (xv, yv) = stratified_split(
            raw.x_train, raw.y_train, cfg_trainer.validation_split, cfg_dataset.split_seed
        )
        return x, y, xv, yv
    if source == "head":  # the IMDB notebook's x_train[:10000] holdout
        n = cfg_trainer.validation_size
        if n >= len(raw.x_train):
            raise DataError(
                f"trainer.validation_size: got {n}; expected fewer than the {len(raw.x_train)} training samples"
            )
        return raw.x_train[n:], raw.y_train[n:], raw.x_train[:n], raw.y_train[:n]
    if source == "file":
        if raw.x_val is None:
            raise DataError(
                f"trainer.validation: got 'file', but dataset {cfg_dataset.name!r} has no validation split; "
                "expected split or head (or an npz file with x_val and y_val)"
            )
        return raw.x_train, raw.y_train, raw.x_val, raw.y_val
    log.warning("Validating on the TEST split (trainer.validation=test): test metrics are not held out")
    return raw.x_train, raw.y_train, raw.x_test, raw.y_test


def _preprocess(scale: str, max_value: float, *arrays: np.ndarray) -> list[np.ndarray]:
    """Channel axis for greyscale images, then scaling; statistics come from the training split only."""
    out = [a[..., np.newaxis] if a.ndim == 3 else a for a in arrays]
    if scale == "unit":
        return [(a.astype(np.float32) / np.float32(max_value)) for a in out]
    if scale == "standardize":
        train = out[0].astype(np.float32)
        mean, std = float(train.mean()), float(train.std()) or 1.0
        log.info("Standardizing with the training split's mean %.4f and std %.4f", mean, std)
        return [(a.astype(np.float32) - np.float32(mean)) / np.float32(std) for a in out]
    return [a if a.dtype != np.float64 else a.astype(np.float32) for a in out]
