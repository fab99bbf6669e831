"""A user's own .npz file: x_train, y_train, x_test, y_test; optional x_val, y_val, class_names."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlexp.data.raw import Raw
from mlexp.data.sources import DataError

REQUIRED = ("x_train", "y_train", "x_test", "y_test")


def load(cfg) -> Raw:
    path = Path(cfg.path).expanduser()
    if not path.is_file():
        raise DataError(f"dataset.path: no file at {path}; expected an .npz file with {', '.join(REQUIRED)}")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {key: f[key] for key in f.files}
    except (OSError, ValueError) as exc:
        raise DataError(f"dataset.path: cannot read {path} as .npz without pickles ({exc})") from None
    missing = [key for key in REQUIRED if key not in arrays]
    if missing:
        raise DataError(
            f"dataset.path: {path} lacks {', '.join(missing)}; it has {', '.join(sorted(arrays))}. "
            f"Expected {', '.join(REQUIRED)} (and optionally x_val, y_val, class_names)"
        )
    if ("x_val" in arrays) != ("y_val" in arrays):
        raise DataError(f"dataset.path: {path} has only one of x_val and y_val; give both or neither")
    labels = np.concatenate([arrays["y_train"].ravel(), arrays["y_test"].ravel()])
    classes = [str(c) for c in arrays["class_names"]] if "class_names" in arrays else None
    if classes is None:
        classes = [str(i) for i in range(int(labels.max()) + 1)]
    peak = float(max(np.max(arrays["x_train"]), 1.0))
    return Raw(
        arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], classes,
        arrays.get("x_val"), arrays.get("y_val"), max_value=255.0 if peak > 1.0 else 1.0,
    )  # fmt: skip
