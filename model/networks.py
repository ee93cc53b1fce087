"""The generators (two-stage gated-convolution GAN, UNet baseline) and the patch discriminator.

Generators take `[x, gap]`: `x` (B, H, W, bands) normalised reflectance with gaps zeroed and
`gap` (B, H, W, 1), 1 where a pixel is to be filled. Their outputs are already composited with
the observed pixels, which pass through bit-exact. H and W may be any multiple of the network's
stride (`STRIDE_CMUNET`, `STRIDE_UNET`); other sizes raise an error naming the size.
"""

from __future__ import annotations

import keras

from model.layers import (
    Composite,
    GatedConv2D,
    GatedDeconv2D,
    SelfAttention,
    StrideCheck,
)

STRIDE_CMUNET = 8
STRIDE_UNET = 16


def _inputs(bands: int, stride: int, name: str) -> tuple[keras.KerasTensor, ...]:
    x = keras.Input((None, None, bands), name="x")
    gap = keras.Input((None, None, 1), name="gap")
    checked = StrideCheck(stride, name=f"{name}_stride_check")(x)
    return x, gap, checked


def _encoder(h, width: int, prefix: str):
    """Full resolution -> 1/8 with 4 * `width` channels."""
    for i, (filters, kernel, strides) in enumerate(
        [
            (width, 5, 1),
            (2 * width, 3, 2),
            (2 * width, 3, 1),
            (4 * width, 3, 2),
            (4 * width, 3, 1),
            (4 * width, 3, 2),
        ]
    ):
        h = GatedConv2D(filters, kernel, strides=strides, name=f"{prefix}_enc{i}")(h)
    return h


def _dilated(h, width: int, prefix: str):
    for rate in (2, 4, 8):
        h = GatedConv2D(4 * width, dilation_rate=rate, name=f"{prefix}_dilated{rate}")(h)
    return h


