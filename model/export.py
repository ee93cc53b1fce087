"""The serving SavedModel: raw reflectance tiles and a gap mask in, filled tiles out.

Normalisation is inside the graph: the per-band statistics come from the Transform graph (its
analyzers' results), so callers pass reflectance in the product's own units. Observed pixels
(gap = 0) are passed through bit-exact, NaN included; gap pixels are filled. Tiles may be any
size that is a multiple of the network's stride.
"""

from __future__ import annotations

import json
import os
import tempfile

import keras
import tensorflow as tf

from components.transform.normalise import denormalise, normalise
from model.networks import STRIDE_CMUNET, STRIDE_UNET

SIGNATURE = "serving_default"
INPUT_REFLECTANCE, INPUT_GAP, OUTPUT_FILLED = "reflectance", "gap", "filled"
WEIGHTS_DIR = "weights"
GENERATOR_WEIGHTS, DISCRIMINATOR_WEIGHTS = "generator.weights.h5", "discriminator.weights.h5"
METADATA = "s3inpaint_model.json"


class InpaintingModule(tf.Module):
    """Holds the generator and the normalisation; `serve` is the serving signature."""

    def __init__(self, generator: keras.Model, mean, std, log: bool, bands: int) -> None:
        super().__init__()
        self.generator = generator
        self.mean = tf.Variable(tf.constant(mean, tf.float32), trainable=False, name="band_mean")
        self.std = tf.Variable(tf.constant(std, tf.float32), trainable=False, name="band_std")
        self.log = log
        self.serve = tf.function(
            self._serve,
            input_signature=[
                tf.TensorSpec([None, None, None, bands], tf.float32, name=INPUT_REFLECTANCE),
                tf.TensorSpec([None, None, None, 1], tf.float32, name=INPUT_GAP),
            ],
        )

    def _serve(self, reflectance: tf.Tensor, gap: tf.Tensor) -> dict[str, tf.Tensor]:
        known = tf.reduce_all(tf.math.is_finite(reflectance), axis=-1, keepdims=True)
        observed = tf.cast(known, tf.float32) * (1.0 - tf.cast(gap > 0.5, tf.float32))
        safe = tf.where(tf.math.is_finite(reflectance), reflectance, 0.0)
        z = normalise(safe, self.mean, self.std, self.log) * observed
        outputs = self.generator([z, 1.0 - observed], training=False)
        filled = outputs[-1] if isinstance(outputs, list | tuple) else outputs
        physical = denormalise(tf.cast(filled, tf.float32), self.mean, self.std, self.log)
        return {OUTPUT_FILLED: tf.where(gap > 0.5, physical, reflectance)}


def export_model(
    path: str,
    generator: keras.Model,
    discriminator: keras.Model | None,
    mean,
    std,
    log: bool,
    metadata: dict,
) -> None:
    """Save the serving SavedModel at `path`, with Keras weights for warm starts."""
    bands = int(generator.inputs[0].shape[-1])
    module = InpaintingModule(generator, mean, std, log, bands)
    tf.saved_model.save(module, path, signatures={SIGNATURE: module.serve})
    weights = os.path.join(path, WEIGHTS_DIR)
    tf.io.gfile.makedirs(weights)
    save_weights(generator, os.path.join(weights, GENERATOR_WEIGHTS))
    if discriminator is not None:
        save_weights(discriminator, os.path.join(weights, DISCRIMINATOR_WEIGHTS))
    stride = STRIDE_UNET if metadata.get("kind") == "unet" else STRIDE_CMUNET
    with tf.io.gfile.GFile(os.path.join(path, METADATA), "w") as f:
        f.write(json.dumps({**metadata, "stride": stride, "bands": bands}, indent=2))


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
    """The serving function of an exported model: f(reflectance=..., gap=...) -> {"filled"}."""
    return tf.saved_model.load(path).signatures[SIGNATURE]
