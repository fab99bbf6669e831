"""Every use of a Keras or keras-tuner private API, in one place.

Each function says what it stands in for, which versions it was written against (Keras 3.8-3.15,
keras-tuner 1.4; pyproject pins keras<3.16), and tests/test_compat.py fails when a new version moves
what it touches. Lifting the pin: run that test file, mend what it names here, nowhere else.
"""

from __future__ import annotations

import contextlib
import functools


def set_global_seed(keras, seed: int) -> bool:
    """Keras' global seed as keras.utils.set_random_seed stores it, without the TensorFlow seeding that
    function does (which imports TensorFlow on every backend). False when the private modules moved
    (keras.src.backend.common.global_state, keras.src.random.seed_generator, keras.src.utils.rng_utils)."""
    try:
        from keras.src.backend.common import global_state
        from keras.src.random import seed_generator
        from keras.src.utils import rng_utils
    except ImportError:
        return False
    global_state.set_global_attribute(rng_utils.GLOBAL_RANDOM_SEED, seed)
    global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)
    return True


def _tensorflow_handle():
    """Keras' lazy handle on TensorFlow (keras.src.utils.module_utils.tensorflow, its `_available` flag)."""
    try:
        from keras.src.utils import module_utils
    except ImportError:
        return None
    handle = getattr(module_utils, "tensorflow", None)
    return handle if hasattr(handle, "_available") else None


def hide_tensorflow() -> None:
    """Make Keras believe TensorFlow is not installed: it imports TensorFlow (2-3 s, over 100 MiB) just
    to ask whether an object is one of its types, when saving or seeding on JAX or PyTorch."""
    handle = _tensorflow_handle()
    if handle is not None:
        handle._available = False


def reveal_tensorflow() -> None:
    """Undo hide_tensorflow: Keras looks for TensorFlow again when next asked."""
    handle = _tensorflow_handle()
    if handle is not None and handle._available is False:
        handle._available = None


@functools.cache
def atomic_model_checkpoint():
    """keras.callbacks.ModelCheckpoint whose file appears only once completely written (a kill during
    the save leaves the previous checkpoint). Overrides the private `_save_model(epoch, batch, logs)`,
    the one method every save goes through (Keras 3.0-3.15)."""
    import os
    from pathlib import Path

    import keras

    class AtomicModelCheckpoint(keras.callbacks.ModelCheckpoint):
        def _save_model(self, epoch, batch, logs):
            target = Path(self.filepath)
            staging = target.with_name(f".{target.stem}.partial{target.suffix}")
            self.filepath = str(staging)
            try:
                super()._save_model(epoch, batch, logs)
            finally:
                self.filepath = str(target)
            if staging.exists():
                os.replace(staging, target)

    return AtomicModelCheckpoint


@contextlib.contextmanager
def replaced_get_file(lookup):
    """keras.applications fetch their weights through keras.src.utils.file_utils.get_file, looked up at
    call time: replace it with `lookup(fname, origin, *args, **kwargs)` for the duration (the public
    keras.utils.get_file is a copy of the reference, and replacing it changes nothing)."""
    from keras.src.utils import file_utils

    with _replaced(file_utils, "get_file", lookup):
        yield


@contextlib.contextmanager
def replaced_affine_transform(layer, stand_in):
    """Keras' image layers (RandomRotation, RandomZoom, ...) warp through `layer.backend.image.affine_transform`
    (backend-agnostic since Keras 3.4): replace it, for this layer's backend module, with
    `stand_in(real, images, transform, *args, **kwargs)` while the layer runs."""
    with _replaced(layer.backend.image, "affine_transform", stand_in):
        yield


@contextlib.contextmanager
def _replaced(owner, name: str, stand_in):
    """owner.name replaced by stand_in(original, *args, **kwargs) for the duration, then put back."""
    original = getattr(owner, name)
    setattr(owner, name, functools.partial(stand_in, original))
    try:
        yield
    finally:
        setattr(owner, name, original)


def quiet_keras_tuner() -> None:
    """keras-tuner prints every failed trial's traceback while keras_tuner.src.config.DEBUG is true
    (keras-tuner 1.4); the trial's own folder keeps it, so turn it off."""
    from keras_tuner.src import config

    config.DEBUG = False


def keras_object_names() -> dict[str, list[str]]:
    """The names Keras' own registries resolve, for the layer table (keras.src.*.ALL_OBJECTS_DICT:
    the public modules expose `get` but no listing)."""
    from keras.src import activations, constraints, initializers, regularizers

    return {
        "activations": sorted(activations.ALL_OBJECTS_DICT),
        "initializers": sorted(initializers.ALL_OBJECTS_DICT),
        "regularizers": sorted(regularizers.ALL_OBJECTS_DICT),
        "constraints": sorted(constraints.ALL_OBJECTS_DICT),
    }
