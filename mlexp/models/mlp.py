"""Dense network: Flatten, then Dense(activation) [-> BatchNormalization] [-> Dropout] per block."""

from __future__ import annotations


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


def body(inputs, cfg, kernel_regularizer, spec=None):
    from keras import layers

    x = layers.Flatten(name="flatten")(inputs)
    for i, units in enumerate(cfg.hidden_units, start=1):
        x = dense_block(x, units, cfg, kernel_regularizer, f"dense_{i}")
    return x
