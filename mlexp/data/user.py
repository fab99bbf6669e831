"""A dataset from the user's own function: `fn(**args)` returns the splits.

Accepted returns: a mapping (or an object with attributes) with x_train, y_train, x_test, y_test and
optionally x_val, y_val, class_names; or Keras' load_data() shape, ((x_train, y_train), (x_test, y_test)).
Each split may be an array or a tf.data.Dataset (of samples, or of batches); Datasets are read into
memory, since mlexp's pipeline works on arrays.
"""

from __future__ import annotations

from mlexp.data.raw import Raw, unit_max
from mlexp.data.sources import DataError
from mlexp.lazy import lazy
from mlexp.user_code import TARGET, resolve

np = lazy("numpy")

MLEXP_KEYS = ("name", "scale", "split_seed", "task", TARGET)
SPLITS = ("x_train", "y_train", "x_test", "y_test")


def load(cfg) -> Raw:
    from omegaconf import OmegaConf

    target = cfg[TARGET]
    fn = resolve(target, "dataset._target_")
    out = fn(**{k: v for k, v in OmegaConf.to_container(cfg).items() if k not in MLEXP_KEYS})
    arrays = _as_mapping(out, target)
    missing = [k for k in SPLITS if arrays.get(k) is None]
    if missing:
        raise DataError(f"dataset._target_: {target} returned no {', '.join(missing)}; expected {', '.join(SPLITS)}")
    arrays = {k: _array(v) for k, v in arrays.items() if v is not None and k != "class_names"} | {
        "class_names": arrays.get("class_names")
    }
    for split in ("train", "val", "test"):
        x, y = arrays.get(f"x_{split}"), arrays.get(f"y_{split}")
        if (x is None) != (y is None):
            raise DataError(f"dataset._target_: {target} returned only one of x_{split} and y_{split}")
    names = arrays["class_names"]
    classes = [str(c) for c in names] if names is not None else None
    return Raw(
        arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], classes,
        arrays.get("x_val"), arrays.get("y_val"), max_value=unit_max(arrays["x_train"]),
        origin=f"dataset._target_ {target}",
    )  # fmt: skip


def _array(value) -> np.ndarray:
    """A split as an array; a tf.data.Dataset of samples (or of batches) is read into memory."""
    if type(value).__module__.startswith("tensorflow") and hasattr(value, "as_numpy_iterator"):
        rows = list(value.as_numpy_iterator())
        batched = bool(rows) and getattr(value.element_spec, "shape", None) is not None and (
            value.element_spec.shape.rank or 0) > 0 and value.element_spec.shape[0] is None  # fmt: skip
        return np.concatenate(rows) if batched else np.asarray(rows)
    return np.asarray(value)


def _as_mapping(out, target: str) -> dict:
    if isinstance(out, dict):
        return dict(out)
    if isinstance(out, tuple) and len(out) == 2 and all(isinstance(p, tuple) and len(p) == 2 for p in out):
        (x_train, y_train), (x_test, y_test) = out
        return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    if all(hasattr(out, k) for k in SPLITS):
        return {k: getattr(out, k, None) for k in (*SPLITS, "x_val", "y_val", "class_names")}
    raise DataError(
        f"dataset._target_: {target} returned {type(out).__name__}; expected a mapping with "
        f"{', '.join(SPLITS)} (or Keras' ((x_train, y_train), (x_test, y_test)))"
    )
