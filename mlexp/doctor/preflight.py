"""Checks before training, on the config, the data and the built model (the notebooks' mistakes)."""

from __future__ import annotations

import numpy as np

from mlexp.doctor import Finding

CONSTANT_INITIALIZERS = ("zeros", "ones")
SATURATING = ("sigmoid", "tanh")
SAMPLE = 256  # files decoded to check the inputs of a data set read from disk
DEEP = 3  # dense layers from which saturating activations start to starve the first layers


def check(cfg, splits, model=None) -> list[Finding]:
    findings: list[Finding] = []
    for checker in (_labels, _finite, _scaled, _initializer, _saturating, _leakage, _learning_rate, _transfer):
        findings += checker(cfg, splits)
    if model is not None and cfg.model.name == "sequential":
        findings += _head(cfg, model)
    return findings


def _labels(cfg, splits) -> list[Finding]:
    if splits.spec.task not in ("multiclass", "binary"):
        return []  # label sets and numeric targets were checked when the data were read
    classes = splits.spec.num_classes
    labels = np.concatenate([splits.y_train, splits.y_val, splits.y_test])
    low, high = int(labels.min()), int(labels.max())
    if low >= 0 and high < classes:
        return []
    return [
        Finding(
            "labels_out_of_range", "error",
            f"labels run from {low} to {high}, but the head has outputs for {classes} classes "
            f"(0..{classes - 1}), from the dataset's {classes} class names.",
            f"give the dataset {high + 1} class names (npz: class_names), or fix the labels",
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


def _saturating(cfg, splits) -> list[Finding]:
    activation = cfg.model.get("activation")
    depth = len(cfg.model.get("hidden_units") or []) + len(cfg.model.get("dense_units") or [])
    if activation not in SATURATING or depth < DEEP or cfg.model.get("batch_norm"):
        return []
    return [
        Finding(
            "saturating_activation", "warning",
            f"{activation} in {depth} stacked dense layers: its gradient is at most "
            f"{0.25 if activation == 'sigmoid' else 1.0}, so the first layers barely learn (vanishing gradients).",
            "model.activation=relu (or model.batch_norm=true)", {"activation": activation, "dense_layers": depth},
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
    lr = cfg.optimizer.learning_rate
    limit = 1.0 if cfg.optimizer.name in ("sgd", "adadelta") else 0.1
    if lr <= limit:
        return []
    return [
        Finding(
            "learning_rate_too_high", "warning",
            f"optimizer.learning_rate={lr:g} is far above the range that works for {cfg.optimizer.name} "
            f"(up to about {limit:g}); expect oscillation or divergence.",
            f"optimizer.learning_rate={0.001 if limit < 1 else 0.01}", {"learning_rate": lr},
        )
    ]  # fmt: skip


def _transfer(cfg, splits) -> list[Finding]:
    """Transfer-learning mistakes (model=backbone): pretrained weights fed unprocessed inputs, a fine-tuning
    rate that wrecks the pretrained features, a pretrained backbone trained from the first epoch."""
    if cfg.model.name != "backbone":
        return []
    found = []
    model, tune = cfg.model, cfg.model.fine_tune
    if model.weights is not None and not model.preprocess:
        found.append(Finding(
            "preprocessing_off", "warning",
            f"model.preprocess=false with pretrained weights ({model.weights}): {model.arch} was trained on its own "
            "preprocessing of 0-255 pixels; without it the features it learned do not apply.",
            "model.preprocess=true", {"arch": model.arch, "weights": str(model.weights)},
        ))  # fmt: skip
    rate = cfg.optimizer.learning_rate * tune.lr_factor
    limit = 1e-2 if cfg.optimizer.name in ("sgd", "adadelta") else 1e-3
    if tune.freeze_epochs and rate > limit:
        found.append(Finding(
            "fine_tune_rate_high", "warning",
            f"fine-tuning at learning rate {rate:g} (optimizer.learning_rate x model.fine_tune.lr_factor): far above "
            f"the usual {limit / 100:g}-{limit / 10:g} for unfreezing a pretrained {model.arch}; it overwrites what "
            "the backbone learned.",
            f"model.fine_tune.lr_factor={limit / 10 / cfg.optimizer.learning_rate:g}",
            {"fine_tune_learning_rate": rate},
        ))  # fmt: skip
    if model.weights is not None and not tune.freeze_epochs:
        found.append(Finding(
            "backbone_not_frozen", "warning",
            f"the pretrained {model.arch} is trained from the first epoch: the random head's large gradients reach "
            "it before the head has learned anything.",
            "model.fine_tune.freeze_epochs=3 (train the head first)", {"arch": model.arch},
        ))  # fmt: skip
    return found


def _head(cfg, model) -> list[Finding]:
    """A stack that already ends in probabilities before mlexp's head (sequential models)."""
    found = []
    head = model.get_layer("head")
    previous = model.layers[model.layers.index(head) - 1]
    activation = getattr(getattr(previous, "activation", None), "__name__", None)
    if previous.name != "inputs" and activation in ("softmax", "sigmoid"):
        units = getattr(previous, "units", None)
        found.append(
            Finding(
                "output_layer_in_body", "error",
                f"the layer before mlexp's head ({previous.name}: {units} units, {activation}) already outputs "
                f"probabilities; mlexp adds the output layer ({head.units} units) itself, so a second one "
                "squashes the signal (and with model.logits=true, probabilities would go to a from_logits loss).",
                "drop the last entry of model.layers",
                {"layer": previous.name, "units": units, "activation": activation, "head_units": head.units},
            )
        )  # fmt: skip
    return found
