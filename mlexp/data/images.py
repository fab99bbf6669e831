"""A folder of images in class subfolders (layouts in mlexp.data.folders), decoded by tf.data from
disk while training, so the folder may be larger than memory."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from mlexp.config.catalog import OWN_TEST_SPLIT, SOURCE, TASK
from mlexp.config.rules import Rule, choice, int_tuple
from mlexp.data.folders import scan
from mlexp.data.raw import Raw
from mlexp.data.sources import DataError
from mlexp.lazy import lazy
from mlexp.registry import DATASETS

np = lazy("numpy")

log = logging.getLogger(__name__)

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}
MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"BM", b"GIF8")  # PNG, JPEG, BMP, GIF: the formats decode_image reads


@dataclass(frozen=True)
class ImageReader:
    """Reads one image file as float32 pixels (0..255) of a fixed size, in tf.data or in NumPy."""

    image_size: tuple[int, int]
    channels: int
    interpolation: str = "bilinear"

    def state(self) -> dict:
        """Saved in preprocessing.json, so that predict reads new images exactly as training did."""
        return {"image_size": list(self.image_size), "channels": self.channels, "interpolation": self.interpolation}

    @classmethod
    def from_state(cls, state: dict) -> ImageReader:
        return cls(tuple(state["image_size"]), state["channels"], state["interpolation"])

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (*self.image_size, self.channels)

    def decode(self, path):
        from mlexp.tf_runtime import import_tensorflow

        tf = import_tensorflow()

        image = tf.io.decode_image(tf.io.read_file(path), channels=self.channels, expand_animations=False)
        image = tf.image.resize(image, self.image_size, method=self.interpolation)
        image.set_shape(self.input_shape)
        return image

    def load(self, paths) -> np.ndarray:
        """The images of `paths` as one array; a file that cannot be decoded is named."""
        from mlexp.tf_runtime import import_tensorflow

        tf = import_tensorflow()

        out = np.empty((len(paths), *self.input_shape), np.float32)
        for i, path in enumerate(paths):
            try:
                out[i] = self.decode(tf.constant(str(path))).numpy()
            except tf.errors.OpError as exc:
                kind = Path(str(path)).suffix.lstrip(".").upper().replace("JPG", "JPEG") or "known"
                log.debug("Decoding %s failed: %s", path, exc.message)  # TensorFlow's op text: not for users
                raise DataError(
                    f"dataset.path: {path} is truncated or not a {kind} image; expected a complete image file"
                ) from None
        return out


class CachedImages:
    """Every image decoded once into a file (a NumPy memmap), then read by index: later epochs and runs
    skip the decoding. The file's name hashes the decoder's settings and each file's path, size and
    modification time, so a changed folder gets a new cache."""

    def __init__(self, reader: ImageReader, paths: list[str], folder: Path):
        self.reader, self.paths = reader, list(paths)
        self.index = {path: i for i, path in enumerate(self.paths)}
        self.file = folder / f"images-{self._key()}.npy"
        if not self.file.is_file():
            self._build()
        self.array = np.load(self.file, mmap_mode="r")

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return self.reader.input_shape

    def state(self) -> dict:
        return self.reader.state()

    def _key(self) -> str:
        digest = hashlib.blake2b(json.dumps(self.reader.state(), sort_keys=True).encode(), digest_size=12)
        for path in self.paths:
            stat = os.stat(path)
            digest.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
        return digest.hexdigest()

    def _build(self) -> None:
        from mlexp.tf_runtime import import_tensorflow

        tf = import_tensorflow()

        self.file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.file.with_name(f".{self.file.name}.{os.getpid()}.tmp")
        log.info("Caching %d decoded images in %s", len(self.paths), self.file)
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(len(self.paths), *self.input_shape))
        ds = tf.data.Dataset.from_tensor_slices(self.paths).map(
            self.reader.decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
        )
        start = 0
        for batch in ds.batch(256).as_numpy_iterator():
            out[start : start + len(batch)] = batch
            start += len(batch)
        out.flush()
        del out
        os.replace(tmp, self.file)  # complete or absent: a killed build leaves only a temp file

    def decode(self, path):
        from mlexp.tf_runtime import import_tensorflow

        tf = import_tensorflow()

        row = lambda p: np.asarray(self.array[self.index[p.decode()]])  # noqa: E731
        image = tf.numpy_function(row, [path], tf.float32, stateful=False)
        image.set_shape(self.input_shape)
        return image

    def load(self, paths) -> np.ndarray:
        return np.asarray(self.array[[self.index[str(p)] for p in paths]]) if len(paths) else self.reader.load(paths)


RULES = {
    **SOURCE,
    **OWN_TEST_SPLIT,
    **TASK,
    "image_size": int_tuple(2),  # [height, width] every image is resized to
    "color_mode": choice(("rgb", "grayscale", "rgba")),
    "interpolation": choice(
        ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")
    ),
    "cache": Rule("false, true (mlexp's cache folder) or a folder path", lambda v: isinstance(v, (bool, str))),
}


@DATASETS.register("image_folder", RULES, required=("path",))
def load(cfg) -> Raw:
    reader = ImageReader(tuple(cfg.image_size), CHANNELS[cfg.color_mode], cfg.interpolation)
    found = scan(cfg, EXTENSIONS, "image", _check_format)
    log.info("Decoding images to %s", reader.input_shape)
    if cfg.get("cache"):
        from mlexp.runs.fingerprint import cache_dir

        folder = cache_dir() / "images" if cfg.cache is True else Path(str(cfg.cache)).expanduser()
        reader = CachedImages(reader, list(found.files), folder)
    return found.raw(max_value=255.0, reader=reader)


def _check_format(path: Path) -> None:
    """The first bytes say the format; a file named .png that is not an image is refused before training."""
    with open(path, "rb") as f:
        head = f.read(8)
    if not any(head.startswith(magic) for magic in MAGIC):
        what = "an empty file" if not head else "not a PNG, JPEG, BMP or GIF image"
        raise DataError(f"{path}: {what}; expected an image (remove it or replace it)")
