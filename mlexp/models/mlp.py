"""Dense network: Flatten, then Dense [-> BatchNormalization] -> activation [-> Dropout] per block."""

from __future__ import annotations


def body(inputs, cfg, kernel_regularizer):
    from keras import layers

    x = layers.Flatten(name="flatten")(inputs)
    for i, units in enumerate(cfg.hidden_units, start=1):
        dense = layers.Dense(
            units,
            activation=None if cfg.batch_norm else cfg.activation,
            kernel_initializer=cfg.kernel_initializer,
            bias_initializer=cfg.bias_initializer,
            kernel_regularizer=kernel_regularizer(),
            name=f"dense_{i}",
        )
        x = dense(x)
        if cfg.batch_norm:
            x = layers.BatchNormalization(name=f"batch_norm_{i}")(x)
            x = layers.Activation(cfg.activation, name=f"{cfg.activation}_{i}")(x)
        if cfg.dropout > 0:
            x = layers.Dropout(cfg.dropout, name=f"dropout_{i}")(x)
    return x
