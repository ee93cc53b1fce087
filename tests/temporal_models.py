"""A tiny temporal generator for tests that need a real temporal model without training one."""

from __future__ import annotations

import numpy as np

from model.config import ModelConfig


def temporal_unet(corrected: bool, window: int = 1):
    """A tiny temporal UNet (one band, `window` scenes each side); with `corrected`, its zero-
    initialised output layer is given random weights, so the network's correction (and so
    the neighbours) shape the fill."""
    # Deferred: Keras and TensorFlow take seconds to import, and the test modules that import
    # this one are collected without them.
    import keras

    from model.gan import build_generator

    keras.utils.set_random_seed(3)
    generator = build_generator(ModelConfig(kind="unet", width=4, classical_iterations=50), 1,
                                window)  # fmt: skip
    if corrected:
        layer = generator.get_layer("out")
        rng = np.random.default_rng(4)
        layer.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32)
                           for w in layer.get_weights()])  # fmt: skip
    return generator
