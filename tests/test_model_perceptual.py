"""VGG16-BN feature extractor, torchvision-layout weight loading and the perceptual/style losses."""

from __future__ import annotations

import re
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from model.perceptual import (
    DEFAULT_LAYERS,
    IMAGENET_MEAN,
    IMAGENET_STD,
    PerceptualLoss,
    VggWeightsError,
    VggWeightsNotFoundError,
    build_vgg16_bn,
    load_vgg16_bn_weights,
    true_colour,
)

pytestmark = pytest.mark.slow  # TensorFlow

# torchvision's vgg.py cfgs["D"]: conv widths, "M" for a max-pool; each conv is followed by a
# BatchNorm2d and a ReLU in vgg16_bn, so a conv at index i has its BN at i + 1.
VGG16_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
BANDS = (7, 5, 3)
SCALE = 0.2


def write_random_weights(path: Path, seed: int = 0) -> Path:
    """Write a complete torchvision `vgg16_bn` features state_dict of random values as npz."""
    rng = np.random.default_rng(seed)
    state: dict[str, np.ndarray] = {}
    index, channels = 0, 3
    for item in VGG16_CFG:
        if item == "M":
            index += 1
            continue
        he = np.sqrt(2.0 / (channels * 9))
        state[f"features.{index}.weight"] = rng.normal(0, he, (item, channels, 3, 3))
        state[f"features.{index}.bias"] = rng.normal(0, 0.01, item)
        bn = f"features.{index + 1}"
        state[f"{bn}.weight"] = rng.uniform(0.5, 1.5, item)
        state[f"{bn}.bias"] = rng.normal(0, 0.1, item)
        state[f"{bn}.running_mean"] = rng.normal(0, 0.1, item)
        state[f"{bn}.running_var"] = rng.uniform(0.5, 2.0, item)
        state[f"{bn}.num_batches_tracked"] = np.array(1000, np.int64)
        index, channels = index + 3, item
    state["classifier.6.bias"] = rng.normal(0, 0.01, 1000)  # not features: ignored
    state = {k: v.astype(np.float32) if v.dtype == np.float64 else v for k, v in state.items()}
    np.savez(path, **state)
    return path


def expected_names() -> list[str]:
    names = []
    block, conv = 1, 0
    for item in VGG16_CFG:
        if item == "M":
            names.append(f"block{block}_pool")
            block, conv = block + 1, 0
        else:
            conv += 1
            names += [f"block{block}_{kind}{conv}" for kind in ("conv", "bn", "relu")]
    return names


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_random_weights(tmp_path_factory.mktemp("vgg") / "vgg16_bn.npz", seed=3)


@pytest.fixture(scope="module")
def loss(weights: Path) -> PerceptualLoss:
    return PerceptualLoss.from_file(weights, band_indices=BANDS, scale=SCALE)


def reflectance(seed: int, shape=(2, 32, 32, 8)) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.01, 0.19, shape).astype(np.float32)


def without(path: Path, source: Path, key: str, replacement: np.ndarray | None = None) -> Path:
    with np.load(source) as data:
        state = {k: data[k] for k in data.files if k != key}
    if replacement is not None:
        state[key] = replacement
    np.savez(path, **state)
    return path


def test_architecture_names_count_and_not_trainable():
    model = build_vgg16_bn(("block5_pool",))
    names = [layer.name for layer in model.layers[1:]]
    assert names == expected_names()
    assert len(model.layers) == 1 + 13 * 3 + 5
    assert sum(isinstance(layer, keras.layers.Conv2D) for layer in model.layers) == 13
    assert all(
        layer.epsilon == 1e-5
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    )
    assert model.trainable_weights == []
    assert model.count_params() == 14_714_688 + 4 * 4_224  # conv weights + BN (4 per channel)


def test_output_shapes_for_32x32():
    model = build_vgg16_bn((*DEFAULT_LAYERS, "block5_pool"))
    outputs = model(np.zeros((2, 32, 32, 3), np.float32))
    shapes = [tuple(o.shape) for o in outputs]
    assert shapes == [
        (2, 32, 32, 64),
        (2, 16, 16, 128),
        (2, 8, 8, 256),
        (2, 4, 4, 512),
        (2, 1, 1, 512),
    ]


