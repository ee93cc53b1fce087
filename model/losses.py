"""Losses of the inpainting model as plain functions of tensors (float32, tf.function/XLA safe).

Masks are (B, H, W, 1) float tensors of 0/1 broadcast over bands. Means over masked pixels
divide by max(count, 1), so an empty mask gives 0, never NaN. Discriminator logits may be a
patch map (B, h, w, 1): adversarial losses average over every logit; gradient penalties
differentiate the sum of an image's logits.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from model.config import GAP_LOSSES

ADVERSARIAL_KINDS = ("hinge", "nonsaturating")


CHARBONNIER_EPSILON = 1e-3


def _f32(*tensors):
    return [tf.cast(t, tf.float32) for t in tensors]


def _penalty(kind: str, error: tf.Tensor) -> tf.Tensor:
    if kind == "l1":
        return tf.abs(error)
    if kind == "l2":
        return tf.square(error)
    if kind == "charbonnier":
        return tf.sqrt(tf.square(error) + CHARBONNIER_EPSILON**2) - CHARBONNIER_EPSILON
    raise ValueError(f"loss {kind!r} is not one of {GAP_LOSSES}")


def _masked_sums(pred, target, weight, axis, kind: str = "l1"):
    pred, target, weight = _f32(pred, target, weight)
    bands = tf.cast(tf.shape(pred)[-1], tf.float32)
    error = tf.reduce_sum(_penalty(kind, pred - target) * weight, axis=axis)
    count = tf.reduce_sum(weight, axis=axis) * bands
    return error, tf.maximum(count, bands)


def masked_l1(pred, target, weight) -> tf.Tensor:
    """Mean |pred - target| over the bands of the pixels where `weight` > 0 (whole batch)."""
    error, count = _masked_sums(pred, target, weight, axis=None)
    return error / count


def masked_l1_per_example(pred, target, weight) -> tf.Tensor:
    """`masked_l1` of each example on its own: (B,)."""
    error, count = _masked_sums(pred, target, weight, axis=[1, 2, 3])
    return error / count


def masked_loss_per_example(pred, target, weight, kind: str) -> tf.Tensor:
    """Mean penalty of `kind` ("l2": squared error, "l1", "charbonnier") per example: (B,)."""
    error, count = _masked_sums(pred, target, weight, axis=[1, 2, 3], kind=kind)
    return error / count


def reconstruction_loss(
    pred, target, gap, valid, gap_weight: float = 1.0, valid_weight: float = 1.0
) -> tf.Tensor:
    """L1 inside the gap where the truth is known plus L1 on the observed valid pixels.

    Both terms are means over the whole batch's pixels of their kind (`masked_l1`).
    """
    gap, valid = _f32(gap, valid)
    return gap_weight * masked_l1(pred, target, gap * valid) + valid_weight * masked_l1(
        pred, target, (1.0 - gap) * valid
    )


def reconstruction_per_example(
    pred,
    target,
    gap,
    valid,
    gap_weight: float = 1.0,
    valid_weight: float = 1.0,
    gap_loss: str = "l1",
    raw=None,
) -> tf.Tensor:
    """`reconstruction_loss` of each example on its own (B,), for global-batch averaging.

    `gap_loss` is the penalty inside the gap ("l2" matches an RMSE verdict). The observed term
    is taken on `raw` when given: the prediction before the observed pixels were put back (on
    a composited output it is zero by construction).
    """
    gap, valid = _f32(gap, valid)
    observed = pred if raw is None else raw
    return gap_weight * masked_loss_per_example(
        pred, target, gap * valid, gap_loss
    ) + valid_weight * masked_l1_per_example(observed, target, (1.0 - gap) * valid)


LOG_VARIANCE_RANGE = (-12.0, 8.0)  # sigma from 0.0025 to 55 band spreads: keeps exp() finite


def gaussian_nll_per_example(pred, target, log_variance, weight) -> tf.Tensor:
    """Gaussian negative log-likelihood of `target` under N(pred, exp(log_variance)) per example.

    0.5 * (log_variance + (pred - target)^2 / exp(log_variance)), averaged over the bands of the
    pixels where `weight` > 0. `pred` is held constant: the term trains the variance, never
    the fill, so the fill keeps optimising the reconstruction loss alone.
    """
    pred, target, log_variance, weight = _f32(pred, target, log_variance, weight)
    log_variance = tf.clip_by_value(log_variance, *LOG_VARIANCE_RANGE)
    error = tf.square(tf.stop_gradient(pred) - target)
    nll = 0.5 * (log_variance + error * tf.exp(-log_variance))
    bands = tf.cast(tf.shape(pred)[-1], tf.float32)
    total = tf.reduce_sum(nll * weight, axis=[1, 2, 3])
    return total / tf.maximum(tf.reduce_sum(weight, axis=[1, 2, 3]) * bands, bands)


def sigma(log_variance) -> tf.Tensor:
    """The standard deviation of a log-variance output, clipped as the loss clips it."""
    clipped = tf.clip_by_value(tf.cast(log_variance, tf.float32), *LOG_VARIANCE_RANGE)
    return tf.exp(0.5 * clipped)


def hinge_d_loss(real_logits, fake_logits) -> tf.Tensor:
    """mean(relu(1 - real)) + mean(relu(1 + fake))."""
    real, fake = _f32(real_logits, fake_logits)
    return tf.reduce_mean(tf.nn.relu(1.0 - real)) + tf.reduce_mean(tf.nn.relu(1.0 + fake))


def hinge_g_loss(fake_logits) -> tf.Tensor:
    """-mean(fake)."""
    return -tf.reduce_mean(tf.cast(fake_logits, tf.float32))


def ns_d_loss(real_logits, fake_logits) -> tf.Tensor:
    """Non-saturating: mean(softplus(-real)) + mean(softplus(fake))."""
    real, fake = _f32(real_logits, fake_logits)
    return tf.reduce_mean(tf.nn.softplus(-real)) + tf.reduce_mean(tf.nn.softplus(fake))


def ns_g_loss(fake_logits) -> tf.Tensor:
    """Non-saturating: mean(softplus(-fake))."""
    return tf.reduce_mean(tf.nn.softplus(-tf.cast(fake_logits, tf.float32)))


def _check_kind(kind: str) -> None:
    if kind not in ADVERSARIAL_KINDS:
        raise ValueError(f"adversarial loss {kind!r} is not one of {ADVERSARIAL_KINDS}")


def d_loss(kind: str, real, fake) -> tf.Tensor:
    """The discriminator loss of `kind` ("hinge" or "nonsaturating")."""
    _check_kind(kind)
    return hinge_d_loss(real, fake) if kind == "hinge" else ns_d_loss(real, fake)


def g_loss(kind: str, fake) -> tf.Tensor:
    """The generator's adversarial loss of `kind` ("hinge" or "nonsaturating")."""
    _check_kind(kind)
    return hinge_g_loss(fake) if kind == "hinge" else ns_g_loss(fake)


