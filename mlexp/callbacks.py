"""Keras callbacks: the user's, from the `callbacks` group, and the ones every run needs."""

from __future__ import annotations

import logging

import keras

from mlexp.runs import RunDir

log = logging.getLogger(__name__)

KERAS_CALLBACKS = {
    "early_stopping": keras.callbacks.EarlyStopping,
    "reduce_lr_on_plateau": keras.callbacks.ReduceLROnPlateau,
}


def from_config(cfg_callbacks) -> list[keras.callbacks.Callback]:
    built = []
    for name, entry in (cfg_callbacks or {}).items():
        if not entry.enabled:
            continue
        args = {key: value for key, value in entry.items() if key != "enabled"}
        log.info("Callback %s(%s)", name, ", ".join(f"{k}={v}" for k, v in args.items()))
        built.append(KERAS_CALLBACKS[name](**args))
    return built


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

    def on_epoch_end(self, epoch, logs=None):
        self.rows.append({"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}})
        self.run.write_history(self.rows)
