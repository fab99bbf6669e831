"""The one place a model is built: train, sweeps and the tuner all call build()."""

from __future__ import annotations

import logging

from mlexp.models import conv, mlp, sequential, user
from mlexp.models.components import build_optimizer, regularizer_factory

log = logging.getLogger(__name__)

# model name -> body(inputs, cfg_model, kernel_regularizer) returning the last hidden tensor
FAMILIES = {
    "mlp": mlp.body,
    "cnn": conv.body,
    "cnn_bn": conv.body,
    "cnn_deep": conv.body,
    "sequential": sequential.body,
}


def build(cfg, spec):
    """A compiled keras.Model for the validated run config `cfg` and the data's DatasetSpec."""
    import keras

    kernel_regularizer = regularizer_factory(cfg.regularizer)
    log.info("Building model %r for input %s", cfg.model.name, spec.input_shape)
    inputs = keras.Input(shape=spec.input_shape, name="inputs")
    if user.TARGET in cfg.model:
        hidden = user.body(inputs, cfg.model)
    else:
        hidden = FAMILIES[cfg.model.name](inputs, cfg.model, kernel_regularizer)
    if cfg.model.get("head", True):
        user.check_features(hidden, cfg.model)
        outputs, loss, accuracy = head(hidden, spec.num_classes, cfg.model.logits, kernel_regularizer)
    else:  # the user's model brings its own output layer and names its loss
        outputs, loss, accuracy = hidden, cfg.model.loss, "accuracy"
    model = keras.Model(inputs, outputs, name=cfg.model.name)
    model.compile(
        optimizer=build_optimizer(cfg.optimizer),
        loss=loss,
        metrics=[accuracy],
        run_eagerly=cfg.trainer.run_eagerly,
        jit_compile=cfg.trainer.jit_compile,
        steps_per_execution=cfg.trainer.steps_per_execution,
    )
    return model


def head(x, num_classes: int, logits: bool, kernel_regularizer):
    """The output layer, its loss and its accuracy, always consistent with each other.

    Two classes: one unit, sigmoid and binary cross-entropy. More: one unit per class, softmax and
    sparse categorical cross-entropy. With logits=true the layer is linear and the loss and the
    accuracy threshold are built for logits, so `from_logits` can never disagree with the head.
    """
    import keras

    binary = num_classes == 2
    units = 1 if binary else num_classes
    activation = None if logits else ("sigmoid" if binary else "softmax")
    if binary:
        loss = keras.losses.BinaryCrossentropy(from_logits=logits)
        accuracy = keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0 if logits else 0.5)
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=logits)
        accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    log.info("Head: Dense(%d, %s), %s(from_logits=%s)", units, activation or "linear", type(loss).__name__, logits)
    layer = keras.layers.Dense(units, activation=activation, kernel_regularizer=kernel_regularizer(), name="head")
    return layer(x), loss, accuracy
