"""Any stack of Keras layers from YAML, before the task's head."""

from __future__ import annotations

from mlexp.models.layers import make_layer


def body(inputs, cfg, kernel_regularizer, spec=None):
    x = inputs
    for i, entry in enumerate(cfg.layers):
        layer = make_layer(entry, f"model.layers[{i}]", kernel_regularizer=kernel_regularizer())
        x = layer(x)
    return x
