"""Pre-flight checks of a backbone's transfer-learning settings (model=backbone): pretrained weights fed
unprocessed inputs, a fine-tuning rate that wrecks the pretrained features, a pretrained backbone trained
from the first epoch. Plain data in mlexp.doctor.Finding's fields: the doctor wraps them."""

from __future__ import annotations


def finding(code: str, severity: str, message: str, suggestion: str, evidence: dict) -> dict:
    return {"code": code, "severity": severity, "message": message, "suggestion": suggestion, "evidence": evidence}


def findings(cfg) -> list[dict]:
    """Transfer-learning mistakes (model=backbone): pretrained weights fed unprocessed inputs, a fine-tuning
    rate that wrecks the pretrained features, a pretrained backbone trained from the first epoch."""
    found = []
    model, tune = cfg.model, cfg.model.fine_tune
    if model.weights is not None and not model.preprocess:
        found.append(finding(
            "preprocessing_off", "warning",
            f"model.preprocess=false with pretrained weights ({model.weights}): {model.arch} was trained on its own "
            "preprocessing of 0-255 pixels; without it the features it learned do not apply.",
            "model.preprocess=true", {"arch": model.arch, "weights": str(model.weights)},
        ))  # fmt: skip
    rate = cfg.optimizer.learning_rate * tune.lr_factor
    limit = 1e-2 if cfg.optimizer.name in ("sgd", "adadelta") else 1e-3
    if tune.freeze_epochs and rate > limit:
        found.append(finding(
            "fine_tune_rate_high", "warning",
            f"fine-tuning at learning rate {rate:g} (optimizer.learning_rate x model.fine_tune.lr_factor): far above "
            f"the usual {limit / 100:g}-{limit / 10:g} for unfreezing a pretrained {model.arch}; it overwrites what "
            "the backbone learned.",
            f"model.fine_tune.lr_factor={limit / 10 / cfg.optimizer.learning_rate:g}",
            {"fine_tune_learning_rate": rate},
        ))  # fmt: skip
    if model.weights is None and tune.freeze_epochs:
        found.append(finding(
            "frozen_random_backbone", "warning",
            f"{model.arch} has random weights (model.weights=null) and stays frozen for {tune.freeze_epochs} "
            "epoch(s): its features are random projections, and only the head can learn from them, so those epochs "
            "train little whatever the learning rate.",
            "model.weights=imagenet, or model.fine_tune.freeze_epochs=0 (train the whole network from scratch)",
            {"arch": model.arch, "freeze_epochs": int(tune.freeze_epochs)},
        ))  # fmt: skip
    if model.weights is not None and not tune.freeze_epochs:
        found.append(finding(
            "backbone_not_frozen", "warning",
            f"the pretrained {model.arch} is trained from the first epoch: the random head's large gradients reach "
            "it before the head has learned anything.",
            "model.fine_tune.freeze_epochs=3 (train the head first)", {"arch": model.arch},
        ))  # fmt: skip
    return found
