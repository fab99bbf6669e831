"""kind: conv. Convolutional blocks, then flatten or global average pooling, dense layers; the presets
cnn, cnn_bn and cnn_deep are three shapes of it."""

from __future__ import annotations

from mlexp.config.catalog import DROPOUT, HEAD, UNITS
from mlexp.config.rules import choice, int_list, integer, number_list
from mlexp.errors import ConfigError
from mlexp.models.mlp import dense_block
from mlexp.registry import MODELS

RULES = {
    "filters": int_list(1),
    "convs_per_block": integer(1),
    "kernel_size": integer(1),
    "padding": choice(("valid", "same")),
    "pool_size": integer(1),
    "block_dropout": number_list(0, 1, hi_open=True),
    "top": choice(("flatten", "global_average")),
    "dense_units": int_list(1, min_len=0),
    "dropout": DROPOUT,
    **UNITS,
    **HEAD,
}


def check(model: dict) -> None:
    blocks, dropouts = model.get("filters"), model.get("block_dropout")
    if blocks is not None and dropouts and len(dropouts) != len(blocks):
        raise ConfigError(
            "model.block_dropout", dropouts, f"one rate per block of model.filters ({len(blocks)}), or []"
        )


@MODELS.register("conv", RULES, required=("filters",), check=check, aliases=("cnn", "cnn_bn", "cnn_deep"), preset="cnn")
def body(inputs, cfg, kernel_regularizer, spec=None):
    from keras import layers

    if len(inputs.shape) != 4:
        raise ConfigError(
            "model", cfg.name, f"a model for inputs of shape {tuple(inputs.shape[1:])}, e.g. mlp "
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
