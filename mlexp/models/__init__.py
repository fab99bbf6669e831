"""The one place a model is built: train, sweeps and the tuner all call build()."""

from __future__ import annotations

import logging

from mlexp.models import mlp
from mlexp.models.components import build_optimizer, regularizer_factory

log = logging.getLogger(__name__)

# model name -> body(inputs, cfg_model, kernel_regularizer) returning the last hidden tensor
FAMILIES = {"mlp": mlp.body}


def build(cfg, spec):
    """A compiled keras.Model for the validated run config `cfg` and the data's DatasetSpec."""
    import keras

    kernel_regularizer = regularizer_factory(cfg.regularizer)
    log.info("Building model %r for input %s", cfg.model.name, spec.input_shape)
    inputs = keras.Input(shape=spec.input_shape, name="inputs")
    hidden = FAMILIES[cfg.model.name](inputs, cfg.model, kernel_regularizer)
    outputs, loss = _head(hidden, spec.num_classes, kernel_regularizer)
    model = keras.Model(inputs, outputs, name=cfg.model.name)
    model.compile(optimizer=build_optimizer(cfg.optimizer), loss=loss, metrics=["accuracy"])
    return model


def _head(x, num_classes: int, kernel_regularizer):
    """Two classes: one sigmoid unit and binary cross-entropy. More: softmax and sparse CE."""
    import keras

    if num_classes == 2:
        units, activation, loss = 1, "sigmoid", "binary_crossentropy"
    else:
        units, activation, loss = num_classes, "softmax", "sparse_categorical_crossentropy"
    log.info("Head: Dense(%d, %s), loss %s", units, activation, loss)
    layer = keras.layers.Dense(
        units, activation=activation, kernel_regularizer=kernel_regularizer(), name="head"
    )
    return layer(x), loss