def _decoder(h, width: int, bands: int, prefix: str):
    """1/8 -> full resolution, `bands` channels (no output activation).

    Full resolution has `width // 2` channels, at least 4: fewer starve the output layer.
    """
    for level, filters in enumerate((2 * width, width, max(width // 2, 4))):
        h = GatedDeconv2D(filters, name=f"{prefix}_up{level}")(h)
        h = GatedConv2D(filters, name=f"{prefix}_dec{level}")(h)
    return GatedConv2D(bands, activation=None, name=f"{prefix}_out")(h)


def build_cmunet_generator(bands: int, width: int = 32, name: str = "cmunet") -> keras.Model:
    """Two-stage gated-convolution inpainting generator: `[x, gap]` -> `[coarse, refined]`.

    Stage 1 (coarse) is an encoder-decoder of gated convolutions down to 1/8 resolution with
    dilated gated convolutions (rates 2, 4, 8) at the bottom. Stage 2 (refine) reads stage 1's
    composited output and the gap: a shared encoder to 1/8 feeds a dilated branch and a
    self-attention branch, merged by a 1x1 gated convolution before the decoder.
    Both outputs are composited with the observed pixels. H and W: multiples of 8.
    """
    x, gap, checked = _inputs(bands, STRIDE_CMUNET, name)
    h = keras.layers.Concatenate(name="coarse_input")([checked, gap])
    h = _encoder(h, width, "coarse")
    h = _dilated(h, width, "coarse")
    coarse = Composite(name="composite_coarse")(_decoder(h, width, bands, "coarse"), x, gap)

    h = keras.layers.Concatenate(name="refine_input")([coarse, gap])
    trunk = _encoder(h, width, "refine")
    dilated = _dilated(trunk, width, "refine")
    attended = SelfAttention(name="refine_attention")(trunk)
    attended = GatedConv2D(4 * width, name="refine_attention_conv")(attended)
    h = keras.layers.Concatenate(name="refine_branches")([dilated, attended])
    h = GatedConv2D(4 * width, kernel_size=1, name="refine_merge")(h)
    refined = Composite(name="composite_refined")(_decoder(h, width, bands, "refine"), x, gap)
    return keras.Model([x, gap], [coarse, refined], name=name)


def _double_conv(h, filters: int, prefix: str):
    for i in range(2):
        h = keras.layers.Conv2D(
            filters, 3, padding="same", activation="elu", name=f"{prefix}_conv{i}"
        )(h)
    return h


def build_unet_generator(
    bands: int, width: int = 32, depth: int = 4, name: str = "unet"
) -> keras.Model:
    """UNet baseline: `[x, gap]` -> filled (B, H, W, bands), composited.

    (3x3 conv, ELU) x 2 per level. ELU rather than ReLU: narrow ReLU UNets lose units and stall
    (seen at width 4). No normalisation layers: batch statistics would mix the zeroed gaps into
    the features and tie replicas together under MirroredStrategy. Channels double per level from
    `width`, capped at 8 * `width`; max-pooling down, nearest upsampling plus a 3x3 conv up,
    skip connections by concatenation, a linear 1x1 conv out. H and W: multiples of
    2 ** `depth` (`STRIDE_UNET` for the default depth).
    """
    if depth < 1:
        raise ValueError(f"depth {depth} must be at least 1")
    x, gap, checked = _inputs(bands, 2**depth, name)
    channels = [min(width * 2**level, 8 * width) for level in range(depth + 1)]

    h = keras.layers.Concatenate(name="input")([checked, gap])
    skips = []
    for level in range(depth):
        h = _double_conv(h, channels[level], f"down{level}")
        skips.append(h)
        h = keras.layers.MaxPooling2D(2, name=f"pool{level}")(h)
    h = _double_conv(h, channels[depth], "bottom")
    for level in reversed(range(depth)):
        h = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"up{level}")(h)
        h = keras.layers.Conv2D(
            channels[level], 3, padding="same", activation="elu", name=f"up{level}_conv"
        )(h)
        h = keras.layers.Concatenate(name=f"skip{level}")([skips[level], h])
        h = _double_conv(h, channels[level], f"dec{level}")
    pred = keras.layers.Conv2D(bands, 1, name="out")(h)
    return keras.Model([x, gap], Composite(name="composite")(pred, x, gap), name=name)


def build_patch_discriminator(
    bands: int, width: int = 16, spectral_norm: bool = True, name: str = "discriminator"
) -> keras.Model:
    """PatchGAN on `[image, gap]` -> (B, ceil(H / 16), ceil(W / 16), 1) float32 logits.

    Four 5x5 stride-2 convolutions (width, 2, 4, 8 x width) with LeakyReLU(0.2), then a 3x3
    convolution to one logit per patch. With `spectral_norm`, every convolution is wrapped in
    keras.layers.SpectralNormalization (which rescales the kernel in place on training calls);
    without, use `losses.spectral_regularisation` as a loss term instead.
    """
    image = keras.Input((None, None, bands), name="image")
    gap = keras.Input((None, None, 1), name="gap")

    def conv(filters: int, kernel: int, strides: int, layer_name: str):
        layer = keras.layers.Conv2D(
            filters, kernel, strides=strides, padding="same", name=layer_name
        )
        if spectral_norm:
            return keras.layers.SpectralNormalization(layer, name=f"{layer_name}_sn")
        return layer

    h = keras.layers.Concatenate(name="input")([image, gap])
    for i, multiple in enumerate((1, 2, 4, 8)):
        h = conv(multiple * width, 5, 2, f"conv{i}")(h)
        h = keras.layers.LeakyReLU(0.2, name=f"lrelu{i}")(h)
    logits = conv(1, 3, 1, "logits")(h)
    logits = keras.layers.Activation("linear", dtype="float32", name="logits_float32")(logits)
    return keras.Model([image, gap], logits, name=name)
