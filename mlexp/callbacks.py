"""Keras callbacks: the user's, from the `callbacks` group, and the ones every run needs."""

from __future__ import annotations

import logging
from pathlib import Path

import keras

from mlexp.compat import atomic_model_checkpoint
from mlexp.errors import StopRequested
from mlexp.runs import RunDir
from mlexp.schedules import make_schedule
from mlexp.user_code import TARGET

log = logging.getLogger(__name__)

CHECKPOINT = "checkpoints/best.keras"
TENSORBOARD_DIR = "tensorboard"
CSV_LOG = "training_log.csv"


AtomicModelCheckpoint = atomic_model_checkpoint()  # Keras' ModelCheckpoint, its file appearing only once written


class StopAtThreshold(keras.callbacks.Callback):
    """Stop once a monitored metric crosses a threshold (the exercise sheet's 'stop at 40% loss')."""

    def __init__(self, monitor: str, threshold: float, mode: str):
        super().__init__()
        self.monitor, self.threshold, self.mode = monitor, threshold, mode
        self.stopped_epoch: int | None = None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            log.warning("stop_at_threshold: %r is not logged; nothing to compare", self.monitor)
            return
        crossed = value <= self.threshold if self.mode == "min" else value >= self.threshold
        if crossed:
            sign = "<=" if self.mode == "min" else ">="
            log.info("Stopping: %s = %.4f %s %s at epoch %d", self.monitor, value, sign, self.threshold, epoch + 1)
            self.stopped_epoch = epoch + 1
            self.model.stop_training = True


def _without_enabled(entry) -> dict:
    return {key: value for key, value in entry.items() if key != "enabled"}


def from_config(cfg_callbacks, run: RunDir, initial_lr: float, epochs: int) -> list[keras.callbacks.Callback]:
    builders = {
        "early_stopping": lambda e: keras.callbacks.EarlyStopping(**_without_enabled(e)),
        "reduce_lr_on_plateau": lambda e: keras.callbacks.ReduceLROnPlateau(**_without_enabled(e)),
        "lr_scheduler": lambda e: keras.callbacks.LearningRateScheduler(make_schedule(e, initial_lr, epochs)),
        "model_checkpoint": lambda e: AtomicModelCheckpoint(
            str(_parent(run.file(CHECKPOINT))),
            monitor=e.monitor,
            mode=e.mode,
            save_best_only=e.save_best_only,
        ),
        "tensorboard": lambda e: keras.callbacks.TensorBoard(
            log_dir=str(run.file(TENSORBOARD_DIR)), **_without_enabled(e)
        ),
        "csv_logger": lambda e: keras.callbacks.CSVLogger(str(run.file(CSV_LOG))),
        "terminate_on_nan": lambda e: keras.callbacks.TerminateOnNaN(),
        "stop_at_threshold": lambda e: StopAtThreshold(e.monitor, e.threshold, e.mode),
    }
    built = []
    for name, entry in (cfg_callbacks or {}).items():
        if entry.enabled:
            log.info("Callback %s(%s)", name, ", ".join(f"{k}={v}" for k, v in _without_enabled(entry).items()))
            built.append(_user_callback(name, entry) if TARGET in entry else builders[name](entry))
    return built


def _user_callback(name: str, entry) -> keras.callbacks.Callback:
    """The user's callback class (or factory) with its arguments from the config."""
    from mlexp.errors import ConfigError
    from mlexp.user_code import resolve

    args = {k: v for k, v in _without_enabled(entry).items() if k != TARGET}
    callback = resolve(entry[TARGET], f"callbacks.{name}._target_")(**args)
    if not isinstance(callback, keras.callbacks.Callback):
        raise ConfigError(f"callbacks.{name}._target_", entry[TARGET],
                          f"a keras.callbacks.Callback; it made a {type(callback).__name__}")  # fmt: skip
    return callback


def _parent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


class LearningRateLogger(keras.callbacks.Callback):
    """Adds the epoch's learning rate to the logs, so history.csv always has it."""

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and "learning_rate" not in logs:
            logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))


class HistoryWriter(keras.callbacks.Callback):
    """Rewrites history.csv after every epoch, so a crash keeps the epochs already done."""

    def __init__(self, run: RunDir):
        super().__init__()
        self.run = run
        self.rows: list[dict[str, float]] = []
        self.phase: str | None = None  # a run with fine-tuning marks each epoch: frozen or fine_tune

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
        self.rows.append(row | ({"phase": self.phase} if self.phase else {}))
        self.run.write_history(self.rows)


class EpochBackup(keras.callbacks.Callback):
    """After every epoch: the model with its optimizer state, then the epoch number, both atomically.

    A killed run (even SIGKILL) keeps the last completed epoch; `mlexp resume` continues from it.
    Keras' BackupAndRestore writes its files in place, so a kill during the write could corrupt them.
    """

    def __init__(self, run: RunDir):
        super().__init__()
        self.run = run

    def on_epoch_end(self, epoch, logs=None):
        from mlexp.models import seed_state
        from mlexp.runs import backups

        backups.save(self.run, self.model, epoch + 1, save_beside=seed_state.save)


class GracefulStop(keras.callbacks.Callback):
    """The first SIGINT/SIGTERM stops training after the current batch; a second one stops at once."""

    def __init__(self):
        super().__init__()
        self.signal_name: str | None = None
        self._previous: dict = {}

    def on_train_begin(self, logs=None):
        import signal

        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)

    def on_train_end(self, logs=None):
        self.restore()

    def restore(self):
        import signal

        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def _handle(self, signum, frame):
        import signal

        if self.signal_name is not None:
            raise KeyboardInterrupt
        self.signal_name = signal.Signals(signum).name
        log.warning("%s received: stopping after the current batch (again to stop at once)", self.signal_name)

    def on_train_batch_end(self, batch, logs=None):
        if self.signal_name is not None:
            raise StopRequested(self.signal_name)
