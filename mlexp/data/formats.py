"""Readers for the real on-disk formats: Keras' npz files, idx .gz files and CIFAR pickles.

The CIFAR batches and imdb.npz are pickles; they are read with an unpickler that only rebuilds
NumPy arrays and builtin containers, so a tampered file cannot run code.
"""

from __future__ import annotations

import gzip
import pickle
import zipfile
from pathlib import Path

from mlexp.data.sources import DataError, reads_file
from mlexp.lazy import lazy

np = lazy("numpy")


class _ArraysOnly(pickle.Unpickler):
    _ALLOWED = {"_reconstruct", "ndarray", "dtype", "scalar", "_frombuffer"}

    def find_class(self, module, name):
        numpy_array = module.split(".")[0] == "numpy" and name in self._ALLOWED
        if numpy_array or (module, name) == ("_codecs", "encode"):  # protocol-2 bytes; harmless
            return super().find_class(module, name)
        raise DataError(f"refusing to load {module}.{name} from a data file; expected NumPy arrays only")


@reads_file
def load_pickle(path: Path):
    with open(path, "rb") as f:
        return _ArraysOnly(f, encoding="bytes").load()


@reads_file
def load_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of an .npz file; object arrays (imdb's ragged lists) through the safe unpickler."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            with archive.open(member) as fp:
                version = np.lib.format.read_magic(fp)
                header = (
                    np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                )
                shape, fortran, dtype = header(fp)
                if dtype.hasobject:
                    array = _ArraysOnly(fp, encoding="latin1").load()
                else:
                    array = np.frombuffer(fp.read(), dtype=dtype).reshape(shape, order="F" if fortran else "C")
            arrays[member.removesuffix(".npy")] = array
    return arrays


@reads_file
def read_idx(path: Path) -> np.ndarray:
    """An idx file (MNIST's original format), gzip-compressed or not."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)  # ValueError if cut short


def cifar_batch(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in load_pickle(path).items()}
    images = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return images, np.asarray(batch[label_key], dtype=np.int32)
