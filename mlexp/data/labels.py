"""What the labels say: the task they pose, and one-line answers to labels that cannot be right.

Every loader's output passes through `prepare` before the validation split, so a new loader gets
the same checks: one-hot labels where indices are expected, float labels such as 0.5, string labels
without class names, x/y length mismatch, empty splits, inputs of different shapes between splits.
"""

from __future__ import annotations

import logging

from mlexp.data.raw import Raw
from mlexp.data.sources import DataError
from mlexp.lazy import lazy
from mlexp.tasks import BINARY, MULTICLASS, MULTILABEL, REGRESSION

np = lazy("numpy")

log = logging.getLogger(__name__)

MANY_VALUES = 20  # more distinct non-integer values than this: a numeric target, not classes


def prepare(raw: Raw, task: str = "auto") -> tuple[Raw, str]:
    """The loader's output with labels in the task's form (class indices, 0/1 rows or floats), and the task."""
    _check_shapes(raw)
    splits = _labels(raw)
    if task == "auto":
        task = raw.task if raw.task not in (None, "auto") else infer(splits, raw)
    if task == REGRESSION:
        ys = {name: _numeric(y, f"{raw.origin} {name}") for name, y in splits.items()}
    elif task == MULTILABEL:
        ys = {name: _multi_hot(y, f"{raw.origin} {name}") for name, y in splits.items()}
    else:
        ys = {name: _indices(y, f"{raw.origin} {name}", raw.class_names) for name, y in splits.items()}
        classes = len(raw.class_names) if raw.class_names else int(max(y.max(initial=0) for y in ys.values())) + 1
        if task == BINARY and classes != 2:
            raise DataError(f"dataset.task: got 'binary', but {raw.origin} has {classes} classes; expected multiclass")
        if not raw.class_names:
            raw.class_names = [str(i) for i in range(classes)]
    if task == MULTILABEL and not raw.class_names:
        raw.class_names = [f"label_{i}" for i in range(ys["y_train"].shape[1])]
    for name, y in ys.items():
        setattr(raw, name, y)
    return raw, task


def infer(splits: dict[str, np.ndarray], raw: Raw) -> str:
    """The task the training labels pose; logged, since dataset.task overrides it."""
    y = splits["y_train"]
    if y.ndim == 2 and y.shape[1] > 1:
        task = MULTILABEL if _zero_one(y) and not _one_hot(y) else MULTICLASS  # one-hot is refused below
    elif _is_float(y) and not _integral(y) and len(np.unique(y)) > MANY_VALUES:
        task = REGRESSION
    else:
        task = BINARY if len(raw.class_names or np.unique(y)) == 2 else MULTICLASS
    log.info("Task %s, from the labels of %s (dataset.task overrides it)", task, raw.origin)
    return task


def _labels(raw: Raw) -> dict[str, np.ndarray]:
    out = {"y_train": raw.y_train, "y_test": raw.y_test}
    if raw.y_val is not None:
        out["y_val"] = raw.y_val
    return {name: np.asarray(y) for name, y in out.items()}


def _check_shapes(raw: Raw) -> None:
    shapes = {}
    for split in ("train", "val", "test"):
        x, y = getattr(raw, f"x_{split}"), getattr(raw, f"y_{split}")
        if x is None:
            continue
        if len(x) != len(y):
            raise DataError(f"{raw.origin}: x_{split} has {len(x)} rows but y_{split} has {len(y)}; expected equal")
        if len(x) == 0 and split != "val":
            raise DataError(f"{raw.origin}: x_{split} is empty (0 samples); expected at least one {split} sample")
        shapes[split] = tuple(np.shape(x)[1:])
    if len(set(shapes.values())) > 1:
        seen = ", ".join(f"{split} {shape}" for split, shape in shapes.items())
        raise DataError(f"{raw.origin}: inputs differ in shape between splits ({seen}); expected one shape")


def _indices(y: np.ndarray, where: str, class_names) -> np.ndarray:
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 2:
        if _zero_one(y) and _one_hot(y):
            raise DataError(
                f"{where}: labels are one-hot ({y.shape[1]} columns); expected class indices: store "
                "y.argmax(axis=1), or set dataset.task=multilabel if a sample may have several labels"
            )
        raise DataError(f"{where}: labels have shape {y.shape}; expected one class index per sample")
    if y.dtype.kind in "USO":
        if not class_names:
            raise DataError(
                f"{where}: labels are strings ({_example(y)}) but no class names were given; expected class "
                "indices 0..K-1, or class_names listing each string"
            )
        lookup = {str(name): i for i, name in enumerate(class_names)}
        unknown = sorted({str(v) for v in y} - set(lookup))
        if unknown:
            raise DataError(f"{where}: labels {unknown[:5]} are not among the class names {list(class_names)}")
        return np.array([lookup[str(v)] for v in y], dtype=np.int32)
    if _is_float(y) and not _integral(y):
        bad = y[~np.isclose(y, np.round(y))]
        raise DataError(
            f"{where}: labels hold non-integer values (e.g. {bad[0]:g}); expected class indices 0..K-1 "
            "(or dataset.task=regression for a numeric target)"
        )
    if len(y) and y.min() < 0:
        raise DataError(f"{where}: labels include {int(y.min())}; expected class indices from 0")
    return y.astype(np.int32)


def _multi_hot(y: np.ndarray, where: str) -> np.ndarray:
    if y.ndim != 2 or not _zero_one(y):
        raise DataError(
            f"{where}: labels have shape {y.shape} with values {_example(y)}; expected a 0/1 matrix "
            "(one column per label) for dataset.task=multilabel"
        )
    return y.astype(np.float32)


def _numeric(y: np.ndarray, where: str) -> np.ndarray:
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.dtype.kind not in "iufb":
        raise DataError(
            f"{where}: labels {_example(y)} (shape {y.shape}); expected one number per sample for regression"
        )
    y = y.astype(np.float32)
    if not np.isfinite(y).all():
        raise DataError(f"{where}: {int((~np.isfinite(y)).sum())} targets are NaN or infinite; expected numbers")
    return y


def _is_float(y: np.ndarray) -> bool:
    return y.dtype.kind == "f"


def _integral(y: np.ndarray) -> bool:
    return bool(np.isfinite(y).all() and np.all(y == np.round(y)))


def _zero_one(y: np.ndarray) -> bool:
    return y.dtype.kind in "iufb" and bool(np.isin(y, (0, 1)).all())


def _one_hot(y: np.ndarray) -> bool:
    return bool(np.all(y.sum(axis=1) == 1))


def _example(y: np.ndarray) -> str:
    flat = np.ravel(y)[:3]
    return ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in flat)
