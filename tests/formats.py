"""Tiny datasets written in the real on-disk formats that Keras (and Debian) use."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np

from mlexp.data.builtin import IDX_FILES


def images(n: int, shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, *shape), dtype=np.uint8)


def labels(n: int, classes: int) -> np.ndarray:
    return (np.arange(n) % classes).astype(np.uint8)


def write_mnist_npz(path: Path, n_train=40, n_test=20) -> Path:
    np.savez(
        path, x_train=images(n_train, (28, 28), 0), y_train=labels(n_train, 10),
        x_test=images(n_test, (28, 28), 1), y_test=labels(n_test, 10),
    )  # fmt: skip
    return path


def write_idx_gz(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def write_fashion_folder(folder: Path, n_train=40, n_test=20) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    arrays = (
        images(n_train, (28, 28), 2),
        labels(n_train, 10),
        images(n_test, (28, 28), 3),
        labels(n_test, 10),
    )
    for name, array in zip(IDX_FILES, arrays, strict=True):
        write_idx_gz(folder / name, array)
    return folder


def _cifar_pickle(path: Path, n: int, label_keys: dict[bytes, int], seed: int) -> None:
    batch = {b"batch_label": b"tiny", b"data": images(n, (3072,), seed)}
    batch.update({key: [int(v) for v in labels(n, classes)] for key, classes in label_keys.items()})
    with open(path, "wb") as f:
        pickle.dump(batch, f, protocol=2)


def write_cifar10_folder(folder: Path, per_batch=8, n_test=20) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(1, 6):
        _cifar_pickle(folder / f"data_batch_{i}", per_batch, {b"labels": 10}, seed=i)
    _cifar_pickle(folder / "test_batch", n_test, {b"labels": 10}, seed=9)
    return folder


def write_cifar100_folder(folder: Path, n_train=40, n_test=20) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    keys = {b"fine_labels": 100, b"coarse_labels": 20}
    _cifar_pickle(folder / "train", n_train, keys, seed=4)
    _cifar_pickle(folder / "test", n_test, keys, seed=5)
    return folder


def imdb_sequences(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty(n, dtype=object)
    for i in range(n):
        out[i] = [int(w) for w in rng.integers(1, 12000, size=rng.integers(5, 30))]
    return out


def write_imdb_npz(path: Path, n_train=40, n_test=20) -> Path:
    np.savez(
        path, x_train=imdb_sequences(n_train, 6), y_train=labels(n_train, 2).astype(np.int64),
        x_test=imdb_sequences(n_test, 7), y_test=labels(n_test, 2).astype(np.int64),
    )  # fmt: skip
    return path


def write_all(root: Path) -> dict[str, Path]:
    """One tiny copy of every built-in dataset; the values are what dataset.path should be."""
    root.mkdir(parents=True, exist_ok=True)
    return {
        "mnist": write_mnist_npz(root / "mnist.npz"),
        "fashion_mnist": write_fashion_folder(root / "fashion-mnist"),
        "cifar10": write_cifar10_folder(root / "cifar-10-batches-py"),
        "cifar100": write_cifar100_folder(root / "cifar-100-python"),
        "imdb": write_imdb_npz(root / "imdb.npz"),
        "image_folder": write_image_folder(root / "images"),
    }


def write_image_folder(root: Path, per_class: int = 6) -> Path:
    """Two class folders of small PNGs."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).save(root / label / f"{i}.png")
    return root
