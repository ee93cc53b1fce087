"""A biharmonic gap fill made of plain TensorFlow ops: the classical first guess in the graph.

`classical_fill(values, known)` fills every unknown pixel of each band of each image with the
solution of scikit-image's biharmonic system (`skimage.restoration.inpaint_biharmonic`: the
squared Laplacian, mirrored at the image's edges as `scipy.ndimage.laplace` does, set to zero at
every unknown pixel), clipped as scikit-image clips it. It runs inside the model, so training,
evaluation, the exported SavedModel and a GPU all use the same fill:

1. Push-pull: known values are averaged down a pyramid of 2x2 cells, and every cell is blended
   with its coarser parent in proportion to its unknown share on the way up. A smooth first
   guess, exact at known pixels, harmonic-like in the gaps.
2. Conjugate gradients on the biharmonic system of the unknown pixels, one system per band and
   image, started from the push-pull guess. The system is the unknown pixels' block of L^T L
   (L the mirrored grid Laplacian, symmetric): symmetric positive definite as soon as one pixel
   is known, so each iteration lowers the error in the system's own norm. It stops when every
   system's residual has fallen by `CG_TOLERANCE` (a small patch converges in a fraction of the
   iterations a wide gap needs), or after `iterations`, which bounds the work.

3. Clipping: as scikit-image does, each band of each image is clipped to the range of its known
   values (a biharmonic continuation overshoots in wide gaps).

Known pixels are returned bit for bit. An image with no known pixel in a band gets 0 there.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from model.config import CG_ITERATIONS

PYRAMID_LEVELS = 9  # halvings: a 512-pixel tile reaches one cell
# Relative residual norm at which conjugate gradients stop: the fill then differs from the
# converged one by ~1e-4 of its own error (measured on 16-256 pixel tiles with 50 % gaps).
CG_TOLERANCE = 1e-5


def _per_channel(values: tf.Tensor) -> tf.Tensor:
    """(B, H, W, C) -> (B * C, H, W, 1), one image per band."""
    shape = tf.shape(values)
    moved = tf.transpose(values, [0, 3, 1, 2])
    return tf.reshape(moved, [shape[0] * shape[3], shape[1], shape[2], 1])


def _from_channels(images: tf.Tensor, like: tf.Tensor) -> tf.Tensor:
    """The inverse of `_per_channel`."""
    shape = tf.shape(like)
    grouped = tf.reshape(images, [shape[0], shape[3], shape[1], shape[2]])
    return tf.transpose(grouped, [0, 2, 3, 1])


def push_pull(values: tf.Tensor, known: tf.Tensor, levels: int = PYRAMID_LEVELS) -> tf.Tensor:
    """The push-pull fill of (N, H, W, 1) `values` where `known` (N, H, W, 1, 0/1) is 0."""
    weights, sums = [known], [values * known]
    for _ in range(levels):
        weights.append(tf.nn.avg_pool2d(weights[-1], 2, 2, "SAME"))
        sums.append(tf.nn.avg_pool2d(sums[-1], 2, 2, "SAME"))
    # The top: each image's known mean wherever a cell knows nothing.
    total = tf.reduce_sum(values * known, axis=[1, 2, 3], keepdims=True)
    count = tf.reduce_sum(known, axis=[1, 2, 3], keepdims=True)
    estimate = tf.math.divide_no_nan(sums[-1], weights[-1])
    estimate = tf.where(weights[-1] > 0, estimate, tf.math.divide_no_nan(total, count))
    for level in range(levels - 1, -1, -1):
        size = tf.shape(weights[level])[1:3]
        parent = tf.image.resize(estimate, size, method="bilinear")
        weight = weights[level]
        estimate = sums[level] + (1.0 - weight) * parent  # sums are weight x known mean
    return estimate


def _laplacian(images: tf.Tensor) -> tf.Tensor:
    """The 5-point grid Laplacian with mirrored edges (scipy.ndimage.laplace's default
    "reflect"), by slicing: elementwise ops run several times faster on a CPU than a
    one-channel convolution."""
    padded = tf.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="SYMMETRIC")
    return (
        padded[:, :-2, 1:-1]
        + padded[:, 2:, 1:-1]
        + padded[:, 1:-1, :-2]
        + padded[:, 1:-1, 2:]
        - 4.0 * images
    )


def _stencil(images: tf.Tensor) -> tf.Tensor:
    """The squared Laplacian: scikit-image's biharmonic rows, edges included."""
    return _laplacian(_laplacian(images))


def _dot(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    return tf.reduce_sum(a * b, axis=[1, 2, 3], keepdims=True)


def biharmonic_cg(
    values: tf.Tensor, known: tf.Tensor, start: tf.Tensor, iterations: int = CG_ITERATIONS
) -> tf.Tensor:
    """Conjugate gradients on the biharmonic system of (N, H, W, 1) images from `start`, until
    every residual has fallen by `CG_TOLERANCE` or after `iterations`."""
    unknown = 1.0 - known
    fixed = values * known
    solution = start * unknown

    def apply(z):
        return _stencil(z) * unknown

    residual = -_stencil(fixed) * unknown - apply(solution)
    direction = residual
    rr = _dot(residual, residual)
    stop = rr * CG_TOLERANCE**2  # per system; 0 where nothing is unknown or start is exact

    def unconverged(i, solution, residual, direction, rr):
        return tf.logical_and(i < iterations, tf.reduce_any(rr > stop))

    def body(i, solution, residual, direction, rr):
        a_direction = apply(direction)
        alpha = tf.math.divide_no_nan(rr, _dot(direction, a_direction))
        solution = solution + alpha * direction
        residual = residual - alpha * a_direction
        rr_next = _dot(residual, residual)
        beta = tf.math.divide_no_nan(rr_next, rr)
        return i + 1, solution, residual, residual + beta * direction, rr_next

    _, solution, *_ = tf.while_loop(
        unconverged,
        body,
        (tf.constant(0), solution, residual, direction, rr),
        parallel_iterations=1,
    )
    return fixed + solution * unknown


def classical_fill(
    values: tf.Tensor, known: tf.Tensor, iterations: int = CG_ITERATIONS
) -> tf.Tensor:
    """Biharmonic fill of (B, H, W, C) `values` where (B, H, W, 1) `known` is 0.

    Unknown pixels may hold anything (NaN included); known pixels come back bit for bit.
    """
    values = tf.convert_to_tensor(values, tf.float32)
    known = tf.cast(tf.convert_to_tensor(known) > 0.5, tf.float32)
    channels = tf.shape(values)[-1]
    known_all = tf.tile(known, [1, 1, 1, channels])
    safe = tf.where(known_all > 0, values, 0.0)
    images, mask = _per_channel(safe), _per_channel(known_all)
    first = push_pull(images, mask)
    solved = biharmonic_cg(images, mask, first, iterations)
    # As scikit-image does: each band of each image stays within its known values' range.
    low = tf.reduce_min(tf.where(mask > 0, images, np.inf), axis=[1, 2, 3], keepdims=True)
    high = tf.reduce_max(tf.where(mask > 0, images, -np.inf), axis=[1, 2, 3], keepdims=True)
    clipped = tf.where(low <= high, tf.clip_by_value(solved, low, high), solved)
    filled = _from_channels(clipped, values)
    return tf.where(known_all > 0, values, filled)
