"""tf.data input for training and evaluation from Transform's output."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import tensorflow as tf

from components import features

MODEL_FEATURES = (
    features.REFLECTANCE,
    features.VALID,
    features.GAP,
    features.BAND_MEAN,
    features.BAND_STD,
    features.NEIGHBOURS,  # only with a temporal window
    features.NEIGHBOUR_VALID,
    features.NEIGHBOUR_OFFSET,
)


TRANSFORM_BATCH = 64


def transformed_examples(file_pattern: str | list[str], tft_output) -> tf.data.Dataset:
    """Unbatched examples through the Transform graph: reflectance, valid, gap, band_mean/std
    (and the neighbours in time, their validity and offsets, with a temporal window).

    Raw (MaskGen) examples are transformed on the fly, so Transform need not materialise them.
    """
    patterns = [file_pattern] if isinstance(file_pattern, str) else list(file_pattern)
    files = sorted(f for pattern in patterns for f in tf.io.gfile.glob(pattern))
    if not files:
        raise FileNotFoundError(f"no examples match {file_pattern}")
    raw_spec = tft_output.raw_feature_spec()

    def transform(records: tf.Tensor) -> dict[str, tf.Tensor]:
        parsed = tf.io.parse_example(records, raw_spec)
        transformed = tft_output.transform_raw_features(parsed, drop_unused_features=True)
        return {k: v for k, v in transformed.items() if k in MODEL_FEATURES}

    records = tf.data.TFRecordDataset(files, compression_type="GZIP")
    return records.batch(TRANSFORM_BATCH).map(transform).unbatch()


def mask_stream(sampler, seed: int) -> Iterator[np.ndarray]:
    """Endless random gap masks (size, size, 1) float32 from a MaskSampler."""
    rng = np.random.default_rng(seed)
    while True:
        mask, _ = sampler.sample(rng)
        yield mask[..., np.newaxis].astype(np.float32)


# The features laid out on the tile's grid: (S, S, channels), or (2k, S, S, channels) for the
# neighbours in time; what a quarter turn or a flip of the tile moves.
GRIDDED_FEATURES = (
    features.REFLECTANCE,
    features.VALID,
    features.NEIGHBOURS,
    features.NEIGHBOUR_VALID,
)


def dihedral(example: dict[str, tf.Tensor], turns: tf.Tensor, flip: tf.Tensor) -> dict:
    """`example` turned by `turns` quarter turns, then mirrored left-right when `flip`: every
    gridded feature alike (the tile and its neighbours in time), the per-band statistics and
    time offsets unchanged."""

    def move(image: tf.Tensor) -> tf.Tensor:
        turned = tf.image.rot90(image, turns)
        return tf.cond(flip, lambda: tf.image.flip_left_right(turned), lambda: turned)

    return {k: move(v) if k in GRIDDED_FEATURES else v for k, v in example.items()}


def training_dataset(
    examples: tf.data.Dataset,
    sampler,
    batch_size: int,
    seed: int,
    shuffle: int = 256,
    augment: bool = False,
) -> tf.data.Dataset:
    """Shuffled, repeated global batches with a fresh random mask on every example; with
    `augment`, each example is also turned and mirrored at random (one of the tile's eight
    symmetries), so a small archive is seen in eight orientations."""
    size = sampler.size
    masks = tf.data.Dataset.from_generator(
        lambda: mask_stream(sampler, seed),
        output_signature=tf.TensorSpec((size, size, 1), tf.float32),
    )
    shuffled = examples.shuffle(shuffle, seed=seed, reshuffle_each_iteration=True).repeat()
    if augment:
        symmetries = tf.data.Dataset.random(seed=seed).map(
            lambda r: (tf.cast(r % 4, tf.int32), (r // 4) % 2 == 1)
        )
        shuffled = tf.data.Dataset.zip((shuffled, symmetries)).map(
            lambda example, symmetry: dihedral(example, *symmetry)
        )
    paired = tf.data.Dataset.zip((shuffled, masks)).map(
        lambda example, mask: {**example, features.GAP: mask}
    )
    return paired.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def evaluation_dataset(examples: tf.data.Dataset, batch_size: int) -> tf.data.Dataset:
    """Batches of evaluation examples with their fixed gap masks (one pass)."""
    return examples.batch(batch_size).prefetch(tf.data.AUTOTUNE)
