"""A biharmonic gap fill made of plain TensorFlow ops: the classical first guess in the graph.

`classical_fill(values, known)` fills every unknown pixel of each band of each image from the
biharmonic system of scikit-image's `inpaint_biharmonic` (the squared Laplacian, mirrored at
the image's edges as `scipy.ndimage.laplace` does, set to zero at every unknown pixel), clipped
as scikit-image clips it. It runs inside the model, so training, evaluation, the exported
SavedModel and a GPU all use the same fill:

1. A cascade of grids: the image is averaged down in 2x2 cells (a coarse pixel is known where
   at least half of its cell is) while its shorter side stays >= `COARSEST_SIDE`, at most
   `CASCADE_LEVELS` times. The coarsest grid starts from push-pull (known values averaged down a
   pyramid of 2x2 cells, every cell blended with its coarser parent in proportion to its unknown
   share on the way up: smooth, exact at known pixels, harmonic-like in the gaps).
2. On each grid, coarsest first, conjugate gradients on the biharmonic system of the unknown
   pixels, one system per band and image, started from the coarser grid's fill doubled in
   size. The system is the unknown pixels' block of L^T L (L the mirrored grid Laplacian):
   symmetric positive definite as soon as one pixel is known. Each grid stops when every
   system's residual is below `CG_TOLERANCE` of its right-hand side, or after `iterations`.
   Stopped early, the fill is smoother than the converged biharmonic solution, which
   overshoots in wide gaps; on real ocean scenes it is the better fill (see `model.config`).
   With `iterations` 0 the fill is the push-pull guess of the full grid.
3. Clipping: as scikit-image does, each band of each image is clipped to the range of its known
   values.

Known pixels are returned bit for bit. An image with no known pixel in a band gets 0 there.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from model.config import CG_ITERATIONS

PYRAMID_LEVELS = 9  # halvings: a 512-pixel tile reaches one cell
# Residual norm, relative to the right-hand side's, at which conjugate gradients stop.
CG_TOLERANCE = 1e-5
# The cascade: grids halve while their shorter side stays >= COARSEST_SIDE, at most
# CASCADE_LEVELS times (a 64-pixel tile is solved on 16, 32 and 64 pixels, a 256-pixel tile
# from 32 pixels up).
COARSEST_SIDE = 16
CASCADE_LEVELS = 3


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
    every residual is below `CG_TOLERANCE` of its right-hand side or after `iterations`."""
    unknown = 1.0 - known
    fixed = values * known
    solution = start * unknown

    def apply(z):
        return _stencil(z) * unknown

    rhs = -_stencil(fixed) * unknown
    residual = rhs - apply(solution)
    direction = residual
    rr = _dot(residual, residual)
    stop = _dot(rhs, rhs) * CG_TOLERANCE**2  # per system; 0 where nothing is unknown

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


def _coarsen(images: tf.Tensor, known: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(N, H, W, 1) images and their known mask averaged in 2x2 cells: a coarse pixel is known
    where at least half of its cell is, with the mean of the cell's known values."""
    weight = tf.nn.avg_pool2d(known, 2, 2, "SAME")
    sums = tf.nn.avg_pool2d(images * known, 2, 2, "SAME")
    coarse_known = tf.cast(weight >= 0.5, tf.float32)
    return tf.math.divide_no_nan(sums, weight) * coarse_known, coarse_known


def cascade_fill(
    images: tf.Tensor, known: tf.Tensor, iterations: int, levels: int = CASCADE_LEVELS
) -> tf.Tensor:
    """The biharmonic fill of (N, H, W, 1) images on a cascade of grids (the module's step 1
    and 2): solved on the grid half this size first, while that grid's shorter side stays
    >= `COARSEST_SIDE` and `levels` allows, then refined here."""

    def from_coarser() -> tf.Tensor:
        coarse = cascade_fill(*_coarsen(images, known), iterations, levels - 1)
        return tf.image.resize(coarse, tf.shape(images)[1:3], method="bilinear")

    def here() -> tf.Tensor:
        return push_pull(images, known)

    static = images.shape[1:3]
    if levels == 0:
        start = here()
    elif static.is_fully_defined():  # decided here: a graph's constant cond upsets grappler
        start = from_coarser() if min(static) >= 2 * COARSEST_SIDE else here()
    else:
        side = tf.reduce_min(tf.shape(images)[1:3])
        start = tf.cond(side >= 2 * COARSEST_SIDE, from_coarser, here)
    return biharmonic_cg(images, known, start, iterations)


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
    solved = cascade_fill(images, mask, iterations) if iterations else push_pull(images, mask)
    # As scikit-image does: each band of each image stays within its known values' range.
    low = tf.reduce_min(tf.where(mask > 0, images, np.inf), axis=[1, 2, 3], keepdims=True)
    high = tf.reduce_max(tf.where(mask > 0, images, -np.inf), axis=[1, 2, 3], keepdims=True)
    clipped = tf.where(low <= high, tf.clip_by_value(solved, low, high), solved)
    filled = _from_channels(clipped, values)
    return tf.where(known_all > 0, values, filled)
