"""Process environment every s3inpaint entry point sets before TensorFlow is imported."""

from __future__ import annotations

import os

# Importing tensorflow_transform sets TF_USE_LEGACY_KERAS=1 unless it is set, which would turn
# tf.keras into Keras 2 in this process and its children; s3inpaint uses Keras 3 throughout.
KERAS_ENV = {"TF_USE_LEGACY_KERAS": "0"}


def use_keras_3() -> None:
    """Pin Keras 3 for this process and every child it starts (Beam workers included)."""
    os.environ.update(KERAS_ENV)
