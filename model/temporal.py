"""Temporal context as network input: the neighbours in time of a tile, as extra channels.

A model with a temporal window k reads, beside the tile, the same window of the k previous
and k next scenes of its series (oldest first): their values normalised like the tile's and
zeroed where not valid, their validity, and their time offsets. The same function builds
these channels in training, evaluation and the serving graph, so they cannot drift apart.
"""

from __future__ import annotations

import tensorflow as tf

# Offsets are given to the networks in weeks: daily neighbours lie within a few tenths,
# weekly composites near one.
OFFSET_SCALE_DAYS = 7.0


def context_size(bands: int, window: int) -> int:
    """Channels of `context_channels` for `bands` bands and a temporal window of `window`."""
    return 2 * window * (bands + 2)


def context_channels(neighbours: tf.Tensor, valid: tf.Tensor, offsets: tf.Tensor) -> tf.Tensor:
    """(B, H, W, 2k * bands + 2k + 2k): the neighbours' values (band by band, neighbour by
    neighbour), their validity, and each one's time offset as a constant plane.

    Args:
        neighbours: (B, 2k, H, W, bands) normalised values, 0 where not valid.
        valid: (B, 2k, H, W, 1), 1 where a neighbour's pixel holds a value.
        offsets: (B, 2k) each neighbour's time minus the tile's, in days (0 for a missing one:
            its validity is all 0).
    """
    count, bands = int(neighbours.shape[1]), int(neighbours.shape[-1])
    shape = tf.shape(neighbours)
    height, width = shape[2], shape[3]
    values = tf.transpose(neighbours, [0, 2, 3, 1, 4])
    values = tf.reshape(values, [shape[0], height, width, count * bands])
    validity = tf.transpose(valid[..., 0], [0, 2, 3, 1])
    planes = tf.ones_like(validity) * (offsets / OFFSET_SCALE_DAYS)[:, tf.newaxis, tf.newaxis, :]
    return tf.concat([values, validity, planes], axis=-1)


def difference_channels(context: tf.Tensor, base: tf.Tensor, bands: int) -> tf.Tensor:
    """`context_channels` output with each neighbour's values replaced by their difference from
    the tile's `base` (B, H, W, bands), 0 where the neighbour has no value; validity and offsets
    unchanged."""
    count = context.shape[-1] // (bands + 2)  # neighbours: values, validity, offset
    values = context[..., : count * bands]
    validity = context[..., count * bands : count * (bands + 1)]
    # Channel n * bands + b holds band b of neighbour n.
    difference = (values - tf.tile(base, [1, 1, 1, count])) * tf.repeat(validity, bands, axis=-1)
    return tf.concat([difference, context[..., count * bands :]], axis=-1)
