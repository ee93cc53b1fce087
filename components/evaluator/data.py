"""The evaluation examples (MaskGen's, with their fixed gap masks) as numpy batches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

import numpy as np
import tensorflow as tf

from components import features

TRANSPLANTED, SYNTHETIC = "transplanted", "synthetic"


@dataclass(frozen=True)
class EvalBatch:
    """A batch of evaluation examples.

    Attributes:
        truth: (n, size, size, bands) float32 reflectance, NaN where not valid.
        valid: (n, size, size) bool, the pixels whose truth is known.
        gap: (n, size, size) bool, the fixed gap mask.
        coverage: (n,) the masks' coverage (what examples are bucketed by).
        keys: "product|row|column" of each example.
        sources: where each mask came from (`features.GAP_SOURCE`: another scene's
            "product|row|column", or "synthetic:<kind>"; "" for examples masked before it
            was recorded).
        neighbours: with a temporal window k, (n, 2k, size, size, bands) float32, the same
            window of the k previous and k next scenes, oldest first, NaN where not valid (a
            scene the series lacks: all NaN); the fixed gap hides none of it. None without.
        neighbour_offset: (n, 2k) their times minus the example's, in days; None without.
    """

    truth: np.ndarray
    valid: np.ndarray
    gap: np.ndarray
    coverage: np.ndarray
    keys: tuple[str, ...]
    sources: tuple[str, ...]
    neighbours: np.ndarray | None = None
    neighbour_offset: np.ndarray | None = None

    @property
    def observed(self) -> np.ndarray:
        """What a model is given: the truth outside the gap, NaN inside it."""
        return np.where(self.gap[..., np.newaxis], np.float32(np.nan), self.truth)


def read_batches(
    file_pattern: str,
    size: int,
    bands: int,
    batch_size: int,
    max_examples: int | None = None,
    window: int = 0,
) -> Iterator[EvalBatch]:
    """Batches of the gzipped TFRecord examples matching `file_pattern`, in file order, with
    their neighbours in time when they carry a temporal `window`.

    Raises:
        FileNotFoundError: nothing matches `file_pattern`.
    """
    files = sorted(tf.io.gfile.glob(file_pattern))
    if not files:
        raise FileNotFoundError(f"no evaluation examples match {file_pattern}")
    spec = {
        features.REFLECTANCE: tf.io.FixedLenFeature([size * size * bands], tf.float32),
        features.VALID: tf.io.FixedLenFeature([size * size], tf.int64),
        features.GAP: tf.io.FixedLenFeature([size * size], tf.int64),
        features.GAP_COVERAGE: tf.io.FixedLenFeature([], tf.float32),
        features.GAP_SOURCE: tf.io.FixedLenFeature([], tf.string, default_value=b""),
        features.PRODUCT: tf.io.FixedLenFeature([], tf.string),
        features.ROW: tf.io.FixedLenFeature([], tf.int64),
        features.COLUMN: tf.io.FixedLenFeature([], tf.int64),
    }
    count = 2 * window
    if window:
        spec[features.NEIGHBOURS] = tf.io.FixedLenFeature([count * size * size * bands],
                                                          tf.float32)  # fmt: skip
        spec[features.NEIGHBOUR_VALID] = tf.io.FixedLenFeature([count * size * size], tf.int64)
        spec[features.NEIGHBOUR_OFFSET] = tf.io.FixedLenFeature([count], tf.float32)
    records = tf.data.TFRecordDataset(files, compression_type="GZIP")
    if max_examples is not None:
        records = records.take(max_examples)
    for batch in records.batch(batch_size).map(lambda r: tf.io.parse_example(r, spec)):
        n = int(batch[features.ROW].shape[0])
        valid = batch[features.VALID].numpy().reshape(n, size, size).astype(bool)
        truth = batch[features.REFLECTANCE].numpy().reshape(n, size, size, bands)
        keys = tuple(
            f"{p.decode()}|{r}|{c}"
            for p, r, c in zip(
                batch[features.PRODUCT].numpy(),
                batch[features.ROW].numpy(),
                batch[features.COLUMN].numpy(),
                strict=True,
            )
        )
        neighbours = offsets = None
        if window:
            shape = (n, count, size, size)
            known = batch[features.NEIGHBOUR_VALID].numpy().reshape(shape).astype(bool)
            neighbours = batch[features.NEIGHBOURS].numpy().reshape(*shape, bands)
            neighbours = np.where(known[..., np.newaxis], neighbours, np.float32(np.nan))
            offsets = batch[features.NEIGHBOUR_OFFSET].numpy()
        yield EvalBatch(
            neighbours=neighbours,
            neighbour_offset=offsets,
            truth=np.where(valid[..., np.newaxis], truth, np.float32(np.nan)),
            valid=valid,
            gap=batch[features.GAP].numpy().reshape(n, size, size).astype(bool),
            coverage=batch[features.GAP_COVERAGE].numpy(),
            keys=keys,
            sources=tuple(s.decode() for s in batch[features.GAP_SOURCE].numpy()),
        )


def with_masks(batches: Iterable[EvalBatch], sampler, seed: int) -> Iterator[EvalBatch]:
    """`batches` under other masks: each example's `sampler.fixed_mask(key, seed)`."""
    for batch in batches:
        draws = [sampler.fixed_mask(key, seed) for key in batch.keys]
        yield replace(
            batch,
            gap=np.stack([d.mask for d in draws]),
            coverage=np.array([d.coverage for d in draws], np.float32),
            sources=tuple(f"{SYNTHETIC}:{d.kind}" for d in draws),
        )


def mask_origins(sources: Iterable[str]) -> dict[str, int]:
    """How many masks are real clouds transplanted from other scenes, synthetic, or unknown."""
    counts = {TRANSPLANTED: 0, SYNTHETIC: 0, "unknown": 0}
    for source in sources:
        if source.startswith(f"{SYNTHETIC}:"):
            counts[SYNTHETIC] += 1
        else:
            counts[TRANSPLANTED if source else "unknown"] += 1
    return counts


def band_ranges(batches: Iterator[EvalBatch], bands: int) -> np.ndarray:
    """Each band's max - min over the valid truth of every batch (SSIM's data range)."""
    low = np.full(bands, np.inf)
    high = np.full(bands, -np.inf)
    for batch in batches:
        values = batch.truth[batch.valid]
        if values.size:
            low = np.minimum(low, values.min(axis=0))
            high = np.maximum(high, values.max(axis=0))
    span = high - low
    if not np.all(np.isfinite(span)):
        raise ValueError("the evaluation examples have no valid pixels")
    return np.maximum(span, np.finfo(np.float32).eps)
