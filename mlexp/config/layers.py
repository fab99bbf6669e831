"""Check `{layer: ClassName, arg: value}` entries against the Keras signature table, without Keras.

The table (keras_layers.json) is generated from Keras by mlexp.config.layer_table.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from functools import cache
from typing import Any

from mlexp.config.layer_table import TABLE
from mlexp.config.rules import Rule, boolean, choice, number
from mlexp.errors import ConfigError, closest

REQUIRED = "<required>"
# Arguments whose value Keras resolves by name through a registry: (name ending, table key, what it is).
_NAMED = (
    ("activation", "activations", "a Keras activation"),
    ("_initializer", "initializers", "a Keras initializer"),
    ("_regularizer", "regularizers", "a Keras regularizer"),
    ("_constraint", "constraints", "a Keras constraint"),
)


@cache
def table() -> dict[str, Any]:
    return json.loads(TABLE.read_text(encoding="utf-8"))


def layer_names() -> list[str]:
    return list(table()["layers"])


def check_layer(key: str, entry: dict[str, Any], allowed: tuple[str, ...] = ()) -> None:
    """Raise ConfigError at `key` for an unknown layer, an unknown or missing argument, or a value Keras refuses."""
    name = entry["layer"]
    if "." in name:  # the user's own layer class (pkg.module.MyLayer)
        from mlexp import user_code
        from mlexp.config.layer_table import arguments

        cls = user_code.resolve(name, f"{key}.layer")
        if not (isinstance(cls, type) and issubclass(cls, sys.modules["keras"].layers.Layer)):
            raise ConfigError(f"{key}.layer", name, "a keras.layers.Layer subclass")
        accepted = arguments(cls)  # its own arguments and those its **kwargs pass up to keras.layers.Layer
        for arg, value in entry.items():
            if arg != "layer" and arg not in accepted:
                known = ", ".join(sorted(accepted))
                raise ConfigError(f"{key}.{arg}", value, f"an argument of {name}: {known}", closest(arg, accepted))
        return
    layers = table()["layers"]
    if allowed:
        choice(allowed, "one of").check(f"{key}.layer", name)
    if name not in layers:
        raise ConfigError(f"{key}.layer", name, "a Keras layer class name (keras.layers.*)", closest(name, layers))
    spec = layers[name]
    given = {arg: value for arg, value in entry.items() if arg != "layer"}
    for arg, value in given.items():
        if arg not in spec["args"]:
            raise ConfigError(
                f"{key}.{arg}", value, f"an argument of keras.layers.{name}: {', '.join(sorted(spec['args']))}",
                closest(arg, spec["args"]),
            )  # fmt: skip
        _check_value(f"{key}.{arg}", arg, value, spec)
    for arg, default in spec["args"].items():
        if default == REQUIRED and arg not in given:
            raise ConfigError(f"{key}.{arg}", None, f"a value (keras.layers.{name} needs it)")


def _check_value(key: str, arg: str, value: Any, spec: dict[str, Any]) -> None:
    if arg in spec["enums"]:
        choice(tuple(spec["enums"][arg]), "one of").check(key, value)
    if arg in spec["ranges"]:
        _check_range(key, value, spec["ranges"][arg])
    default = spec["args"][arg]
    if isinstance(default, bool):
        boolean().check(key, value)
    for ending, registry, what in _NAMED:
        if not arg.endswith(ending):
            continue
        if isinstance(value, dict):  # Keras' serialized form: {class_name: ..., config: {...}}
            key, value = f"{key}.class_name", value.get("class_name")
        if isinstance(value, str) or key.endswith(".class_name"):
            names = table()[registry]
            if value not in names:
                raise ConfigError(
                    key, value, f"{what}: {', '.join(n for n in names if n.islower())}", closest(value, names)
                )


def _check_range(key: str, value: Any, bounds: list) -> None:
    lo, hi, lo_open, hi_open, integer = bounds
    rule = number(lo, hi, lo_open=lo_open, hi_open=hi_open, integer=integer)
    if value is None:
        return
    if isinstance(value, list):  # (low, high) factors, per-axis sizes
        if not value or not all(rule.test(v) for v in value):
            raise ConfigError(key, value, f"{rule.expected}, or a list of them")
        return
    rule.check(key, value)


@dataclass(frozen=True)
class LayerList(Rule):
    """A list of Keras layers as mappings `{layer: ClassName, arg: value}`; errors name the element."""

    allowed: tuple = ()
    min_len: int = 0

    def check(self, key: str, value: Any) -> None:
        if not isinstance(value, list) or len(value) < self.min_len:
            raise ConfigError(key, value, self.expected)
        for i, entry in enumerate(value):
            if not isinstance(entry, dict) or not isinstance(entry.get("layer"), str):
                raise ConfigError(f"{key}[{i}]", entry, "a mapping like {layer: ClassName, arg: value}")
            check_layer(f"{key}[{i}]", entry, self.allowed)


def layer_list(allowed: tuple[str, ...] = (), min_len: int = 1) -> LayerList:
    size = "a non-empty list" if min_len else "a list"
    return LayerList(f"{size} of mappings like {{layer: ClassName, arg: value}}", lambda v: True, allowed, min_len)
