"""Augmentation with Keras preprocessing layers, seeded per batch so that a parallel map stays reproducible.

A Keras random layer draws from one SeedGenerator variable; batches mapped in parallel race on it, and
the same seed gives different images. Here every batch gets its own stateless seed from
(run seed, epoch, batch number), and each layer draws its transformation from it.

Consecutive geometric layers (rotation, translation, shear, zoom, and flips between or next to them) are
fused into one affine warp, as ImageDataGenerator does: each layer's own transform is recorded, the
matrices are multiplied, and the images are resampled once instead of once per layer (about 3x faster,
and one fill instead of four), by an XLA-compiled warp where it applies (mlexp.data.warp). A flip maps
pixels onto pixels, so fusing it changes values only by floating-point rounding of the coordinates.
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
                # Keras-on-TensorFlow's random.normal, written out: inside tf.data on any backend
                seed = tf.cast(tf.math.floormod(seeds.next(), tf.int32.max - 1), "int32")
                noise = tf.random.stateless_normal(
                    tf.shape(images), stddev=layer.stddev, dtype=keras.config.floatx(), seed=seed
                )  # fmt: skip
                images = images + noise
                continue
            if not hasattr(layer, "get_random_transformation"):  # a user's layer: it draws its own randomness
                images = layer(_apply(warps, images), training=True)
                continue
            transformation = layer.get_random_transformation(images, training=True, seed=seeds)
            if isinstance(layer, GEOMETRIC):
                warp = _recorded_warp(layer, images, transformation)
                if not all(pending.fuses_with(warp) for pending in warps):
                    images = _apply(warps, images)
                warps.append(warp)
            elif isinstance(layer, keras.layers.RandomFlip):
                warps.append(FlipWarp(layer, images, transformation))
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


class FlipWarp:
    """A RandomFlip's per-image flips as a warp (a mirror matrix or the identity); it fuses with any warp."""

    def __init__(self, layer, images, transformation):
        import tensorflow as tf

        self.layer, self.transformation = layer, transformation
        shape = tf.shape(images)
        self.height, self.width = (shape[1], shape[2]) if layer.data_format == "channels_last" else (shape[2], shape[3])

    def fuses_with(self, other) -> bool:
        return True

    def apply_alone(self, images):
        return self.layer.transform_images(images, self.transformation, training=True)

    def matrix(self):
        import tensorflow as tf

        flips = tf.cast(tf.reshape(self.transformation["flips"], (-1,)), tf.float32)
        zeros, ones = tf.zeros_like(flips), tf.ones_like(flips)
        sign_x, shift_x, sign_y, shift_y = ones, zeros, ones, zeros
        if self.layer.mode in ("horizontal", "horizontal_and_vertical"):  # x -> width - 1 - x
            sign_x, shift_x = 1 - 2 * flips, flips * tf.cast(self.width - 1, tf.float32)
        if self.layer.mode in ("vertical", "horizontal_and_vertical"):  # Keras flips both axes together
            sign_y, shift_y = 1 - 2 * flips, flips * tf.cast(self.height - 1, tf.float32)
        rows = [sign_x, zeros, shift_x, zeros, sign_y, shift_y, zeros, zeros, ones]
        return tf.reshape(tf.stack(rows, axis=1), (-1, 3, 3))


def _recorded_warp(layer, images, transformation) -> Warp:
    """The warp that `layer` would apply, recorded by standing in for its backend's affine_transform."""
    from mlexp.compat import replaced_affine_transform

    recorded: list[Warp] = []

    def record(real, images, transform, *args, **kwargs):
        recorded.append(Warp(real, transform, *args, **kwargs))
        return images

    with replaced_affine_transform(layer, record):
        layer.transform_images(images, transformation, training=True)
    if len(recorded) != 1:
        raise RuntimeError(f"{type(layer).__name__}: expected one affine_transform call, saw {len(recorded)}")
    return recorded[0]


def _apply(warps: list[Warp], images):
    """Resample once for all pending warps (the first layer's matrix times the next ones'), and clear them."""
    import tensorflow as tf

    resampling = [warp for warp in warps if isinstance(warp, Warp)]
    if not resampling:  # flips alone: Keras' own flip is cheaper than a resampling
        for flip in warps:
            images = flip.apply_alone(images)
        warps.clear()
        return images
    matrix = warps[0].matrix()
    for warp in warps[1:]:
        matrix = tf.matmul(matrix, warp.matrix())
    matrix = matrix / matrix[:, 2:3, 2:3]
    transform = tf.reshape(matrix, (-1, 9))[:, :8]
    warps.clear()
    first = resampling[0]
    from mlexp.data import warp as compiled  # TensorFlow's XLA: imported once augmentation runs

    if compiled.compiles(first.options, images):
        return compiled.affine_warp(images, transform, first.options["fill_mode"], first.options["fill_value"])
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
