"""Training over several devices: TensorFlow's MirroredStrategy, or Keras' DataParallel on JAX.

DataParallel spans the devices of one process, or of several processes (several machines) joined by
Keras' own variables: KERAS_DISTRIBUTION_JOB_ADDRESSES, KERAS_DISTRIBUTION_NUM_PROCESSES and
KERAS_DISTRIBUTION_PROCESS_ID (keras.distribution.initialize, which starts jax.distributed).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlexp.data.pipeline import Shards
from mlexp.errors import ConfigError, first_line

log = logging.getLogger(__name__)


@dataclass
class Distribution:
    """How a run spreads over devices. `building` wraps the model's construction (MirroredStrategy makes
    its variables per replica); `running` wraps everything from construction to the last prediction
    (DataParallel places every batch). `shards` says how each batch splits (None: Keras does it)."""

    name: str = "none"
    replicas: int = 1
    processes: int = 1
    shards: Shards | None = None
    building: Callable[[], Any] = contextlib.nullcontext
    running: Callable[[], Any] = contextlib.nullcontext
    prepare: Callable[[Any], None] = field(default=lambda model: None)

    def record(self) -> dict[str, Any] | None:
        """metrics.json's `distribution`, or None when training ran on one device."""
        if self.name == "none":
            return None
        return {"strategy": self.name, "replicas": self.replicas} | (
            {"processes": self.processes} if self.processes > 1 else {}
        )


def for_trainer(trainer) -> Distribution:
    if trainer.distribution == "mirrored":
        return _mirrored(trainer)
    if trainer.distribution == "data_parallel":
        return _data_parallel(trainer)
    return Distribution()


def _mirrored(trainer) -> Distribution:
    """Keras 3 on TensorFlow: one-machine MirroredStrategy; it splits each batch over the replicas itself."""
    from mlexp.tf_runtime import import_tensorflow

    tf = import_tensorflow()

    devices = list(trainer.devices) if trainer.devices else None
    strategy = tf.distribute.MirroredStrategy(devices=devices)
    log.info(
        "MirroredStrategy over %d replica(s): %s",
        strategy.num_replicas_in_sync,
        ", ".join(strategy.extended.worker_devices),
    )
    return Distribution("mirrored", strategy.num_replicas_in_sync, building=strategy.scope)


def _data_parallel(trainer) -> Distribution:
    """keras.distribution.DataParallel on JAX: variables replicated, each batch split over the devices.

    Every process reads the whole data set and feeds its own rows of each global batch (`Shards`), so
    the batches, and the training, are those of one process with as many devices. `check` has run
    (train() calls it before writing anything): the processes are joined, the devices and batch valid.
    """
    import jax
    import keras

    devices = list(trainer.devices) if trainer.devices else keras.distribution.list_devices()
    distribution = keras.distribution.DataParallel(devices=devices, auto_shard_dataset=False)
    mesh = distribution.device_mesh.backend_mesh
    log.info(
        "DataParallel over %d device(s) in %d process(es): %s", len(devices), jax.process_count(), ", ".join(devices)
    )

    def prepare(model) -> None:
        """Predictions gathered onto every device: a process may only read the devices it holds."""
        replicated = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
        step = model.predict_step

        def predict_step(state, data):
            outputs, variables = step(state, data)
            return jax.lax.with_sharding_constraint(outputs, replicated), variables

        model.predict_step = predict_step

    return Distribution(
        "data_parallel", len(devices), jax.process_count(),
        shards=Shards(len(devices), jax.process_count(), jax.process_index()),
        running=distribution.scope, prepare=prepare,
    )  # fmt: skip


def eval_multiple(distribution: Distribution, size: int) -> int:
    """An evaluation batch size the devices divide: `size` rounded up (evaluation has the same results)."""
    devices = distribution.shards.devices if distribution.shards else 1
    return math.ceil(size / devices) * devices


def join_processes() -> None:
    """Join the processes named by Keras' distribution variables, once per process (jax.distributed)."""
    import jax
    import keras

    count = _count("KERAS_DISTRIBUTION_NUM_PROCESSES", os.environ.get("KERAS_DISTRIBUTION_NUM_PROCESSES") or "1", 1)
    if count == 1 or jax.distributed.is_initialized():
        return
    if not os.environ.get("KERAS_DISTRIBUTION_JOB_ADDRESSES"):
        raise ConfigError(
            "KERAS_DISTRIBUTION_JOB_ADDRESSES", None,
            f"host:port of process 0 (or of every process, comma-separated) for a run over {count} processes",
        )  # fmt: skip
    process = os.environ.get("KERAS_DISTRIBUTION_PROCESS_ID")
    if _count("KERAS_DISTRIBUTION_PROCESS_ID", process, 0) >= count:
        raise ConfigError("KERAS_DISTRIBUTION_PROCESS_ID", process, f"this process's index, 0 to {count - 1}")
    addresses = os.environ["KERAS_DISTRIBUTION_JOB_ADDRESSES"]
    log.info("Joining %d processes through %s as process %s: waiting for all of them (up to 5 min)", count,
             addresses.split(",")[0], process)  # fmt: skip
    try:
        keras.distribution.initialize()
    except Exception as exc:  # unreachable coordinator, timeout, address count: one line, not a traceback
        raise ConfigError(
            "KERAS_DISTRIBUTION_JOB_ADDRESSES", addresses,
            f"process 0's host:port, reached by all {count} processes (jax.distributed said "
            f"{type(exc).__name__}: {first_line(exc)})",
        ) from exc  # fmt: skip


def _count(name: str, text: str | None, least: int) -> int:
    if text is None or not text.strip().isdigit() or int(text) < least:
        raise ConfigError(name, text, f"an integer >= {least}")
    return int(text)


def check(trainer) -> None:
    """Before anything is written: refuse trainer.devices naming a device this machine lacks (TensorFlow
    would quietly use the CPU), and a batch that data_parallel's devices cannot split."""
    if trainer.distribution == "none":
        return
    present = _present_devices(trainer.distribution)
    known = {_device_key(name): name for name in present}
    for i, device in enumerate(trainer.devices or ()):
        if _device_key(device) not in known:
            raise ConfigError(f"trainer.devices[{i}]", device, f"a device of this machine: {', '.join(present)}")
    devices = len(trainer.devices or present)
    if trainer.distribution == "data_parallel" and trainer.batch_size % devices:
        raise ConfigError(
            "trainer.batch_size", trainer.batch_size,
            f"a multiple of the {devices} devices that trainer.distribution=data_parallel splits each batch over",
        )  # fmt: skip


def _present_devices(strategy: str) -> list[str]:
    from mlexp.tf_runtime import import_keras

    keras = import_keras()
    if strategy == "data_parallel":
        join_processes()
        return keras.distribution.list_devices()
    from mlexp.tf_runtime import import_tensorflow

    tf = import_tensorflow()

    return [d.name for d in tf.config.list_logical_devices()]


def _device_key(name: str) -> tuple[str, int]:
    """'/gpu:0', 'GPU:0' and '/job:localhost/replica:0/task:0/device:GPU:0' name the same device."""
    tail = str(name).lower().rsplit("/", 1)[-1].removeprefix("device:")
    kind, _, index = tail.partition(":")
    return kind, int(index) if index.isdigit() else -1
