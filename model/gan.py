"""The inpainting model as a keras.Model with its own train_step (two-stage GAN or UNet).

A batch is a dict of `reflectance` (B, S, S, C: normalised, 0 where not valid), `valid`
(B, S, S, 1) and `gap` (B, S, S, 1: the mask to fill), and with a temporal window the
neighbours in time (`neighbours`, `neighbour_valid`, `neighbour_offset`: Transform's outputs),
which the generator reads as its `context` input. Pixels that are not valid have no truth:
they are filled like gaps, flagged to the generator as `invalid`, and never scored. Losses are
averages over the *global* batch, so a step on N replicas equals a step on one device with the
same global batch.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from components import features
from model import losses
from model.config import ModelConfig
from model.layers import composite
from model.networks import (
    build_cmunet_generator,
    build_patch_discriminator,
    build_unet_generator,
    split_outputs,
)
from model.temporal import context_channels, context_size


def build_generator(config: ModelConfig, bands: int, window: int = 0) -> keras.Model:
    """The generator of `config`, reading a temporal window of `window` scenes each side."""
    build = build_unet_generator if config.kind == "unet" else build_cmunet_generator
    return build(bands, config.width, iterations=config.classical_iterations,
                 context=context_size(bands, window) if window else 0)  # fmt: skip


def build_networks(
    config: ModelConfig, bands: int, window: int = 0
) -> tuple[keras.Model, keras.Model | None]:
    """The generator and (for the GAN) the discriminator of `config`; only the generator
    reads the temporal window, the discriminator judges the tile."""
    generator = build_generator(config, bands, window)
    if config.kind == "unet":
        return generator, None
    discriminator = build_patch_discriminator(
        bands,
        config.discriminator_width,
        spectral_norm=config.discriminator_constraint == "spectral_norm",
    )
    return generator, discriminator


def model_inputs(batch: dict[str, tf.Tensor]) -> tuple[tf.Tensor, ...]:
    """(truth, generator input with gaps zeroed, pixels to fill, invalid pixels).

    The pixels to fill are the gap and every pixel without truth; `invalid` is the latter.
    """
    truth = batch["reflectance"]
    invalid = 1.0 - batch["valid"]
    fill = 1.0 - (1.0 - batch["gap"]) * batch["valid"]
    return truth, truth * (1.0 - fill), fill, invalid


def context_input(batch: dict[str, tf.Tensor]) -> tf.Tensor | None:
    """The generator's `context` input from a batch's neighbours in time (None without).

    Only the neighbours' own values and gaps enter: the masks laid over the tile hide only
    the tile's pixels, and nothing of the tile reaches these channels.
    """
    if features.NEIGHBOURS not in batch:
        return None
    return context_channels(batch[features.NEIGHBOURS], batch[features.NEIGHBOUR_VALID],
                            batch[features.NEIGHBOUR_OFFSET])  # fmt: skip


def generator_inputs(gap_input, fill, invalid, context=None) -> list:
    """The generator's inputs, with `context` when the model has a temporal window."""
    return [gap_input, fill, invalid] if context is None else [gap_input, fill, invalid, context]


