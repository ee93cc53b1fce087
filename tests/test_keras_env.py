"""Keras 3 holds at every entry point, even after tensorflow_transform is imported."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CHECK = (
    "from pipelines.environment import use_keras_3; use_keras_3();"
    "import tensorflow_transform, tensorflow as tf, keras, os;"
    "print(keras.__version__.split('.')[0], tf.keras.__name__.split('.')[0],"
    " os.environ['TF_USE_LEGACY_KERAS'])"
)


@pytest.mark.slow
def test_tensorflow_transform_does_not_switch_to_keras_2() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    out = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split()[-3:] == ["3", "keras", "0"]
