"""Convolutional blocks, then flatten or global average pooling, dense layers (cnn, cnn_bn, cnn_deep)."""

from __future__ import annotations

from mlexp.models.mlp import dense_block


def body(inputs, cfg, kernel_regularizer, spec=None):
    from keras import layers

    if len(inputs.shape) != 4:
        from mlexp.errors import ConfigError

        raise ConfigError(
            "model.name", cfg.name, f"a model for inputs of shape {tuple(inputs.shape[1:])}, e.g. mlp "
            "(convolutional models need images: height x width x channels)"
        )  # fmt: skip
    x = inputs
    for block, filters in enumerate(cfg.filters, start=1):
        for conv in range(1, cfg.convs_per_block + 1):
            x = layers.Conv2D(
                filters,
                cfg.kernel_size,
                padding=cfg.padding,
                activation=cfg.activation,
                kernel_initializer=cfg.kernel_initializer,
                bias_initializer=cfg.bias_initializer,
                kernel_regularizer=kernel_regularizer(),
                name=f"conv_{block}_{conv}",
            )(x)
            if cfg.batch_norm:
                x = layers.BatchNormalization(name=f"conv_{block}_{conv}_bn")(x)
        x = layers.MaxPooling2D(cfg.pool_size, padding=cfg.padding, name=f"pool_{block}")(x)
        if cfg.block_dropout and cfg.block_dropout[block - 1] > 0:
            x = layers.Dropout(cfg.block_dropout[block - 1], name=f"block_{block}_dropout")(x)
    if cfg.top == "global_average":
        x = layers.GlobalAveragePooling2D(name="global_average")(x)
    else:
        x = layers.Flatten(name="flatten")(x)
    for i, units in enumerate(cfg.dense_units, start=1):
        x = dense_block(x, units, cfg, kernel_regularizer, f"dense_{i}")
    return x
