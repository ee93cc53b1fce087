"""The generators (two-stage gated-convolution GAN, UNet baseline) and the patch discriminator.

Generators take `[x, gap, invalid]`: `x` (B, H, W, bands) normalised reflectance with gaps
zeroed, `gap` (B, H, W, 1), 1 where a pixel is to be filled (the gap to score and any pixel
without a value), and `invalid` (B, H, W, 1), 1 where no value exists (land, flagged pixels),
so the networks can tell a coast from a cloud. A generator with a temporal window (`context`
channels, `model.temporal.context_channels`) takes a fourth input, `context` (B, H, W,
context): the neighbours in time, which every stage reads beside its first guess, each
neighbour's values as their difference from it (`NeighbourAnomaly`); the classical fill stays
spatial. Each generator is a residual over the classical
fill: `ClassicalFill` (biharmonic, plain TensorFlow ops) fills the gap inside the graph, the
network reads that first guess with the two masks and predicts a correction whose last layer
starts at zero, so an untrained generator returns the classical fill exactly. Outputs are the
*raw* predictions (base + correction at every pixel, observed ones included; `composite` puts
the observed pixels back), stage by stage, then each band's log-variance from the uncertainty
head (`split_outputs` tells them apart). H and W may be any multiple of the network's stride
(`STRIDE_CMUNET`, `STRIDE_UNET`); other sizes raise an error naming the size.
"""

from __future__ import annotations

import keras

from model.classical import CG_ITERATIONS
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

STRIDE_CMUNET = 8
STRIDE_UNET = 16
# Bumped when the generators' inputs or layers change, so a warm start never loads weights of
# another design (2: residual over the classical fill, invalid channel, uncertainty head;
# 3: neighbours in time read as differences from the classical fill).
NETWORK_VERSION = 3


def _inputs(bands: int, stride: int, name: str, iterations: int, context: int):
    """The inputs (`x`, `gap`, `invalid`, and `context` when it has channels), the
    stride-checked `x`'s classical fill, and the side channels every stage reads."""
    x = keras.Input((None, None, bands), name="x")
    gap = keras.Input((None, None, 1), name="gap")
    invalid = keras.Input((None, None, 1), name="invalid")
    inputs = [x, gap, invalid]
    if context:
        inputs.append(keras.Input((None, None, context), name="context"))
    checked = StrideCheck(stride, name=f"{name}_stride_check")(x)
    base = ClassicalFill(iterations, name="classical_fill")(checked, gap)
    side = inputs[1:]
    if context:
        side[-1] = NeighbourAnomaly(bands, name="neighbour_anomaly")(inputs[-1], base)
    return inputs, base, side


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
    """1/8 -> full resolution: (features, `bands` channels of correction, zero at first).

    Full resolution has `width // 2` channels, at least 4: fewer starve the output layer.
    """
    for level, filters in enumerate((2 * width, width, max(width // 2, 4))):
        h = GatedDeconv2D(filters, name=f"{prefix}_up{level}")(h)
        h = GatedConv2D(filters, name=f"{prefix}_dec{level}")(h)
    correction = GatedConv2D(bands, activation=None, kernel_initializer="zeros",
                             name=f"{prefix}_out")(h)  # fmt: skip
    return h, correction


def _log_variance(features, bands: int):
    """The uncertainty head: each band's log-variance (normalised units), 0 (sigma = 1, the
    band's spread) until trained."""
    return keras.layers.Conv2D(bands, 3, padding="same", kernel_initializer="zeros",
                               dtype="float32", name="log_variance")(features)  # fmt: skip


def split_outputs(outputs) -> tuple[list, object]:
    """A generator's outputs as (the stages' raw fills, coarse to final; the log-variance)."""
    outputs = list(outputs)
    return outputs[:-1], outputs[-1]


def build_cmunet_generator(
    bands: int,
    width: int = 32,
    name: str = "cmunet",
    iterations: int = CG_ITERATIONS,
    context: int = 0,
) -> keras.Model:
    """Two-stage gated-convolution inpainting generator: `[x, gap, invalid(, context)]` ->
    `[coarse, refined, log_variance]`, the fills raw (see the module docstring).

    Stage 1 (coarse) corrects the classical fill with an encoder-decoder of gated convolutions
    down to 1/8 resolution with dilated gated convolutions (rates 2, 4, 8) at the bottom.
    Stage 2 (refine) corrects stage 1's composited output: a shared encoder to 1/8 feeds a
    dilated branch and a contextual-attention branch (keys from known positions only), merged by
    a 1x1 gated convolution before the decoder. H and W: multiples of 8.
    """
    inputs, base, side = _inputs(bands, STRIDE_CMUNET, name, iterations, context)
    x, gap = inputs[:2]
    h = keras.layers.Concatenate(name="coarse_input")([base, *side])
    h = _encoder(h, width, "coarse")
    h = _dilated(h, width, "coarse")
    coarse = Residual(name="coarse")(base, _decoder(h, width, bands, "coarse")[1])
    composited = Composite(name="composite_coarse")(coarse, x, gap)

    h = keras.layers.Concatenate(name="refine_input")([composited, *side])
    trunk = _encoder(h, width, "refine")
    dilated = _dilated(trunk, width, "refine")
    known = KnownShare(STRIDE_CMUNET, name="known_share")(gap)
    attended = SelfAttention(name="refine_attention")(trunk, known)
    attended = GatedConv2D(4 * width, name="refine_attention_conv")(attended)
    h = keras.layers.Concatenate(name="refine_branches")([dilated, attended])
    h = GatedConv2D(4 * width, kernel_size=1, name="refine_merge")(h)
    features, correction = _decoder(h, width, bands, "refine")
    refined = Residual(name="refined")(composited, correction)
    log_variance = _log_variance(features, bands)
    return keras.Model(inputs, [coarse, refined, log_variance], name=name)


def _double_conv(h, filters: int, prefix: str):
    for i in range(2):
        h = keras.layers.Conv2D(
            filters, 3, padding="same", activation="elu", name=f"{prefix}_conv{i}"
        )(h)
    return h


def build_unet_generator(
    bands: int,
    width: int = 32,
    depth: int = 4,
    name: str = "unet",
    iterations: int = CG_ITERATIONS,
    context: int = 0,
) -> keras.Model:
    """UNet baseline: `[x, gap, invalid(, context)]` -> `[filled, log_variance]`: the raw fill
    (B, H, W, bands), the classical fill plus a correction, and each band's log-variance.

    (3x3 conv, ELU) x 2 per level. ELU rather than ReLU: narrow ReLU UNets lose units and stall
    (seen at width 4). No normalisation layers: batch statistics would mix the zeroed gaps into
    the features and tie replicas together under MirroredStrategy. Channels double per level from
    `width`, capped at 8 * `width`; max-pooling down, nearest upsampling plus a 3x3 conv up,
    skip connections by concatenation, a linear 1x1 conv out, initialised at zero. H and W:
    multiples of 2 ** `depth` (`STRIDE_UNET` for the default depth).
    """
    if depth < 1:
        raise ValueError(f"depth {depth} must be at least 1")
    inputs, base, side = _inputs(bands, 2**depth, name, iterations, context)
    channels = [min(width * 2**level, 8 * width) for level in range(depth + 1)]

    h = keras.layers.Concatenate(name="input")([base, *side])
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
    correction = keras.layers.Conv2D(bands, 1, kernel_initializer="zeros", name="out")(h)
    filled = Residual(name="filled")(base, correction)
    return keras.Model(inputs, [filled, _log_variance(h, bands)], name=name)


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
