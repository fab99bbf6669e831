"""Datasets as NumPy arrays (of inputs, or of file paths with a reader) plus a DatasetSpec.

Loading arrays imports no TensorFlow; pipeline.py and the file readers do.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from mlexp.data import labels, user
from mlexp.data.raw import Raw
from mlexp.data.sources import DataError
from mlexp.data.splits import stratified_split
from mlexp.lazy import lazy
from mlexp.registry import DATASETS
from mlexp.tasks import MULTICLASS, REGRESSION, SINGLE_LABEL

np = lazy("numpy")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    input_shape: tuple[int, ...]
    num_classes: int
    class_names: list[str]
    sizes: dict[str, int] = field(default_factory=dict)
    validation_source: str = "split"
    preprocessing: dict = field(default_factory=dict)  # what predict must repeat: scale, max_value, mean, std
    task: str = MULTICLASS  # multiclass | binary | multilabel | regression
    files: tuple[str, ...] = ()  # the data files read, for the manifest's fingerprint


@dataclass(frozen=True)
class Splits:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    spec: DatasetSpec
    reader: Any = None  # decodes the file paths held in x (images.ImageReader); None: x holds the inputs

    def inputs(self, name: str, limit: int | None = None) -> np.ndarray:
        """The preprocessed inputs of x_train, x_val or x_test (the first `limit` of them, for files)."""
        return getattr(self, name) if self.reader is None else self.take(name, slice(0, limit))

    def take(self, name: str, rows) -> np.ndarray:
        """The preprocessed inputs at `rows` (indices or a slice) of x_train, x_val or x_test; files decoded."""
        chosen = getattr(self, name)[rows]
        return chosen if self.reader is None else apply(self.spec.preprocessing, self.reader.load(chosen))


def load(cfg_dataset, cfg_trainer) -> Splits:
    # a kind's builder: loader(cfg_dataset) -> Raw
    raw = (user.load if user.TARGET in cfg_dataset else DATASETS[DATASETS.kind_of(cfg_dataset)].builder)(cfg_dataset)
    raw, task = labels.prepare(raw, cfg_dataset.get("task", "auto"))
    x_train, y_train, x_val, y_val = _validation(raw, cfg_dataset, cfg_trainer, task)
    if cfg_trainer.get("train_samples"):
        x_train, y_train = x_train[: cfg_trainer.train_samples], y_train[: cfg_trainer.train_samples]
    x_test, fitted = raw.x_test, {}
    if raw.encoder is not None:  # fitted on the training split only, and saved with the run
        fitted = raw.encoder.fit(x_train)
        x_train, x_val, x_test = (raw.encoder.transform(rows) for rows in (x_train, x_val, x_test))
    reader = raw.reader
    if reader is not None:
        fitted["image_reader"] = reader.state()
    sample = x_train if reader is None else reader.load(x_train[:STATS_SAMPLE])
    preprocessing = {**preprocessing_stats(cfg_dataset.scale, raw.max_value, sample), **fitted}
    if task == REGRESSION:  # the head learns the standardized target and restores its units
        preprocessing["target_mean"], preprocessing["target_std"] = float(y_train.mean()), float(y_train.std()) or 1.0
    if reader is None:
        x_train, x_val, x_test = (apply(preprocessing, a) for a in (x_train, x_val, x_test))
    sizes = {"train": len(x_train), "val": len(x_val), "test": len(x_test)}
    input_shape = tuple(x_train.shape[1:]) if reader is None else reader.input_shape
    outputs = 1 if task == REGRESSION else len(raw.class_names)
    validation = "file" if raw.own_validation and cfg_trainer.validation == "split" else cfg_trainer.validation
    spec = DatasetSpec(
        cfg_dataset.name, input_shape, outputs, list(raw.class_names or []), sizes, validation, preprocessing,
        task, raw.files,
    )  # fmt: skip
    log.info(
        "Dataset %r: input %s, %s with %d output(s), %d train / %d val (%s) / %d test",
        spec.name, spec.input_shape, task, outputs, sizes["train"], sizes["val"], validation, sizes["test"],
    )  # fmt: skip
    return Splits(x_train, y_train, x_val, y_val, x_test, raw.y_test, spec, reader)


STATS_SAMPLE = 2000  # files decoded to fit standardization: the mean and std of a sample, not of every file


@contextlib.contextmanager
def named_file_errors(splits: Splits):
    """A file that tf.data cannot decode while training ends in one line naming it, not TensorFlow's message."""
    if splits.reader is None:
        yield
        return
    from mlexp.tf_runtime import import_tensorflow

    tf = import_tensorflow()

    try:
        yield
    except tf.errors.InvalidArgumentError:
        for name in ("x_train", "x_val", "x_test"):
            for path in getattr(splits, name):
                splits.reader.load([path])  # raises DataError naming the first file that fails
        raise


def decoder(splits: Splits):
    """path -> decoded and preprocessed input, for tf.data; None when x holds the inputs themselves."""
    if splits.reader is None:
        return None
    stats, reader = splits.spec.preprocessing, splits.reader

    def decode(path):
        image = reader.decode(path)
        if stats["scale"] == "unit":
            return image / stats["max_value"]
        if stats["scale"] == "standardize":
            return (image - stats["mean"]) / stats["std"]
        return image

    return decode


def _validation(raw: Raw, cfg_dataset, cfg_trainer, task: str):
    source = cfg_trainer.validation
    if source == "split" and raw.own_validation:
        log.info("Validating on the data's own validation split (%s); trainer.validation overrides it", raw.origin)
        source = "file"
    if source == "none":  # all training data is trained on (tuner.retrain_best)
        return raw.x_train, raw.y_train, raw.x_train[:0], raw.y_train[:0]
    if source == "split":
        (x, y), (xv, yv) = stratified_split(
            raw.x_train, raw.y_train, cfg_trainer.validation_split, cfg_dataset.split_seed,
            stratify=task in SINGLE_LABEL,
        )  # fmt: skip
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
    """Greyscale images (N, H, W) get a channel axis, so every model sees height x width x channels. A last axis
    of 1 to 4 already holds channels (or a sequence's features: (N, steps, 1) for a Conv1D) and is kept."""
    return array[..., np.newaxis] if array.ndim == 3 and array.shape[-1] > 4 else array


def apply(stats: dict, array: np.ndarray) -> np.ndarray:
    array = _with_channels(array)
    if stats["scale"] == "unit":
        return array.astype(np.float32) / np.float32(stats["max_value"])
    if stats["scale"] == "standardize":
        return (array.astype(np.float32) - np.float32(stats["mean"])) / np.float32(stats["std"])
    return array if array.dtype != np.float64 else array.astype(np.float32)
