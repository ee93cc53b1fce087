"""The model and training configuration: one frozen dataclass, saved with every trained model."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

KINDS = ("cmunet", "unet")
DISCRIMINATOR_CONSTRAINTS = ("regularisation", "spectral_norm")
ADVERSARIAL = ("hinge", "nonsaturating")
PENALTIES = ("r1", "wgan_gp", "none")


@dataclass(frozen=True)
class LossWeights:
    """Weights of the generator's and discriminator's loss terms."""

    l1_gap: float = 1.0  # L1 inside the gap (where the truth is known)
    l1_valid: float = 1.0  # L1 on observed pixels (without it colours shift)
    coarse: float = 0.5  # the coarse stage's reconstruction, relative to the refined one
    adversarial: float = 0.01
    gradient_penalty: float = 1.0  # R1 gamma / WGAN-GP lambda
    spectral: float = 1e-4  # spectral regularisation of the discriminator
    perceptual: float = 0.0  # VGG16-BN perceptual loss (needs vgg_weights)
    style: float = 0.0  # VGG16-BN style loss (needs vgg_weights)


@dataclass(frozen=True)
class ModelConfig:
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
        true_colour_bands: channel indices of (red, green, blue) for the perceptual loss.
        generator_lr, discriminator_lr, beta_1, beta_2: Adam settings.
        batch_size: the global batch, split across replicas.
        checkpoint_every: steps between checkpoints (generator, discriminator, optimisers).
        log_every: steps between TensorBoard scalars; images every 10 logs.
        mask_coverage: coverage range of the masks drawn on the fly for training.
        mask_kinds: weights of the mask kinds drawn for training (None: the sampler's default).
        mixed_precision: train in mixed_float16 (GPUs).
        devices: devices for MirroredStrategy (None: every visible GPU, else the CPU).
        seed: seeds initialisation, mask sampling and shuffling.
    """

    kind: str = "cmunet"
    width: int = 32
    discriminator_width: int = 16
    discriminator_constraint: str = "regularisation"
    adversarial: str = "hinge"
    gradient_penalty: str = "r1"
    weights: LossWeights = field(default_factory=LossWeights)
    vgg_weights: str | None = None
    true_colour_bands: tuple[int, int, int] = (7, 5, 3)  # Oa08, Oa06, Oa04 of the 16 bands
    generator_lr: float = 1e-4
    discriminator_lr: float = 4e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    batch_size: int = 8
    checkpoint_every: int = 100
    log_every: int = 20
    mask_coverage: tuple[float, float] = (0.1, 0.7)
    mask_kinds: dict[str, float] | None = None
    mixed_precision: bool = False
    devices: tuple[str, ...] | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("kind", self.kind, KINDS),
            ("discriminator_constraint", self.discriminator_constraint, DISCRIMINATOR_CONSTRAINTS),
            ("adversarial", self.adversarial, ADVERSARIAL),
            ("gradient_penalty", self.gradient_penalty, PENALTIES),
        ):
            if value not in allowed:
                raise ValueError(f"{name} {value!r} is not one of {allowed}")
        for name in ("width", "discriminator_width", "batch_size", "checkpoint_every", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} {getattr(self, name)} must be positive")
        w = self.weights
        if (w.perceptual or w.style) and not self.vgg_weights:
            raise ValueError(
                "perceptual/style weights are set but vgg_weights (a local file) is not"
            )
        low, high = self.mask_coverage
        if not 0.0 < low <= high < 1.0:
            raise ValueError(f"mask_coverage {self.mask_coverage} is not 0 < min <= max < 1")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """The inverse of `to_dict` (unknown keys are an error)."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model config keys {sorted(unknown)}")
        data = dict(data)
        if isinstance(data.get("weights"), dict):
            data["weights"] = LossWeights(**data["weights"])
        for key in ("true_colour_bands", "mask_coverage", "devices"):
            if data.get(key) is not None:
                data[key] = tuple(data[key])
        return cls(**data)
