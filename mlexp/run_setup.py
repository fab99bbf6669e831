"""One run setup for every verb that builds the run's model (train, check, lr-find), so a range test or a
check sees the model that `train` will train: Keras on the run's backend, a clean session, the precision
policy, the seeds, determinism, and the data."""

from __future__ import annotations

import sys
from typing import Any


def prepare(cfg) -> tuple[Any, Any]:
    """(keras, splits) for the validated run config `cfg`."""
    from mlexp import data
    from mlexp.tf_runtime import import_keras, set_random_seed

    keras = import_keras(cfg.trainer.get("backend", "tensorflow"))
    keras.backend.clear_session(free_memory=False)  # sweep jobs share a process: start each from a clean state (the
    # collection it can run costs 0.2 s per job; Python collects the old model by itself)
    keras.mixed_precision.set_global_policy(cfg.trainer.get("precision", "float32"))  # set every time, so reset too
    set_random_seed(keras, cfg.seed)
    if cfg.trainer.deterministic and keras.backend.backend() == "tensorflow":
        tf = sys.modules["tensorflow"]  # imported with Keras on TensorFlow
        tf.config.experimental.enable_op_determinism()  # process-wide: later runs in this process keep it
    return keras, data.load(cfg.dataset, cfg.trainer)
