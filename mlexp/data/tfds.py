"""Any TensorFlow Datasets data set (pip install "mlexp-keras[tfds]"), offline first.

`dataset.tfds_name` names it (`mnist`, `cifar10:3.0.2`, `beans`); a prepared copy in `data_dir` (or
TFDS' default ~/tensorflow_datasets) is read without code or network; `download=true` lets TFDS
fetch and prepare it. Splits take TFDS' slicing syntax (`train[:80%]`). The examples are read into
memory (TFDS data sets of images larger than memory: export them to an image folder).
"""

from __future__ import annotations

import logging
from pathlib import Path

from mlexp.config.catalog import SOURCE, TASK
from mlexp.config.rules import optional, string
from mlexp.data.raw import Raw
from mlexp.data.sources import DataError
from mlexp.errors import first_line
from mlexp.lazy import lazy
from mlexp.registry import DATASETS

np = lazy("numpy")

RULES = {
    **SOURCE,
    **TASK,
    "tfds_name": string(),
    "data_dir": optional(string()),
    "split_train": string(),
    "split_test": string(),
    "split_val": optional(string()),
}

log = logging.getLogger(__name__)


@DATASETS.register("tfds", RULES, required=("tfds_name",))
def load(cfg) -> Raw:
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        raise DataError(
            'dataset=tfds needs TensorFlow Datasets: pip install "mlexp-keras[tfds]" (or tensorflow-datasets)'
        ) from None
    data_dir = str(Path(cfg.data_dir).expanduser()) if cfg.get("data_dir") else None
    builder = _builder(tfds, cfg.tfds_name, data_dir, cfg.download)
    info = builder.info
    if not info.supervised_keys:
        raise DataError(f"dataset.tfds_name: {cfg.tfds_name} has no (input, label) pair (supervised_keys)")
    x_key, y_key = info.supervised_keys[:2]
    arrays = {name: _read(tfds, builder, split, cfg.tfds_name) for name, split in _splits(cfg).items()}
    label = info.features[y_key]
    names = list(label.names) if hasattr(label, "names") else None
    x_feature = info.features[x_key]
    image = x_feature.__class__.__name__ == "Image"
    log.info("TFDS %s (%s): %s -> %s", cfg.tfds_name, builder.data_dir, x_key, y_key)
    return Raw(
        *arrays["train"], *arrays["test"], names, *(arrays.get("val") or (None, None)),
        max_value=255.0 if image else float(np.max(arrays["train"][0], initial=1.0)),
        origin=f"dataset.tfds_name {cfg.tfds_name} ({builder.data_dir})",
        files=tuple(str(p) for p in sorted(Path(builder.data_dir).glob("*")) if p.is_file()),
        own_validation="val" in arrays,
    )  # fmt: skip


def _builder(tfds, name: str, data_dir: str | None, download: bool):
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as exc:  # TFDS raises several types for a name it cannot resolve
        where = data_dir or "TFDS' default data folder (~/tensorflow_datasets)"
        raise DataError(f"dataset.tfds_name: {name!r} not found in {where}: {first_line(exc)}") from None
    if builder.is_prepared():
        return builder
    if not download:
        raise DataError(
            f"dataset.tfds_name: {name!r} is not prepared in {builder.data_dir} and dataset.download=false; "
            "expected a prepared copy (dataset.data_dir=FOLDER), or dataset.download=true"
        )
    try:
        builder.download_and_prepare()
    except Exception as exc:  # network, disk or archive failures: one line
        raise DataError(f"dataset.tfds_name: downloading {name!r} failed: {first_line(exc)}") from None
    return builder


def _splits(cfg) -> dict[str, str]:
    out = {"train": cfg.split_train, "test": cfg.split_test}
    if cfg.get("split_val"):
        out["val"] = cfg.split_val
    return out


def _read(tfds, builder, split: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        ds = builder.as_dataset(split=split, as_supervised=True)
    except Exception as exc:  # an unknown split or a bad slice
        splits = ", ".join(builder.info.splits)
        raise DataError(f"dataset split {split!r} of {name}: {first_line(exc)}; its splits are {splits}") from None
    pairs = list(tfds.as_numpy(ds))
    if not pairs:
        raise DataError(f"dataset split {split!r} of {name} is empty; expected at least one example")
    return np.stack([x for x, _ in pairs]), np.asarray([y for _, y in pairs])