def _input_gradient(discriminator: keras.Model, images, gap, training: bool) -> tf.Tensor:
    """d(sum of each image's logits)/d(images), recorded by any enclosing tape."""
    with tf.GradientTape() as tape:
        tape.watch(images)
        logits = discriminator([images, tf.convert_to_tensor(gap)], training=training)
        total = tf.reduce_sum(tf.cast(logits, tf.float32))
    return tf.cast(tape.gradient(total, images), tf.float32)


def r1_penalty(discriminator: keras.Model, real, gap, training: bool = False) -> tf.Tensor:
    """R1: mean over the batch of ||d D(real, gap) / d real||^2.

    Call it inside the discriminator step's GradientTape: that tape differentiates the penalty
    with respect to the discriminator's weights through this function's inner tape. The
    discriminator runs in inference mode by default, so spectral-norm layers are not updated
    a second time within the step.
    """
    real = tf.convert_to_tensor(real)
    grad = _input_gradient(discriminator, real, gap, training)
    return tf.reduce_mean(tf.reduce_sum(tf.square(grad), axis=[1, 2, 3]))


def wgan_gp_penalty(
    discriminator: keras.Model, real, fake, gap, epsilon, training: bool = False
) -> tf.Tensor:
    """WGAN-GP: mean over the batch of (||d D(x_hat, gap) / d x_hat||_2 - 1)^2.

    `x_hat = epsilon * real + (1 - epsilon) * fake`, with `epsilon` (B, 1, 1, 1) drawn
    uniformly by the caller. Call it inside the discriminator step's tape (see `r1_penalty`).
    """
    real = tf.convert_to_tensor(real)
    epsilon = tf.cast(epsilon, real.dtype)
    mixed = epsilon * real + (1.0 - epsilon) * tf.cast(fake, real.dtype)
    grad = _input_gradient(discriminator, mixed, gap, training)
    # The epsilon keeps the norm's gradient finite where the input gradient vanishes.
    norm = tf.sqrt(tf.reduce_sum(tf.square(grad), axis=[1, 2, 3]) + 1e-12)
    return tf.reduce_mean(tf.square(norm - 1.0))


