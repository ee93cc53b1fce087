"""The model and training configuration: one frozen dataclass, saved with every trained model."""

from __future__ import annotations

from dataclasses import field
from typing import Annotated, Literal, get_args

from pydantic import Field, StrictBool, StrictFloat, StrictInt, StrictStr

from components.configuration import (
    Fraction,
    Name,
    Positive,
    Section,
    check_range,
    section,
)
from components.pictures import check_band_count

# The most conjugate-gradient iterations of the classical fill on each grid of its cascade
# (`model.classical`). Stopped this early, the fill is better than the converged biharmonic one
# on real ocean scenes under real clouds (`benchmarks/quality.py`, in-gap RMSE over scikit-image
# biharmonic's, tiles of 64 / 256 pixels: chlorophyll series 0.747 / 0.655, chlorophyll scene
# 0.878 / 0.929, Rrs scene 0.917 / 0.938; at 100 iterations 0.749 / 0.732, 0.858 / 0.832,
# 0.917 / 0.967; without the cascade, 400 iterations on the full grid, the fill before it, gave
# 0.758 / 0.663, 0.887 / 1.113, 0.963 / 0.999 in 1.5-6x the time).
CG_ITERATIONS = 50

Kind = Literal["cmunet", "unet"]
DiscriminatorConstraint = Literal["regularisation", "spectral_norm"]
Adversarial = Literal["hinge", "nonsaturating"]
Penalty = Literal["r1", "wgan_gp", "none"]
GapLoss = Literal["l2", "l1", "charbonnier"]
KINDS, DISCRIMINATOR_CONSTRAINTS = get_args(Kind), get_args(DiscriminatorConstraint)
ADVERSARIAL, PENALTIES, GAP_LOSSES = get_args(Adversarial), get_args(Penalty), get_args(GapLoss)


@section
class LossWeights(Section):
    """Weights of the generator's and discriminator's loss terms."""

    l1_gap: StrictFloat = 1.0  # the gap term (ModelConfig.gap_loss) where the truth is known
    l1_valid: StrictFloat = 0.1  # L1 of the raw prediction on observed pixels (keeps colours put)
    coarse: StrictFloat = 0.5  # the coarse stage's reconstruction, relative to the refined one
    uncertainty: StrictFloat = 0.1  # Gaussian NLL of the gap's truth under the predicted variance
    adversarial: StrictFloat = 0.01  # ramped up from 0 over ModelConfig.adversarial_ramp
    gradient_penalty: StrictFloat = 1.0  # R1 gamma / WGAN-GP lambda
    spectral: StrictFloat = 1e-4  # spectral regularisation of the discriminator
    perceptual: StrictFloat = 0.0  # VGG16-BN perceptual loss (needs vgg_weights)
    style: StrictFloat = 0.0  # VGG16-BN style loss (needs vgg_weights)


@section
class ModelConfig(Section):
    """How the inpainting model is built and trained.

    Attributes:
        kind: "cmunet" (two-stage gated-convolution GAN with self-attention) or "unet" (the
            UNet baseline, L1 only).
        width: base width of the generator.
        discriminator_width: base width of the patch discriminator.
        discriminator_constraint: "regularisation" (spectral regularisation loss, the seed's
            preference) or "spectral_norm" (spectral normalisation layers).
        adversarial: "hinge" or "nonsaturating".
        gradient_penalty: "r1", "wgan_gp" or "none".
        weights: loss weights.
        vgg_weights: local .npz of VGG16-BN weights (torchvision layout) for the perceptual and
            style losses; required when their weights are non-zero.
        true_colour_bands: the bands pictures show (the TensorBoard grid, the evaluator's
            panels) and the perceptual loss sees, by name: three (red, green, blue) for true
            colour, or one for a colour map (the perceptual loss then sees it as grey). None:
            OLCI's Oa08, Oa06, Oa04 when the data has them all, else its first band. Names
            the data lacks are refused (`components.pictures`).
        gap_loss: the penalty inside the gap: "l2" (squared error, what an RMSE verdict
            rewards), "l1" or "charbonnier".
        classical_iterations: the most conjugate-gradient iterations on each grid of the
            biharmonic first guess the generators correct (`model.classical`; it stops once
            converged).
        generator_lr, discriminator_lr, beta_1, beta_2: Adam settings; the learning rates are
            peaks, reached by a linear warm-up over `lr_warmup` of the steps and followed by a
            cosine decay to `lr_final` of the peak at the last step.
        adversarial_ramp: (start, end) fractions of the training steps over which the
            adversarial and perceptual terms are ramped up from 0 to their weights; before
            `start` the generator learns from reconstruction alone.
        ema_decay: decay of the exponential moving average of the generator's weights that is
            evaluated and exported (0: export the raw weights); early steps average with
            min(ema_decay, (1 + step) / (10 + step)).
        batch_size: the global batch, split across replicas.
        augment: turn and mirror each training example at random (one of the tile's eight
            symmetries), so a small archive is seen in eight orientations. Off by default: on
            the real chlorophyll series of `benchmarks/quality.py` it did not help (unet width
            16, 1000 steps: 0.199 log10 with it, 0.197 without).
        checkpoint_every: steps between checkpoints (generator, discriminator, optimisers).
        log_every: steps between TensorBoard scalars; images every 10 logs.
        mixed_precision: train in mixed_float16 (GPUs).
        devices: devices for MirroredStrategy (None: every visible GPU, else the CPU).
        seed: seeds initialisation, mask sampling and shuffling.
    """

    kind: Kind = "cmunet"
    width: Positive = 32
    discriminator_width: Positive = 16
    discriminator_constraint: DiscriminatorConstraint = "regularisation"
    adversarial: Adversarial = "hinge"
    gradient_penalty: Penalty = "r1"
    weights: LossWeights = field(default_factory=LossWeights)
    vgg_weights: StrictStr | None = None
    true_colour_bands: tuple[Name, ...] | None = None
    gap_loss: GapLoss = "l2"
    classical_iterations: Annotated[StrictInt, Field(ge=0)] = CG_ITERATIONS
    generator_lr: StrictFloat = 1e-4
    discriminator_lr: StrictFloat = 4e-4
    beta_1: StrictFloat = 0.5
    beta_2: StrictFloat = 0.999
    lr_warmup: Fraction = 0.05
    lr_final: Fraction = 0.1
    adversarial_ramp: tuple[Fraction, Fraction] = (0.3, 0.6)
    ema_decay: Fraction = 0.99
    batch_size: Positive = 8
    augment: StrictBool = False
    checkpoint_every: Positive = 100
    log_every: Positive = 20
    mixed_precision: StrictBool = False
    devices: tuple[StrictStr, ...] | None = None
    seed: StrictInt = 0

    def __post_init__(self) -> None:
        w = self.weights
        if (w.perceptual or w.style) and not self.vgg_weights:
            raise ValueError(
                "perceptual/style weights are set but vgg_weights (a local file) is not"
            )
        if self.true_colour_bands is not None:
            check_band_count(self.true_colour_bands, "true_colour_bands")
        check_range("adversarial_ramp", self.adversarial_ramp)
