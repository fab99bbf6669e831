"""Loaders on tiny files in the real on-disk formats, the offline search order, and preprocessing."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from formats import (
    imdb_sequences,
    write_cifar10_folder,
    write_fashion_folder,
    write_imdb_npz,
    write_mnist_npz,
)
from omegaconf import OmegaConf

from mlexp import data
from mlexp.data import builtin
from mlexp.data.builtin import multi_hot
from mlexp.data.formats import load_npz
from mlexp.data.sources import DataError, keras_cache

TRAINER = {"validation": "split", "validation_split": 0.25, "validation_size": None}


def cfg(name: str, **overrides):
    base = {"name": name, "path": None, "download": False, "scale": "unit", "split_seed": 0}
    base.update({"cifar100": {"label_mode": "fine"}, "imdb": {"num_words": 10000, "scale": "none"}}.get(name, {}))
    base.update(overrides)
    return OmegaConf.create(base)


def load(name, trainer=None, **overrides):
    return data.load(cfg(name, **overrides), OmegaConf.create({**TRAINER, **(trainer or {})}))


@pytest.mark.parametrize(
    "name,shape,classes,first_class",
    [
        ("mnist", (28, 28, 1), 10, "0"),
        ("fashion_mnist", (28, 28, 1), 10, "T-shirt/top"),
        ("cifar10", (32, 32, 3), 10, "airplane"),
        ("cifar100", (32, 32, 3), 100, "apple"),
        ("imdb", (10000,), 2, "negative"),
    ],
)
def test_builtin_loaders_read_the_real_formats(dataset_files, name, shape, classes, first_class):
    splits = load(name, path=str(dataset_files[name]))
    assert splits.spec.input_shape == shape
    assert splits.spec.num_classes == classes == len(set(splits.spec.class_names))
    assert splits.spec.class_names[0] == first_class
    assert splits.spec.sizes == {"train": 30, "val": 10, "test": 20}
    assert splits.x_train.dtype in (np.float32, np.uint8) and splits.x_train.dtype != np.float64
    assert splits.y_train.dtype == np.int32
    assert 0.0 <= splits.x_train.min() and splits.x_train.max() <= 1.0


def test_mnist_pixels_match_the_file_after_scaling(tmp_path):
    path = write_mnist_npz(tmp_path / "mnist.npz")
    raw = np.load(path)
    splits = load("mnist", {"validation": "head", "validation_size": 5}, path=str(path))
    np.testing.assert_allclose(splits.x_val[..., 0], raw["x_train"][:5] / 255.0, rtol=1e-6)
    np.testing.assert_allclose(splits.x_test[..., 0], raw["x_test"] / 255.0, rtol=1e-6)
    assert splits.y_val.tolist() == raw["y_train"][:5].tolist()


def test_fashion_idx_files_round_trip(tmp_path):
    folder = write_fashion_folder(tmp_path / "fm")
    raw = builtin.fashion_mnist(cfg("fashion_mnist", path=str(folder)))
    assert raw.x_train.shape == (40, 28, 28) and raw.x_test.shape == (20, 28, 28)
    assert raw.y_train[:12].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]


def test_cifar_pickles_become_channels_last_images(tmp_path):
    folder = write_cifar10_folder(tmp_path / "cifar-10-batches-py")
    with open(folder / "data_batch_1", "rb") as f:
        first = pickle.load(f, encoding="bytes")[b"data"][0]
    raw = builtin.cifar10(cfg("cifar10", path=str(folder)))
    assert raw.x_train.shape == (40, 32, 32, 3)
    assert raw.x_train[0, 0, 0].tolist() == [first[0], first[1024], first[2048]]  # R, G, B planes


def test_cifar100_coarse_labels(dataset_files):
    splits = load("cifar100", path=str(dataset_files["cifar100"]), label_mode="coarse")
    assert splits.spec.num_classes == 20 and splits.spec.class_names[0] == "aquatic_mammals"


def test_imdb_multi_hot_follows_keras_indexing():
    sequences = [[1, 5, 9997], [20000]]
    vectors = multi_hot(sequences, num_words=10000)
    assert vectors.dtype == np.uint8 and vectors.shape == (2, 10000)
    assert np.flatnonzero(vectors[0]).tolist() == [1, 2, 4, 8]  # start, oov (9997+3), 1+3, 5+3
    assert np.flatnonzero(vectors[1]).tolist() == [1, 2]


def test_imdb_keeps_keras_sample_order(tmp_path):
    path = write_imdb_npz(tmp_path / "imdb.npz")
    raw = builtin.imdb(cfg("imdb", path=str(path)))
    indices = np.arange(40)
    np.random.RandomState(113).shuffle(indices)
    expected = multi_hot(imdb_sequences(40, 6)[indices], 10000)
    np.testing.assert_array_equal(raw.x_train, expected)


def test_npz_reader_refuses_pickled_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    bad = np.empty(1, dtype=object)
    bad[0] = Evil()
    np.savez(tmp_path / "imdb.npz", x_train=bad)
    with pytest.raises(DataError, match="refusing to load builtins.print"):
        load_npz(tmp_path / "imdb.npz")


def test_search_order_path_then_keras_cache_then_system(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    keras_cache().mkdir(parents=True)
    cached = write_mnist_npz(keras_cache() / "mnist.npz")
    explicit = write_mnist_npz(tmp_path / "mine.npz", n_train=12, n_test=8)
    assert load("mnist", path=str(explicit)).spec.sizes["test"] == 8
    assert load("mnist").spec.sizes["test"] == 20 and cached.exists()
    folder = write_fashion_folder(tmp_path / "system")
    monkeypatch.setitem(
        builtin.SOURCES, "fashion_mnist", builtin.SOURCES["fashion_mnist"].__class__(
            "fashion_mnist", ("fashion-mnist",), builtin.IDX_FILES, system_dirs=(str(folder),)
        ),
    )  # fmt: skip
    assert load("fashion_mnist").spec.sizes["test"] == 20


def test_missing_dataset_lists_every_place_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    source = builtin.SOURCES["fashion_mnist"]
    monkeypatch.setitem(
        builtin.SOURCES, "fashion_mnist", source.__class__(
            "fashion_mnist", source.keras_names, source.files, (str(tmp_path / "usr/share"),), "fashion_mnist"
        ),
    )  # fmt: skip
    with pytest.raises(DataError) as info:
        load("fashion_mnist", path=str(tmp_path / "nowhere"))
    message = str(info.value)
    assert message.startswith("dataset 'fashion_mnist' not found. Looked for the files train-images-idx3-ubyte.gz")
    for place in (
        f"  - {tmp_path}/nowhere\n",
        f"  - {tmp_path}/nowhere/fashion-mnist\n",
        f"  - {tmp_path}/keras/datasets/fashion-mnist\n",
        f"  - {tmp_path}/usr/share\n",
        "  - Keras download: not attempted (dataset.download=false)\n",
        "Provide it with dataset.path=FILE_OR_FOLDER",
    ):
        assert place in message


def test_validation_sources(dataset_files):
    path = str(dataset_files["mnist"])
    head = load("mnist", {"validation": "head", "validation_size": 7}, path=path)
    assert head.spec.sizes == {"train": 33, "val": 7, "test": 20} and head.spec.validation_source == "head"
    test = load("mnist", {"validation": "test"}, path=path)
    np.testing.assert_array_equal(test.x_val, test.x_test)
    with pytest.raises(DataError, match="trainer.validation: got 'file', but dataset 'mnist' has no validation"):
        load("mnist", {"validation": "file"}, path=path)
    with pytest.raises(DataError, match="trainer.validation_size: got 40; expected fewer than the 40"):
        load("mnist", {"validation": "head", "validation_size": 40}, path=path)


def test_npz_user_file_with_its_own_validation_split(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {k: rng.random((n, 5), dtype=np.float32) for k, n in (("x_train", 30), ("x_val", 6), ("x_test", 9))}
    arrays |= {"y_train": np.arange(30) % 3, "y_val": np.arange(6) % 3, "y_test": np.arange(9) % 3}
    np.savez(tmp_path / "mine.npz", **arrays, class_names=np.array(["a", "b", "c"]))
    splits = load("npz", {"validation": "file"}, path=str(tmp_path / "mine.npz"), scale="none")
    assert splits.spec.class_names == ["a", "b", "c"] and splits.spec.input_shape == (5,)
    np.testing.assert_array_equal(splits.x_val, arrays["x_val"])
    np.savez(tmp_path / "bad.npz", x_train=arrays["x_train"])
    with pytest.raises(DataError, match=r"lacks y_train, x_test, y_test; it has x_train\. Expected"):
        load("npz", path=str(tmp_path / "bad.npz"))


def test_standardize_uses_training_statistics_only(dataset_files):
    splits = load("cifar10", path=str(dataset_files["cifar10"]), scale="standardize")
    assert abs(float(splits.x_train.mean())) < 1e-4 and abs(float(splits.x_train.std()) - 1) < 1e-3
    assert splits.x_train.dtype == np.float32
    assert abs(float(splits.x_test.mean())) > 1e-4  # test is shifted with train's mean, not its own


def test_a_system_error_is_not_called_a_damaged_file(tmp_path):
    """Decoding errors name the file as damaged; an OSError with an errno (a folder, no permission) stays the
    system's error, for the CLI's line about it."""
    import gzip

    from mlexp.data.formats import read_idx

    with pytest.raises(IsADirectoryError):
        read_idx(tmp_path)
    cut = tmp_path / "images-idx3-ubyte.gz"
    cut.write_bytes(gzip.compress(bytes(range(200)))[:40])
    with pytest.raises(DataError, match=r"images-idx3-ubyte.gz is truncated or damaged \(EOFError: "):
        read_idx(cut)
