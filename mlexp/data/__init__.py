"""Datasets as NumPy arrays plus a DatasetSpec. Loading imports no TensorFlow; pipeline.py does."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mlexp.data import builtin, digits, npz, synthetic, user
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
    preprocessing: dict = field(default_factory=dict)  # what predict must repeat: scale, max_value, mean, std


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
    raw = (user.load if user.TARGET in cfg_dataset else LOADERS[cfg_dataset.name])(cfg_dataset)
    x_train, y_train, x_val, y_val = _validation(raw, cfg_dataset, cfg_trainer)
    if cfg_trainer.get("train_samples"):
        x_train, y_train = x_train[: cfg_trainer.train_samples], y_train[: cfg_trainer.train_samples]
    preprocessing = preprocessing_stats(cfg_dataset.scale, raw.max_value, x_train)
    x_train, x_val, x_test = (apply(preprocessing, a) for a in (x_train, x_val, raw.x_test))
    y_train, y_val, y_test = (np.asarray(y, dtype=np.int32).ravel() for y in (y_train, y_val, raw.y_test))
    sizes = {"train": len(x_train), "val": len(x_val), "test": len(x_test)}
    spec = DatasetSpec(
        cfg_dataset.name, tuple(x_train.shape[1:]), len(raw.class_names), list(raw.class_names), sizes,
        cfg_trainer.validation, preprocessing,
    )  # fmt: skip
    log.info(
        "Dataset %r: input %s, %d classes, %d train / %d val (%s) / %d test",
        spec.name, spec.input_shape, spec.num_classes, sizes["train"], sizes["val"],
        cfg_trainer.validation, sizes["test"],
    )  # fmt: skip
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test, spec)


def _validation(raw: Raw, cfg_dataset, cfg_trainer):
    source = cfg_trainer.validation
    if source == "none":  # all training data is trained on (tuner.retrain_best)
        return raw.x_train, raw.y_train, raw.x_train[:0], raw.y_train[:0]
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


def preprocessing_stats(scale: str, max_value: float, x_train: np.ndarray) -> dict:
    """The preprocessing of a run, from the training split only; stored so that predict can repeat it."""
    stats = {"scale": scale, "max_value": float(max_value)}
    if scale == "standardize":
        train = _with_channels(x_train).astype(np.float32)
        stats["mean"], stats["std"] = float(train.mean()), float(train.std()) or 1.0
        log.info("Standardizing with the training split's mean %.4f and std %.4f", stats["mean"], stats["std"])
    return stats


def _with_channels(array: np.ndarray) -> np.ndarray:
    """Greyscale images (N, H, W) get a channel axis, so every model sees height x width x channels."""
    return array[..., np.newaxis] if array.ndim == 3 else array


def apply(stats: dict, array: np.ndarray) -> np.ndarray:
    array = _with_channels(array)
    if stats["scale"] == "unit":
        return array.astype(np.float32) / np.float32(stats["max_value"])
    if stats["scale"] == "standardize":
        return (array.astype(np.float32) - np.float32(stats["mean"])) / np.float32(stats["std"])
    return array if array.dtype != np.float64 else array.astype(np.float32)
