"""The Transform component's preprocessing_fn (referenced by import path).

Statistics are per band: reduced over the batch *and* space (tft's `reduce_instance_dims=False`
on a (batch, pixels, bands) tensor would give per-pixel statistics), over valid pixels only.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf
import tensorflow_transform as tft

from components import features
from components.transform.normalise import normalise, to_working
from components.transforms import NONE

# Output feature names (inputs to the Trainer).
REFLECTANCE = features.REFLECTANCE  # (size, size, bands) float32, normalised, 0 where invalid
VALID = features.VALID  # (size, size, 1) float32
GAP = features.GAP  # (size, size, 1) float32: the fixed gap mask
GAP_COVERAGE = features.GAP_COVERAGE  # () float32
# With a temporal window k: the neighbours (2k, size, size, bands) normalised with the same
# statistics, 0 where not valid; their validity (2k, size, size, 1) float32; offsets (2k,) days.
NEIGHBOURS = features.NEIGHBOURS
NEIGHBOUR_VALID = features.NEIGHBOUR_VALID
NEIGHBOUR_OFFSET = features.NEIGHBOUR_OFFSET
BAND_MEAN = features.BAND_MEAN  # (bands,) the statistics, so the model can invert the
BAND_STD = features.BAND_STD  # normalisation
MIN_STD = 1e-6


def patch_geometry(reflectance: tf.Tensor, valid: tf.Tensor) -> tuple[int, int]:
    """(size, bands) from the static lengths of the flattened features."""
    pixels = int(valid.shape[-1])
    size = round(pixels**0.5)
    if size * size != pixels or int(reflectance.shape[-1]) % pixels:
        raise ValueError(
            f"feature lengths {reflectance.shape[-1]} / {pixels} are not a square patch of bands"
        )
    return size, int(reflectance.shape[-1]) // pixels


def preprocessing_fn(inputs: dict[str, tf.Tensor], custom_config: dict[str, Any]) -> dict:
    """Normalise patches per band with statistics of the training split (of the patches
    themselves: neighbours in time are normalised with them, and not counted).

    Args:
        inputs: dense features as SchemaGen inferred them (flattened patches).
        custom_config: {"transforms": each band's transform, in order (`components.transforms`;
            IngestConfig.band_transforms)}: statistics and normalisation in each band's
            transformed space; none given means none.
    """
    size, bands = patch_geometry(inputs[features.REFLECTANCE], inputs[features.VALID])
    transforms = tuple(custom_config.get("transforms") or (NONE,) * bands)
    if len(transforms) != bands:
        raise ValueError(f"{len(transforms)} transforms {list(transforms)} for {bands} bands")
    x = tf.reshape(tf.cast(inputs[features.REFLECTANCE], tf.float32), [-1, size, size, bands])
    valid = tf.reshape(tf.cast(inputs[features.VALID], tf.float32), [-1, size, size, 1])

    pixels = tf.boolean_mask(tf.reshape(x, [-1, bands]), tf.reshape(valid, [-1]) > 0)
    working = to_working(pixels, transforms)
    mean = tft.mean(working, reduce_instance_dims=False)
    std = tf.maximum(tf.sqrt(tft.var(working, reduce_instance_dims=False)), MIN_STD)

    batch = tf.shape(x)[0]
    outputs = {
        REFLECTANCE: normalise(x, mean, std, transforms) * valid,
        VALID: valid,
        BAND_MEAN: tf.tile(mean[tf.newaxis, :], [batch, 1]),
        BAND_STD: tf.tile(std[tf.newaxis, :], [batch, 1]),
        features.PRODUCT: tf.reshape(inputs[features.PRODUCT], [-1]),
    }
    if NEIGHBOURS in inputs:
        window = int(inputs[NEIGHBOUR_OFFSET].shape[-1])
        shape = [-1, window, size, size]
        neighbours = tf.reshape(tf.cast(inputs[NEIGHBOURS], tf.float32), [*shape, bands])
        neighbour_valid = tf.reshape(tf.cast(inputs[NEIGHBOUR_VALID], tf.float32), [*shape, 1])
        outputs[NEIGHBOURS] = normalise(neighbours, mean, std, transforms) * neighbour_valid
        outputs[NEIGHBOUR_VALID] = neighbour_valid
        outputs[NEIGHBOUR_OFFSET] = tf.reshape(
            tf.cast(inputs[NEIGHBOUR_OFFSET], tf.float32), [-1, window]
        )
    if features.GAP in inputs:
        outputs[GAP] = tf.reshape(tf.cast(inputs[features.GAP], tf.float32), [-1, size, size, 1])
        outputs[GAP_COVERAGE] = tf.reshape(tf.cast(inputs[features.GAP_COVERAGE], tf.float32), [-1])
    return outputs
