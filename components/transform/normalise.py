"""Per-band normalisation and its inverse, as TensorFlow functions shared by Transform and model."""

from __future__ import annotations

import tensorflow as tf

# Reflectance below this is clamped before a log transform (atmospheric correction leaves small
# negative values in the red and near-infrared).
LOG_FLOOR = 1e-4


def to_working(x: tf.Tensor, log: bool) -> tf.Tensor:
    """Reflectance -> the quantity statistics are computed on (itself, or log10 of it)."""
    return tf.math.log(tf.maximum(x, LOG_FLOOR)) / tf.math.log(10.0) if log else x


def from_working(y: tf.Tensor, log: bool) -> tf.Tensor:
    """The inverse of `to_working` (exact above LOG_FLOOR)."""
    return tf.pow(10.0, y) if log else y


def normalise(x: tf.Tensor, mean: tf.Tensor, std: tf.Tensor, log: bool) -> tf.Tensor:
    """(working(x) - mean) / std, per band (the last axis)."""
    return (to_working(x, log) - mean) / std


def denormalise(z: tf.Tensor, mean: tf.Tensor, std: tf.Tensor, log: bool) -> tf.Tensor:
    """Normalised values back to reflectance, per band (the last axis)."""
    return from_working(z * std + mean, log)
