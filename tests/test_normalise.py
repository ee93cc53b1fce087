"""The normalisation Transform applies and its inverse, which the model uses, band by band in
each band's transformed space."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from components import features
from components.features import MODEL_DESCRIPTION
from components.transforms import LOG_FLOOR, to_transformed
from model.config import ModelConfig

pytestmark = pytest.mark.slow  # imports TensorFlow

MIXED = ("log10", "none", "log10")


@pytest.mark.parametrize("transforms", [("none",) * 3, ("log10",) * 3, MIXED])
def test_denormalise_inverts_normalise(transforms: tuple[str, ...]) -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import tensorflow as tf

    from components.transform.normalise import denormalise, normalise

    rng = np.random.default_rng(1)
    x = rng.uniform(LOG_FLOOR * 2, 0.1, (2, 4, 4, 3)).astype(np.float32)
    mean = tf.constant([0.01, -2.0, 0.5])
    std = tf.constant([0.02, 0.5, 1.5])
    back = denormalise(normalise(tf.constant(x), mean, std, transforms), mean, std, transforms)
    np.testing.assert_allclose(back.numpy(), x, rtol=1e-4, atol=1e-6)


def test_only_the_named_bands_are_logged_and_clamped() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import tensorflow as tf

    from components.transform.normalise import to_working

    x = np.array([[-0.01, -0.01, -0.01], [0.0, 0.0, 0.0], [10.0, 10.0, 10.0]], np.float32)
    out = to_working(tf.constant(x), MIXED).numpy()
    np.testing.assert_allclose(out, [[-4, -0.01, -4], [-4, 0, -4], [1, 10, 1]], atol=1e-6)
    np.testing.assert_allclose(to_transformed(x, MIXED), out, atol=1e-6)


def test_untransformed_bands_keep_finite_gradients_beside_log_bands() -> None:
    """10**y of an untransformed band overflows; it must not leak NaN into the gradient."""
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import tensorflow as tf

    from components.transform.normalise import from_working

    y = tf.constant([[1.0, 60.0, 2.0]])
    with tf.GradientTape() as tape:
        tape.watch(y)
        out = from_working(y, MIXED)
    np.testing.assert_allclose(out.numpy(), [[10.0, 60.0, 100.0]], rtol=1e-6)
    grad = tape.gradient(out, y).numpy()
    np.testing.assert_allclose(grad, [[10 * np.log(10), 1.0, 100 * np.log(10)]], rtol=1e-5)


def test_serving_transforms_each_band_in_and_out(tmp_path: Path) -> None:
    """Chlorophyll (log10) beside SST (none): the exported model fills in physical units per
    band, sigma converted to first order per band, observed pixels bit-exact."""
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import keras
    import tensorflow as tf

    from model.export import export_model, load_serving
    from model.gan import build_networks
    from model.losses import sigma
    from model.networks import split_outputs

    transforms = ("log10", "none")
    keras.utils.set_random_seed(3)
    generator, _ = build_networks(ModelConfig(kind="unet", width=4, discriminator_width=4), 2)
    rng = np.random.default_rng(4)
    shape = (2, 32, 32)
    tile = np.stack(
        [10 ** rng.normal(-0.5, 0.4, shape), rng.uniform(10.0, 25.0, shape)], axis=-1
    ).astype(np.float32)
    tile[0, 0, 0, 0] = np.nan  # land: passes through
    gap = np.zeros((*shape, 1), np.float32)
    gap[:, 8:20, 6:26] = 1.0
    mean, std = np.array([-0.5, 17.0], np.float32), np.array([0.4, 4.0], np.float32)
    export_model(str(tmp_path), generator, None, mean, std, transforms, {"kind": "unet"})
    assert json.loads((tmp_path / MODEL_DESCRIPTION).read_text())["transforms"] == ["log10", "none"]
    outputs = load_serving(str(tmp_path))(reflectance=tf.constant(tile), gap=tf.constant(gap))
    filled, spread = outputs["filled"].numpy(), outputs["sigma"].numpy()

    observed = np.broadcast_to(gap == 0, tile.shape)
    np.testing.assert_array_equal(filled[observed], tile[observed])  # NaN included
    known = np.isfinite(tile).all(-1, keepdims=True).astype(np.float32)
    keep = known * (1 - gap)
    safe = np.nan_to_num(tile)
    z = (to_transformed(safe, transforms) - mean) / std * keep
    stages, log_variance = split_outputs(generator([z, 1 - keep, (1 - known) * (1 - gap)]))
    working = stages[-1].numpy() * std + mean
    expected = np.stack([10 ** working[..., 0], working[..., 1]], axis=-1)
    in_gap = ~observed
    # The classical fill's float32 conjugate gradients round differently in the exported graph
    # than eagerly (~1e-4 log10 units here), and 10 ** x turns that into ~2e-4 relative (the
    # sigma's first-order scale too).
    np.testing.assert_allclose(filled[in_gap], expected[in_gap], rtol=1e-3)
    scale = np.stack([np.log(10) * expected[..., 0], np.ones_like(expected[..., 1])], axis=-1)
    expected_sigma = sigma(log_variance).numpy() * std * scale
    np.testing.assert_allclose(spread[in_gap], expected_sigma[in_gap], rtol=1e-3)  # likewise
    assert (spread[observed] == 0).all()


def test_transform_normalises_each_band_in_its_own_space(tmp_path: Path) -> None:
    """preprocessing_fn on two bands, log10 on the first only: statistics of log10 chlorophyll
    and of plain SST over valid pixels, and normalised values the model inverts exactly."""
    # Deferred: loads TensorFlow Transform and Beam (seconds); collecting this module skips them.
    import tensorflow as tf
    import tensorflow_transform.beam as tft_beam
    from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

    from components.transform.normalise import denormalise
    from components.transform.preprocessing import preprocessing_fn

    size, bands, transforms = 4, 2, ("log10", "none")
    rng = np.random.default_rng(5)
    x = np.stack(
        [10 ** rng.normal(-0.5, 0.4, (3, size, size)), rng.uniform(10, 25, (3, size, size))], -1
    ).astype(np.float32)
    valid = rng.uniform(size=(3, size, size)) > 0.3
    rows = [
        {features.REFLECTANCE: x[i].ravel(), features.VALID: valid[i].ravel().astype(np.int64),
         features.PRODUCT: f"p{i}".encode()}
        for i in range(3)
    ]  # fmt: skip
    spec = {
        features.REFLECTANCE: tf.io.FixedLenFeature([size * size * bands], tf.float32),
        features.VALID: tf.io.FixedLenFeature([size * size], tf.int64),
        features.PRODUCT: tf.io.FixedLenFeature([], tf.string),
    }
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
    with tft_beam.Context(temp_dir=str(tmp_path), force_tf_compat_v1=False):
        (out, _), _ = (rows, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing_fn(inputs, {"transforms": list(transforms)}),
            output_record_batches=False,
        )
    working = to_transformed(x[valid], transforms).astype(np.float64)
    mean, std = out[0][features.BAND_MEAN], out[0][features.BAND_STD]
    np.testing.assert_allclose(mean, working.mean(0), rtol=1e-5)
    np.testing.assert_allclose(std, working.std(0), rtol=1e-4)
    z = np.stack([row[features.REFLECTANCE] for row in out]).reshape(x.shape)
    back = denormalise(tf.constant(z), mean, std, transforms).numpy()
    np.testing.assert_allclose(back[valid], x[valid], rtol=1e-5)
