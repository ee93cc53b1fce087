"""Layers and networks of the inpainting model: shapes, gating, compositing, serialisation."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # TensorFlow

BANDS, WIDTH = 4, 4


def inputs(size: int, seed: int = 0, batch: int = 2) -> tuple[np.ndarray, ...]:
    """Normalised reflectance with gaps zeroed, a random gap, and invalid pixels (the first
    row, no value: also to be filled)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, size, size, BANDS)).astype(np.float32)
    invalid = np.zeros((batch, size, size, 1), np.float32)
    invalid[:, 0] = 1.0
    gap = np.maximum((rng.random((batch, size, size, 1)) < 0.4).astype(np.float32), invalid)
    return x * (1.0 - gap), gap, invalid


def as_list(outputs) -> list:
    return list(outputs) if isinstance(outputs, list | tuple) else [outputs]


def stages(outputs) -> list:
    """The fills of a generator's outputs (the last output is the log-variance)."""
    return as_list(outputs)[:-1]


@pytest.fixture(scope="module")
def cmunet():
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    from model.networks import build_cmunet_generator

    return build_cmunet_generator(BANDS, WIDTH)


@pytest.fixture(scope="module")
def unet():
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    from model.networks import build_unet_generator

    return build_unet_generator(BANDS, WIDTH)


def test_cmunet_gives_coarse_and_refined_outputs_of_the_input_shape(cmunet) -> None:
    coarse, refined, log_variance = cmunet([*inputs(32)])
    assert log_variance.shape == (2, 32, 32, BANDS) and log_variance.dtype == "float32"
    np.testing.assert_array_equal(log_variance.numpy(), 0.0)  # sigma = 1 band spread at first
    assert coarse.shape == refined.shape == (2, 32, 32, BANDS)
    assert coarse.dtype == refined.dtype == "float32"
    assert np.all(np.isfinite(refined.numpy()))


@pytest.mark.parametrize("size", [32, 48])
def test_unet_output_shape(unet, size: int) -> None:
    filled, log_variance = unet([*inputs(size)])
    assert filled.shape == log_variance.shape == (2, size, size, BANDS)


@pytest.mark.parametrize("spectral_norm", [True, False])
def test_discriminator_gives_one_logit_per_patch(spectral_norm: bool) -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    from model.networks import build_patch_discriminator

    d = build_patch_discriminator(BANDS, WIDTH, spectral_norm=spectral_norm)
    x, gap, _ = inputs(32)
    for training in (False, True):
        logits = d([x, gap], training=training)
        assert logits.shape == (2, 2, 2, 1) and logits.dtype == "float32"
    assert d([*inputs(48)[:2]]).shape == (2, 3, 3, 1)
    wrapped = [layer for layer in d.layers if "SpectralNormalization" in type(layer).__name__]
    assert len(wrapped) == (5 if spectral_norm else 0)


@pytest.mark.parametrize("kind", ["cmunet", "unet"])
def test_untrained_generators_return_the_classical_fill_bit_for_bit(kind: str) -> None:
    """A residual whose last layer starts at zero: untrained, the model is the classical fill."""
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import keras

    from model.classical import classical_fill
    from model.networks import build_cmunet_generator, build_unet_generator

    build = build_cmunet_generator if kind == "cmunet" else build_unet_generator
    model = build(BANDS, WIDTH, iterations=30)
    x, gap, invalid = inputs(32, seed=3)
    base = classical_fill(x, 1.0 - gap, 30).numpy()
    observed = gap[..., 0] == 0
    np.testing.assert_array_equal(base[observed], x[observed])
    assert not np.allclose(base[~observed], 0.0)  # gaps are filled, not left zero
    for output in stages(model([x, gap, invalid])):
        np.testing.assert_array_equal(output.numpy(), base)
    # The correction is live: weights in the last layers move the output off the base.
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if layer.name.endswith("out"):
            layer.set_weights([rng.normal(size=w.shape) * 0.1 for w in layer.get_weights()])
    moved = stages(model([x, gap, invalid]))[-1].numpy()
    assert np.abs(moved - base).mean() > 1e-3
    assert keras.ops.all(keras.ops.isfinite(moved))


def test_composite_is_bit_exact_outside_the_gap_and_takes_the_prediction_inside() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    from model.layers import composite

    rng = np.random.default_rng(1)
    pred, observed = rng.normal(size=(2, 2, 8, 8, 3)).astype(np.float32)
    gap = (rng.random((2, 8, 8, 1)) < 0.5).astype(np.float32)
    out = composite(pred, observed, gap).numpy()
    inside = np.broadcast_to(gap == 1, out.shape)
    np.testing.assert_array_equal(out[~inside], observed[~inside])
    np.testing.assert_array_equal(out[inside], pred[inside])


