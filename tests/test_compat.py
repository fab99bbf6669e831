"""mlexp.compat touches Keras and keras-tuner private APIs: each test here fails when a new version moves one.

Lifting the keras pin: run this file first; what fails names the function in mlexp/compat.py to mend.
"""

import inspect

import keras
import numpy as np
import pytest

from mlexp import compat


def test_the_global_seed_is_where_set_random_seed_puts_it():
    from keras.src.backend.common import global_state
    from keras.src.random import seed_generator
    from keras.src.utils import rng_utils

    keras.utils.set_random_seed(5)
    keras.random.uniform((3,))  # creates the global seed generator
    assert global_state.get_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR) is not None
    assert compat.set_global_seed(keras, 11) is True
    assert rng_utils.get_random_seed() == 11
    assert global_state.get_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR) is None  # drawn anew


def test_keras_asks_its_tensorflow_handle_whether_tensorflow_is_there():
    from keras.src.utils import module_utils

    handle = module_utils.tensorflow
    try:
        compat.hide_tensorflow()
        assert handle.available is False
        compat.reveal_tensorflow()
        assert handle._available is None
        assert handle.available is True  # looked for again, and found
    finally:
        compat.reveal_tensorflow()


def test_every_checkpoint_save_goes_through_save_model(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    target = tmp_path / "best.keras"
    saves = []
    checkpoint = compat.atomic_model_checkpoint()(str(target), monitor="loss")
    original = checkpoint._save_model
    checkpoint._save_model = lambda **kwargs: (saves.append(kwargs), original(**kwargs))
    assert list(inspect.signature(keras.callbacks.ModelCheckpoint._save_model).parameters) == [
        "self", "epoch", "batch", "logs"
    ]  # fmt: skip
    model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=2, verbose=0, callbacks=[checkpoint])
    assert len(saves) == 2 and target.is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["best.keras"]  # the staging file was renamed, not left


def test_applications_fetch_weights_through_file_utils_at_call_time(tmp_path):
    seen = []

    def lookup(original, fname=None, origin=None, *args, **kwargs):
        seen.append(fname)
        raise FileNotFoundError("stand-in")

    with compat.replaced_get_file(lookup), pytest.raises(FileNotFoundError, match="stand-in"):
        keras.applications.MobileNetV2(input_shape=(96, 96, 3), weights="imagenet", include_top=False)
    assert seen and seen[0].endswith(".h5")
    from keras.src.utils import file_utils

    assert file_utils.get_file is keras.utils.get_file  # put back


@pytest.mark.parametrize("layer", [keras.layers.RandomRotation(0.2), keras.layers.RandomZoom(0.2)])
def test_image_layers_warp_through_their_backends_affine_transform(layer):
    images = np.ones((2, 8, 8, 1), "float32")
    calls = []

    def stand_in(real, images, transform, *args, **kwargs):
        calls.append(transform.shape)
        return images

    transformation = layer.get_random_transformation(images, training=True, seed=1)
    with compat.replaced_affine_transform(layer, stand_in):
        layer.transform_images(images, transformation, training=True)
    assert calls == [(2, 8)]  # one call, the batch's 8-parameter projective transforms


def test_keras_tuner_debug_switch():
    from keras_tuner.src import config

    config.DEBUG = True
    compat.quiet_keras_tuner()
    assert config.DEBUG is False


def test_keras_object_names_list_the_registries():
    names = compat.keras_object_names()
    assert "relu" in names["activations"] and "glorot_uniform" in names["initializers"]
    assert "l2" in names["regularizers"] and "max_norm" in names["constraints"]
    for name in names["activations"]:
        assert keras.activations.get(name) is not None  # every listed name resolves publicly


def test_no_private_api_outside_compat():
    from pathlib import Path

    import mlexp

    root = Path(mlexp.__file__).parent
    users = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "compat.py"
        and path.relative_to(root).as_posix() != "importer/names.py"  # reads notebooks that spell keras.src.X
        and any(word in path.read_text() for word in ("keras.src", "keras_tuner.src", "._available", "_save_model"))
    ]
    assert users == []
