"""Training end to end: the run directory's files, metrics, seeding, sweeps and failures."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from conftest import TINY, read_metrics, run_dirs

RUN_FILES = [
    ".hydra/config.yaml",
    ".hydra/overrides.yaml",
    "resolved_config.yaml",
    "history.csv",
    "metrics.json",
    "model.keras",
    "model_summary.txt",
    "plots/learning_curves.png",
]
METRIC_KEYS = {
    "status", "epochs_run", "wall_seconds", "fit_seconds", "param_count", "test_loss", "test_accuracy",
    "final_loss", "final_accuracy", "final_val_loss", "final_val_accuracy",
    "best_val_loss", "best_val_loss_epoch", "best_val_accuracy", "best_val_accuracy_epoch", "validation_source",
    "samples", "task",
}  # fmt: skip


def test_smoke_run_writes_every_file(mlexp, tmp_path):
    result = mlexp("train", *TINY, "trainer.epochs=3")
    assert result.code == 0, result.err
    [run] = run_dirs(tmp_path / "outputs")
    assert run.parent == tmp_path / "outputs" / "runs"
    assert run.name.endswith("_synthetic_mlp")
    for name in RUN_FILES:
        assert (run / name).is_file() and (run / name).stat().st_size > 0, name
    assert not list(run.glob(".*.tmp*")) and not list(run.rglob(".*.json")), "temporary files left"

    metrics = read_metrics(run)
    assert set(metrics) == METRIC_KEYS
    assert metrics["status"] == "completed" and metrics["validation_source"] == "split"
    assert metrics["epochs_run"] == 3
    assert metrics["samples"] == {"train": 144, "val": 36, "test": 60}  # 240 samples: 25% test, 20% of the rest
    assert metrics["param_count"] == 16 * 8 + 8 + 8 * 3 + 3  # 4x4x1 input, Dense(8), 3 classes
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert 1 <= metrics["best_val_loss_epoch"] <= 3

    history = pd.read_csv(run / "history.csv")
    assert list(history.columns) == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss", "learning_rate"]
    assert history["epoch"].tolist() == [1, 2, 3]
    assert history["learning_rate"].round(6).tolist() == [0.001] * 3
    assert metrics["best_val_loss"] == pytest.approx(history["val_loss"].min())
    assert metrics["final_val_accuracy"] == pytest.approx(history["val_accuracy"].iloc[-1])

    resolved = yaml.safe_load((run / "resolved_config.yaml").read_text())
    assert resolved["model"]["hidden_units"] == [8]
    assert resolved["dataset"]["name"] == "synthetic"
    assert "hydra" not in resolved
    assert "Dense" in (run / "model_summary.txt").read_text()
    assert (run / "plots/learning_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"Run directory: {run}" in result.out + result.err
    assert f"Test accuracy: {metrics['test_accuracy']:.4f}" in result.out + result.err


def test_saved_model_loads_and_reproduces_test_accuracy(mlexp, tmp_path):
    import keras

    from mlexp import data
    from mlexp.config import validate

    assert mlexp("train", *TINY).code == 0
    [run] = run_dirs(tmp_path / "outputs")
    cfg = validate(__import__("omegaconf").OmegaConf.load(run / "resolved_config.yaml"))
    splits = data.load(cfg.dataset, cfg.trainer)
    model = keras.models.load_model(run / "model.keras")
    scores = model.evaluate(splits.x_test, splits.y_test, return_dict=True, verbose=0)
    assert scores["accuracy"] == pytest.approx(read_metrics(run)["test_accuracy"], abs=1e-6)


def test_default_digits_run_reaches_95_percent(mlexp, tmp_path):
    result = mlexp("train", "trainer.verbose=0")
    assert result.code == 0, result.err
    [run] = run_dirs(tmp_path / "outputs")
    metrics = read_metrics(run)
    assert metrics["test_accuracy"] >= 0.95
    assert metrics["epochs_run"] == 20
    assert run.name.endswith("_digits_mlp")


@pytest.mark.slow
def test_same_seed_same_history_different_seed_different_history(mlexp, tmp_path):
    for seed, name in ((7, "a"), (7, "b"), (8, "c")):
        assert mlexp("train", *TINY, f"seed={seed}", f"hydra.run.dir=outputs/{name}").code == 0
    a, b, c = (pd.read_csv(tmp_path / "outputs" / n / "history.csv") for n in "abc")
    pd.testing.assert_frame_equal(a, b)
    assert not a["loss"].equals(c["loss"])


def test_overrides_reach_keras(mlexp, tmp_path):
    import keras

    args = [
        "model.hidden_units=[12,6]", "model.activation=tanh", "model.dropout=0.25", "model.batch_norm=true",
        "optimizer=sgd", "optimizer.learning_rate=0.05", "optimizer.momentum=0.9", "regularizer=l2",
        "model.kernel_initializer=he_normal",
    ]  # fmt: skip
    assert mlexp("train", *TINY, *args).code == 0
    [run] = run_dirs(tmp_path / "outputs")
    model = keras.models.load_model(run / "model.keras")
    names = [layer.name for layer in model.layers]
    assert names == [
        "inputs", "flatten", "dense_1", "dense_1_bn", "dense_1_dropout", "dense_2", "dense_2_bn", "dense_2_dropout",
        "head",
    ]  # fmt: skip
    assert model.get_layer("dense_1").activation.__name__ == "tanh"
    dense = model.get_layer("dense_1")
    assert dense.units == 12 and dense.kernel_regularizer.l2 == pytest.approx(0.001)
    assert type(dense.kernel_initializer).__name__ == "HeNormal"
    assert model.get_layer("head").kernel_regularizer is not None
    assert model.get_layer("dense_2_dropout").rate == 0.25
    opt = model.optimizer
    assert type(opt).__name__ == "SGD" and float(opt.learning_rate) == pytest.approx(0.05)
    assert opt.momentum == pytest.approx(0.9)


def test_two_class_task_gets_a_sigmoid_unit(mlexp, tmp_path):
    import keras

    assert mlexp("train", *TINY, "dataset.classes=2", "trainer.epochs=15", "optimizer.learning_rate=0.01").code == 0
    [run] = run_dirs(tmp_path / "outputs")
    head = keras.models.load_model(run / "model.keras").get_layer("head")
    assert head.units == 1 and head.activation.__name__ == "sigmoid"
    assert read_metrics(run)["test_accuracy"] >= 0.8


def test_early_stopping_and_reduce_lr_from_the_command_line(mlexp, tmp_path):
    args = [
        "trainer.epochs=30", "optimizer.learning_rate=0.5",
        "callbacks.early_stopping.enabled=true", "callbacks.early_stopping.patience=2",
        "callbacks.early_stopping.min_delta=10",
        "callbacks.reduce_lr_on_plateau.enabled=true", "callbacks.reduce_lr_on_plateau.patience=0",
        "callbacks.reduce_lr_on_plateau.min_delta=10",
    ]  # fmt: skip
    assert mlexp("train", *TINY, *args).code == 0
    [run] = run_dirs(tmp_path / "outputs")
    history = pd.read_csv(run / "history.csv")
    # No epoch improves by 10: patience 2 stops after epoch 3; patience 0 halves the rate after epoch 2.
    assert len(history) == 3
    assert history["learning_rate"].round(4).tolist() == [0.5, 0.5, 0.25]
    assert read_metrics(run)["epochs_run"] == 3


def test_multirun_writes_one_run_directory_per_job(mlexp, tmp_path):
    result = mlexp("train", "-m", *TINY, "model.activation=sigmoid,relu")
    assert result.code == 0, result.err
    runs = run_dirs(tmp_path / "outputs" / "sweeps")
    assert [r.name for r in runs] == ["0", "1"]
    assert [yaml.safe_load((r / "resolved_config.yaml").read_text())["model"]["activation"] for r in runs] == [
        "sigmoid",
        "relu",
    ]
    assert all(read_metrics(r)["status"] == "completed" for r in runs)
    assert (runs[0].parent / "multirun.yaml").is_file()


def test_a_failing_run_keeps_its_history_and_says_why(mlexp, tmp_path, monkeypatch):
    from mlexp import reporting
    from mlexp.reporting import plots

    def broken_plot(*args, **kwargs):
        raise RuntimeError("plotting exploded")

    monkeypatch.setattr(plots, "learning_curves", broken_plot)
    assert reporting  # the patched module is the one training imports
    result = mlexp("train", *TINY)
    assert result.code == 1
    [run] = run_dirs(tmp_path / "outputs")
    assert result.err.startswith("mlexp train: training failed: RuntimeError: plotting exploded (traceback in ")
    assert "Traceback" not in result.err
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "failed" and metrics["error"] == "RuntimeError: plotting exploded"
    assert "plotting exploded" in (run / "error.txt").read_text()
    assert len(pd.read_csv(run / "history.csv")) == 2


def test_a_folder_holding_a_run_is_refused(mlexp, tmp_path):
    assert mlexp("train", *TINY, "hydra.run.dir=outputs/same").code == 0
    before = (tmp_path / "outputs/same/metrics.json").read_text()
    result = mlexp("train", *TINY, "hydra.run.dir=outputs/same")
    assert result.code == 2
    assert result.err == (
        "mlexp train: hydra.run.dir: got 'outputs/same', which already holds a finished run (status: completed); "
        "nothing was changed. Repeat it with: mlexp rerun outputs/same, or use a new folder (leave out "
        "hydra.run.dir, or give a path that does not exist yet)\n"
    )
    assert (tmp_path / "outputs/same/metrics.json").read_text() == before
