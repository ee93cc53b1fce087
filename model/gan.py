"""The inpainting model as a keras.Model with its own train_step (two-stage GAN or UNet).

A batch is a dict of `reflectance` (B, S, S, C: normalised, 0 where not valid), `valid`
(B, S, S, 1) and `gap` (B, S, S, 1: the mask to fill). Pixels that are not valid have no truth:
they are filled like gaps but never scored. Losses are averages over the *global* batch, so a
step on N replicas equals a step on one device with the same global batch.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from model import losses
from model.config import ModelConfig
from model.networks import (
    build_cmunet_generator,
    build_patch_discriminator,
    build_unet_generator,
)


def build_networks(config: ModelConfig, bands: int) -> tuple[keras.Model, keras.Model | None]:
    """The generator and (for the GAN) the discriminator of `config`."""
    if config.kind == "unet":
        return build_unet_generator(bands, config.width), None
    generator = build_cmunet_generator(bands, config.width)
    discriminator = build_patch_discriminator(
        bands,
        config.discriminator_width,
        spectral_norm=config.discriminator_constraint == "spectral_norm",
    )
    return generator, discriminator


def model_inputs(batch: dict[str, tf.Tensor]) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """(truth, generator input with gaps zeroed, gap to fill incl. invalid pixels)."""
    truth = batch["reflectance"]
    fill = 1.0 - (1.0 - batch["gap"]) * batch["valid"]
    return truth, truth * (1.0 - fill), fill


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
        self.g_optimizer: keras.optimizers.Optimizer | None = None
        self.d_optimizer: keras.optimizers.Optimizer | None = None
        self._trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("g_loss", "reconstruction", "g_adversarial", "d_loss", "penalty")
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

    def fill(self, gap_input: tf.Tensor, fill: tf.Tensor, training: bool = False) -> list:
        """The generator's composited outputs: [coarse, refined] or [filled]."""
        outputs = self.generator([gap_input, fill], training=training)
        return list(outputs) if isinstance(outputs, list | tuple) else [outputs]

    def _average(self, per_example: tf.Tensor) -> tf.Tensor:
        return tf.nn.compute_average_loss(per_example, global_batch_size=self.config.batch_size)

    def _reconstruction(self, outputs: list, truth, gap, valid) -> tf.Tensor:
        w = self.config.weights
        stage_weights = [w.coarse, 1.0] if len(outputs) == 2 else [1.0]
        total = 0.0
        for weight, output in zip(stage_weights, outputs, strict=True):
            per_example = losses.reconstruction_per_example(
                output, truth, gap, valid, gap_weight=w.l1_gap, valid_weight=w.l1_valid
            )
            total += weight * self._average(per_example)
        return total

    def _discriminator_step(self, truth, fake, fill) -> dict[str, tf.Tensor]:
        config, w = self.config, self.config.weights
        replicas = float(self.num_replicas)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator([truth, fill], training=True)
            fake_logits = self.discriminator([fake, fill], training=True)
            d_loss = losses.d_loss(config.adversarial, real_logits, fake_logits) / replicas
            penalty = tf.constant(0.0)
            if config.gradient_penalty == "r1":
                penalty = losses.r1_penalty(self.discriminator, truth, fill) / replicas
            elif config.gradient_penalty == "wgan_gp":
                epsilon = keras.random.uniform(
                    (tf.shape(truth)[0], 1, 1, 1), seed=self.seed_generator
                )
                penalty = (
                    losses.wgan_gp_penalty(self.discriminator, truth, fake, fill, epsilon)
                    / replicas
                )
            total = d_loss + w.gradient_penalty * penalty
            if config.discriminator_constraint == "regularisation":
                total += w.spectral * losses.spectral_regularisation(self.discriminator) / replicas
            scaled = self.d_optimizer.scale_loss(total)  # loss scaling under mixed precision
        variables = self.discriminator.trainable_variables
        self.d_optimizer.apply(tape.gradient(scaled, variables), variables)
        return {"d_loss": d_loss, "penalty": penalty}

    def _generator_loss(self, outputs, truth, fill, valid, gap) -> dict[str, tf.Tensor]:
        w = self.config.weights
        reconstruction = self._reconstruction(outputs, truth, gap, valid)
        total = reconstruction
        adversarial = tf.constant(0.0)
        if self.discriminator is not None:
            fake_logits = self.discriminator([outputs[-1], fill], training=True)
            adversarial = losses.g_loss(self.config.adversarial, fake_logits) / self.num_replicas
            total += w.adversarial * adversarial
        if self.perceptual is not None:
            perceptual, style = self.perceptual(outputs[-1], truth)
            total += (w.perceptual * perceptual + w.style * style) / self.num_replicas
        return {"g_loss": total, "reconstruction": reconstruction, "g_adversarial": adversarial}

    def train_step(self, batch: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        """One discriminator update (GAN) then one generator update, on one replica's batch.

        The generator runs forward once: its weights do not change during the discriminator
        update, so that update reuses the output (without recording it for the generator's
        gradient), and the generator's adversarial loss then sees the updated discriminator.
        """
        truth, gap_input, fill = model_inputs(batch)
        results = {}
        with tf.GradientTape() as tape:
            outputs = self.fill(gap_input, fill, training=True)
            if self.discriminator is not None:
                with tape.stop_recording():
                    fake = tf.stop_gradient(outputs[-1])
                    results.update(self._discriminator_step(truth, fake, fill))
            results.update(self._generator_loss(outputs, truth, fill, batch["valid"], batch["gap"]))
            scaled = self.g_optimizer.scale_loss(results["g_loss"])  # under mixed precision
        variables = self.generator.trainable_variables
        self.g_optimizer.apply(tape.gradient(scaled, variables), variables)
        for name, value in results.items():
            self._trackers[name].update_state(value)
        return results
