"""Augmentation with Keras preprocessing layers, seeded per batch so that a parallel map stays reproducible.

A Keras random layer draws from one SeedGenerator variable; batches mapped in parallel race on it, and
the same seed gives different images. Here every batch gets its own stateless seed from
(run seed, epoch, batch number), and each layer draws its transformation from it.
"""

from __future__ import annotations

import logging

import keras  # imported by training only: the CLI never imports this module

log = logging.getLogger(__name__)


def augmenter(cfg_augmentation, seed: int):
    """An Augmenter of the configured layers, or None when there are none."""
    if not cfg_augmentation.layers:
        return None
    from mlexp.models.layers import make_layer

    layers = [
        make_layer(entry, f"augmentation.layers[{i}]", seed=seed + i) for i, entry in enumerate(cfg_augmentation.layers)
    ]
    log.info(
        "Augmentation %r on training batches: %s",
        cfg_augmentation.name,
        ", ".join(type(layer).__name__ for layer in layers),
    )
    return Augmenter(layers, seed)


class Augmenter:
    def __init__(self, layers, seed: int):
        self.layers = layers
        self.seed = seed

    def __call__(self, images, epoch, batch):
        """The augmented batch; the same (seed, epoch, batch) gives the same images, in any thread order."""
        import keras
        import tensorflow as tf

        seeds = BatchSeeds(tf.stack([tf.constant(self.seed, tf.int64), epoch * (1 << 24) + batch]))
        for layer in self.layers:
            if isinstance(layer, keras.layers.GaussianNoise):  # not an image layer: its call() is this sum
                images = images + keras.random.normal(tf.shape(images), stddev=layer.stddev, seed=seeds)
            else:
                transformation = layer.get_random_transformation(images, training=True, seed=seeds)
                images = layer.transform_images(images, transformation, training=True)
        return images


class BatchSeeds(keras.random.SeedGenerator):
    """A SeedGenerator without state: the n-th draw while tracing a batch gets base + (n, 0)."""

    def __init__(self, base):  # no state variable, so nothing is shared between parallel calls
        self.base = base
        self.draws = 0

    def next(self, ordered=True):
        import tensorflow as tf

        self.draws += 1
        return self.base + tf.constant([self.draws, 0], self.base.dtype)
