"""The callbacks group, from the command line to the files and histories they produce."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from conftest import TINY, read_metrics, run_dirs
from omegaconf import OmegaConf

from mlexp.schedules import make_schedule


def one_run(mlexp, tmp_path, *args):
    result = mlexp("train", *TINY, *args)
    assert result.code == 0, result.err
    [run] = run_dirs(tmp_path / "outputs")
    return run, pd.read_csv(run / "history.csv")


def test_stop_at_threshold_stops_once_crossed(mlexp, tmp_path):
    run, history = one_run(
        mlexp, tmp_path, "trainer.epochs=20", "callbacks.stop_at_threshold.enabled=true",
        "callbacks.stop_at_threshold.monitor=accuracy", "callbacks.stop_at_threshold.threshold=0.0",
        "callbacks.stop_at_threshold.mode=max",
    )  # fmt: skip
    assert len(history) == 1 and read_metrics(run)["epochs_run"] == 1


def test_exponential_schedule_after_start_epoch(mlexp, tmp_path):
    _, history = one_run(
        mlexp, tmp_path, "trainer.epochs=4", "callbacks.lr_scheduler.enabled=true",
        "callbacks.lr_scheduler.start_epoch=2", "callbacks.lr_scheduler.rate=0.5",
    )  # fmt: skip
    expected = [0.001, 0.001, 0.001 * math.exp(-0.5), 0.001 * math.exp(-1.0)]
    assert history["learning_rate"].tolist() == pytest.approx(expected, rel=1e-5)


def test_cosine_and_constant_schedules():
    cosine = make_schedule(
        OmegaConf.create({"schedule": "cosine", "start_epoch": 1, "alpha": 0.1, "decay_epochs": 4}), 1.0, 10
    )
    assert [round(cosine(e, 1.0), 4) for e in range(7)] == [1.0, 1.0, 0.8682, 0.55, 0.2318, 0.1, 0.1]
    constant = make_schedule(OmegaConf.create({"schedule": "constant", "start_epoch": 0}), 1.0, 10)
    assert constant(5, 0.3) == 0.3


def test_checkpoint_csv_logger_and_tensorboard_write_inside_the_run(mlexp, tmp_path):
    import keras

    run, history = one_run(
        mlexp, tmp_path, "callbacks.model_checkpoint.enabled=true", "callbacks.csv_logger.enabled=true",
        "callbacks.tensorboard.enabled=true", "callbacks.tensorboard.histogram_freq=1",
    )  # fmt: skip
    checkpoint = keras.models.load_model(run / "checkpoints/best.keras")
    assert checkpoint.count_params() == read_metrics(run)["param_count"]
    assert not list((run / "checkpoints").glob(".*"))
    assert len(pd.read_csv(run / "training_log.csv")) == len(history) == 2
    assert list((run / "tensorboard").rglob("events.out.tfevents.*"))


def test_nan_loss_stops_at_once_and_is_reported_as_diverged(mlexp, tmp_path):
    args = ["trainer.epochs=5", "optimizer=sgd", "optimizer.learning_rate=1e30", "model.activation=linear"]
    result = mlexp("train", *TINY, *args)
    assert result.code == 0, result.err
    [run] = run_dirs(tmp_path / "outputs")
    metrics = read_metrics(run)
    assert metrics["status"] == "diverged"
    assert metrics["epochs_run"] == 1 and metrics["final_loss"] is None
    assert (run / "model.keras").exists() and (run / "plots/learning_curves.png").exists()
