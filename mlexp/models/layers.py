"""Keras layers from YAML entries `{layer: ClassName, arg: value, ...}` (sequential models, augmentation)."""

from __future__ import annotations

from typing import Any

from mlexp.errors import ConfigError, closest


def make_layer(entry: dict[str, Any], key: str, **defaults: Any):
    """The Keras layer an entry names; a wrong name or argument is a ConfigError at `key`."""
    import keras
    from omegaconf import OmegaConf

    entry = OmegaConf.to_container(entry) if OmegaConf.is_config(entry) else dict(entry)
    name = entry.pop("layer")
    if "." in name:  # the user's own layer class; validation imported and checked it
        from mlexp.user_code import resolve

        cls = resolve(name, f"{key}.layer")
    else:
        cls = getattr(keras.layers, name, None)
    known = [n for n in dir(keras.layers) if n[:1].isupper()]
    if not isinstance(cls, type) or not issubclass(cls, keras.layers.Layer):
        raise ConfigError(f"{key}.layer", name, "a Keras layer class name (keras.layers.*)", closest(name, known))
    args = {**{k: v for k, v in defaults.items() if _accepts(cls, k)}, **entry}
    try:
        return cls(**args)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            key, {"layer": name, **entry}, f"arguments that keras.layers.{name} accepts ({exc})"
        ) from None


def _accepts(cls, argument: str) -> bool:
    import inspect

    return argument in inspect.signature(cls.__init__).parameters
