"""Keras' built-in datasets, read from their real on-disk formats without a network."""

from __future__ import annotations

from pathlib import Path

import mlexp.data.class_names as names
from mlexp.config.catalog import SOURCE
from mlexp.config.rules import choice, integer
from mlexp.data.formats import cifar_batch, load_npz, read_idx
from mlexp.data.raw import Raw
from mlexp.data.sources import Source, locate
from mlexp.lazy import lazy
from mlexp.registry import DATASETS

np = lazy("numpy")

IDX_FILES = (
    "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
)  # fmt: skip
SOURCES = {
    "mnist": Source("mnist", ("mnist.npz",), keras_module="mnist"),
    "fashion_mnist": Source(
        "fashion_mnist",
        ("fashion-mnist",),
        IDX_FILES,
        system_dirs=("/usr/share/datasets/fashion-mnist",),
        keras_module="fashion_mnist",
    ),
    "cifar10": Source(
        "cifar10",
        ("cifar-10-batches-py-target/cifar-10-batches-py", "cifar-10-batches-py"),
        (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"),
        keras_module="cifar10",
    ),
    "cifar100": Source(
        "cifar100",
        ("cifar-100-python-target/cifar-100-python", "cifar-100-python"),
        ("train", "test"),
        keras_module="cifar100",
    ),
    "imdb": Source("imdb", ("imdb.npz",), keras_module="imdb"),
}


def _read(cfg, kind: str) -> tuple[Path, dict]:
    """The dataset's file or folder, and what every Raw of it shares: where it came from, which files."""
    source = SOURCES[kind]
    path = locate(source, cfg.get("path"), cfg.get("download", True))
    files = tuple(str(path / name) for name in source.files) or (str(path),)
    return path, {"origin": f"dataset {kind} ({path})", "files": files}


@DATASETS.register("mnist", SOURCE)
def mnist(cfg) -> Raw:
    path, found = _read(cfg, "mnist")
    arrays = load_npz(path)
    return Raw(arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], names.DIGITS, **found)


@DATASETS.register("fashion_mnist", SOURCE)
def fashion_mnist(cfg) -> Raw:
    folder, found = _read(cfg, "fashion_mnist")
    x_train, y_train, x_test, y_test = (read_idx(folder / name) for name in IDX_FILES)
    return Raw(x_train, y_train, x_test, y_test, names.FASHION_MNIST, **found)


@DATASETS.register("cifar10", SOURCE)
def cifar10(cfg) -> Raw:
    folder, found = _read(cfg, "cifar10")
    parts = [cifar_batch(folder / f"data_batch_{i}", "labels") for i in range(1, 6)]
    x_test, y_test = cifar_batch(folder / "test_batch", "labels")
    x_train = np.concatenate([x for x, _ in parts])
    y_train = np.concatenate([y for _, y in parts])
    return Raw(x_train, y_train, x_test, y_test, names.CIFAR10, **found)


@DATASETS.register("cifar100", {**SOURCE, "label_mode": choice(("fine", "coarse"))})
def cifar100(cfg) -> Raw:
    folder, found = _read(cfg, "cifar100")
    key = f"{cfg.label_mode}_labels"
    x_train, y_train = cifar_batch(folder / "train", key)
    x_test, y_test = cifar_batch(folder / "test", key)
    labels = names.CIFAR100_FINE if cfg.label_mode == "fine" else names.CIFAR100_COARSE
    return Raw(x_train, y_train, x_test, y_test, labels, **found)


@DATASETS.register("imdb", {**SOURCE, "num_words": integer(4)})
def imdb(cfg) -> Raw:
    """Keras' imdb.load_data(num_words) word indices, then multi-hot vectors as in the IMDB notebook."""
    path, found = _read(cfg, "imdb")
    arrays = load_npz(path)
    x_train, x_test = _imdb_shuffle(arrays["x_train"]), _imdb_shuffle(arrays["x_test"])
    y_train, y_test = _imdb_shuffle(arrays["y_train"]), _imdb_shuffle(arrays["y_test"])
    return Raw(
        multi_hot(x_train, cfg.num_words),
        np.asarray(y_train, dtype=np.int32),
        multi_hot(x_test, cfg.num_words),
        np.asarray(y_test, dtype=np.int32),
        names.IMDB,
        max_value=1.0,
        **found,
    )


def _imdb_shuffle(array: np.ndarray) -> np.ndarray:
    """Keras shuffles train and test with seed 113 before anything else; keep its sample order."""
    indices = np.arange(len(array))
    np.random.RandomState(113).shuffle(indices)
    return array[indices]


def multi_hot(sequences, num_words: int, start_char: int = 1, oov_char: int = 2, index_from: int = 3):
    """One row per review, 1 where a word index occurs (Keras' offsets, out-of-vocabulary as oov_char)."""
    out = np.zeros((len(sequences), num_words), dtype=np.uint8)  # 0/1: a quarter of float32
    for row, sequence in enumerate(sequences):
        words = np.asarray(sequence, dtype=np.int64) + index_from
        words = np.where(words < num_words, words, oov_char)
        out[row, words] = 1
        out[row, start_char] = 1
    return out
