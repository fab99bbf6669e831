"""The signature table of the Keras layers that configs may name, generated from Keras itself.

Config validation reads `keras_layers.json` without importing Keras (TensorFlow takes seconds to
load). Regenerate it after a Keras upgrade; tests/test_layer_table.py fails until the file matches:

    python -m mlexp.config.layer_table --write

The enumerated values below are the ones Keras accepts, but Keras does not check every one of them
when the layer is built (RandomFlip(mode="diagonal") builds, then flips nothing): the test builds
each layer with each value, so a value listed here is one Keras really takes.
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("keras_layers.json")

_CONV_PADDING = ("valid", "same")
_DATA_FORMAT = ("channels_last", "channels_first", None)
_FILL = ("reflect", "wrap", "constant", "nearest")
_WARP_INTERPOLATION = ("nearest", "bilinear")
_RESIZE_INTERPOLATION = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area")

# (layer or "*", argument) -> the values Keras accepts. "*" applies to every layer that has the argument.
ENUMS: dict[tuple[str, str], tuple] = {
    ("*", "padding"): _CONV_PADDING,
    ("Conv1D", "padding"): (*_CONV_PADDING, "causal"),
    ("*", "data_format"): _DATA_FORMAT,
    ("*", "fill_mode"): _FILL,
    ("*", "interpolation"): _WARP_INTERPOLATION,
    ("Resizing", "interpolation"): _RESIZE_INTERPOLATION,
    ("UpSampling2D", "interpolation"): ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5"),
    ("RandomFlip", "mode"): ("horizontal", "vertical", "horizontal_and_vertical"),
}
_UNENUMERATED = {"Embedding", "TextVectorization", "StringLookup", "IntegerLookup", "Hashing", "Discretization"}

# (layer or "*", argument) -> [low, high, low open, high open, integer]; a list value checks each element.
RANGES: dict[tuple[str, str], tuple] = {
    ("*", "units"): (1, None, False, False, True),
    ("*", "filters"): (1, None, False, False, True),
    ("*", "kernel_size"): (1, None, False, False, True),
    ("*", "strides"): (1, None, False, False, True),
    ("*", "pool_size"): (1, None, False, False, True),
    ("*", "dilation_rate"): (1, None, False, False, True),
    ("*", "seed"): (0, 2**32 - 1, False, False, True),
    ("*", "rate"): (0, 1, False, True, False),
    ("*", "stddev"): (0, None, False, False, False),
    ("*", "epsilon"): (0, None, True, False, False),
    ("*", "momentum"): (0, 1, False, False, False),
    ("*", "negative_slope"): (0, None, False, False, False),
    ("*", "height"): (1, None, False, False, True),
    ("*", "width"): (1, None, False, False, True),
    ("RandomContrast", "factor"): (0, 1, False, False, False),
    ("RandomBrightness", "factor"): (-1, 1, False, False, False),
    ("RandomZoom", "height_factor"): (-1, 1, True, False, False),
    ("RandomZoom", "width_factor"): (-1, 1, True, False, False),
    ("RandomTranslation", "height_factor"): (-1, 1, False, False, False),
    ("RandomTranslation", "width_factor"): (-1, 1, False, False, False),
    ("RandomErasing", "factor"): (0, 1, False, False, False),
}


def arguments(cls) -> dict[str, Any]:
    """Every keyword argument the layer's constructor takes, following **kwargs up the class chain."""
    import keras

    args: dict[str, Any] = {}
    own = True
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters
        for name, p in params.items():
            if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                # Only the layer's own constructor requires: a parent's required argument (BaseConv's
                # `rank`) is one the layer passes itself.
                args.setdefault(name, p.default if own or p.default is not p.empty else None)
        own = False
        if klass is keras.layers.Layer:
            args.update({"input_shape": None, "input_dim": None})  # popped from **kwargs by Layer itself
            break
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
            break
    return args


def positional(cls) -> list[str]:
    """The names of the arguments the layer's own constructor takes by position, in order."""
    params = inspect.signature(cls.__init__).parameters.values()
    return [p.name for p in params if p.name != "self" and p.kind == p.POSITIONAL_OR_KEYWORD]


def _json_default(value: Any) -> Any:
    if value is inspect.Parameter.empty:
        return "<required>"
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, tuple | list) and all(isinstance(v, bool | int | float | str) for v in value):
        return list(value)
    return repr(value)


def _rules(table: dict[tuple[str, str], tuple], layer: str, args: dict[str, Any]) -> dict[str, list]:
    out = {}
    for arg, default in args.items():
        rule = table.get((layer, arg))
        if rule is None and ("*", arg) in table:
            rule = table["*", arg]
            if table is ENUMS and (layer in _UNENUMERATED or default not in (*rule, inspect.Parameter.empty)):
                rule = None  # the same name with another meaning: ZeroPadding2D's padding is a size
        if rule is not None:
            out[arg] = list(rule)
    return out


def generate() -> dict[str, Any]:
    import keras

    from mlexp.compat import keras_object_names

    layers = {}
    for name in sorted(dir(keras.layers)):
        cls = getattr(keras.layers, name)
        if not (name[:1].isupper() and isinstance(cls, type) and issubclass(cls, keras.layers.Layer)):
            continue
        args = arguments(cls)
        layers[name] = {
            "args": {arg: _json_default(default) for arg, default in args.items()},
            "enums": _rules(ENUMS, name, args),
            "ranges": _rules(RANGES, name, args),
            "positional": positional(cls),  # the order of arguments given without names (mlexp import)
        }
    return {
        "keras": keras.__version__,
        **keras_object_names(),
        "layers": layers,
    }


def render(table: dict[str, Any]) -> str:
    return json.dumps(table, indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    from mlexp.tf_runtime import import_keras

    import_keras()
    text = render(generate())
    if "--write" in sys.argv:
        TABLE.write_text(text)
        print(f"wrote {TABLE}")
    else:
        sys.stdout.write(text)
