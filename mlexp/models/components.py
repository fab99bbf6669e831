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


def build_optimizer(cfg):
    import keras

    # `learning_rate=10` arrives as an int, which Keras' optimizers refuse; every numeric argument is a float.
    args = {k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in arguments(cfg).items()}
    log.info("Building optimizer %r (%s)", cfg.name, _describe(args))
    return keras.optimizers.get({"class_name": cfg.name, "config": args})


def regularizer_factory(cfg):
    """A function giving a fresh kernel regularizer per layer, or None for `none`."""
    import keras

    if cfg.name == "none":
        return lambda: None
    args = arguments(cfg)
    log.info("Kernel regularizer %r (%s) on every weight layer", cfg.name, _describe(args))
    cls = getattr(keras.regularizers, _REGULARIZER_CLASSES[cfg.name])
    return lambda: cls(**args)
