"""logger=mlflow (pip install "mlexp-keras[mlflow]"): the flattened config as parameters, per-epoch metrics,
and the run directory's model, figures and report as artifacts. The MLflow run is always closed:
FINISHED, FAILED or KILLED."""

from __future__ import annotations

import logging
import math
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlexp import runs
from mlexp.errors import MlexpError

# MLflow 3 refuses its old file store by default ("maintenance mode"): a local SQLite database and a
# local artifact folder are the file-based default it recommends.
DEFAULT_STORE = Path("outputs/mlflow.db")
DEFAULT_ARTIFACTS = Path("outputs/mlartifacts")
ARTIFACTS = (runs.MODEL, runs.CONFIG, runs.METRICS, runs.HISTORY, "report.md", "plots")


class NoLogger:
    def callbacks(self) -> list:
        return []

    def finish(self, metrics: dict[str, Any]) -> None:
        pass


@contextmanager
def tracker(cfg, run: runs.RunDir):
    """NoLogger, or an open MLflow run for this training run."""
    logger = cfg.get("logger") or {"name": "none"}
    if logger["name"] != "mlflow":
        yield NoLogger()
        return
    try:
        import mlflow
    except ImportError:
        raise MlexpError(
            'logger=mlflow: MLflow is not installed; pip install "mlexp-keras[mlflow]" or logger=none'
        ) from None
    from mlexp.tracking import hparams

    for name in ("alembic", "mlflow.store"):  # the database's creation and schema migrations, step by step
        logging.getLogger(name).setLevel(logging.WARNING)
    uri = logger.get("tracking_uri")
    if not uri:
        DEFAULT_STORE.parent.mkdir(parents=True, exist_ok=True)
        uri = f"sqlite:///{DEFAULT_STORE.resolve()}"
    mlflow.set_tracking_uri(uri)
    if mlflow.get_experiment_by_name(logger["experiment"]) is None:
        location = None if logger.get("tracking_uri") else DEFAULT_ARTIFACTS.resolve().as_uri()
        mlflow.create_experiment(logger["experiment"], artifact_location=location)
    mlflow.set_experiment(logger["experiment"])
    active = mlflow.start_run(run_name=run.path.name, tags={"mlexp.run_dir": str(run.path.resolve())})
    status = "FAILED"
    try:
        mlflow.log_params(hparams(cfg))
        yield MlflowRun(mlflow, run, logger)
        status = "FINISHED"
    except (KeyboardInterrupt, SystemExit):
        status = "KILLED"
        raise
    except BaseException as exc:
        if type(exc).__name__ == "StopRequested":
            status = "KILLED"
        mlflow.set_tag("mlexp.error", f"{type(exc).__name__}: {exc}"[:5000])
        raise
    finally:
        mlflow.end_run(status=status)
        run.update_manifest(mlflow={"tracking_uri": uri, "run_id": active.info.run_id})


class MlflowRun:
    def __init__(self, mlflow, run: runs.RunDir, logger):
        self.mlflow, self.run, self.logger = mlflow, run, logger

    def callbacks(self) -> list:
        import keras

        mlflow = self.mlflow

        class EpochMetrics(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                mlflow.log_metrics(_finite(logs or {}), step=epoch + 1)

        return [EpochMetrics()]

    def finish(self, metrics: dict[str, Any]) -> None:
        self.mlflow.log_metrics(_finite({k: v for k, v in metrics.items() if k.startswith(("test_", "best_"))}))
        if not self.logger.get("log_artifacts", True):
            return
        for name in ARTIFACTS:
            path = self.run.file(name)
            if path.is_dir():
                self.mlflow.log_artifacts(str(path), artifact_path=name)
            elif path.is_file():
                self.mlflow.log_artifact(str(path))


def _finite(values: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items() if isinstance(v, (int, float)) and math.isfinite(v)}
