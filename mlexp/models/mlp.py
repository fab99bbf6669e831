"""Dense network: Flatten, then Dense(activation) [-> BatchNormalization] [-> Dropout] per block."""

from __future__ import annotations

from mlexp.config.catalog import DROPOUT, HEAD, UNITS
from mlexp.config.rules import int_list
from mlexp.registry import MODELS


def dense_block(x, units: int, cfg, kernel_regularizer, name: str):
    """Dense with the model's activation and initializers, then batch norm and dropout if asked.

    Batch normalization follows the activation, as in every notebook of the course.
    """
    from keras import layers

    x = layers.Dense(
        units,
        activation=cfg.activation,
        kernel_initializer=cfg.kernel_initializer,
        bias_initializer=cfg.bias_initializer,
        kernel_regularizer=kernel_regularizer(),
        name=name,
    )(x)
    if cfg.batch_norm:
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
    if cfg.dropout > 0:
        x = layers.Dropout(cfg.dropout, name=f"{name}_dropout")(x)
    return x


@MODELS.register("mlp", {"hidden_units": int_list(1), "dropout": DROPOUT, **UNITS, **HEAD}, required=("hidden_units",))
def body(inputs, cfg, kernel_regularizer, spec=None):
    from keras import layers

    x = layers.Flatten(name="flatten")(inputs)
    for i, units in enumerate(cfg.hidden_units, start=1):
        x = dense_block(x, units, cfg, kernel_regularizer, f"dense_{i}")
    return x
