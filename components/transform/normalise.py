"""Per-band normalisation and its inverse, as TensorFlow functions shared by Transform and model.

`transforms` is each band's transform (`components.transforms`), in the bands' order (the last
axis): the statistics and the normalised values are in each band's transformed space.
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

from components.transforms import LOG_FLOOR, is_log10


def to_working(x: tf.Tensor, transforms: Sequence[str]) -> tf.Tensor:
    """Values -> the quantity statistics are computed on: per band, itself or log10 of it."""
    log10 = is_log10(transforms)
    if not any(log10):
        return x
    logged = tf.math.log(tf.maximum(x, LOG_FLOOR)) / tf.math.log(10.0)
    return logged if all(log10) else tf.where(tf.constant(log10), logged, x)


def from_working(y: tf.Tensor, transforms: Sequence[str]) -> tf.Tensor:
    """The inverse of `to_working` (exact above LOG_FLOOR)."""
    log10 = is_log10(transforms)
    if not any(log10):
        return y
    if all(log10):
        return tf.pow(10.0, y)
    mask = tf.constant(log10)
    # 10**y only where it is kept: elsewhere it may overflow, and tf.where's gradient would
    # then carry 0 * inf = NaN into the untransformed bands.
    return tf.where(mask, tf.pow(10.0, tf.where(mask, y, 0.0)), y)


def normalise(
    x: tf.Tensor, mean: tf.Tensor, std: tf.Tensor, transforms: Sequence[str]
) -> tf.Tensor:
    """(working(x) - mean) / std, per band (the last axis)."""
    return (to_working(x, transforms) - mean) / std


def denormalise(
    z: tf.Tensor, mean: tf.Tensor, std: tf.Tensor, transforms: Sequence[str]
) -> tf.Tensor:
    """Normalised values back to the data's units, per band (the last axis)."""
    return from_working(z * std + mean, transforms)
