"""A user's own .npz file: x_train, y_train, x_test, y_test; optional x_val, y_val, class_names."""

from __future__ import annotations

import zipfile
from pathlib import Path

from mlexp.config.catalog import SOURCE, TASK
from mlexp.data.raw import Raw, unit_max
from mlexp.data.sources import DAMAGED, DataError, damaged, describe_path
from mlexp.errors import ConfigError, first_line
from mlexp.lazy import lazy
from mlexp.registry import DATASETS

np = lazy("numpy")

REQUIRED = ("x_train", "y_train", "x_test", "y_test")


def check(dataset: dict) -> None:
    if not dataset.get("path"):
        raise ConfigError("dataset.path", dataset.get("path"), "the path of your .npz file")


@DATASETS.register("npz", {**SOURCE, **TASK}, required=("path",), check=check)
def load(cfg) -> Raw:
    path = Path(cfg.path).expanduser()
    expected = f"expected an .npz file with {', '.join(REQUIRED)}"
    if not path.is_file() or not zipfile.is_zipfile(path):
        raise DataError(f"dataset.path: {path} {describe_path(path)}; {expected}")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {key: f[key] for key in f.files}
    except ValueError as exc:
        if "allow_pickle" not in str(exc):
            raise damaged(path, exc) from None
        raise DataError(f"dataset.path: cannot read {path} as .npz without pickles ({first_line(exc)})") from None
    except DAMAGED as exc:
        raise damaged(path, exc) from None
    missing = [key for key in REQUIRED if key not in arrays]
    if missing:
        raise DataError(
            f"dataset.path: {path} lacks {', '.join(missing)}; it has {', '.join(sorted(arrays))}. "
            f"Expected {', '.join(REQUIRED)} (and optionally x_val, y_val, class_names)"
        )
    if ("x_val" in arrays) != ("y_val" in arrays):
        raise DataError(f"dataset.path: {path} has only one of x_val and y_val; give both or neither")
    classes = [str(c) for c in arrays["class_names"]] if "class_names" in arrays else None
    return Raw(
        arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], classes,
        arrays.get("x_val"), arrays.get("y_val"), max_value=unit_max(arrays["x_train"]),
        origin=f"dataset.path {path}", files=(str(path),),
    )  # fmt: skip
