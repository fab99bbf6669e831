"""Qualified names as Keras users write them, reduced to one spelling: tf.keras.layers.Dense -> keras.layers.Dense."""

from __future__ import annotations

PREFIXES = (
    ("tensorflow.keras.", "keras."),
    ("tensorflow.python.keras.", "keras."),
    ("tf_keras.", "keras."),
    ("keras.src.", "keras."),
    ("keras.api.", "keras."),
)
SUBMODULES = {  # where Keras 2 kept what Keras 3 offers at the top of a module
    "keras.layers.core.": "keras.layers.",
    "keras.layers.convolutional.": "keras.layers.",
    "keras.layers.pooling.": "keras.layers.",
    "keras.layers.normalization.": "keras.layers.",
    "keras.layers.experimental.preprocessing.": "keras.layers.",
    "keras.preprocessing.image.": "keras.preprocessing.image.",
    "keras.utils.np_utils.": "keras.utils.",
    "keras.optimizers.legacy.": "keras.optimizers.",
    "keras.optimizers.experimental.": "keras.optimizers.",
}
SAME = {
    "keras.models.Sequential": "keras.Sequential",
    "keras.models.Model": "keras.Model",
    "keras.layers.Input": "keras.Input",
    "keras.engine.Model": "keras.Model",
    "keras.Model.Sequential": "keras.Sequential",
}


def normalize(path: str) -> str:
    if path == "tensorflow.keras" or path == "tf_keras":
        return "keras"
    for old, new in PREFIXES:
        if path.startswith(old):
            path = new + path[len(old) :]
    for old, new in SUBMODULES.items():
        if path.startswith(old):
            path = new + path[len(old) :]
    return SAME.get(path, path)


def member(path: str, module: str) -> str | None:
    """`X` when `path` is `module.X` (one level below), else None."""
    prefix = module + "."
    if path.startswith(prefix) and "." not in path[len(prefix) :]:
        return path[len(prefix) :]
    return None
