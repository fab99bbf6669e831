"""Checks before training, on the config, the data and the built model (the notebooks' mistakes)."""

from __future__ import annotations

import numpy as np

from mlexp.doctor import Finding, advice
from mlexp.tasks import SINGLE_LABEL

CONSTANT_INITIALIZERS = ("zeros", "ones")
SAMPLE = 256  # files decoded to check the inputs of a data set read from disk


def check(cfg, splits, model=None) -> list[Finding]:
    from mlexp.doctor import data_checks, model_checks

    findings: list[Finding] = []
    for checker in (_labels, _finite, _scaled, _initializer, _leakage, _learning_rate, _transfer):
        findings += checker(cfg, splits)
    findings += data_checks.check(cfg, splits)
    if model is not None:
        findings += model_checks.check(cfg, splits.spec, model)
    return advice.with_followable_advice(findings, cfg)


def _labels(cfg, splits) -> list[Finding]:
    if splits.spec.task not in SINGLE_LABEL:
        return []  # label sets and numeric targets were checked when the data were read
    classes = splits.spec.num_classes
    labels = np.concatenate([splits.y_train, splits.y_val, splits.y_test])
    low, high = int(labels.min()), int(labels.max())
    if low >= 0 and high < classes:
        return []
    suggestion = f"give the dataset {high + 1} class names (npz: class_names), or fix the labels"
    if low == 1 and high == classes:  # 1-based labels: the classes are right, the numbering is not
        suggestion = f"store the labels as 0..{classes - 1} (y - 1): they count from 1"
    return [
        Finding(
            "labels_out_of_range", "error",
            f"labels run from {low} to {high}, but the head has outputs for {classes} classes "
            f"(0..{classes - 1}), from the dataset's {classes} class names.",
            suggestion,
            {"min_label": low, "max_label": high, "classes": classes},
        )
    ]  # fmt: skip


def _finite(cfg, splits) -> list[Finding]:
    found = []
    for name in ("x_train", "x_val", "x_test"):
        array = splits.inputs(name, limit=SAMPLE)
        if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
            bad = int((~np.isfinite(array)).sum())
            found.append(
                Finding("non_finite_data", "error", f"{name} holds {bad} NaN or infinite values.",
                        "clean the data file (dataset.path) before training", {"split": name, "count": bad})
            )  # fmt: skip
    return found


def _scaled(cfg, splits) -> list[Finding]:
    """Raw pixels (0..255) fed as they are. Images only: a table's columns reach 10 after standardizing (an
    outlier 10 deviations out) or hold counts and amounts on purpose, and dataset.scale=unit would be wrong."""
    if len(splits.spec.input_shape) < 2:  # rows of features (tables, multi-hot texts), not height x width
        return []
    peak = float(np.max(splits.inputs("x_train", limit=SAMPLE)))
    if peak <= 10.0 or cfg.dataset.scale != "none":
        return []
    return [
        Finding(
            "unscaled_inputs", "warning",
            f"inputs reach {peak:g}: unscaled pixels slow training and saturate activations.",
            "dataset.scale=unit (or dataset.scale=standardize)", {"max_input": peak},
        )
    ]  # fmt: skip


def _initializer(cfg, splits) -> list[Finding]:
    name = cfg.model.get("kernel_initializer")
    if name not in CONSTANT_INITIALIZERS:
        return []
    return [
        Finding(
            "constant_initializer", "warning",
            f"model.kernel_initializer={name}: every unit of a layer starts equal, gets the same gradient and "
            "stays equal, so each layer learns one feature.",
            "model.kernel_initializer=glorot_uniform (he_normal for relu)", {"kernel_initializer": name},
        )
    ]  # fmt: skip


def _leakage(cfg, splits) -> list[Finding]:
    if cfg.trainer.validation != "test":
        return []
    return [
        Finding(
            "validating_on_test", "warning",
            "the test split is the validation data: early stopping, checkpoints and model choice see it, so the "
            "test accuracy is optimistic (two notebooks do this).",
            "trainer.validation=split", {"validation": "test"},
        )
    ]  # fmt: skip


def _learning_rate(cfg, splits) -> list[Finding]:
    from mlexp.doctor.advice import HIGH_RATE, effective_rate

    lr, step = cfg.optimizer.learning_rate, effective_rate(cfg)
    limit = HIGH_RATE.get(cfg.optimizer.name, 0.1)
    if step <= limit:
        return []
    momentum = cfg.optimizer.get("momentum") or 0.0
    with_momentum = f" (with momentum {momentum:g}: an effective step of {step:g})" if momentum else ""
    suggestion = f"optimizer.learning_rate={0.001 if limit < 1 else 0.01}"
    if momentum > 0.9:  # the usual momentum, at a rate that keeps lr / (1 - momentum) in range
        suggestion = f"optimizer.learning_rate={0.001 if limit < 1 else 0.01} optimizer.momentum=0.9"
    return [
        Finding(
            "learning_rate_too_high", "warning",
            f"optimizer.learning_rate={lr:g}{with_momentum} is far above the range that works for "
            f"{cfg.optimizer.name} (up to about {limit:g}); expect oscillation or divergence.",
            suggestion, {"learning_rate": lr, "effective_step": step},
        )
    ]  # fmt: skip


def _transfer(cfg, splits) -> list[Finding]:
    """The model kind's own findings (a backbone's transfer-learning mistakes), through the registry."""
    from mlexp.registry import MODELS

    return [Finding(**found) for found in MODELS.phases(cfg.model).findings(cfg, splits)]
