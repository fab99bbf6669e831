"""The Keras layer signature table: generated from Keras, matching it, and used before TensorFlow loads."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import TINY

from mlexp.config import layer_table
from mlexp.config.layers import REQUIRED, table

# Values for required arguments, so that every layer with an enumerated argument can be built.
SAMPLES = {
    "units": 2, "filters": 2, "kernel_size": 2, "rate": 0.5, "factor": 0.1, "height": 2, "width": 2,
    "height_factor": 0.1, "width_factor": 0.1, "stddev": 0.1, "size": 2, "depth_multiplier": 1, "cropping": 1,
    "num_heads": 1, "key_dim": 2, "target_shape": [2], "dims": [1], "n": 2, "num_bins": 2, "output_dim": 2,
    "input_dim": 2, "shape": [2], "output_size": 2, "scale": 0.5, "offset": 0.0, "value_range": [0, 1],
}  # fmt: skip


def test_the_table_is_what_keras_says():
    committed = json.loads(layer_table.TABLE.read_text())
    generated = json.loads(layer_table.render(layer_table.generate()))
    committed.pop("keras"), generated.pop("keras")
    assert generated == committed, "Keras changed: python -m mlexp.config.layer_table --write"


LAYER_SAMPLES = {"RandomPosterization": {"factor": 4}}  # bits to keep, 1..8


def _build(name: str, **args):
    import keras

    spec = table()["layers"][name]
    samples = {**SAMPLES, **LAYER_SAMPLES.get(name, {})}
    required = {a: samples[a] for a, default in spec["args"].items() if default == REQUIRED and a in samples}
    return getattr(keras.layers, name)(**{**required, **args})


def _buildable(name: str) -> bool:
    spec = table()["layers"][name]
    return all(a in SAMPLES for a, default in spec["args"].items() if default == REQUIRED)


ENUMERATED = [
    (name, arg, value)
    for name, spec in table()["layers"].items()
    for arg, values in spec["enums"].items()
    for value in values
    if _buildable(name)
]


def test_most_layers_with_enumerated_arguments_are_checked():
    with_enums = {name for name, spec in table()["layers"].items() if spec["enums"]}
    checked = {name for name, _, _ in ENUMERATED}
    assert len(checked) >= 0.9 * len(with_enums), sorted(with_enums - checked)
    assert {"RandomFlip", "RandomRotation", "Conv2D", "MaxPooling2D", "Resizing"} <= checked


@pytest.mark.parametrize("name,arg,value", ENUMERATED, ids=[f"{n}-{a}-{v}" for n, a, v in ENUMERATED])
def test_every_enumerated_value_is_one_keras_takes(name, arg, value):
    layer = _build(name, **{arg: value})
    if name.startswith("Random") and arg in ("mode", "fill_mode", "interpolation"):
        images = np.random.default_rng(0).random((2, 8, 8, 3)).astype("float32")
        out = layer(images, training=True)  # some values are only checked, or only wrong, when called
        assert tuple(out.shape) == images.shape
        if arg == "mode":  # RandomFlip builds with any mode; a mode Keras does not know flips nothing
            flipped = [_build(name, mode=value, seed=s)(images, training=True) for s in range(8)]
            assert any(not np.allclose(np.asarray(f), images) for f in flipped)


RANGED = [
    (name, arg, bounds)
    for name, spec in table()["layers"].items()
    for arg, bounds in spec["ranges"].items()
    if _buildable(name) and arg not in ("seed",)
]


@pytest.mark.parametrize("name,arg,bounds", RANGED, ids=[f"{n}-{a}" for n, a, _ in RANGED])
def test_range_edges_are_values_keras_takes(name, arg, bounds):
    lo, hi, lo_open, hi_open, integer = bounds
    inside = [v for v, is_open in ((lo, lo_open), (hi, hi_open)) if v is not None and not is_open]
    if lo is not None and hi is not None:
        inside.append((lo + hi) / 2 if not integer else (lo + hi) // 2)
    for value in inside:
        _build(name, **{arg: value})


CASES = [
    ("augmentation.layers=[{layer: RandomFlip, mode: diagonal}]",
     "Config error at augmentation.layers[0].mode: got 'diagonal'; expected one of horizontal, vertical, "
     "horizontal_and_vertical."),
    ("augmentation.layers=[{layer: RandomRotation, factor: 0.1, fill_mode: mirror}]",
     "Config error at augmentation.layers[0].fill_mode: got 'mirror'; expected one of reflect, wrap, constant, "
     "nearest."),
    ("augmentation.layers=[{layer: RandomContrast, factor: 2}]",
     "Config error at augmentation.layers[0].factor: got 2; expected a number in [0, 1]."),
    ("augmentation.layers=[{layer: RandomFlip, modes: horizontal}]",
     "Config error at augmentation.layers[0].modes: got 'horizontal'; expected an argument of "
     "keras.layers.RandomFlip: activity_regularizer, autocast, bounding_box_format, data_format, dtype, factor, "
     "input_dim, input_shape, mode, name, seed, trainable. Did you mean 'mode'?"),
    ("model=sequential model.layers=[{layer: Flatten},{layer: Dropout, rate: 1.5}]",
     "Config error at model.layers[1].rate: got 1.5; expected a number in [0, 1)."),
    ("model=sequential model.layers=[{layer: Flatten},{layer: Dense}]",
     "Config error at model.layers[1].units: got null; expected a value (keras.layers.Dense needs it)."),
    ("model=sequential model.layers=[{layer: Conv2D, filters: 4, kernel_size: 3, padding: full}]",
     "Config error at model.layers[0].padding: got 'full'; expected one of valid, same."),
    ("model=sequential model.layers=[{layer: Flatten},{layer: Dense, units: 4, use_bias: maybe}]",
     "Config error at model.layers[1].use_bias: got 'maybe'; expected true or false."),
    ("model=sequential model.layers=[{layer: Flatten},{layer: Dense, units: 4, kernel_initializer: Glorot_Uniform}]",
     "Config error at model.layers[1].kernel_initializer: got 'Glorot_Uniform'; expected a Keras initializer: "),
    ("model=sequential model.layers=[{layer: Flatten},{layer: Dense, units: 4, kernel_regularizer: "
     "{class_name: L3, config: {}}}]",
     "Config error at model.layers[1].kernel_regularizer.class_name: got 'L3'; expected a Keras regularizer: "),
    ("model=sequential model.layers=[{layer: Flaten}]",
     "Config error at model.layers[0].layer: got 'Flaten'; expected a Keras layer class name (keras.layers.*). "
     "Did you mean 'Flatten'?"),
]  # fmt: skip


@pytest.mark.parametrize("overrides,message", CASES, ids=[c[1].split(":")[0][16:] for c in CASES])
def test_layer_arguments_are_refused_before_anything_is_written(mlexp, tmp_path, overrides, message):
    no_mlp = [o for o in TINY if not o.startswith("model.hidden_units")]
    sequential = overrides.startswith("model=sequential ")
    split = ["model=sequential", overrides.removeprefix("model=sequential ")] if sequential else [overrides]
    result = mlexp("train", *no_mlp, *split, "hydra.run.dir=r")
    assert result.code == 2
    assert result.err.startswith(f"mlexp train: {message}")
    assert "Did you mean 'glorot_uniform'?" in result.err or "Glorot" not in message
    assert not (tmp_path / "r").exists()
