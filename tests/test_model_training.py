"""Training steps, MirroredStrategy equivalence, checkpoint/kill/resume and the serving export."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from components.evaluator.metrics import calibration
from components.features import GENERATOR_WEIGHTS, WEIGHTS_DIR
from model.config import LossWeights, ModelConfig
from pipelines.outputs import latest_artifact

pytestmark = pytest.mark.slow  # TensorFlow

BANDS, SIZE = 4, 16


def batch(seed: int = 0, n: int = 4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    base = np.stack([np.sin(3 * xx + b) * np.cos(2 * yy - b) for b in range(BANDS)], -1)
    reflectance = (base[None] + 0.1 * rng.normal(size=(n, SIZE, SIZE, BANDS))).astype(np.float32)
    valid = np.ones((n, SIZE, SIZE, 1), np.float32)
    valid[:, 0, 0] = 0.0
    reflectance *= valid
    gap = np.zeros((n, SIZE, SIZE, 1), np.float32)
    gap[:, 4:12, 3:11] = 1.0
    return {"reflectance": reflectance, "valid": valid, "gap": gap}


def make_model(kind: str, seed: int = 0, replicas: int = 1):
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import keras

    from model.gan import InpaintingGAN, build_networks

    config = ModelConfig(kind=kind, width=4, discriminator_width=4, batch_size=4, seed=seed)
    keras.utils.set_random_seed(seed)
    generator, discriminator = build_networks(config, BANDS)
    model = InpaintingGAN(generator, discriminator, config, replicas)
    model.set_optimizers(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    return model


@pytest.mark.parametrize("kind", ["cmunet", "unet"])
def test_training_steps_lower_the_loss_on_a_fixed_batch(kind: str) -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import tensorflow as tf

    model = make_model(kind)
    data = batch()
    # Stripes two pixels wide: what a smooth (biharmonic) fill cannot continue into the gap,
    # so the loss can only fall by learning a correction.
    stripes = np.where(np.arange(SIZE) % 4 < 2, 1.0, -1.0).astype(np.float32)
    shape = (*data["gap"].shape[:3], BANDS)
    data["reflectance"] = np.broadcast_to(stripes[None, None, :, None], shape) * data["valid"]
    data = {k: tf.constant(v) for k, v in data.items()}
    step = tf.function(model.train_step)
    first = float(step(data)["reconstruction"])
    for _ in range(40):
        last = float(step(data)["reconstruction"])
    assert np.isfinite(last) and last < 0.7 * first


def test_gan_step_updates_discriminator_with_finite_penalty() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import tensorflow as tf

    model = make_model("cmunet")
    before = [v.numpy().copy() for v in model.discriminator.trainable_variables]
    results = model.train_step({k: tf.constant(v) for k, v in batch().items()})
    assert np.isfinite(float(results["penalty"])) and float(results["penalty"]) > 0
    after = model.discriminator.trainable_variables
    assert any(not np.array_equal(b, a.numpy()) for b, a in zip(before, after, strict=True))


MIRRORED = textwrap.dedent(
    """
    import os, sys
    os.environ["TF_USE_LEGACY_KERAS"] = "0"
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import numpy as np
    sys.path.insert(0, {tests!r})
    from test_model_training import batch, make_model

    def first_update(devices):
        strategy = tf.distribute.MirroredStrategy(devices)
        with strategy.scope():
            model = make_model("cmunet", seed=3, replicas=len(devices))
        data = tf.data.Dataset.from_tensors(batch(seed=5))
        dist = next(iter(strategy.experimental_distribute_dataset(data)))
        tf.function(lambda b: strategy.run(model.train_step, args=(b,)))(dist)
        return [v.numpy() for v in model.generator.trainable_variables]

    one = first_update(["/cpu:0"])
    two = first_update(["/cpu:0", "/cpu:1"])
    worst = max(float(np.max(np.abs(a - b))) for a, b in zip(one, two))
    print("max-difference", worst)
    """
)


def run_script(tmp_path: Path, template: str) -> str:
    """Run `template` (formatted with this folder as {tests}) in a fresh Python; its stdout."""
    script = tmp_path / "script.py"
    script.write_text(template.format(tests=str(Path(__file__).parent)))
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=600,
        cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_mirrored_two_devices_match_one_device(tmp_path: Path) -> None:
    worst = float(run_script(tmp_path, MIRRORED).split("max-difference")[-1])
    assert worst < 1e-5


def test_export_reload_equals_in_memory(tmp_path: Path) -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import tensorflow as tf

    from model.export import InpaintingModule, export_model, load_serving

    model = make_model("cmunet")
    mean = np.array([0.01, 0.02, 0.015, 0.005], np.float32)
    std = np.array([0.004, 0.006, 0.005, 0.002], np.float32)
    module = InpaintingModule(model.generator, mean, std, ("none",) * BANDS, BANDS)
    rng = np.random.default_rng(2)
    tile = rng.uniform(0.0, 0.05, (2, 24, 40, BANDS)).astype(np.float32)
    tile[0, 0, 0, 1] = np.nan  # an observed missing value passes through
    gap = np.zeros((2, 24, 40, 1), np.float32)
    gap[:, 5:15, 10:30] = 1.0
    expected = module.serve(tf.constant(tile), tf.constant(gap))["filled"].numpy()
    export_model(str(tmp_path / "m"), model.generator, model.discriminator, mean, std,
                 ("none",) * BANDS, {"kind": "cmunet"})  # fmt: skip
    outputs = load_serving(str(tmp_path / "m"))(reflectance=tile, gap=gap)
    reloaded, spread = outputs["filled"].numpy(), outputs["sigma"].numpy()
    np.testing.assert_allclose(reloaded, expected, rtol=1e-6, atol=1e-7)
    observed = np.broadcast_to(gap == 0, tile.shape)
    np.testing.assert_array_equal(reloaded[observed], tile[observed])  # NaN at the same place too
    assert np.isfinite(reloaded[~observed]).all()
    # Untrained, the uncertainty head says one band spread (std) in the gap, 0 elsewhere.
    np.testing.assert_allclose(spread[~observed], np.broadcast_to(std, spread.shape)[~observed],
                               rtol=1e-6)  # fmt: skip
    np.testing.assert_array_equal(spread[observed], 0.0)


def mask_library(run) -> str:
    """The URI of the run's mask library artifact, which the Trainer hands to train()."""
    return str(latest_artifact(run.root, "MaskGen", "mask_library"))


