"""A model from the user's own function: `fn(input_shape, **args)` returns a Keras model or layer."""

from __future__ import annotations

from mlexp.errors import ConfigError
from mlexp.user_code import TARGET, resolve

MLEXP_KEYS = ("name", "logits", "head", "loss", TARGET)


def body(inputs, cfg_model):
    """The user's model applied to the inputs: the features mlexp's head takes (or the outputs, head=false)."""
    import keras
    from omegaconf import OmegaConf

    target = cfg_model[TARGET]
    fn = resolve(target, "model._target_")
    args = {k: v for k, v in OmegaConf.to_container(cfg_model).items() if k not in MLEXP_KEYS}
    built = fn(tuple(inputs.shape[1:]), **args)
    if not isinstance(built, keras.layers.Layer):  # a keras.Model is a Layer too
        raise ConfigError("model._target_", target, f"a function returning a Keras model or layer; it returned "
                          f"{type(built).__name__}")  # fmt: skip
    return built(inputs)


def check_features(features, cfg_model) -> None:
    """mlexp's head takes (batch, features); a model ending in images or sequences needs a Flatten first."""
    if len(features.shape) != 2:
        raise ConfigError(
            "model", cfg_model.get(TARGET, cfg_model.name),
            f"a model whose last output is (batch, features) for mlexp's head; it gives {tuple(features.shape)}. "
            "End it with Flatten or GlobalAveragePooling2D",
        )  # fmt: skip
