"""Augmentation with Keras preprocessing layers, seeded per batch so that a parallel map stays reproducible.

A Keras random layer draws from one SeedGenerator variable; batches mapped in parallel race on it, and
the same seed gives different images. Here every batch gets its own stateless seed from
(run seed, epoch, batch number), and each layer draws its transformation from it.

Consecutive geometric layers (rotation, translation, shear, zoom) are fused into one affine warp, as
ImageDataGenerator does: each layer's own transform is recorded, the matrices are multiplied, and the
images are resampled once instead of four times (about 3x faster, and one fill instead of four).
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
        warps: list[Warp] = []
        for layer in self.layers:
            if isinstance(layer, keras.layers.GaussianNoise):  # not an image layer: its call() is this sum
                images = _apply(warps, images)
                images = images + keras.random.normal(tf.shape(images), stddev=layer.stddev, seed=seeds)
                continue
            transformation = layer.get_random_transformation(images, training=True, seed=seeds)
            if isinstance(layer, GEOMETRIC):
                warp = _recorded_warp(layer, images, transformation)
                if warps and not warps[-1].fuses_with(warp):
                    images = _apply(warps, images)
                warps.append(warp)
            else:
                images = layer.transform_images(_apply(warps, images), transformation, training=True)
        return _apply(warps, images)


GEOMETRIC = (
    keras.layers.RandomRotation,
    keras.layers.RandomTranslation,
    keras.layers.RandomShear,
    keras.layers.RandomZoom,
)


class Warp:
    """One layer's affine_transform call, recorded instead of run."""

    def __init__(
        self, apply, transform, interpolation="bilinear", fill_mode="constant", fill_value=0, data_format=None
    ):
        self.apply = apply
        self.transform = transform
        self.options = {"interpolation": interpolation, "fill_mode": fill_mode, "fill_value": fill_value,
                        "data_format": data_format}  # fmt: skip

    def fuses_with(self, other: Warp) -> bool:
        return self.options == other.options

    def matrix(self):
        """(batch, 3, 3): output pixel (x, y, 1) -> input pixel, before the perspective division."""
        import tensorflow as tf

        t = tf.cast(tf.reshape(self.transform, (-1, 8)), tf.float32)
        return tf.reshape(tf.concat([t, tf.ones_like(t[:, :1])], axis=1), (-1, 3, 3))


def _recorded_warp(layer, images, transformation) -> Warp:
    """The warp that `layer` would apply, recorded by standing in for its backend's affine_transform."""
    module = layer.backend.image
    real = module.affine_transform
    recorded: list[Warp] = []

    def record(images, transform, *args, **kwargs):
        recorded.append(Warp(real, transform, *args, **kwargs))
        return images

    module.affine_transform = record
    try:
        layer.transform_images(images, transformation, training=True)
    finally:
        module.affine_transform = real
    if len(recorded) != 1:
        raise RuntimeError(f"{type(layer).__name__}: expected one affine_transform call, saw {len(recorded)}")
    return recorded[0]


def _apply(warps: list[Warp], images):
    """Resample once for all pending warps (the first layer's matrix times the next ones'), and clear them."""
    if not warps:
        return images
    import tensorflow as tf

    matrix = warps[0].matrix()
    for warp in warps[1:]:
        matrix = tf.matmul(matrix, warp.matrix())
    matrix = matrix / matrix[:, 2:3, 2:3]
    transform = tf.reshape(matrix, (-1, 9))[:, :8]
    first = warps[0]
    warps.clear()
    return first.apply(images, tf.cast(transform, images.dtype), **first.options)


class BatchSeeds(keras.random.SeedGenerator):
    """A SeedGenerator without state: the n-th draw while tracing a batch gets base + (n, 0)."""

    def __init__(self, base):  # no state variable, so nothing is shared between parallel calls
        self.base = base
        self.draws = 0

    def next(self, ordered=True):
        import tensorflow as tf

        self.draws += 1
        return self.base + tf.constant([self.draws, 0], self.base.dtype)