def test_model_stops_at_deepest_named_layer():
    names = [layer.name for layer in build_vgg16_bn(DEFAULT_LAYERS).layers]
    assert names[-1] == "block4_relu3"
    assert "block4_pool" not in names


def test_unknown_or_no_layers_are_refused():
    with pytest.raises(ValueError, match="block6_relu1"):
        build_vgg16_bn(("block1_relu1", "block6_relu1"))
    with pytest.raises(ValueError, match="empty"):
        build_vgg16_bn(())


def test_loading_sets_weights_exactly(weights: Path):
    model = build_vgg16_bn(DEFAULT_LAYERS)
    load_vgg16_bn_weights(model, weights)
    with np.load(weights) as data:
        kernel, bias = model.get_layer("block3_conv2").get_weights()  # features.17
        np.testing.assert_array_equal(kernel, data["features.17.weight"].transpose(2, 3, 1, 0))
        np.testing.assert_array_equal(bias, data["features.17.bias"])
        gamma, beta, mean, var = model.get_layer("block2_bn1").get_weights()  # features.8
        np.testing.assert_array_equal(gamma, data["features.8.weight"])
        np.testing.assert_array_equal(beta, data["features.8.bias"])
        np.testing.assert_array_equal(mean, data["features.8.running_mean"])
        np.testing.assert_array_equal(var, data["features.8.running_var"])


def test_first_layer_computes_what_pytorch_would(weights: Path):
    """conv (cross-correlation, zero padding 1) -> BN (eps 1e-5, running stats) -> ReLU."""
    model = build_vgg16_bn(("block1_relu1",))
    load_vgg16_bn_weights(model, weights)
    x = np.random.default_rng(0).normal(size=(1, 6, 7, 3)).astype(np.float32)
    with np.load(weights) as data:
        w, b = data["features.0.weight"], data["features.0.bias"]  # (O, I, kh, kw)
        g, beta = data["features.1.weight"], data["features.1.bias"]
        mean, var = data["features.1.running_mean"], data["features.1.running_var"]
    padded = np.pad(x[0], ((1, 1), (1, 1), (0, 0)))
    conv = np.zeros((6, 7, 64))
    for ky in range(3):
        for kx in range(3):
            conv += padded[ky : ky + 6, kx : kx + 7] @ w[:, :, ky, kx].T
    expected = np.maximum((conv + b - mean) / np.sqrt(var + 1e-5) * g + beta, 0.0)
    np.testing.assert_allclose(model(x)[0], expected, atol=1e-4)


def test_missing_file_is_named(tmp_path: Path):
    path = tmp_path / "nowhere.npz"
    with pytest.raises(VggWeightsNotFoundError, match=r"nowhere\.npz") as caught:
        load_vgg16_bn_weights(build_vgg16_bn(("block1_relu1",)), path)
    assert isinstance(caught.value, FileNotFoundError)
    with pytest.raises(FileNotFoundError, match=r"nowhere\.npz"):
        PerceptualLoss.from_file(path, band_indices=BANDS)


def test_missing_keys_are_listed(tmp_path: Path, weights: Path):
    path = without(tmp_path / "partial.npz", weights, "features.17.weight")
    with pytest.raises(VggWeightsError, match=r"partial\.npz.*'features\.17\.weight'"):
        load_vgg16_bn_weights(build_vgg16_bn(DEFAULT_LAYERS), path)


def test_keys_beyond_the_model_are_not_needed(tmp_path: Path, weights: Path):
    path = without(tmp_path / "no_block5.npz", weights, "features.40.weight")
    load_vgg16_bn_weights(build_vgg16_bn(DEFAULT_LAYERS), path)


def test_wrong_shape_names_key_and_shapes(tmp_path: Path, weights: Path):
    path = without(tmp_path / "bad.npz", weights, "features.1.running_mean", np.zeros(63))
    with pytest.raises(VggWeightsError) as caught:
        load_vgg16_bn_weights(build_vgg16_bn(DEFAULT_LAYERS), path)
    message = str(caught.value)
    assert "bad.npz" in message
    assert "features.1.running_mean" in message
    assert "(63,)" in message and "(64,)" in message