KILLED = textwrap.dedent(
    """
    import os, sys
    os.environ["TF_USE_LEGACY_KERAS"] = "0"
    from components.example_gen.config import IngestConfig
    from model.config import ModelConfig
    from model.trainer import train
    config = ModelConfig(width=4, discriminator_width=4, batch_size=2, checkpoint_every=2,
                         log_every=1)
    train(config, [sys.argv[1]], [sys.argv[1]], sys.argv[2], sys.argv[3], sys.argv[4],
          steps=int(sys.argv[5]), mask_library=sys.argv[6],
          ingest=IngestConfig.from_json(sys.argv[7]))
    """
)


def test_checkpoint_kill_resume_continues_the_step_count(olci_run, tmp_path: Path, caplog) -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    from model.trainer import train

    examples = str(latest_artifact(olci_run.root, "MaskGen", "masked_examples") / "Split-train/*")
    transform = str(latest_artifact(olci_run.root, "Transform", "transform_graph"))
    run_dir, serving = tmp_path / "run", tmp_path / "serving"
    script = tmp_path / "killed.py"
    script.write_text(KILLED)
    library, ingest = mask_library(olci_run), olci_run.ingest
    child = subprocess.Popen(
        [sys.executable, str(script), examples, transform, str(run_dir), str(serving), "100000",
         library, ingest.to_json()],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    checkpoints = run_dir / "checkpoints"

    def last_step() -> int:
        # Only the last three checkpoints are kept, so wait for any step >= 4, not for ckpt-4.
        return max((int(p.stem.split("-")[1]) for p in checkpoints.glob("ckpt-*.index")), default=0)

    deadline = time.monotonic() + 900
    while last_step() < 4:
        assert child.poll() is None and time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.5)
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    reached = last_step()
    assert not serving.exists()  # killed before the export

    config = ModelConfig(width=4, discriminator_width=4, batch_size=2, checkpoint_every=2,
                         log_every=1)  # fmt: skip
    with caplog.at_level(logging.INFO, logger="model.trainer"):
        train(config, [examples], [examples], transform, str(run_dir), str(serving),
              steps=reached + 2, mask_library=library, ingest=ingest)  # fmt: skip
    assert f"at step {reached}" in caplog.text
    metadata = (serving / "s3inpaint_model.json").read_text()
    assert f'"steps": {reached + 2}' in metadata


