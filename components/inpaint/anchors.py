"""Context for tiles that see almost nothing: their border anchored to a wider first guess.

A tile's model sees only its own window. Inside a cloud wider than the window it knows (next
to) no observed pixel, and every fill from the window alone, classical or learned, is flat:
the tiles of a wide cloud came out as squares of the data's overall mean. Such a window
(`sparse`: fewer known pixels than its side) gets, on the gap pixels of its outermost ring, the
values of a push-pull fill of everything the caller holds (a row block of the batch job, a
whole scene in memory), marked as known. The model then continues the wider field into the
window from its border, as it continues observations. Ring pixels lie in the halo its
neighbours share, where blending weighs each tile's prediction by its feathered weight; they
are still filled (with that guess, blended), and their uncertainty is the mean of what the
model gave the tile's other filled pixels (`spread_to_anchored`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def known_pixels(values: np.ndarray, gap: np.ndarray) -> np.ndarray:
    """What the model takes for observations: outside the gap and finite in every band."""
    return ~gap & np.isfinite(values).all(axis=-1)


def _halve(array: np.ndarray) -> np.ndarray:
    """2x2 cell means of (H, W, ...) `array` (odd sides padded with zeros, as no data)."""
    height, width = array.shape[:2]
    padded = np.zeros(((height + 1) // 2 * 2, (width + 1) // 2 * 2, *array.shape[2:]))
    padded[:height, :width] = array
    return (padded[0::2, 0::2] + padded[1::2, 0::2] + padded[0::2, 1::2] + padded[1::2, 1::2]) / 4


def _double(array: np.ndarray, size: int, axis: int) -> np.ndarray:
    """Bilinear doubling along `axis`, pixel centres aligned, cut to `size`."""
    coarse = np.moveaxis(array, axis, 0)
    fine = np.arange(size)
    near = np.minimum(fine // 2, len(coarse) - 1)
    other = np.clip(np.where(fine % 2, near + 1, near - 1), 0, len(coarse) - 1)
    return np.moveaxis(0.75 * coarse[near] + 0.25 * coarse[other], 0, axis)


def push_pull(values: np.ndarray, known: np.ndarray) -> np.ndarray | None:
    """A smooth fill of (H, W, bands) `values` from its `known` (H, W) pixels: known means
    averaged down a pyramid of 2x2 cells, each cell blended on the way up with its coarser
    parent in proportion to its unknown share (None when nothing is known)."""
    if not known.any():
        return None
    weight = known.astype(np.float64)[..., np.newaxis]
    sums = np.where(weight > 0, values, 0.0) * weight
    pyramid = [(sums, weight)]
    while max(pyramid[-1][1].shape[:2]) > 1:
        pyramid.append((_halve(pyramid[-1][0]), _halve(pyramid[-1][1])))
    sums, weight = pyramid[-1]
    estimate = sums / weight
    for sums, weight in reversed(pyramid[:-1]):
        parent = _double(_double(estimate, sums.shape[0], 0), sums.shape[1], 1)
        estimate = sums + (1.0 - weight) * parent  # sums: the cell's known share x known mean
    return estimate.astype(np.float32)


def spread_to_anchored(spread: np.ndarray, anchored: np.ndarray, filled: np.ndarray) -> None:
    """Give a tile's anchored pixels, in place, the mean uncertainty (size, size, bands)
    `spread` the model gave the pixels it `filled` in that tile: the model was given the
    anchored pixels as known and so gave them none, though their values are a first guess."""
    if anchored.any():
        spread[anchored] = spread[filled].mean(axis=0) if filled.any() else np.nan


class Anchors:
    """Anchors the border of sparse windows to the push-pull fill of `values` (rows, columns,
    bands) from its known pixels, made once, when a first window needs it."""

    def __init__(self, values: np.ndarray, gap: np.ndarray) -> None:
        self._values, self._gap = values, gap
        self._guess: np.ndarray | None = None
        self._made = False

    def guess(self) -> np.ndarray | None:
        if not self._made:
            self._guess = push_pull(self._values, known_pixels(self._values, self._gap))
            self._made = True
        return self._guess

    def anchor(
        self, values: np.ndarray, gap: np.ndarray, cut: Callable[[np.ndarray], np.ndarray]
    ) -> int:
        """Anchor a tile's window in place when it is sparse: (size, size, bands) `values` and
        (size, size) `gap`; `cut(array)` is the tile's window of an array shaped like the
        caller's values (NaN past its edge). The number of ring pixels anchored."""
        if known_pixels(values, gap).sum() >= len(gap):
            return 0
        guess = self.guess()
        if guess is None:
            return 0
        window = cut(guess)
        ring = np.zeros(gap.shape, bool)
        ring[[0, -1], :] = ring[:, [0, -1]] = True
        anchored = ring & gap & np.isfinite(window).all(axis=-1)
        values[anchored] = window[anchored]
        gap[anchored] = False
        return int(anchored.sum())