class InpaintingGAN(keras.Model):
    """Generator (and discriminator) trained together; see the module docstring."""

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model | None,
        config: ModelConfig,
        num_replicas: int = 1,
        perceptual=None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.config = config
        self.num_replicas = num_replicas
        self.perceptual = perceptual
        self.seed_generator = keras.random.SeedGenerator(config.seed)
        self.power_vectors = (
            losses.power_vectors(discriminator, config.seed)
            if discriminator is not None and config.discriminator_constraint == "regularisation"
            else None
        )
        self.g_optimizer: keras.optimizers.Optimizer | None = None
        self.d_optimizer: keras.optimizers.Optimizer | None = None
        self._trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("g_loss", "reconstruction", "nll", "g_adversarial", "d_loss", "penalty")
        }

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return list(self._trackers.values())

    def set_optimizers(
        self, g_optimizer: keras.optimizers.Optimizer, d_optimizer: keras.optimizers.Optimizer
    ) -> None:
        """Attach and build the optimizers (call inside the strategy's scope)."""
        self.g_optimizer = g_optimizer
        g_optimizer.build(self.generator.trainable_variables)
        if self.discriminator is not None:
            self.d_optimizer = d_optimizer
            d_optimizer.build(self.discriminator.trainable_variables)

    def raw(self, gap_input: tf.Tensor, fill: tf.Tensor, invalid: tf.Tensor,
            training: bool = False, context: tf.Tensor | None = None
            ) -> tuple[list, tf.Tensor]:  # fmt: skip
        """The generator's raw fills, before compositing ([coarse, refined] or [filled]), and
        its log-variance."""
        inputs = generator_inputs(gap_input, fill, invalid, context)
        return split_outputs(self.generator(inputs, training=training))

    def fill(self, gap_input: tf.Tensor, fill: tf.Tensor, invalid: tf.Tensor,
             training: bool = False, context: tf.Tensor | None = None) -> list:  # fmt: skip
        """The generator's fills composited with the observed pixels."""
        stages, _ = self.raw(gap_input, fill, invalid, training, context)
        return [composite(o, gap_input, fill) for o in stages]

    def _average(self, per_example: tf.Tensor) -> tf.Tensor:
        return tf.nn.compute_average_loss(per_example, global_batch_size=self.config.batch_size)

    def _reconstruction(self, raw: list, composited: list, truth, gap, valid) -> tf.Tensor:
        w = self.config.weights
        stage_weights = [w.coarse, 1.0] if len(raw) == 2 else [1.0]
        total = 0.0
        for weight, pred, output in zip(stage_weights, raw, composited, strict=True):
            per_example = losses.reconstruction_per_example(
                output, truth, gap, valid, gap_weight=w.l1_gap, valid_weight=w.l1_valid,
                gap_loss=self.config.gap_loss, raw=pred,
            )  # fmt: skip
            total += weight * self._average(per_example)
        return total

    def _discriminator_step(self, truth, fake, fill, valid) -> dict[str, tf.Tensor]:
        config, w = self.config, self.config.weights
        replicas = float(self.num_replicas)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator([truth * valid, fill], training=True)
            fake_logits = self.discriminator([fake, fill], training=True)
            d_loss = losses.d_loss(config.adversarial, real_logits, fake_logits) / replicas
            penalty = tf.constant(0.0)
            if config.gradient_penalty == "r1":
                penalty = losses.r1_penalty(self.discriminator, truth * valid, fill) / replicas
            elif config.gradient_penalty == "wgan_gp":
                epsilon = keras.random.uniform(
                    (tf.shape(truth)[0], 1, 1, 1), seed=self.seed_generator
                )
                penalty = (
                    losses.wgan_gp_penalty(self.discriminator, truth * valid, fake, fill, epsilon)
                    / replicas
                )
            total = d_loss + w.gradient_penalty * penalty
            if config.discriminator_constraint == "regularisation":
                spectral = losses.spectral_regularisation(
                    self.discriminator, vectors=self.power_vectors
                )
                total += w.spectral * spectral / replicas
            scaled = self.d_optimizer.scale_loss(total)  # loss scaling under mixed precision
        variables = self.discriminator.trainable_variables
        self.d_optimizer.apply(tape.gradient(scaled, variables), variables)
        return {"d_loss": d_loss, "penalty": penalty}

    def _generator_loss(self, raw, log_variance, outputs, truth, fill, valid, gap,
                        adversarial_scale):  # fmt: skip
        w = self.config.weights
        reconstruction = self._reconstruction(raw, outputs, truth, gap, valid)
        nll = self._average(
            losses.gaussian_nll_per_example(outputs[-1], truth, log_variance, gap * valid)
        )
        total = reconstruction + w.uncertainty * nll
        adversarial = tf.constant(0.0)
        if self.discriminator is not None:
            fake_logits = self.discriminator([outputs[-1] * valid, fill], training=True)
            adversarial = losses.g_loss(self.config.adversarial, fake_logits) / self.num_replicas
            total += adversarial_scale * w.adversarial * adversarial
        if self.perceptual is not None:
            perceptual, style = self.perceptual(outputs[-1], truth)
            total += (
                adversarial_scale
                * (w.perceptual * perceptual + w.style * style)
                / (self.num_replicas)
            )
        return {"g_loss": total, "reconstruction": reconstruction, "nll": nll,
                "g_adversarial": adversarial}  # fmt: skip

    def train_step(
        self, batch: dict[str, tf.Tensor], adversarial_scale: float | tf.Tensor = 1.0
    ) -> dict[str, tf.Tensor]:
        """One discriminator update (GAN) then one generator update, on one replica's batch.

        `adversarial_scale` (0..1) scales the adversarial and perceptual terms (the trainer
        ramps it up after a warm-up on reconstruction alone). The discriminator sees real and
        fake images alike at pixels without truth (both zero there), so the gap-free truth is no
        cue. The generator runs forward once: its weights do not change during the
        discriminator update, so that update reuses the output (without recording it for the
        generator's gradient), and the generator's adversarial loss then sees the updated
        discriminator.
        """
        truth, gap_input, fill, invalid = model_inputs(batch)
        valid = batch["valid"]
        results = {}
        with tf.GradientTape() as tape:
            raw, log_variance = self.raw(gap_input, fill, invalid, training=True,
                                         context=context_input(batch))  # fmt: skip
            outputs = [composite(o, gap_input, fill) for o in raw]
            if self.discriminator is not None:
                with tape.stop_recording():
                    fake = tf.stop_gradient(outputs[-1]) * valid
                    results.update(self._discriminator_step(truth, fake, fill, valid))
            results.update(self._generator_loss(raw, log_variance, outputs, truth, fill, valid,
                                                batch["gap"], adversarial_scale))  # fmt: skip
            scaled = self.g_optimizer.scale_loss(results["g_loss"])  # under mixed precision
        variables = self.generator.trainable_variables
        self.g_optimizer.apply(tape.gradient(scaled, variables), variables)
        for name, value in results.items():
            self._trackers[name].update_state(value)
        return results
