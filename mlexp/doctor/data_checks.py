"""Pre-flight on the loaded data: value ranges after scaling, splits that disagree, rows shared between
splits, classes a split lacks, and class imbalance. Each threshold says why it is where it is."""

from __future__ import annotations

import hashlib

import numpy as np

from mlexp.doctor import Finding
from mlexp.tasks import SINGLE_LABEL

SAMPLE = 2048  # inputs per split read for statistics (files are decoded, so a sample)
UNIT_LIMIT = 1.5  # scale=unit should give values in [0, 1]; above 1.5 the divisor was wrong (16-bit images)
RANGE_RATIO = 10.0  # a split whose largest value is 10x another's was scaled differently, not sampled differently
DUPLICATE_SHARE = 0.05  # a few repeated samples occur in real data sets; 5% of a split repeated from training is a leak
DUPLICATE_WIDTH = 32  # values per sample from which equal rows mean copies (a few table columns collide by chance)
IMBALANCE_SHARE = 0.8  # one class above 80% of the training labels dominates accuracy and the loss
SPLITS = ("train", "val", "test")


def check(cfg, splits) -> list[Finding]:
    found = [*_range(cfg, splits), *_duplicates(splits)]
    if splits.spec.task in SINGLE_LABEL:
        found += [*_coverage(splits), *_imbalance(cfg, splits)]
    return found


def _inputs(splits, split: str) -> np.ndarray:
    x = splits.inputs(f"x_{split}", limit=SAMPLE)
    return np.asarray(x[:SAMPLE], dtype=np.float64) if np.issubdtype(np.asarray(x).dtype, np.number) else np.zeros(0)


def _range(cfg, splits) -> list[Finding]:
    peaks = {s: float(np.abs(x).max()) for s in SPLITS if (x := _inputs(splits, s)).size}
    found = []
    scale = cfg.dataset.get("scale")
    if scale == "unit" and peaks.get("train", 0.0) > UNIT_LIMIT:
        found.append(Finding(
            "inputs_beyond_unit", "warning",
            f"after dataset.scale=unit (divided by {splits.spec.preprocessing.get('max_value', 255.0):g}) the training "
            f"inputs still reach {peaks['train']:.4g}, not 1: the data hold larger values than the divisor assumes "
            "(16-bit images reach 65535).",
            "dataset.scale=standardize", {"max_after_scaling": peaks["train"], "scale": scale},
        ))  # fmt: skip
    train = peaks.get("train")
    for split in ("val", "test"):
        other = peaks.get(split)
        if train and other and max(train / other, other / train) > RANGE_RATIO:
            found.append(Finding(
                "splits_scaled_differently", "warning",
                f"the {split} inputs reach {other:.4g} but the training inputs {train:.4g} (after the same scaling): "
                f"the {split} data were scaled differently before mlexp read them, so the model sees another "
                "distribution there.",
                f"store x_{split} in the same units as x_train (raw pixels for both)",
                {"split": split, "max_train": train, f"max_{split}": other},
            ))  # fmt: skip
    return found


def _row_hashes(splits, split: str) -> set[bytes]:
    x = getattr(splits, f"x_{split}")
    if splits.reader is not None or not len(x) or np.prod(np.shape(x)[1:]) < DUPLICATE_WIDTH:
        return set()  # files: their paths differ even for equal images; narrow rows: equal by chance
    rows = np.ascontiguousarray(x).reshape(len(x), -1)
    return {hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in rows}


def _duplicates(splits) -> list[Finding]:
    hashes = {s: _row_hashes(splits, s) for s in SPLITS}
    found = []
    val, test = hashes["val"], hashes["test"]
    if val and test and len(val & test) >= DUPLICATE_SHARE * len(val):
        found.append(Finding(
            "validation_is_test", "warning",
            f"{len(val & test)} of the {len(val)} distinct validation samples are test samples: model selection "
            "sees the test data, so the test accuracy is optimistic.",
            "trainer.validation=split", {"shared": len(val & test), "validation": len(val)},
        ))  # fmt: skip
    for split in ("val", "test"):
        shared = len(hashes[split] & hashes["train"])
        if hashes[split] and shared >= DUPLICATE_SHARE * len(hashes[split]):
            found.append(Finding(
                "duplicates_across_splits", "warning",
                f"{shared} of the {len(hashes[split])} distinct {split} samples also appear in the training data: "
                f"the {split} accuracy measures memory, not generalization.",
                f"remove the training rows from x_{split} (or split the data once, before saving it)",
                {"split": split, "shared": shared, "distinct": len(hashes[split])},
            ))  # fmt: skip
    return found


def _coverage(splits) -> list[Finding]:
    names = splits.spec.class_names
    train = set(np.unique(splits.y_train).tolist())
    found = []
    for split in ("val", "test"):
        y = getattr(splits, f"y_{split}")
        if not len(y):
            continue
        missing = sorted(train - set(np.unique(y).tolist()))
        if missing:
            shown = ", ".join(str(names[i]) if i < len(names) else str(i) for i in missing[:8])
            hint = "trainer.validation=split (stratified)" if split == "val" else "a stratified test split"
            found.append(Finding(
                "split_missing_classes", "warning",
                f"the {split} split has no sample of {len(missing)} of the {len(train)} training classes ({shown}): "
                f"its accuracy says nothing about them (a holdout taken from the head of sorted data does this).",
                hint, {"split": split, "missing": [int(i) for i in missing]},
            ))  # fmt: skip
    return found


def _imbalance(cfg, splits) -> list[Finding]:
    counts = np.bincount(splits.y_train, minlength=splits.spec.num_classes)
    share = float(counts.max() / counts.sum())
    if share <= IMBALANCE_SHARE or cfg.trainer.get("class_weight"):
        return []
    top = int(counts.argmax())
    name = splits.spec.class_names[top] if top < len(splits.spec.class_names) else str(top)
    return [
        Finding(
            "class_imbalance", "warning",
            f"{share:.0%} of the training labels are class {name}: predicting it always scores {share:.0%} accuracy; "
            "the doctor judges learning by balanced accuracy, and the loss is dominated by that class.",
            "trainer.class_weight=balanced", {"majority_class": name, "majority_share": share,
                                              "counts": counts.tolist()},
        )
    ]  # fmt: skip
