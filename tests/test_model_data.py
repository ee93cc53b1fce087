"""The Trainer's tf.data input: the random symmetries of training examples."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from components import features
from components.masks import MaskSampler
from model.data import dihedral, training_dataset

SIZE = 8


def _example(seed: int) -> dict[str, np.ndarray]:
    """A tile and two neighbours in time whose values are all distinct, with per-band
    statistics and offsets that no symmetry may move."""
    rng = np.random.default_rng(seed)
    tile = rng.permutation(SIZE * SIZE * 2).reshape(SIZE, SIZE, 2).astype(np.float32)
    return {
        features.REFLECTANCE: tile,
        features.VALID: (tile[..., :1] % 3 > 0).astype(np.float32),
        features.NEIGHBOURS: np.stack([tile + 1000.0, tile + 2000.0]),
        features.NEIGHBOUR_VALID: np.stack([tile[..., :1] % 2, tile[..., :1] % 5 > 0]).astype(
            np.float32
        ),
        features.NEIGHBOUR_OFFSET: np.array([-1.0, 1.0], np.float32),
        "band_mean": np.array([0.1, 0.2], np.float32),
    }


def test_dihedral_moves_the_tile_and_its_neighbours_alike() -> None:
    example = _example(0)
    seen = set()
    for turns in range(4):
        for flip in (False, True):
            moved = dihedral(example, tf.constant(turns), tf.constant(flip))
            moved = {k: np.asarray(v) for k, v in moved.items()}
            expected = np.rot90(example[features.REFLECTANCE], turns, axes=(0, 1))
            expected = expected[:, ::-1] if flip else expected
            np.testing.assert_array_equal(moved[features.REFLECTANCE], expected)
            # Each neighbour and each validity plane went through the same symmetry.
            np.testing.assert_array_equal(moved[features.NEIGHBOURS][0], expected + 1000.0)
            np.testing.assert_array_equal(moved[features.NEIGHBOURS][1], expected + 2000.0)
            np.testing.assert_array_equal(moved[features.VALID][..., 0],
                                          (expected[..., 0] % 3 > 0))  # fmt: skip
            np.testing.assert_array_equal(moved[features.NEIGHBOUR_VALID][1, ..., 0],
                                          expected[..., 0] % 5 > 0)  # fmt: skip
            np.testing.assert_array_equal(moved[features.NEIGHBOUR_OFFSET], [-1.0, 1.0])
            np.testing.assert_array_equal(moved["band_mean"], example["band_mean"])
            seen.add(moved[features.REFLECTANCE].tobytes())
    assert len(seen) == 8  # the eight symmetries of the square, all distinct


def _batches(augment: bool, count: int) -> list[dict[str, np.ndarray]]:
    example = {k: v for k, v in _example(1).items() if k in (features.REFLECTANCE,
                                                             features.VALID)}  # fmt: skip
    examples = tf.data.Dataset.from_tensors(example)
    data = training_dataset(examples, MaskSampler(SIZE), batch_size=4, seed=3, shuffle=1,
                            augment=augment)  # fmt: skip
    return [{k: v.numpy() for k, v in b.items()} for b in data.take(count)]


def test_training_batches_show_every_orientation_only_when_augmented() -> None:
    tile = _example(1)[features.REFLECTANCE]
    orientations = {
        (np.rot90(tile, t, axes=(0, 1))[:, ::-1] if f else np.rot90(tile, t, axes=(0, 1))).tobytes()
        for t in range(4)
        for f in (False, True)
    }
    augmented = [r.tobytes() for b in _batches(True, 16) for r in b[features.REFLECTANCE]]
    assert set(augmented) == orientations
    plain = [r.tobytes() for b in _batches(False, 4) for r in b[features.REFLECTANCE]]
    assert set(plain) == {tile.tobytes()}
    for batch in _batches(True, 2):  # a fresh mask on every example, as without augmentation
        assert batch[features.GAP].shape == (4, SIZE, SIZE, 1)
