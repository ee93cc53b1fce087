"""Losses of the inpainting model: hand-computed values, nested tapes, empty masks."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # TensorFlow

# One 2x2 image of 2 bands; the target is zero, so the error is |pred|.
PRED = np.array([[[[1.0, 3.0], [2.0, -2.0]], [[5.0, 5.0], [0.0, 4.0]]]], np.float32)
TARGET = np.zeros_like(PRED)


def mask(*rows) -> np.ndarray:
    return np.array(rows, np.float32)[None, ..., None]


def test_masked_l1_averages_over_bands_and_weighted_pixels() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    from model.losses import masked_l1

    # Pixels (0, 0) and (1, 1): (1 + 3 + 0 + 4) / (2 pixels * 2 bands).
    assert float(masked_l1(PRED, TARGET, mask([1, 0], [0, 1]))) == pytest.approx(2.0)
    assert float(masked_l1(PRED, TARGET, mask([1, 1], [1, 1]))) == pytest.approx(22 / 8)


def test_reconstruction_loss_weighs_the_gap_and_the_observed_valid_pixels() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    from model.losses import reconstruction_loss

    gap, valid = mask([1, 1], [0, 0]), mask([1, 0], [1, 1])
    # Gap with truth: (0, 0) -> (1 + 3) / 2 = 2. Observed valid: (1, 0), (1, 1) -> 14 / 4 = 3.5.
    loss = reconstruction_loss(PRED, TARGET, gap, valid, gap_weight=2.0, valid_weight=0.5)
    assert float(loss) == pytest.approx(2 * 2.0 + 0.5 * 3.5)
    assert float(reconstruction_loss(PRED, TARGET, gap, valid)) == pytest.approx(5.5)


def test_reconstruction_per_example_scores_each_example_on_its_own_pixels() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    from model.losses import reconstruction_loss, reconstruction_per_example

    pred = np.concatenate([PRED, np.ones_like(PRED)])
    target = np.zeros_like(pred)
    gap = np.concatenate([mask([1, 1], [0, 0]), mask([1, 0], [0, 0])])
    valid = np.ones_like(gap)
    per_example = reconstruction_per_example(pred, target, gap, valid, valid_weight=0.5).numpy()
    # Example 0: gap (1 + 3 + 2 + 2) / 4 = 2, observed 14 / 4 = 3.5; example 1: all errors 1.
    np.testing.assert_allclose(per_example, [2.0 + 0.5 * 3.5, 1.0 + 0.5 * 1.0], rtol=1e-6)
    # The batch loss pools pixels: gap (8 + 2) / 6, observed (14 + 6) / 10.
    pooled = reconstruction_loss(pred, target, gap, valid, valid_weight=0.5)
    assert float(pooled) == pytest.approx(10 / 6 + 0.5 * 2.0)


def test_empty_masks_give_zero_and_finite_gradients() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import tensorflow as tf

    from model.losses import masked_l1, reconstruction_loss, reconstruction_per_example

    pred = tf.Variable(PRED)
    empty = mask([0, 0], [0, 0])
    with tf.GradientTape() as tape:
        losses = [
            masked_l1(pred, TARGET, empty),
            reconstruction_loss(pred, TARGET, mask([1, 1], [1, 1]), empty),
            tf.reduce_sum(reconstruction_per_example(pred, TARGET, empty, empty)),
        ]
        total = tf.add_n(losses)
    assert [float(v) for v in losses] == [0.0, 0.0, 0.0]
    grad = tape.gradient(total, pred).numpy()
    assert np.all(np.isfinite(grad)) and not grad.any()


REAL = np.array([2.0, 0.5, -1.0], np.float32)
FAKE = np.array([-2.0, 0.0, 1.0], np.float32)


def softplus(x: np.ndarray) -> np.ndarray:
    return np.log1p(np.exp(x.astype(np.float64)))


def test_adversarial_losses_at_known_logits() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    from model import losses

    # relu(1 - real) = 0, 0.5, 2; relu(1 + fake) = 0, 1, 2.
    assert float(losses.hinge_d_loss(REAL, FAKE)) == pytest.approx(2.5 / 3 + 1.0)
    assert float(losses.hinge_g_loss(FAKE)) == pytest.approx(1 / 3)
    ns_d = softplus(-REAL).mean() + softplus(FAKE).mean()
    assert float(losses.ns_d_loss(REAL, FAKE)) == pytest.approx(ns_d, rel=1e-6)
    assert float(losses.ns_g_loss(FAKE)) == pytest.approx(softplus(-FAKE).mean(), rel=1e-6)
    zero = np.zeros((2, 3, 3, 1), np.float32)  # patch maps average over every logit
    assert float(losses.ns_d_loss(zero, zero)) == pytest.approx(2 * np.log(2))
    assert float(losses.hinge_d_loss(zero, zero)) == pytest.approx(2.0)


def test_adversarial_dispatchers() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    from model import losses

    assert float(losses.d_loss("hinge", REAL, FAKE)) == float(losses.hinge_d_loss(REAL, FAKE))
    assert float(losses.g_loss("hinge", FAKE)) == float(losses.hinge_g_loss(FAKE))
    assert float(losses.d_loss("nonsaturating", REAL, FAKE)) == float(losses.ns_d_loss(REAL, FAKE))
    assert float(losses.g_loss("nonsaturating", FAKE)) == float(losses.ns_g_loss(FAKE))
    with pytest.raises(ValueError, match="'wasserstein' is not one of"):
        losses.d_loss("wasserstein", REAL, FAKE)
    with pytest.raises(ValueError, match="'lsgan' is not one of"):
        losses.g_loss("lsgan", FAKE)


BANDS, SIZE = 3, 16


def linear_discriminator(kernel: np.ndarray):
    """D(image, gap) = a 1x1 convolution of [image, gap] with `kernel`, no bias."""
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import keras

    image, gap = keras.Input((None, None, BANDS)), keras.Input((None, None, 1))
    conv = keras.layers.Conv2D(1, 1, use_bias=False)
    model = keras.Model([image, gap], conv(keras.layers.Concatenate()([image, gap])))
    conv.kernel.assign(kernel.reshape(1, 1, BANDS + 1, 1))
    return model


def images(seed: int, batch: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    image = rng.normal(size=(batch, SIZE, SIZE, BANDS)).astype(np.float32)
    gap = (rng.random((batch, SIZE, SIZE, 1)) < 0.3).astype(np.float32)
    return image, gap


def penalty(kind: str, discriminator, seed: int = 0):
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    from model import losses

    real, gap = images(seed)
    if kind == "r1":
        return losses.r1_penalty(discriminator, real, gap)
    fake = images(seed + 1)[0]
    epsilon = np.random.default_rng(seed).random((2, 1, 1, 1)).astype(np.float32)
    return losses.wgan_gp_penalty(discriminator, real, fake, gap, epsilon)


def test_penalties_of_a_linear_discriminator_match_their_closed_forms() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import tensorflow as tf

    k = np.array([0.1, -0.2, 0.05, 3.0], np.float32)  # the gap channel's weight plays no part
    d = linear_discriminator(k)
    # d(sum of logits)/d image = k[:3] at every pixel: ||grad||^2 = SIZE^2 * |k[:3]|^2.
    squared = SIZE**2 * float(np.sum(k[:3] ** 2))
    norm = np.sqrt(squared)
    for kind, value, dk in (
        ("r1", squared, 2 * SIZE**2 * k[:3]),
        ("wgan_gp", (norm - 1) ** 2, 2 * (norm - 1) * SIZE**2 * k[:3] / norm),
    ):
        with tf.GradientTape() as outer:
            p = penalty(kind, d)
        assert float(p) == pytest.approx(value, rel=1e-5)
        grad = outer.gradient(p, d.trainable_variables[0]).numpy().ravel()
        np.testing.assert_allclose(grad, [*dk, 0.0], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kind", ["r1", "wgan_gp"])
@pytest.mark.parametrize("spectral_norm", [False, True])
def test_penalties_differentiate_through_nested_tapes_to_every_discriminator_weight(
    kind: str, spectral_norm: bool
) -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import keras
    import tensorflow as tf

    from model.networks import build_patch_discriminator

    keras.utils.set_random_seed(0)
    d = build_patch_discriminator(BANDS, 4, spectral_norm=spectral_norm)
    d([*images(0)], training=True)  # spectral norm: normalise the kernels once

    @tf.function
    def step():
        with tf.GradientTape() as outer:
            p = penalty(kind, d)
        return p, outer.gradient(p, d.trainable_variables)

    p, grads = step()
    assert np.isfinite(float(p)) and float(p) > 0
    for variable, grad in zip(d.trainable_variables, grads, strict=True):
        if variable.name == "bias":
            # A LeakyReLU network's input gradient is piecewise constant in the biases (and
            # does not depend on the last one at all).
            assert grad is None or np.all(np.isfinite(grad.numpy())), variable.path
            continue
        grad = grad.numpy()
        assert np.all(np.isfinite(grad)) and np.any(grad != 0), variable.path


def test_wgan_gp_is_finite_where_the_input_gradient_vanishes() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import tensorflow as tf

    d = linear_discriminator(np.zeros(BANDS + 1, np.float32))
    with tf.GradientTape() as outer:
        p = penalty("wgan_gp", d)
    assert float(p) == pytest.approx(1.0, abs=1e-5)
    assert np.all(np.isfinite(outer.gradient(p, d.trainable_variables[0]).numpy()))


def test_spectral_regularisation_converges_to_the_largest_singular_values() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import keras
    import tensorflow as tf

    from model.losses import power_vectors, spectral_regularisation
    from model.networks import build_patch_discriminator

    keras.utils.set_random_seed(1)
    d = build_patch_discriminator(BANDS, 4, spectral_norm=False)
    kernels = [w for w in d.trainable_weights if len(w.shape) == 4]
    assert len(kernels) == 5
    svds = [np.linalg.svd(k.numpy().reshape(-1, k.shape[-1])) for k in kernels]
    expected = sum(s[0] ** 2 for _, s, _ in svds)
    with tf.GradientTape() as tape:
        value = spectral_regularisation(d, iterations=200)
    assert float(value) == pytest.approx(expected, rel=1e-4)
    # d(sigma^2)/dW = 2 sigma u v^T for the top singular pair.
    grads = tape.gradient(value, kernels)
    for kernel, grad, (u, s, vt) in zip(kernels, grads, svds, strict=True):
        top = 2 * s[0] * np.outer(u[:, 0], vt[0]).reshape(kernel.shape)
        np.testing.assert_allclose(grad.numpy(), top, atol=1e-3 * np.abs(top).max())
    rough = float(spectral_regularisation(d))  # one iteration: a lower bound
    assert 0.5 * expected < rough <= expected * (1 + 1e-6)
    # Persistent vectors: one iteration per call, continued from the last, converges too.
    vectors = power_vectors(d, seed=2)
    for _ in range(200):
        tracked = float(spectral_regularisation(d, vectors=vectors))
    assert tracked == pytest.approx(expected, rel=1e-4)
    with pytest.raises(ValueError, match="iterations 0"):
        spectral_regularisation(d, iterations=0)


def test_crop_slices_with_tensor_offsets_and_differentiates_in_nested_tapes() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import tensorflow as tf

    from model.layers import crop

    x = np.arange(2 * 6 * 7 * 3, dtype=np.float32).reshape(2, 6, 7, 3)
    np.testing.assert_array_equal(crop(x, 1, 2, 4).numpy(), x[:, 1:5, 2:6])
    w = tf.Variable(2.0)

    @tf.function
    def nested(top, left):
        source = tf.constant(x)
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                inner.watch(source)
                window = crop(w * source, top, left, 3)
                energy = tf.reduce_sum(tf.square(window))
            # d energy / d source = 2 w^2 source inside the window, 0 outside.
            grad = inner.gradient(energy, source)
            total = tf.reduce_sum(grad)
        return window, grad, outer.gradient(total, w)

    window, grad, dw = nested(tf.constant(2), tf.constant(3))
    assert window.shape == (2, 3, 3, 3)
    np.testing.assert_array_equal(window.numpy(), 2 * x[:, 2:5, 3:6])
    expected = np.zeros_like(x)
    expected[:, 2:5, 3:6] = 2 * 4 * x[:, 2:5, 3:6]
    np.testing.assert_allclose(grad.numpy(), expected, rtol=1e-6)
    # total = 2 w^2 * sum(window of x): d/dw = 4 w * sum.
    assert float(dw) == pytest.approx(4 * 2.0 * x[:, 2:5, 3:6].sum(), rel=1e-6)
