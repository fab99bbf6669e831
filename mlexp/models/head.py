"""The task head: output layer, loss and accuracy when building; classes and probabilities when reading.

Two classes: one unit, sigmoid and binary cross-entropy. More: one unit per class, softmax and sparse
categorical cross-entropy. With logits=true the layer is linear and the loss and the accuracy threshold
are built for logits. Every place that builds or reads a model's outputs goes through this one class, so
`from_logits` and the decoding can never disagree with the layer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Head:
    num_classes: int
    logits: bool = False

    @property
    def binary(self) -> bool:
        return self.num_classes == 2

    def build(self, x, kernel_regularizer):
        """(outputs, loss, accuracy metric) for the features `x`."""
        import keras

        units = 1 if self.binary else self.num_classes
        activation = None if self.logits else ("sigmoid" if self.binary else "softmax")
        if self.binary:
            loss = keras.losses.BinaryCrossentropy(from_logits=self.logits)
            accuracy = keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0 if self.logits else 0.5)
        else:
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=self.logits)
            accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        log.info("Head: Dense(%d, %s), %s(from_logits=%s)", units, activation or "linear", type(loss).__name__,
                 self.logits)  # fmt: skip
        layer = keras.layers.Dense(units, activation=activation, kernel_regularizer=kernel_regularizer(), name="head")
        return layer(x), loss, accuracy

    def classes(self, outputs: np.ndarray) -> np.ndarray:
        """The predicted class of each row of model outputs."""
        if outputs.shape[-1] == 1:  # one sigmoid (or logit) unit
            return (outputs[:, 0] > (0.0 if self.logits else 0.5)).astype(np.int64)
        return outputs.argmax(axis=-1)

    def probabilities(self, outputs: np.ndarray) -> np.ndarray:
        """Per-class probabilities of each row (two columns for a one-unit binary head)."""
        if outputs.shape[-1] == 1:
            p1 = 1 / (1 + np.exp(-outputs[:, 0])) if self.logits else outputs[:, 0]
            return np.stack([1 - p1, p1], axis=1)
        if self.logits:
            shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
            return shifted / shifted.sum(axis=1, keepdims=True)
        return outputs
