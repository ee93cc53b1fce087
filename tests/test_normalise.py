"""The normalisation Transform applies and its inverse, which the model uses."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # imports TensorFlow


@pytest.mark.parametrize("log", [False, True])
def test_denormalise_inverts_normalise(log: bool) -> None:
    import tensorflow as tf

    from components.transform.normalise import LOG_FLOOR, denormalise, normalise

    rng = np.random.default_rng(1)
    x = rng.uniform(LOG_FLOOR * 2, 0.1, (2, 4, 4, 3)).astype(np.float32)
    mean = tf.constant([0.01, -2.0, 0.5])
    std = tf.constant([0.02, 0.5, 1.5])
    back = denormalise(normalise(tf.constant(x), mean, std, log), mean, std, log)
    np.testing.assert_allclose(back.numpy(), x, rtol=1e-4, atol=1e-6)


def test_log_clamps_below_the_floor() -> None:
    import tensorflow as tf

    from components.transform.normalise import LOG_FLOOR, to_working

    out = to_working(tf.constant([-0.01, 0.0, LOG_FLOOR, 1.0]), log=True).numpy()
    np.testing.assert_allclose(out, [-4, -4, -4, 0], atol=1e-6)
