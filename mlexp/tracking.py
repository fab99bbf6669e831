"""TensorBoard HParams summaries: every run's hyper-parameters and final metrics, one row per run."""

from __future__ import annotations

from typing import Any

from mlexp import runs

HPARAMS_DIR = "tensorboard/hparams"
METRICS = ("best_val_accuracy", "best_val_loss", "final_val_accuracy", "final_val_loss", "test_accuracy", "test_loss")


def hparams(cfg) -> dict[str, Any]:
    """Every scalar of the run config, by dotted key (lists as text), so a sweep's varied keys are all there."""
    from omegaconf import OmegaConf

    from mlexp.reporting.collect import flatten, text

    flat = flatten(OmegaConf.to_container(cfg, resolve=True))
    return {k: v if isinstance(v, (bool, int, float, str)) else text(v) for k, v in flat.items() if v is not None}


def write_hparams(run: runs.RunDir, cfg, metrics: dict[str, Any]) -> None:
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    with tf.summary.create_file_writer(str(run.file(HPARAMS_DIR))).as_default():
        hp.hparams(hparams(cfg), trial_id=run.path.name)
        for name in METRICS:
            value = metrics.get(name)
            if isinstance(value, float):
                tf.summary.scalar(name, value, step=metrics.get("epochs_run", 0))
