"""TensorBoard HParams summaries: every run's hyper-parameters and final metrics, one row per run."""

from __future__ import annotations

from typing import Any

from mlexp import runs, tasks

HPARAMS_DIR = "tensorboard/hparams"


def summary_metrics(metrics: dict[str, Any]) -> list[str]:
    """The final metrics shown per run: loss and the task's score (accuracy, or mae), validation and test."""
    score = tasks.score(metrics)
    return [f"best_val_{score}", "best_val_loss", f"final_val_{score}", "final_val_loss", f"test_{score}", "test_loss"]


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
        for name in summary_metrics(metrics):
            value = metrics.get(name)
            if isinstance(value, float):
                tf.summary.scalar(name, value, step=metrics.get("epochs_run", 0))
