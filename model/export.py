"""The serving SavedModel: raw reflectance tiles and a gap mask in, filled tiles out.

Normalisation is inside the graph: the per-band statistics come from the Transform graph (its
analyzers' results), so callers pass reflectance in the product's own units, and the classical
first guess is inside the generator. Observed pixels (gap = 0) are passed through bit-exact,
NaN included; gap pixels are filled. Non-finite pixels outside the gap (land, flagged) are
unknown to the network and marked to it as invalid. `sigma` is each filled pixel's predicted
standard deviation in the same units (0 where nothing was filled). Tiles may be any
size that is a multiple of the network's stride. Each band is normalised in its transformed
space (`components.transforms`: itself, or log10 of it), and filled values and sigma are
converted back per band; `s3inpaint_model.json` records the bands' transforms as `transforms`.

A model with a temporal window k (its generator has a `context` input) takes three more
inputs: `neighbours` (B, 2k, H, W, bands), the same tiles of the k previous and k next scenes
of the series, oldest first, in the same units, NaN where unobserved; `neighbour_gap` (B, 2k,
H, W, 1), 1 where a neighbour's pixel is not to be used (its own cloud; non-finite pixels are
never used); and `neighbour_offset` (B, 2k), each neighbour's time minus the tile's, in days.
A neighbour the series lacks (at its ends) is all NaN or all gap, with any offset (0).
`s3inpaint_model.json` records the window as `temporal_window` and the signature's inputs as
`inputs`.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence

import keras
import tensorflow as tf

from components.features import (
    DISCRIMINATOR_WEIGHTS,
    GENERATOR_WEIGHTS,
    INPUT_GAP,
    INPUT_NEIGHBOUR_GAP,
    INPUT_NEIGHBOUR_OFFSET,
    INPUT_NEIGHBOURS,
    INPUT_REFLECTANCE,
    MODEL_DESCRIPTION,
    OUTPUT_FILLED,
    OUTPUT_SIGMA,
    SIGNATURE,
    WEIGHTS_DIR,
)
from components.transform.normalise import denormalise, normalise
from components.transforms import is_log10
from model.layers import composite
from model.losses import sigma
from model.networks import STRIDE_CMUNET, STRIDE_UNET, split_outputs
from model.signature import signature_inputs
from model.temporal import context_channels, context_size


class InpaintingModule(tf.Module):
    """Holds the generator and the normalisation; `serve` is the serving signature."""

    def __init__(
        self,
        generator: keras.Model,
        mean,
        std,
        transforms: Sequence[str],
        bands: int,
        window: int = 0,
    ) -> None:
        super().__init__()
        self.generator = generator
        self.mean = tf.Variable(tf.constant(mean, tf.float32), trainable=False, name="band_mean")
        self.std = tf.Variable(tf.constant(std, tf.float32), trainable=False, name="band_std")
        if len(transforms) != bands:
            raise ValueError(f"{len(transforms)} transforms {list(transforms)} for {bands} bands")
        self.transforms = tuple(transforms)
        signature = [
            tf.TensorSpec([None, None, None, bands], tf.float32, name=INPUT_REFLECTANCE),
            tf.TensorSpec([None, None, None, 1], tf.float32, name=INPUT_GAP),
        ]
        if window:
            count = 2 * window
            tiles = [None, count, None, None]
            signature += [
                tf.TensorSpec([*tiles, bands], tf.float32, name=INPUT_NEIGHBOURS),
                tf.TensorSpec([*tiles, 1], tf.float32, name=INPUT_NEIGHBOUR_GAP),
                tf.TensorSpec([None, count], tf.float32, name=INPUT_NEIGHBOUR_OFFSET),
            ]
        serve = self._serve_with_neighbours if window else self._serve
        self.serve = tf.function(serve, input_signature=signature)

    def _serve_with_neighbours(
        self, reflectance, gap, neighbours, neighbour_gap, neighbour_offset
    ) -> dict[str, tf.Tensor]:
        usable = tf.reduce_all(tf.math.is_finite(neighbours), axis=-1, keepdims=True)
        valid = tf.cast(usable & (neighbour_gap <= 0.5), tf.float32)
        safe = tf.where(tf.math.is_finite(neighbours), neighbours, 0.0)
        z = normalise(safe, self.mean, self.std, self.transforms) * valid
        return self._serve(reflectance, gap, context_channels(z, valid, neighbour_offset))

    def _serve(self, reflectance: tf.Tensor, gap: tf.Tensor, context=None) -> dict[str, tf.Tensor]:
        known = tf.cast(
            tf.reduce_all(tf.math.is_finite(reflectance), axis=-1, keepdims=True), tf.float32
        )
        to_fill = gap > 0.5
        outside = 1.0 - tf.cast(to_fill, tf.float32)
        observed = known * outside
        invalid = (1.0 - known) * outside  # land and flagged pixels: no value, no gap
        safe = tf.where(tf.math.is_finite(reflectance), reflectance, 0.0)
        z = normalise(safe, self.mean, self.std, self.transforms) * observed
        inputs = [z, 1.0 - observed, invalid] + ([] if context is None else [context])
        stages, log_variance = split_outputs(self.generator(inputs, training=False))
        filled = composite(stages[-1], z, 1.0 - observed)
        physical = denormalise(tf.cast(filled, tf.float32), self.mean, self.std, self.transforms)
        # sigma in normalised units -> the product's units: times std, and for a log10 band
        # times d(10^y)/dy = ln(10) * value (to first order).
        spread = sigma(log_variance) * self.std
        log10 = is_log10(self.transforms)
        if all(log10):
            spread *= tf.math.log(10.0) * physical
        elif any(log10):
            spread *= tf.where(tf.constant(log10), tf.math.log(10.0) * physical, 1.0)
        return {
            OUTPUT_FILLED: tf.where(to_fill, physical, reflectance),
            OUTPUT_SIGMA: tf.where(to_fill, spread, 0.0),
        }


def export_model(
    path: str,
    generator: keras.Model,
    discriminator: keras.Model | None,
    mean,
    std,
    transforms: Sequence[str],
    metadata: dict,
) -> None:
    """Save the serving SavedModel at `path`, with Keras weights for warm starts; `transforms`
    is each band's (`components.transforms`); the temporal window, when the generator has a
    `context` input, follows from its channels."""
    bands = int(generator.inputs[0].shape[-1])
    window = 0
    if len(generator.inputs) > 3:
        window = int(generator.inputs[3].shape[-1]) // context_size(bands, 1)
    module = InpaintingModule(generator, mean, std, transforms, bands, window)
    tf.saved_model.save(module, path, signatures={SIGNATURE: module.serve})
    weights = os.path.join(path, WEIGHTS_DIR)
    tf.io.gfile.makedirs(weights)
    save_weights(generator, os.path.join(weights, GENERATOR_WEIGHTS))
    if discriminator is not None:
        save_weights(discriminator, os.path.join(weights, DISCRIMINATOR_WEIGHTS))
    stride = STRIDE_UNET if metadata.get("kind") == "unet" else STRIDE_CMUNET
    with tf.io.gfile.GFile(os.path.join(path, MODEL_DESCRIPTION), "w") as f:
        f.write(json.dumps({**metadata, "stride": stride, "bands": bands,
                            "transforms": list(transforms), "temporal_window": window,
                            "inputs": signature_inputs(window),
                            "outputs": [OUTPUT_FILLED, OUTPUT_SIGMA]}, indent=2))  # fmt: skip


def save_weights(model: keras.Model, path: str) -> None:
    """Keras weights to any tf.io.gfile path (gs:// included), through a local file."""
    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, os.path.basename(path))
        model.save_weights(local)
        tf.io.gfile.copy(local, path, overwrite=True)


def load_weights(model: keras.Model, path: str) -> None:
    """Keras weights from any tf.io.gfile path, through a local file."""
    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, os.path.basename(path))
        tf.io.gfile.copy(path, local)
        model.load_weights(local)


def load_serving(path: str):
    """The serving function of an exported model: f(reflectance=..., gap=...) -> {"filled",
    "sigma"}, with f(..., neighbours=..., neighbour_gap=..., neighbour_offset=...) for a model
    with a temporal window."""
    return tf.saved_model.load(path).signatures[SIGNATURE]
