"""The task head: output layer, loss and metrics when building; predictions when reading.

- multiclass: one unit per class, softmax, sparse categorical cross-entropy, accuracy.
- binary: one unit, sigmoid, binary cross-entropy, accuracy.
- multilabel: one sigmoid unit per label, binary cross-entropy; accuracy, AUC, precision and recall
  at `threshold`.
- regression: one linear unit that learns the standardized target, then a fixed rescaling back to the
  target's units (so losses, metrics and predictions are in those units); MSE loss; MAE, RMSE, R².
With logits=true (multiclass, binary) the layer is linear and the loss and accuracy threshold are built
for logits. Every place that builds or reads a model's outputs goes through this one class, so
`from_logits` and the decoding can never disagree with the layer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mlexp.errors import ConfigError
from mlexp.lazy import lazy
from mlexp.tasks import BINARY, MULTICLASS, MULTILABEL, REGRESSION

np = lazy("numpy")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Head:
    num_classes: int  # outputs: classes, labels, or 1 for regression
    logits: bool = False
    task: str = MULTICLASS
    target_mean: float = 0.0
    target_std: float = 1.0
    threshold: float = 0.5  # multilabel: a label is predicted at this probability

    @classmethod
    def for_spec(cls, spec, logits: bool = False) -> Head:
        stats = spec.preprocessing
        return cls(spec.num_classes, logits, spec.task, stats.get("target_mean", 0.0), stats.get("target_std", 1.0))

    @property
    def binary(self) -> bool:
        return self.task == BINARY or (self.task == MULTICLASS and self.num_classes == 2)

    def build(self, x, kernel_regularizer):
        """(outputs, loss, metrics) for the features `x`."""
        import keras

        if self.logits and self.task in (MULTILABEL, REGRESSION):
            raise ConfigError("model.logits", True, f"false for a {self.task} task (its head is built without)")
        # float32 under mixed precision too: softmax and the loss need its range (Keras' mixed-precision guide)
        dense = lambda units, activation: keras.layers.Dense(  # noqa: E731
            units, activation=activation, kernel_regularizer=kernel_regularizer(), name="head", dtype="float32"
        )
        if self.task == REGRESSION:
            outputs = dense(1, None)(x)
            outputs = keras.layers.Rescaling(
                self.target_std, offset=self.target_mean, name="target_units", dtype="float32"
            )(outputs)
            metrics = [
                keras.metrics.MeanAbsoluteError(name="mae"),
                keras.metrics.RootMeanSquaredError(name="rmse"),
                keras.metrics.R2Score(name="r2"),
            ]
            return outputs, keras.losses.MeanSquaredError(), metrics
        if self.task == MULTILABEL:
            t = self.threshold
            metrics = [
                keras.metrics.BinaryAccuracy(name="accuracy", threshold=t),
                keras.metrics.AUC(name="auc", multi_label=True, num_labels=self.num_classes),
                keras.metrics.Precision(name="precision", thresholds=t),
                keras.metrics.Recall(name="recall", thresholds=t),
            ]
            return dense(self.num_classes, "sigmoid")(x), keras.losses.BinaryCrossentropy(), metrics
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
        return dense(units, activation)(x), loss, [accuracy]

    def predictions(self, outputs: np.ndarray) -> np.ndarray:
        """Each row's prediction: a class index, a 0/1 row of labels, or a value in the target's units."""
        if self.task == REGRESSION:
            return outputs[:, 0]
        if self.task == MULTILABEL:
            return (outputs >= self.threshold).astype(np.int64)
        return self.classes(outputs)

    def classes(self, outputs: np.ndarray) -> np.ndarray:
        """The predicted class of each row of model outputs."""
        if outputs.shape[-1] == 1:  # one sigmoid (or logit) unit
            return (outputs[:, 0] > (0.0 if self.logits else 0.5)).astype(np.int64)
        return outputs.argmax(axis=-1)

    def probabilities(self, outputs: np.ndarray) -> np.ndarray:
        """Per-class probabilities of each row (two columns for a one-unit binary head)."""
        if self.task == MULTILABEL:
            return outputs
        if outputs.shape[-1] == 1:
            p1 = 1 / (1 + np.exp(-outputs[:, 0])) if self.logits else outputs[:, 0]
            return np.stack([1 - p1, p1], axis=1)
        if self.logits:
            shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
            return shifted / shifted.sum(axis=1, keepdims=True)
        return outputs
