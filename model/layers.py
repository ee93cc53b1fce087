"""Building blocks of the inpainting networks: gated convolutions, self-attention, compositing.

Channels-last throughout. Every layer follows the Keras dtype policy (mixed precision is an
option): the attention softmax and the compositing are computed in float32 whatever the
policy, so observed pixels come out of a network bit-exact.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from model.classical import CG_ITERATIONS, classical_fill
from model.temporal import difference_channels

PACKAGE = "s3inpaint"


def composite(pred, observed, gap):
    """`gap * pred + (1 - gap) * observed`, in the dtype of `observed`.

    Where `gap` is 0 the result is `observed` bit for bit (for finite `pred`), so the observed
    pixels of a tile pass through a network unchanged.

    Args:
        pred: (B, H, W, C) network output.
        observed: (B, H, W, C) input reflectance (gaps zeroed).
        gap: (B, H, W, 1), 1 where a pixel is to be filled, 0 where it is observed.
    """
    pred = ops.cast(pred, observed.dtype)
    gap = ops.cast(gap, observed.dtype)
    return gap * pred + (1.0 - gap) * observed


def crop(x, top, left, size: int):
    """The `size` x `size` window of (B, H, W, C) `x` at (`top`, `left`), by slicing.

    `top` and `left` may be Python ints or scalar integer tensors (random offsets drawn by the
    caller); the crop is a plain slice, so it is differentiable inside nested GradientTapes
    (tf.image.random_crop is not) and keeps a static (size, size) shape for XLA.
    """
    begin = tf.stack([0, tf.cast(top, tf.int32), tf.cast(left, tf.int32), 0])
    return tf.slice(x, begin, [-1, size, size, -1])


@keras.saving.register_keras_serializable(package=PACKAGE)
class GatedConv2D(keras.layers.Layer):
    """Gated convolution: `activation(features) * sigmoid(gate)`, "same" padding.

    One Conv2D makes 2 * `filters` channels, the first half features and the second the gate.
    `activation=None` gives `features * sigmoid(gate)` (output layers); with
    `kernel_initializer="zeros"` such a layer starts at exactly 0 (a residual's correction).
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int = 3,
        strides: int = 1,
        dilation_rate: int = 1,
        activation: str | None = "elu",
        kernel_initializer: str = "glorot_uniform",
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.dilation_rate = dilation_rate
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = kernel_initializer
        self.conv = keras.layers.Conv2D(
            2 * filters,
            kernel_size,
            strides=strides,
            dilation_rate=dilation_rate,
            padding="same",
            kernel_initializer=kernel_initializer,
            dtype=self.dtype_policy,
            name="conv",
        )

    def build(self, input_shape) -> None:
        self.conv.build(input_shape)

    def call(self, inputs):
        features, gate = ops.split(self.conv(inputs), 2, axis=-1)
        return self.activation(features) * ops.sigmoid(gate)

    def compute_output_shape(self, input_shape):
        return (*self.conv.compute_output_shape(input_shape)[:-1], self.filters)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "dilation_rate": self.dilation_rate,
            "activation": keras.activations.serialize(self.activation),
            "kernel_initializer": self.kernel_initializer,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class GatedDeconv2D(keras.layers.Layer):
    """Nearest-neighbour x2 upsampling followed by a GatedConv2D (no checkerboard artefacts)."""

    def __init__(
        self, filters: int, kernel_size: int = 3, activation: str | None = "elu", **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = kernel_size
        self.upsample = keras.layers.UpSampling2D(2, interpolation="nearest", name="upsample")
        self.conv = GatedConv2D(
            filters, kernel_size, activation=activation, dtype=self.dtype_policy, name="gated"
        )

    def build(self, input_shape) -> None:
        self.conv.build(self.upsample.compute_output_shape(input_shape))

    def call(self, inputs):
        return self.conv(self.upsample(inputs))

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(self.upsample.compute_output_shape(input_shape))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "activation": keras.activations.serialize(self.conv.activation),
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class SelfAttention(keras.layers.Layer):
    """Contextual self-attention: every position attends to the *known* positions only, with a
    residual scaled by `gamma` (starts at 0).

    Called as `layer(features, known)`: `known` (B, H, W, 1) is the share of observed pixels
    under each position (0 = all gap). Keys and values come from positions with `known` > 0, as
    in DeepFill's contextual attention, so a gap is filled from context rather than from other
    gap features; an image with no known position attends everywhere. Query and key are 1x1
    convolutions to max(C // 8, 1) channels, the value a 1x1 convolution to C; the softmax over
    positions runs in float32. Memory grows as (H * W)^2 per image: use it at 1/8 resolution or
    coarser.
    """

    def build(self, inputs_shape, known_shape=None) -> None:
        channels = int(inputs_shape[-1])
        inner = max(channels // 8, 1)
        policy = self.dtype_policy
        self.query = keras.layers.Conv2D(inner, 1, dtype=policy, name="query")
        self.key = keras.layers.Conv2D(inner, 1, dtype=policy, name="key")
        self.value = keras.layers.Conv2D(channels, 1, dtype=policy, name="value")
        for conv in (self.query, self.key, self.value):
            conv.build(inputs_shape)
        self.gamma = self.add_weight(shape=(), initializer="zeros", name="gamma")

    def call(self, inputs, known):
        shape = ops.shape(inputs)
        batch, positions = shape[0], shape[1] * shape[2]

        def flat(t):
            return ops.reshape(t, (batch, positions, t.shape[-1]))

        q, k, v = flat(self.query(inputs)), flat(self.key(inputs)), flat(self.value(inputs))
        logits = ops.matmul(
            ops.cast(q, "float32"), ops.transpose(ops.cast(k, "float32"), (0, 2, 1))
        )
        keys = ops.reshape(ops.cast(known, "float32") > 0.0, (batch, 1, positions))
        keys = ops.logical_or(keys, ops.logical_not(ops.any(keys, axis=-1, keepdims=True)))
        logits = ops.where(keys, logits, ops.full_like(logits, -1e9))
        attention = ops.cast(ops.softmax(logits, axis=-1), v.dtype)
        attended = ops.reshape(ops.matmul(attention, v), shape)
        return ops.cast(self.gamma, inputs.dtype) * attended + inputs

    def compute_output_shape(self, inputs_shape, known_shape=None):
        return inputs_shape


@keras.saving.register_keras_serializable(package=PACKAGE)
class StrideCheck(keras.layers.Layer):
    """Identity that fails when height or width is not a multiple of `stride`.

    A clear ValueError when the shape is static (eager calls); an InvalidArgumentError from a
    graph assertion when it is only known at run time (a no-op under XLA).
    """

    def __init__(self, stride: int, **kwargs) -> None:
        kwargs["dtype"] = "float32"  # an identity: never round the values under mixed precision
        super().__init__(**kwargs)
        self.stride = stride

    def _message(self, height, width) -> str:
        return (
            f"{self.name}: height and width must be multiples of {self.stride}, "
            f"got {height} x {width}"
        )

    def call(self, inputs):
        height, width = inputs.shape[1], inputs.shape[2]
        if height is not None and width is not None:
            if height % self.stride or width % self.stride:
                raise ValueError(self._message(height, width))
            return inputs
        size = tf.shape(inputs)[1:3]
        check = tf.debugging.assert_equal(
            tf.math.floormod(size, self.stride), 0, message=self._message("H", "W")
        )
        with tf.control_dependencies([check]):
            return tf.identity(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "stride": self.stride}


@keras.saving.register_keras_serializable(package=PACKAGE)
class Composite(keras.layers.Layer):
    """`composite` as a layer: [pred, observed, gap] -> composited, always float32."""

    def __init__(self, **kwargs) -> None:
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)

    def call(self, pred, observed, gap):
        return composite(pred, observed, gap)

    def compute_output_shape(self, pred_shape, observed_shape, gap_shape):
        return observed_shape


@keras.saving.register_keras_serializable(package=PACKAGE)
class ClassicalFill(keras.layers.Layer):
    """`model.classical.classical_fill` as a layer: [values, fill] -> the biharmonic first guess.

    `fill` is 1 where a pixel is to be filled; the rest are known and pass through bit for bit.
    Always float32 and without weights: the networks learn a correction on top of it.
    """

    def __init__(self, iterations: int = CG_ITERATIONS, **kwargs) -> None:
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        self.iterations = iterations

    def call(self, values, fill):
        known = 1.0 - ops.cast(fill, "float32")
        return classical_fill(ops.cast(values, "float32"), known, self.iterations)

    def compute_output_shape(self, values_shape, fill_shape):
        return values_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "iterations": self.iterations}


@keras.saving.register_keras_serializable(package=PACKAGE)
class Residual(keras.layers.Layer):
    """[base, correction] -> base + correction, in float32 whatever the policy."""

    def __init__(self, **kwargs) -> None:
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)

    def call(self, base, correction):
        return ops.cast(base, "float32") + ops.cast(correction, "float32")

    def compute_output_shape(self, base_shape, correction_shape):
        return base_shape


