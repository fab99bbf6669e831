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

    from mlexp.nested import flatten
    from mlexp.reporting.collect import text

    flat = flatten(OmegaConf.to_container(cfg, resolve=True))
    return {k: v if isinstance(v, (bool, int, float, str)) else text(v) for k, v in flat.items() if v is not None}


def write_hparams(run: runs.RunDir, cfg, metrics: dict[str, Any]) -> None:
    """The run's HParams summary and final metrics as one TensorBoard event file. TensorBoard's own
    protocol buffers and writer: no TensorFlow, which a run on JAX or PyTorch need not load."""
    import socket
    import time

    from tensorboard.compat.proto import event_pb2
    from tensorboard.plugins.hparams import summary_v2 as hp
    from tensorboard.plugins.scalar import summary_v2 as scalar
    from tensorboard.summary.writer.record_writer import RecordWriter

    now, step = time.time(), metrics.get("epochs_run", 0)
    summaries = [hp.hparams_pb(hparams(cfg), trial_id=run.path.name)]
    summaries += [
        scalar.scalar_pb(name, metrics[name])
        for name in summary_metrics(metrics)
        if isinstance(metrics.get(name), float)
    ]
    events = [event_pb2.Event(wall_time=now, file_version="brain.Event:2")]
    events += [event_pb2.Event(wall_time=now, step=step, summary=summary) for summary in summaries]
    path = run.file(HPARAMS_DIR) / f"events.out.tfevents.{int(now)}.{socket.gethostname()}"
    with runs.atomic_path(path) as tmp, open(tmp, "wb") as file:
        writer = RecordWriter(file)
        for event in events:
            writer.write(event.SerializeToString())
