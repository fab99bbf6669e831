"""Class subfolders on disk, for images and texts alike.

Layouts: `path/<class>/<file>` (the test split held out, stratified), or `path/train/<class>/` with
optional `path/val/<class>/` (or `validation/`, used for validation) and `path/test/<class>/`. Class
names are the subfolder names in sorted order, as in Keras' image_dataset_from_directory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlexp.data.raw import Raw
from mlexp.data.sources import DataError, describe_path
from mlexp.data.splits import stratified_split
from mlexp.lazy import lazy

np = lazy("numpy")

log = logging.getLogger(__name__)

SPLIT_FOLDERS = {"train": ("train",), "val": ("val", "validation"), "test": ("test",)}


@dataclass
class Found:
    root: Path
    names: list[str]
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    files: tuple[str, ...] = ()  # every file found, for the fingerprint (x may be replaced by their contents)

    def __post_init__(self):
        splits = (self.x_train, self.x_val, self.x_test)
        self.files = tuple(str(p) for split in splits if split is not None for p in split)

    def raw(self, **fields) -> Raw:
        return Raw(
            self.x_train, self.y_train, self.x_test, self.y_test, self.names, self.x_val, self.y_val,
            origin=f"dataset.path {self.root}", own_validation=self.x_val is not None, files=self.files, **fields,
        )  # fmt: skip


def scan(cfg, extensions: tuple[str, ...], what: str, check: Callable[[Path], None] | None = None) -> Found:
    """The file paths and labels of every split under dataset.path."""
    root = Path(cfg.path).expanduser()
    if not root.is_dir():
        raise DataError(f"dataset.path: {root} {describe_path(root)}; expected a folder of class subfolders")
    layout = {split: _split_folder(root, split) for split in SPLIT_FOLDERS}
    x_val = y_val = None
    if layout["train"] is None:
        names, paths, labels = _scan(root, None, extensions, what, check)
        (x_train, y_train), (x_test, y_test) = stratified_split(paths, labels, cfg.test_split, cfg.split_seed)
    else:
        names, x_train, y_train = _scan(layout["train"], None, extensions, what, check)
        if layout["test"] is None:
            (x_train, y_train), (x_test, y_test) = stratified_split(x_train, y_train, cfg.test_split, cfg.split_seed)
        else:
            x_test, y_test = _scan(layout["test"], names, extensions, what, check)[1:]
        if layout["val"] is not None:
            x_val, y_val = _scan(layout["val"], names, extensions, what, check)[1:]
    log.info(
        "Folder %s: %d classes, %d train / %s val / %d test %s files",
        root, len(names), len(x_train), "-" if x_val is None else len(x_val), len(x_test), what,
    )  # fmt: skip
    return Found(root, names, x_train, y_train, x_test, y_test, x_val, y_val)


def _split_folder(root: Path, split: str) -> Path | None:
    for name in SPLIT_FOLDERS[split]:
        if (root / name).is_dir():
            return root / name
    return None


def _scan(folder: Path, class_names, extensions, what: str, check) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Class names, file paths and labels of one folder of class subfolders."""
    found = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    example = f"{folder}/<class>/<file>{extensions[0]}"
    if not found:
        raise DataError(f"dataset.path: {folder} has no class subfolders; expected {example}")
    names = class_names or found
    unknown = sorted(set(found) - set(names))
    if unknown:
        raise DataError(f"dataset.path: {folder} has classes {unknown} that the training folder lacks: {names}")
    paths, labels = [], []
    for label, name in enumerate(names):
        files = sorted(p for p in (folder / name).glob("*") if p.suffix.lower() in extensions and p.is_file())
        if not files and class_names is None:  # the folder that defines the classes: each needs samples
            raise DataError(
                f"dataset.path: {folder / name} holds no {what} files; expected at least one per class "
                f"(files ending in {', '.join(extensions)}), or remove the folder"
            )
        for path in files if check else ():
            check(path)
        paths += [str(p) for p in files]
        labels += [label] * len(files)
    if not paths:
        raise DataError(
            f"dataset.path: {folder} holds no {what} files; expected files ending in {', '.join(extensions)}"
        )
    return names, np.array(paths), np.array(labels, dtype=np.int32)
