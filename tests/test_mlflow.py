"""logger=mlflow against a local store, read back with MLflow's own client."""

from __future__ import annotations

import pytest
from conftest import TINY, read_metrics

mlflow = pytest.importorskip("mlflow")


def _client(store):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{store}")


def test_mlflow_logs_params_epoch_metrics_and_artifacts(mlexp, tmp_path):
    result = mlexp("train", *TINY, "logger=mlflow", "logger.experiment=tiny", "hydra.run.dir=outputs/r")
    assert result.code == 0, result.err
    client = _client(tmp_path / "outputs/mlflow.db")
    [run] = client.search_runs([client.get_experiment_by_name("tiny").experiment_id])
    assert run.info.status == "FINISHED" and run.info.run_name == "r"
    assert run.data.params["model.hidden_units"] == "[8]" and run.data.params["dataset.name"] == "synthetic"
    assert run.data.params["trainer.epochs"] == "2"
    history = client.get_metric_history(run.info.run_id, "val_accuracy")
    assert [m.step for m in history] == [1, 2]
    metrics = read_metrics(tmp_path / "outputs/r")
    assert run.data.metrics["test_accuracy"] == pytest.approx(metrics["test_accuracy"])
    assert history[-1].value == pytest.approx(metrics["final_val_accuracy"])
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"model.keras", "resolved_config.yaml", "metrics.json", "history.csv", "report.md", "plots"} <= artifacts
    assert (tmp_path / "outputs/mlartifacts" / run.info.run_id / "artifacts/model.keras").is_file()


def test_mlflow_run_is_closed_as_failed_when_training_fails(mlexp, tmp_path, monkeypatch):
    from mlexp import training

    def broken_fit(*args, **kwargs):
        raise RuntimeError("the GPU fell off")

    monkeypatch.setattr(training, "_fit", broken_fit)
    result = mlexp("train", *TINY, "logger=mlflow", "hydra.run.dir=r")
    assert result.code == 1
    assert "the GPU fell off" in result.err and "Creating initial MLflow database" not in result.err
    client = _client(tmp_path / "outputs/mlflow.db")
    [run] = client.search_runs([client.get_experiment_by_name("mlexp").experiment_id])
    assert run.info.status == "FAILED"
    assert "the GPU fell off" in run.data.tags["mlexp.error"]
    assert read_metrics(tmp_path / "r")["status"] == "failed"