def spectral_kernels(model: keras.Model) -> list:
    """The kernels `spectral_regularisation` penalises: every trainable weight named kernel."""
    kernels = [
        w for w in model.trainable_weights if w.name.endswith("kernel") and len(w.shape) >= 2
    ]
    if not kernels:
        raise ValueError(f"model {model.name!r} has no kernels to regularise")
    return kernels


def power_vectors(model: keras.Model, seed: int = 0) -> list[tf.Variable]:
    """One persistent right-singular-vector estimate per kernel, for `spectral_regularisation`.

    Kept across steps, one power iteration a step tracks the largest singular value as the
    kernels change (as spectral normalisation does) instead of restarting from a fixed vector.
    """
    return [
        tf.Variable(
            tf.math.l2_normalize(tf.random.stateless_normal([k.shape[-1], 1], seed=[seed, i])),
            trainable=False,
            name=f"power_vector_{i}",
            aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
        )
        for i, k in enumerate(spectral_kernels(model))
    ]


def _spectral_norm(kernel, v) -> tuple[tf.Tensor, tf.Tensor]:
    """(sigma = u^T W v after one power iteration from `v`, the new v), u and v held constant."""
    matrix = tf.reshape(tf.cast(kernel, tf.float32), [-1, kernel.shape[-1]])
    fixed = tf.stop_gradient(matrix)
    v = tf.math.l2_normalize(tf.matmul(fixed, tf.matmul(fixed, v), transpose_a=True))
    u = tf.math.l2_normalize(tf.matmul(fixed, v))
    return tf.reduce_sum(u * tf.matmul(matrix, v)), v


def spectral_regularisation(
    model: keras.Model, iterations: int = 1, seed: int = 0, vectors: list | None = None
) -> tf.Tensor:
    """Sum over the model's kernels of their squared largest singular value.

    Each kernel is reshaped to (kh * kw * cin, cout); sigma = u^T W v with u and v from
    power iterations held constant (stop_gradient), so the penalty is differentiable and its
    gradient is 2 sigma u v^T. With `vectors` (from `power_vectors`), one iteration continues
    from the stored estimate and stores the new one; without, `iterations` iterations start
    from a fixed random vector (few underestimate sigma; the gradient still pushes on the
    dominant directions).
    """
    if iterations < 1:
        raise ValueError(f"iterations {iterations} must be at least 1")
    kernels = spectral_kernels(model)
    total = []
    for i, kernel in enumerate(kernels):
        if vectors is not None:
            largest, v = _spectral_norm(kernel, vectors[i])
            vectors[i].assign(v)
        else:
            v = tf.random.stateless_normal([kernel.shape[-1], 1], seed=[seed + i, 0])
            for _ in range(iterations):
                largest, v = _spectral_norm(kernel, v)
        total.append(tf.square(largest))
    return tf.add_n(total)
