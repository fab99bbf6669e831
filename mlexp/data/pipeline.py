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


def make_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, *, augment=None, order=None):
    """Batches of (x, y). Every pass yields ceil(len(x) / batch_size) batches: no steps_per_epoch to get wrong.

    `order` (an EpochOrder) shuffles each pass as a function of (seed, epoch) only, so a resumed run
    sees the same order in epoch k as an uninterrupted one.
    """
    import tensorflow as tf

    if order is None:
        ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)
    else:
        images, labels = tf.constant(x), tf.constant(y)
        ds = order.indices(len(x)).batch(batch_size).map(lambda i: (tf.gather(images, i), tf.gather(labels, i)))
    if augment is not None:
        ds = ds.map(lambda xb, yb: (augment(xb, training=True), yb), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


class EpochOrder:
    """A permutation per epoch, from (seed, epoch); its callback tells it the epoch before each pass."""

    def __init__(self, seed: int):
        import tensorflow as tf

        self.seed = seed
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False)

    def indices(self, n: int):
        import tensorflow as tf

        seed, epoch = tf.constant(self.seed, tf.int64), self.epoch

        @tf.autograph.experimental.do_not_convert
        def permutation(_):
            return tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), seed=tf.stack([seed, epoch]))

        return tf.data.Dataset.range(1).map(permutation).unbatch()

    def callback(self):
        import keras

        order = self

        class SetEpoch(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                order.epoch.assign(epoch)

        return SetEpoch()