def test_composite_casts_a_half_precision_prediction_to_the_observed_dtype() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    from model.layers import composite

    observed = np.full((1, 2, 2, 1), 0.1, np.float32)  # not representable in float16
    gap = np.array([1.0, 0.0, 0.0, 1.0], np.float32).reshape(1, 2, 2, 1)
    out = composite(np.ones((1, 2, 2, 1), np.float16), observed, gap).numpy()
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.ravel(), np.float32([1.0, 0.1, 0.1, 1.0]))


def test_gated_conv_is_activation_of_features_times_sigmoid_of_gate() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import tensorflow as tf

    from model.layers import GatedConv2D

    x = np.random.default_rng(2).normal(size=(1, 8, 8, 3)).astype(np.float32)
    for activation, act in (("elu", tf.nn.elu), (None, tf.identity)):
        layer = GatedConv2D(5, 3, dilation_rate=2, activation=activation)
        out = layer(x).numpy()
        kernel, bias = (w.numpy() for w in layer.conv.weights)
        assert kernel.shape == (3, 3, 3, 10)
        conv = tf.nn.conv2d(x, kernel, 1, "SAME", dilations=2) + bias
        expected = act(conv[..., :5]) * tf.sigmoid(conv[..., 5:])
        np.testing.assert_allclose(out, expected.numpy(), rtol=1e-5, atol=1e-6)


def test_strided_gated_conv_and_gated_deconv_shapes() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    from model.layers import GatedConv2D, GatedDeconv2D

    x = np.zeros((2, 16, 16, 3), np.float32)
    down = GatedConv2D(6, strides=2)
    assert down(x).shape == (2, 8, 8, 6)
    assert down.compute_output_shape((None, 16, 16, 3)) == (None, 8, 8, 6)
    up = GatedDeconv2D(5)
    assert up(x).shape == (2, 32, 32, 5)
    assert up.compute_output_shape((None, 16, 16, 3)) == (None, 32, 32, 5)


def test_self_attention_starts_as_identity_and_mixes_positions_once_gamma_is_set() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    from model.layers import SelfAttention

    x = np.random.default_rng(4).normal(size=(2, 4, 6, 16)).astype(np.float32)
    known = np.ones((2, 4, 6, 1), np.float32)
    layer = SelfAttention()
    np.testing.assert_array_equal(layer(x, known).numpy(), x)
    assert float(layer.gamma.numpy()) == 0.0
    assert layer.query.filters == layer.key.filters == 2 and layer.value.filters == 16
    layer.gamma.assign(1.0)
    out = layer(x, known).numpy()
    assert out.shape == x.shape and not np.allclose(out, x)
    # Attention mixes positions: changing one pixel changes the output everywhere.
    moved = x.copy()
    moved[:, 0, 0] += 5.0
    changed = np.abs(layer(moved, known).numpy() - out).max(axis=-1)
    assert np.all(changed[:, 1:, 1:] > 0)


def test_attention_takes_keys_and_values_from_known_positions_only() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    from model.layers import SelfAttention

    rng = np.random.default_rng(8)
    x = rng.normal(size=(1, 4, 6, 16)).astype(np.float32)
    known = np.ones((1, 4, 6, 1), np.float32)
    known[:, 1:3, 2:5] = 0.0  # a gap of 6 positions
    layer = SelfAttention()
    layer(x, known)
    layer.gamma.assign(1.0)
    out = layer(x, known).numpy()
    moved = x.copy()
    moved[:, 1, 3] += 5.0  # a gap feature changes: no other position may notice
    changed = np.abs(layer(moved, known).numpy() - out).max(axis=-1)[0]
    assert changed[1, 3] > 0 and np.count_nonzero(changed) == 1
    moved = x.copy()
    moved[:, 0, 0] += 5.0  # a known feature is context for every position
    assert np.all(np.abs(layer(moved, known).numpy() - out).max(axis=-1) > 0)
    # With nothing known, attention falls back to every position rather than to nothing.
    assert np.all(np.isfinite(layer(x, np.zeros_like(known)).numpy()))


def layer_cases():
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    from model.layers import (
        ClassicalFill,
        Composite,
        GatedConv2D,
        GatedDeconv2D,
        KnownShare,
        NeighbourAnomaly,
        Residual,
        SelfAttention,
        StrideCheck,
    )

    rng = np.random.default_rng(5)
    x = rng.normal(size=(1, 16, 16, 8)).astype(np.float32)
    mask = (rng.random((1, 16, 16, 1)) < 0.3).astype(np.float32)
    return [
        (GatedConv2D(6, 5, strides=2, activation=None, name="g"), [x]),
        (GatedConv2D(6, 3, dilation_rate=4, activation="relu", kernel_initializer="zeros"), [x]),
        (GatedDeconv2D(3, 5, activation="elu"), [x]),
        (SelfAttention(name="attention"), [x, 1.0 - mask]),
        (StrideCheck(8), [x]),
        (Composite(), [x, x + 1.0, mask]),
        (ClassicalFill(7), [x, mask]),
        (Residual(), [x, x]),
        (KnownShare(4), [mask]),
        (NeighbourAnomaly(2), [x, x[..., :2]]),  # two neighbours of two bands
    ]