def test_not_an_npz_is_refused(tmp_path: Path):
    text = tmp_path / "weights.npz"
    text.write_text("not weights")
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    model = build_vgg16_bn(("block1_relu1",))
    for path in (text, single):
        with pytest.raises(VggWeightsError, match=re.escape(path.name)):
            load_vgg16_bn_weights(model, path)


def test_true_colour_picks_bands_scales_and_normalises():
    x = np.zeros((1, 2, 2, 8), np.float32)
    x[..., 7], x[..., 5], x[..., 3] = 0.1, 0.05, 0.3  # red, green, blue (blue clips at 1)
    x[..., 0] = 9.0  # not picked
    out = np.asarray(true_colour(x, BANDS, scale=0.2))
    rgb = np.array([0.5, 0.25, 1.0])
    expected = (rgb - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    assert out.shape == (1, 2, 2, 3)
    np.testing.assert_allclose(out[0, 0, 0], expected, rtol=1e-6)
    negative = true_colour(-x, BANDS, scale=0.2)
    np.testing.assert_allclose(negative[0, 0, 0], -np.array(IMAGENET_MEAN) / IMAGENET_STD)


def test_true_colour_refuses_bad_arguments():
    x = np.zeros((1, 2, 2, 4), np.float32)
    with pytest.raises(ValueError, match="beyond the 4 channels"):
        true_colour(x, BANDS, scale=0.2)
    with pytest.raises(ValueError, match="three channel indices"):
        true_colour(x, (2, 1), scale=0.2)
    with pytest.raises(ValueError, match="scale"):
        true_colour(x, (2, 1, 0), scale=0.0)


def test_losses_vanish_for_identical_inputs(loss: PerceptualLoss):
    x = reflectance(0)
    perceptual, style = loss(x, x)
    assert float(perceptual) == pytest.approx(0.0, abs=1e-6)
    assert float(style) == pytest.approx(0.0, abs=1e-6)


def test_losses_are_positive_for_different_inputs(loss: PerceptualLoss):
    perceptual, style = loss(reflectance(0), reflectance(1))
    assert float(perceptual) > 1e-3
    assert float(style) > 0.0
    assert np.isfinite([float(perceptual), float(style)]).all()


def test_gradient_flows_to_pred_only(loss: PerceptualLoss):
    pred = tf.Variable(reflectance(0))
    target = tf.Variable(reflectance(1))
    with tf.GradientTape() as tape:
        perceptual, style = loss(pred, target)
        total = perceptual + style
    grad_pred, grad_target = tape.gradient(total, [pred, target])
    grad = grad_pred.numpy()
    assert np.isfinite(grad).all()
    assert np.abs(grad[..., list(BANDS)]).sum() > 0
    assert np.abs(grad[..., [0, 1, 2, 4, 6]]).sum() == 0  # bands not in the composite
    assert grad_target is None or not np.any(grad_target.numpy())


def test_single_layer_extractor_and_graph_mode(weights: Path):
    loss = PerceptualLoss.from_file(weights, ("block2_relu1",), band_indices=BANDS, scale=SCALE)
    eager = loss(reflectance(0), reflectance(1))
    graph = tf.function(loss.__call__)(reflectance(0), reflectance(1))
    np.testing.assert_allclose(eager, graph, rtol=1e-5)


def test_denormalise_maps_inputs_to_reflectance_first(loss: PerceptualLoss):
    mean, std = 0.1, 0.04
    on_reflectance = loss(reflectance(0), reflectance(1))
    normalised = PerceptualLoss(
        loss.extractor, band_indices=BANDS, scale=SCALE, denormalise=lambda z: z * std + mean
    )
    on_normalised = normalised((reflectance(0) - mean) / std, (reflectance(1) - mean) / std)
    np.testing.assert_allclose(on_normalised, on_reflectance, rtol=1e-4)
