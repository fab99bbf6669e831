"""tuner.retrain_best: the best trial's config, trained again on training + validation data."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml
from omegaconf import OmegaConf

from mlexp import runs
from mlexp.config import validate

log = logging.getLogger("mlexp")
RETRAIN = "retrain"


def retrain_config(best_dir: Path, objective: str):
    """No validation data; as many epochs as the best trial needed; callbacks that watch val_* metrics off."""
    cfg = OmegaConf.create(yaml.safe_load((best_dir / runs.CONFIG).read_text()))
    metrics = runs.RunDir(best_dir).read_json(runs.METRICS)
    cfg.trainer.validation = "none"
    cfg.trainer.epochs = int(metrics.get(f"best_{objective}_epoch") or metrics["epochs_run"])
    disabled = []
    for name, entry in (cfg.callbacks or {}).items():
        if entry.get("enabled") and str(entry.get("monitor", "")).startswith("val_"):
            entry.enabled = False
            disabled.append(name)
    return validate(cfg), disabled


def retrain_best(session: Path, best_dir: Path, objective: str) -> dict[str, Any]:
    from mlexp.training import train

    cfg, disabled = retrain_config(best_dir, objective)
    folder = session / RETRAIN
    if runs.RunDir(folder).read_json(runs.METRICS).get("status") == "completed":
        metrics = runs.RunDir(folder).read_json(runs.METRICS)  # a continued session: already retrained
    else:
        log.info(
            "Retraining trial %s on training + validation data for %d epochs%s",
            best_dir.name, cfg.trainer.epochs, f" (disabled: {', '.join(disabled)})" if disabled else "",
        )  # fmt: skip
        runs.claim(folder, "the retrained model's folder", sweep=False)
        metrics = train(cfg, folder, command=["mlexp", "tune", "# retrain_best"], overrides=[])
    return {
        "run_dir": str(folder.relative_to(session)),
        "epochs": int(cfg.trainer.epochs),
        "train_samples": metrics["samples"]["train"],
        "test_accuracy": metrics["test_accuracy"],
        "disabled_callbacks": disabled,
    }