@keras.saving.register_keras_serializable(package=PACKAGE)
class NeighbourAnomaly(keras.layers.Layer):
    """[context, base] -> `model.temporal.difference_channels`: the context of `bands` bands
    with each neighbour's values replaced by their difference from the tile's classical fill
    `base`, 0 where the neighbour has no value; validity and offsets pass unchanged.

    Where a neighbour in time saw what the tile's gap hides, the correction it implies is then
    an input to pass on rather than a difference the network must learn to take.
    """

    def __init__(self, bands: int, **kwargs) -> None:
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        self.bands = bands

    def call(self, context, base):
        return difference_channels(
            ops.cast(context, "float32"), ops.cast(base, "float32"), self.bands
        )

    def compute_output_shape(self, context_shape, base_shape):
        return context_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "bands": self.bands}


@keras.saving.register_keras_serializable(package=PACKAGE)
class KnownShare(keras.layers.Layer):
    """gap (B, H, W, 1) -> the share of known pixels in each `stride` x `stride` cell."""

    def __init__(self, stride: int, **kwargs) -> None:
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        self.stride = stride

    def call(self, gap):
        known = 1.0 - ops.cast(gap, "float32")
        return ops.average_pool(known, self.stride, strides=self.stride, padding="valid")

    def compute_output_shape(self, gap_shape):
        batch, height, width, channels = gap_shape
        cells = [None if n is None else n // self.stride for n in (height, width)]
        return (batch, *cells, channels)

    def get_config(self) -> dict:
        return {**super().get_config(), "stride": self.stride}