def test_warm_start_loads_the_base_model(olci_run, tmp_path: Path) -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import keras

    from model.gan import build_networks
    from model.trainer import train

    base = latest_artifact(olci_run.root, "Trainer", "model") / "Format-Serving"
    examples = str(latest_artifact(olci_run.root, "MaskGen", "masked_examples") / "Split-train/*")
    transform = str(latest_artifact(olci_run.root, "Transform", "transform_graph"))
    config = ModelConfig(width=4, discriminator_width=4, batch_size=2, seed=99)
    out = tmp_path / "serving"
    train(config, [examples], [examples], transform, str(tmp_path / "run"), str(out), steps=0,
          mask_library=mask_library(olci_run), ingest=olci_run.ingest,
          base_model=str(base))  # fmt: skip

    def weights(path: Path) -> list:
        keras.utils.set_random_seed(1)
        generator, _ = build_networks(config, 16)
        generator.load_weights(path / WEIGHTS_DIR / GENERATOR_WEIGHTS)
        return generator.get_weights()

    for a, b in zip(weights(base), weights(out), strict=True):
        np.testing.assert_array_equal(a, b)
    meta = json.loads((out / "s3inpaint_model.json").read_text())
    assert meta["warm_start"] == str(base)


def test_the_exported_generator_is_the_moving_average(olci_run, tmp_path: Path) -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import keras
    import tensorflow as tf

    from model.gan import build_generator
    from model.trainer import train

    examples = str(latest_artifact(olci_run.root, "MaskGen", "masked_examples") / "Split-train/*")
    transform = str(latest_artifact(olci_run.root, "Transform", "transform_graph"))
    config = ModelConfig(kind="unet", width=4, batch_size=2, ema_decay=0.5, generator_lr=1e-2,
                         checkpoint_every=4)  # fmt: skip
    out, run = tmp_path / "serving", tmp_path / "run"
    train(config, [examples], [examples], transform, str(run), str(out), steps=4,
          mask_library=mask_library(olci_run), ingest=olci_run.ingest)  # fmt: skip
    raw, averaged, exported = (build_generator(config, 16) for _ in range(3))
    checkpoint = tf.train.Checkpoint(generator=raw, averaged_generator=averaged)
    checkpoint.restore(tf.train.latest_checkpoint(str(run / "checkpoints"))).expect_partial()
    exported.load_weights(out / WEIGHTS_DIR / GENERATOR_WEIGHTS)
    for a, e in zip(averaged.get_weights(), exported.get_weights(), strict=True):
        np.testing.assert_array_equal(a, e)
    moved = [not np.array_equal(r, a) for r, a in zip(raw.get_weights(), averaged.get_weights(),
                                                      strict=True)]  # fmt: skip
    assert any(moved)
    assert json.loads((out / "s3inpaint_model.json").read_text())["averaged"] is True
    keras.backend.clear_session()


