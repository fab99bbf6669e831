"""Any stack of Keras layers from YAML, before the task's head."""

from __future__ import annotations

from mlexp.config.catalog import HEAD, OWN_OUTPUT
from mlexp.config.layers import layer_list
from mlexp.models.layers import make_layer
from mlexp.registry import MODELS


@MODELS.register("sequential", {"layers": layer_list(), **HEAD, **OWN_OUTPUT}, required=("layers",))
def body(inputs, cfg, kernel_regularizer, spec=None):
    x = inputs
    for i, entry in enumerate(cfg.layers):
        layer = make_layer(entry, f"model.layers[{i}]", kernel_regularizer=kernel_regularizer())
        x = layer(x)
    return x
