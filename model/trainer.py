"""The TFX Trainer's run_fn (by import path: `model.trainer.run_fn`).

Trains the generator (and discriminator) under MirroredStrategy on every visible GPU (the CPU
when there is none), drawing a fresh gap mask for every training example from MaskGen's mask
library (the Trainer's `mask_library` input); checkpoints generator, discriminator and both
optimisers every `checkpoint_every` steps and resumes from the last checkpoint after a kill;
warm-starts from the Trainer's `base_model`; writes TensorBoard scalars and image grids;
evaluates on the fixed eval masks; exports the serving SavedModel with the resolved
configuration.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

import keras
import numpy as np
import tensorflow as tf
import tensorflow_transform as tft

from components.evaluator.metrics import calibration
from components.example_gen.config import IngestConfig
from components.features import (
    BAND_MEAN,
    BAND_STD,
    DISCRIMINATOR_WEIGHTS,
    GENERATOR_WEIGHTS,
    INGEST_PROPERTY,
    MASK_LIBRARY,
    MASK_LIBRARY_FILE,
    MASK_LIBRARY_SUMMARY,
    MODEL_DESCRIPTION,
    WEIGHTS_DIR,
)
from components.masks import MaskLibrary, MaskSampler
from components.pictures import Picture, picture_bands
from components.transform.normalise import denormalise
from components.transforms import NONE
from model.config import ModelConfig
from model.data import evaluation_dataset, training_dataset, transformed_examples
from model.export import export_model, load_weights
from model.gan import (
    InpaintingGAN,
    build_generator,
    build_networks,
    context_input,
    generator_inputs,
    model_inputs,
)
from model.layers import composite
from model.losses import sigma
from model.networks import NETWORK_VERSION, split_outputs
from model.perceptual import PerceptualLoss

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
CONFIG_FILE = "model_config.json"
IMAGE_EVERY_LOGS = 10


def _strategy(config: ModelConfig) -> tf.distribute.Strategy:
    if config.devices:
        return tf.distribute.MirroredStrategy(devices=list(config.devices))
    gpus = tf.config.list_logical_devices("GPU")
    return tf.distribute.MirroredStrategy(devices=[d.name for d in gpus] or ["/cpu:0"])


def _mask_sampler(uri: str) -> MaskSampler:
    """Training masks like MaskGen's fixed ones: drawn from the real shapes of its
    `mask_library` artifact at `uri`, with the coverage range and kinds its summary records
    (the pipeline's `mask_coverage` and `mask_kinds`)."""
    with tf.io.gfile.GFile(os.path.join(uri, MASK_LIBRARY_FILE), "rb") as f:
        library = MaskLibrary.from_bytes(f.read())
    with tf.io.gfile.GFile(os.path.join(uri, MASK_LIBRARY_SUMMARY)) as f:
        summary = json.load(f)
    low, high = summary["coverage"]
    return MaskSampler(
        size=library.size, coverage=(low, high), kinds=summary["kinds"], library=library
    )


def _ingest_description(ingest: IngestConfig | None) -> dict[str, Any]:
    """What the model records of its examples, from their ingest configuration: the input
    channels' names in order, their physical quantity, the patch size, the layout of gridded
    inputs and the temporal window the examples carry."""
    if ingest is None:
        return {"band_names": None, "quantity": None, "patch_size": None, "gridded": None,
                "temporal_window": 0}  # fmt: skip
    return {
        "band_names": list(ingest.bands),
        "quantity": ingest.quantity,
        "patch_size": ingest.patch_size,
        # The layout of gridded inputs (NetCDF series, GeoTIFFs), so the batch job fills them
        # without being told.
        "gridded": ingest.layout.to_dict() if ingest.layout is not None else None,
        "temporal_window": ingest.temporal_window,
    }


def _band_statistics(tft_output) -> tuple[np.ndarray, np.ndarray]:
    """The Transform's per-band mean and std (its analyzers' results)."""
    spec = tft_output.raw_feature_spec()
    raw = {}
    for name, feature in spec.items():
        shape = [1, *feature.shape]
        raw[name] = tf.zeros(shape, feature.dtype) if feature.dtype != tf.string else tf.fill(
            shape, ""
        )  # fmt: skip
    transformed = tft_output.transform_features_layer()(raw)
    return transformed[BAND_MEAN][0].numpy(), transformed[BAND_STD][0].numpy()


def _image_grid(batch, outputs, mean, std, transforms: tuple[str, ...], bands: tuple[int, ...]):
    """(observed, gap, filled, truth) rows for TensorBoard in 0..1, and what they show in words.

    The bands are drawn as `components.pictures` draws every picture: true colour for three,
    a colour map for one, stretched to the valid truth of this batch.
    """
    truth = denormalise(batch["reflectance"], mean, std, transforms).numpy()
    filled = denormalise(tf.cast(outputs[-1], tf.float32), mean, std, transforms).numpy()
    gap = batch["gap"].numpy()
    picture = Picture.of(np.where(batch["valid"].numpy() > 0, truth, np.nan), bands)
    observed = picture.render(truth) * (1.0 - gap)
    grid = np.concatenate(
        [observed, np.repeat(gap, 3, axis=-1), picture.render(filled), picture.render(truth)],
        axis=2,
    )
    return grid, picture


def _evaluate(generator: keras.Model, dataset) -> dict[str, float]:
    """Errors (normalised units) inside the fixed gaps and on observed pixels, and calibration.

    `l1_gap` / `rmse_gap`: the filled tiles where the truth is known; `l1_observed`: the raw
    prediction (before the observed pixels are put back) on observed pixels, how far the
    network strays from what it was shown; `within_1_sigma`, `within_2_sigma`: the share of gap
    errors (per band) inside one and two predicted standard deviations (ideal 0.68, 0.95), and
    `z_std` the standard deviation of error / sigma (ideal 1).
    """
    keys = ("l1_gap", "rmse_gap", "l1_observed")
    sums, counts = dict.fromkeys(keys, 0.0), dict.fromkeys(keys, 0.0)
    z_scores = []
    for batch in dataset:
        truth, gap_input, fill, invalid = model_inputs(batch)
        inputs = generator_inputs(gap_input, fill, invalid, context_input(batch))
        stages, log_variance = split_outputs(generator(inputs, training=False))
        raw = stages[-1]
        filled = composite(raw, gap_input, fill)
        in_gap, observed = batch["gap"] * batch["valid"], (1.0 - batch["gap"]) * batch["valid"]
        for key, error, weight in (
            ("l1_gap", tf.abs(filled - truth), in_gap),
            ("rmse_gap", tf.square(filled - truth), in_gap),
            ("l1_observed", tf.abs(raw - truth), observed),
        ):
            per_pixel = tf.reduce_mean(error, axis=-1, keepdims=True)
            sums[key] += float(tf.reduce_sum(per_pixel * weight))
            counts[key] += float(tf.reduce_sum(weight))
        z = ((filled - truth) / sigma(log_variance)).numpy()
        z_scores.append(z[np.broadcast_to(in_gap.numpy() > 0, z.shape)])
    metrics = {k: sums[k] / max(counts[k], 1.0) for k in keys}
    metrics["rmse_gap"] = float(np.sqrt(metrics["rmse_gap"]))
    metrics.update(calibration(np.concatenate(z_scores) if z_scores else np.zeros(0)))
    return metrics


class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to `peak` over `warmup` of `steps`, then a cosine decay to `final` * peak."""

    def __init__(self, peak: float, steps: int, warmup: float, final: float) -> None:
        self.peak, self.steps, self.warmup, self.final = peak, steps, warmup, final

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warm = tf.maximum(self.warmup * self.steps, 1.0)
        rise = (step + 1.0) / warm
        progress = tf.clip_by_value((step - warm) / tf.maximum(self.steps - warm, 1.0), 0.0, 1.0)
        cosine = self.final + (1.0 - self.final) * 0.5 * (1.0 + tf.cos(np.pi * progress))
        return self.peak * tf.where(step < warm, rise, cosine)

    def get_config(self) -> dict:
        return {"peak": self.peak, "steps": self.steps, "warmup": self.warmup,
                "final": self.final}  # fmt: skip


def adversarial_scale(step: int, steps: int, ramp: tuple[float, float]) -> float:
    """The weight (0..1) of the adversarial terms at `step` of `steps` (see ModelConfig)."""
    start, end = ramp[0] * steps, ramp[1] * steps
    if step < start:
        return 0.0
    if step >= end:
        return 1.0
    return (step - start) / max(end - start, 1.0)


def _eta(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"


def _same_networks(base_model: str, config: ModelConfig, bands: int, window: int) -> bool:
    """Whether an exported model's networks have this config's shapes (its weights would load)."""
    path = os.path.join(base_model, MODEL_DESCRIPTION)
    if not tf.io.gfile.exists(path):
        return False
    with tf.io.gfile.GFile(path) as f:
        meta = json.load(f)
    old = meta.get("config", {})
    keys = ("kind", "width", "discriminator_width", "discriminator_constraint")
    return (
        meta.get("bands") == bands
        and meta.get("temporal_window", 0) == window
        and meta.get("network_version") == NETWORK_VERSION
        and all(old.get(k) == getattr(config, k) for k in keys)
    )


def train(
    config: ModelConfig,
    train_files: list[str],
    eval_files: list[str],
    transform_output: str,
    run_dir: str,
    serving_dir: str,
    steps: int,
    mask_library: str,
    ingest: IngestConfig | None,
    base_model: str | None = None,
) -> dict[str, Any]:
    """Train, evaluate and export; returns the evaluation metrics. See the module docstring.

    `mask_library` is the URI of MaskGen's mask library artifact; `ingest` the configuration
    the examples were made with, which owns each band's transform (None when they do not
    record it: the model then records no band names, quantity, patch size or layout, and
    transforms no band).
    """
    if config.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    keras.utils.set_random_seed(config.seed)
    tft_output = tft.TFTransformOutput(transform_output)
    mean, std = _band_statistics(tft_output)
    bands = int(mean.shape[0])
    description = _ingest_description(ingest)
    window = description["temporal_window"]
    band_names = description["band_names"] or [f"channel_{i}" for i in range(bands)]
    transforms = ingest.band_transforms if ingest else (NONE,) * bands
    shown = picture_bands(band_names, config.true_colour_bands)
    sampler = _mask_sampler(mask_library)

    strategy = _strategy(config)
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise ValueError(f"batch_size {config.batch_size} is not divisible by {replicas} replicas")
    train_data = training_dataset(
        transformed_examples(train_files, tft_output),
        sampler,
        config.batch_size,
        config.seed,
        augment=config.augment,
    )
    distributed = iter(strategy.experimental_distribute_dataset(train_data))

    with strategy.scope():
        generator, discriminator = build_networks(config, bands, window)
        perceptual = None
        if config.weights.perceptual or config.weights.style:
            perceptual = PerceptualLoss.from_file(
                config.vgg_weights,
                band_indices=shown * 3 if len(shown) == 1 else shown,  # one band: grey
                denormalise=lambda z: denormalise(z, mean, std, transforms),
            )
        model = InpaintingGAN(generator, discriminator, config, replicas, perceptual)
        # The moving average of the generator's weights: what is evaluated and exported.
        averaged = build_generator(config, bands, window) if config.ema_decay else generator
        averaged.set_weights(generator.get_weights())

        def adam(lr: float) -> keras.optimizers.Optimizer:
            schedule = WarmupCosine(lr, steps, config.lr_warmup, config.lr_final)
            optimizer = keras.optimizers.Adam(schedule, beta_1=config.beta_1,
                                              beta_2=config.beta_2)  # fmt: skip
            if config.mixed_precision:
                optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
            return optimizer

        model.set_optimizers(adam(config.generator_lr), adam(config.discriminator_lr))
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        tracked = {"step": step, "generator": generator, "g_optimizer": model.g_optimizer}
        if discriminator is not None:
            tracked.update(discriminator=discriminator, d_optimizer=model.d_optimizer)
            for i, vector in enumerate(model.power_vectors or ()):
                tracked[f"power_vector_{i}"] = vector
        if averaged is not generator:
            tracked["averaged_generator"] = averaged
        checkpoint = tf.train.Checkpoint(**tracked)

    manager = tf.train.CheckpointManager(
        checkpoint, os.path.join(run_dir, CHECKPOINTS), max_to_keep=3
    )
    # The base model the weights came from (a resumed run had the same inputs at its start).
    warm_start = (
        base_model if base_model and _same_networks(base_model, config, bands, window) else None
    )
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint)
        log.info("resumed from %s at step %d", manager.latest_checkpoint, int(step.numpy()))
    elif base_model and not warm_start:
        log.warning("%s: its networks differ from this config's; training from scratch", base_model)
    elif warm_start:
        weights = os.path.join(base_model, WEIGHTS_DIR)
        load_weights(generator, os.path.join(weights, GENERATOR_WEIGHTS))
        averaged.set_weights(generator.get_weights())
        if discriminator is not None and tf.io.gfile.exists(
            os.path.join(weights, DISCRIMINATOR_WEIGHTS)
        ):
            load_weights(discriminator, os.path.join(weights, DISCRIMINATOR_WEIGHTS))
        log.info("warm start from %s", base_model)

    pairs = list(zip(averaged.weights, generator.weights, strict=True))

    @tf.function
    def distributed_step(batch, scale):
        results = strategy.run(model.train_step, args=(batch, scale))
        if averaged is not generator:
            count = tf.cast(step, tf.float32)
            decay = tf.minimum(config.ema_decay, (1.0 + count) / (10.0 + count))
            for mean, weight in pairs:  # exactly unchanged where the weights did not move
                mean.assign_add((1.0 - decay) * (weight - mean))
        return {
            k: strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for k, v in results.items()
        }

    # One fixed batch for the TensorBoard image grids, so successive grids show the same tiles.
    preview = next(iter(train_data))
    _, preview_input, preview_fill, preview_invalid = model_inputs(preview)
    preview_context = context_input(preview)
    writer = tf.summary.create_file_writer(os.path.join(run_dir, "logs"))
    started, first = time.monotonic(), int(step.numpy())
    with writer.as_default():
        while int(step.numpy()) < steps:
            scale = adversarial_scale(int(step.numpy()), steps, config.adversarial_ramp)
            results = distributed_step(next(distributed), tf.constant(scale, tf.float32))
            step.assign_add(1)
            current = int(step.numpy())
            if current % config.log_every == 0 or current == steps:
                for name, value in results.items():
                    tf.summary.scalar(name, value, step=current)
                rate = (current - first) / max(time.monotonic() - started, 1e-6)
                losses = "  ".join(f"{k} {float(v):.4g}" for k, v in results.items())
                log.info("step %d/%d  %s  %.2f steps/s  ETA %s", current, steps, losses, rate,
                         _eta((steps - current) / max(rate, 1e-6)))  # fmt: skip
            if current % (config.log_every * IMAGE_EVERY_LOGS) == 0 or current == steps:
                outputs = model.fill(preview_input, preview_fill, preview_invalid,
                                     context=preview_context)  # fmt: skip
                grid, picture = _image_grid(preview, outputs, mean, std, transforms, shown)
                title, shows = "observed | gap | filled | truth", picture.describe(band_names)
                tf.summary.image(title, grid, step=current, max_outputs=4, description=shows)
            if current % config.checkpoint_every == 0 or current == steps:
                manager.save(checkpoint_number=current)

        eval_data = evaluation_dataset(
            transformed_examples(eval_files, tft_output), config.batch_size
        )
        metrics = _evaluate(averaged, eval_data)
        for name, value in metrics.items():
            tf.summary.scalar(f"eval/{name}", value, step=int(step.numpy()))

    metadata = {"kind": config.kind, "steps": int(step.numpy()), "eval": metrics,
                "network_version": NETWORK_VERSION, "averaged": averaged is not generator,
                **description,
                "warm_start": warm_start,
                "config": config.to_dict()}  # fmt: skip
    export_model(serving_dir, averaged, discriminator, mean, std, transforms, metadata)
    with tf.io.gfile.GFile(os.path.join(serving_dir, CONFIG_FILE), "w") as f:
        f.write(config.to_json())
    return metrics


def run_fn(fn_args) -> None:
    """TFX Trainer entry point: custom_config {"model": ModelConfig dict}, with the mask
    library's URI and the examples' ingest configuration (JSON, "" when they record none; it
    holds the bands' transforms) added by the Trainer's executor (components.trainer)."""
    custom = fn_args.custom_config or {}
    config = ModelConfig.from_dict(custom.get("model", {}))
    ingest = custom.get(INGEST_PROPERTY)
    metrics = train(
        config,
        train_files=fn_args.train_files,
        eval_files=fn_args.eval_files,
        transform_output=fn_args.transform_output,
        run_dir=fn_args.model_run_dir,
        serving_dir=fn_args.serving_model_dir,
        steps=int(fn_args.train_steps),
        mask_library=custom[MASK_LIBRARY],
        ingest=IngestConfig.from_json(ingest) if ingest else None,
        base_model=fn_args.base_model,
    )
    log.info("evaluation: %s", json.dumps(metrics))