def test_a_base_model_of_other_shapes_is_ignored(olci_run, tmp_path: Path, caplog) -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    from model.trainer import train

    base = latest_artifact(olci_run.root, "Trainer", "model") / "Format-Serving"
    examples = str(latest_artifact(olci_run.root, "MaskGen", "masked_examples") / "Split-train/*")
    transform = str(latest_artifact(olci_run.root, "Transform", "transform_graph"))
    wider = ModelConfig(width=8, discriminator_width=4, batch_size=2)
    out = tmp_path / "serving"
    with caplog.at_level("WARNING"):
        train(wider, [examples], [examples], transform, str(tmp_path / "run"), str(out), steps=0,
              mask_library=mask_library(olci_run), ingest=olci_run.ingest,
              base_model=str(base))  # fmt: skip
    assert "networks differ from this config's; training from scratch" in caplog.text
    assert json.loads((out / "s3inpaint_model.json").read_text())["warm_start"] is None


MIXED = textwrap.dedent(
    """
    import os, sys
    os.environ["TF_USE_LEGACY_KERAS"] = "0"
    import keras, numpy as np, tensorflow as tf
    keras.mixed_precision.set_global_policy("mixed_float16")
    sys.path.insert(0, {tests!r})
    from test_model_training import batch
    from model.config import ModelConfig
    from model.gan import InpaintingGAN, build_networks

    config = ModelConfig(width=4, discriminator_width=4, batch_size=4, mixed_precision=True)
    generator, discriminator = build_networks(config, 4)
    model = InpaintingGAN(generator, discriminator, config)
    scaled = lambda: keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(1e-3))
    model.set_optimizers(scaled(), scaled())
    data = {{k: tf.constant(v) for k, v in batch().items()}}
    step = tf.function(model.train_step)
    losses = [float(step(data)["reconstruction"]) for _ in range(15)]
    filled = model.fill(data["reflectance"] * (1 - data["gap"]), data["gap"],
                        1 - data["valid"])[-1]
    print("mixed", np.isfinite(losses).all(), losses[-1] < losses[0], filled.dtype.name)
    """
)


def test_mixed_precision_step(tmp_path: Path) -> None:
    stdout = run_script(tmp_path, MIXED)
    assert stdout.split("mixed")[-1].split() == ["True", "True", "float32"]


def test_uncertainty_is_calibrated_on_a_field_with_known_noise() -> None:
    """Truth = a smooth field + Gaussian noise of sigma 0.3: what no fill can predict, so the
    uncertainty head must learn sigma = 0.3, and about 68 % / 95 % of gap errors fall within
    one / two predicted sigmas."""
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import keras
    import tensorflow as tf

    from model.gan import InpaintingGAN, build_networks, model_inputs
    from model.losses import sigma
    from model.networks import split_outputs

    config = ModelConfig(kind="unet", width=4, batch_size=8, weights=LossWeights(uncertainty=1.0))
    keras.utils.set_random_seed(0)
    generator, _ = build_networks(config, BANDS)
    model = InpaintingGAN(generator, None, config)
    model.set_optimizers(keras.optimizers.Adam(3e-2), keras.optimizers.Adam(3e-2))
    step = tf.function(model.train_step)
    smooth = batch(n=8)
    rng = np.random.default_rng(7)

    def noisy() -> dict[str, tf.Tensor]:
        data = dict(smooth)
        noise = rng.normal(0.0, 0.3, data["reflectance"].shape).astype(np.float32)
        data["reflectance"] = (smooth["reflectance"] + noise) * smooth["valid"]
        return {k: tf.constant(v) for k, v in data.items()}

    for _ in range(150):
        step(noisy())
    data = noisy()
    truth, gap_input, fill, invalid = model_inputs(data)
    stages, log_variance = split_outputs(generator([gap_input, fill, invalid]))
    spread = sigma(log_variance).numpy()
    in_gap = np.broadcast_to((data["gap"] * data["valid"]).numpy() > 0, spread.shape)
    assert 0.2 < float(np.median(spread[in_gap])) < 0.45
    scores = calibration(((stages[-1] - truth).numpy() / spread)[in_gap])
    assert 0.55 < scores["within_1_sigma"] < 0.8
    assert 0.88 < scores["within_2_sigma"] < 0.99
    assert 0.75 < scores["z_std"] < 1.3
