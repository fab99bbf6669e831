"""Optimizers and regularizers from their config entries, through Keras' own registries."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

_REGULARIZER_CLASSES = {"l1": "L1", "l2": "L2", "l1_l2": "L1L2"}


def arguments(cfg) -> dict:
    """A component's Keras arguments: its config without `name`."""
    return {key: value for key, value in cfg.items() if key != "name"}


def _describe(args: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in args.items())


def build_optimizer(cfg, steps_per_epoch: int | None = None, epochs: int | None = None):
    """The Keras optimizer of `cfg`; with optimizer.schedule and the run's steps, its rate moves every batch."""
    import keras

    from mlexp.schedules import batch_schedule

    # `learning_rate=10` arrives as an int, which Keras' optimizers refuse; every numeric argument is a float.
    args = {k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in arguments(cfg).items()}
    args["gradient_accumulation_steps"] = cfg.get("gradient_accumulation_steps")  # floats refused here
    schedule = args.pop("schedule", None)
    log.info("Building optimizer %r (%s)", cfg.name, _describe(args))
    optimizer = keras.optimizers.get({"class_name": cfg.name, "config": args})
    if schedule and steps_per_epoch:
        log.info("Learning rate schedule %s per batch: %s", schedule.name, _describe(dict(schedule)))
        rate = batch_schedule(schedule, args["learning_rate"], steps_per_epoch, epochs)
        optimizer = keras.optimizers.get({"class_name": cfg.name, "config": {**args, "learning_rate": rate}})
    return optimizer


def recompile(model, optimizer) -> None:
    """The model's own compile settings (loss, metrics, jit, steps per execution) with another optimizer."""
    import keras

    config = model.get_compile_config()
    config["optimizer"] = keras.optimizers.serialize(optimizer)
    model.compile_from_config(config)


def regularizer_factory(cfg):
    """A function giving a fresh kernel regularizer per layer, or None for `none`."""
    import keras

    if cfg.name == "none":
        return lambda: None
    args = arguments(cfg)
    log.info("Kernel regularizer %r (%s) on every weight layer", cfg.name, _describe(args))
    cls = getattr(keras.regularizers, _REGULARIZER_CLASSES[cfg.name])
    return lambda: cls(**args)
