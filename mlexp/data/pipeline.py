"""NumPy arrays to tf.data pipelines; augmentation runs on training batches only."""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)


def augmenter(cfg_augmentation, seed: int):
    """A Keras Sequential of the configured preprocessing layers, or None when there are none."""
    if not cfg_augmentation.layers:
        return None
    import keras

    from mlexp.models.layers import make_layer

    layers = [
        make_layer(entry, f"augmentation.layers[{i}]", seed=seed + i) for i, entry in enumerate(cfg_augmentation.layers)
    ]
    log.info(
        "Augmentation %r on training batches: %s",
        cfg_augmentation.name,
        ", ".join(type(layer).__name__ for layer in layers),
    )
    return keras.Sequential(layers, name="augmentation")


def make_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, *, shuffle=False, seed=0, augment=None):
    """Batches of (x, y). Every pass yields ceil(len(x) / batch_size) batches: no steps_per_epoch to get wrong."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if augment is not None:
        ds = ds.map(lambda xb, yb: (augment(xb, training=True), yb), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