def test_custom_layers_round_trip_through_their_config() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import keras

    for layer, x in layer_cases():
        out = layer(*x)
        if hasattr(layer, "gamma"):
            layer.gamma.assign(0.5)
            out = layer(*x)
        config = keras.saving.serialize_keras_object(layer)
        clone = keras.saving.deserialize_keras_object(config)
        assert type(clone) is type(layer) and clone.get_config() == layer.get_config()
        clone(*x)
        clone.set_weights(layer.get_weights())
        np.testing.assert_array_equal(clone(*x).numpy(), out.numpy())


def test_neighbours_are_read_as_their_difference_from_the_classical_fill() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import tensorflow as tf

    from model.layers import NeighbourAnomaly
    from model.temporal import context_channels

    rng = np.random.default_rng(8)
    valid = (rng.random((1, 4, 8, 8, 1)) < 0.6).astype(np.float32)  # 2k = 4 neighbours
    neighbours = rng.normal(size=(1, 4, 8, 8, 3)).astype(np.float32) * valid
    offsets = np.array([[-2.0, -1.0, 1.0, 2.0]], np.float32)
    base = rng.normal(size=(1, 8, 8, 3)).astype(np.float32)
    context = context_channels(tf.constant(neighbours), tf.constant(valid), tf.constant(offsets))

    read = NeighbourAnomaly(3)(context, tf.constant(base)).numpy()

    expected = context_channels(tf.constant((neighbours - base[:, None]) * valid),
                                tf.constant(valid), tf.constant(offsets)).numpy()  # fmt: skip
    np.testing.assert_allclose(read, expected, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(read[..., 12:], context.numpy()[..., 12:])  # validity, offsets


@pytest.mark.parametrize("kind", ["cmunet", "unet"])
def test_generators_round_trip_through_keras_files(kind: str, cmunet, unet, tmp_path) -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import keras

    model = cmunet if kind == "cmunet" else unet
    model.save(tmp_path / "g.keras")
    loaded = keras.models.load_model(tmp_path / "g.keras")
    x = [*inputs(16, seed=6)]
    for a, b in zip(as_list(model(x)), as_list(loaded(x)), strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize(("kind", "stride"), [("cmunet", 8), ("unet", 16)])
def test_sizes_that_are_not_a_multiple_of_the_stride_are_an_error(
    kind: str, stride: int, cmunet, unet
) -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import tensorflow as tf

    from model.networks import STRIDE_CMUNET, STRIDE_UNET

    assert {"cmunet": STRIDE_CMUNET, "unet": STRIDE_UNET}[kind] == stride
    model = cmunet if kind == "cmunet" else unet
    x = inputs(stride + 4)
    with pytest.raises(ValueError, match=f"multiples of {stride}, got {stride + 4} x"):
        model([*x])
    # Shapes known only at run time (a serving signature): a graph assertion.
    serve = tf.function(
        lambda x, gap, invalid: model([x, gap, invalid]),
        input_signature=[
            tf.TensorSpec([None, None, None, BANDS], tf.float32),
            tf.TensorSpec([None, None, None, 1], tf.float32),
            tf.TensorSpec([None, None, None, 1], tf.float32),
        ],
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match=f"multiples of {stride}"):
        serve(*x)
    x = inputs(2 * stride)
    assert stages(serve(*x))[-1].shape == (2, 2 * stride, 2 * stride, BANDS)


def test_unet_stride_follows_its_depth() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    from model.networks import build_unet_generator

    model = build_unet_generator(BANDS, WIDTH, depth=2)
    with pytest.raises(ValueError, match="multiples of 4"):
        model([*inputs(10)])
    assert stages(model([*inputs(12)]))[-1].shape == (2, 12, 12, BANDS)
    with pytest.raises(ValueError, match="depth 0"):
        build_unet_generator(BANDS, WIDTH, depth=0)


def test_mixed_precision_generators_output_float32_and_composite_exactly() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import keras

    from model.networks import build_cmunet_generator

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = build_cmunet_generator(BANDS, WIDTH)
    finally:
        keras.config.set_dtype_policy(previous)
    x, gap, invalid = inputs(16, seed=7)
    observed = gap[..., 0] == 0
    for output in stages(model([x, gap, invalid])):
        assert output.dtype == "float32"
        np.testing.assert_array_equal(output.numpy()[observed], x[observed])
