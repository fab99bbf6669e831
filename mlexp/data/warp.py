"""The fused augmentation warp, compiled with XLA: the same bilinear resampling as Keras' affine_transform.

TensorFlow's ImageProjectiveTransformV3 kernel recomputes the sampling coordinates for every channel
and cannot be fused; written as gathers and compiled with XLA, one 64 x 32 x 32 x 3 batch takes about
0.6 ms instead of 1.6 ms in a tf.data map on this machine (benchmarks/NOTES.md). Values agree with the
kernel up to float rounding (tests/test_models.py). Other interpolations and fill modes use the kernel.
"""

from __future__ import annotations

import tensorflow as tf

FILL_MODES = ("nearest", "constant")  # the ones written here; reflect and wrap go to the kernel


def compiles(options: dict, images) -> bool:
    """Whether a warp with Keras affine_transform `options` over `images` can take the compiled path."""
    import keras

    data_format = options["data_format"] or keras.config.image_data_format()
    return (
        options["interpolation"] == "bilinear"
        and options["fill_mode"] in FILL_MODES
        and data_format == "channels_last"
        and images.shape.rank == 4
        and images.dtype == tf.float32
    )


def affine_warp(images, transform, fill_mode: str, fill_value):
    """Keras' affine_transform(images, transform, "bilinear", fill_mode, fill_value) for a (batch, h, w, c) batch."""
    return _compiled(images, tf.cast(transform, tf.float32), fill_mode, tf.cast(fill_value, tf.float32))


@tf.function(jit_compile=True, reduce_retracing=True)
def _compiled(images, transform, fill_mode, fill_value):
    shape = tf.shape(images)
    batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
    h, w = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
    out_y, out_x = tf.meshgrid(tf.range(h), tf.range(w), indexing="ij")
    t = [transform[:, i, None, None] for i in range(8)]  # output (x, y) -> input, as in the kernel
    projection = t[6] * out_x + t[7] * out_y + 1.0  # 1 for Keras' layers: their transforms are affine
    x = (t[0] * out_x + t[1] * out_y + t[2]) / projection
    y = (t[3] * out_x + t[4] * out_y + t[5]) / projection
    if fill_mode == "nearest":  # the kernel clamps the coordinate, then interpolates
        x, y = tf.clip_by_value(x, 0.0, w - 1), tf.clip_by_value(y, 0.0, h - 1)
    x0, y0 = tf.floor(x), tf.floor(y)
    wx, wy = (x - x0)[..., None], (y - y0)[..., None]
    x0, y0 = tf.cast(x0, tf.int32), tf.cast(y0, tf.int32)
    # pixels as rows, plus one row of fill_value that every out-of-range read points at
    pixels = tf.concat([tf.reshape(images, (-1, channels)), tf.fill((1, channels), fill_value)], axis=0)
    outside = batch * height * width
    first_pixel = (tf.range(batch) * height * width)[:, None, None]

    def read(row, col):
        inside = (row >= 0) & (row < height) & (col >= 0) & (col < width)
        return tf.gather(pixels, tf.where(inside, first_pixel + row * width + col, outside))

    top = (1 - wx) * read(y0, x0) + wx * read(y0, x0 + 1)
    bottom = (1 - wx) * read(y0 + 1, x0) + wx * read(y0 + 1, x0 + 1)
    return (1 - wy) * top + wy * bottom
