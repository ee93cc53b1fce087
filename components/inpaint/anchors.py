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

import numpy as np


def known_pixels(values: np.ndarray, gap: np.ndarray) -> np.ndarray:
    """What the model takes for observations: outside the gap and finite in every band."""
    return ~gap & np.isfinite(values).all(axis=-1)


def _halve(array: np.ndarray) -> np.ndarray:
    """2x2 cell means of (H, W, ...) `array` (odd sides padded with zeros, as no data)."""
    height, width = array.shape[:2]
    if height % 2 or width % 2:
        padded = np.zeros(((height + 1) // 2 * 2, (width + 1) // 2 * 2, *array.shape[2:]),
                          array.dtype)  # fmt: skip
        padded[:height, :width] = array
        array = padded
    out = array[0::2, 0::2] + array[1::2, 0::2]
    out += array[0::2, 1::2]
    out += array[1::2, 1::2]
    out *= 0.25
    return out


def _double(array: np.ndarray, fine: np.ndarray, axis: int) -> np.ndarray:
    """Bilinear doubling along `axis`, pixel centres aligned, at the `fine` indices."""
    coarse = np.moveaxis(array, axis, 0)
    near = np.minimum(fine // 2, len(coarse) - 1)
    other = np.clip(np.where(fine % 2, near + 1, near - 1), 0, len(coarse) - 1)
    out = coarse[near]
    out *= 0.75
    out += 0.25 * coarse[other]
    return np.moveaxis(out, 0, axis)


def _doubled(array: np.ndarray, rows: range, cols: range) -> np.ndarray:
    """`array` doubled in both directions, at the fine `rows` x `cols`."""
    return _double(_double(array, np.arange(rows.start, rows.stop), 0),
                   np.arange(cols.start, cols.stop), 1)  # fmt: skip


def _pull(sums: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """The push-pull estimate of a pyramid level from its cells' sums (known share x known
    mean) and known shares: each cell blended with its coarser parent by its unknown share."""
    if max(weight.shape[:2]) <= 1:
        return sums / weight
    parent = _pull(_halve(sums), _halve(weight))
    estimate = _doubled(parent, range(sums.shape[0]), range(sums.shape[1]))
    estimate *= 1.0 - weight
    estimate += sums
    return estimate


def _level_one(
    values: np.ndarray, known: np.ndarray, chunk: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """The pyramid's first level above the pixels: (sums, known shares) of 2x2 cells, made
    `chunk` rows at a time so no full-size copy of the values is held."""
    parts = []
    for start in range(0, len(known), chunk):
        rows = slice(start, start + chunk)
        seen = known[rows][..., np.newaxis]
        sums = np.where(seen, values[rows], np.float32(0.0)).astype(np.float32, copy=False)
        parts.append((_halve(sums), _halve(seen.astype(np.float32))))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def push_pull(values: np.ndarray, known: np.ndarray) -> np.ndarray | None:
    """A smooth fill of (H, W, bands) `values` from its `known` (H, W) pixels: known means
    averaged down a pyramid of 2x2 cells, each cell blended on the way up with its coarser
    parent in proportion to its unknown share (None when nothing is known); float32."""
    if not known.any():
        return None
    parent = _pull(*_level_one(values, known))
    estimate = _doubled(parent, range(known.shape[0]), range(known.shape[1]))
    return np.where(known[..., np.newaxis], values, estimate).astype(np.float32)


def spread_to_anchored(spread: np.ndarray, anchored: np.ndarray, filled: np.ndarray) -> None:
    """Give a tile's anchored pixels, in place, the mean uncertainty (size, size, bands)
    `spread` the model gave the pixels it `filled` in that tile: the model was given the
    anchored pixels as known and so gave them none, though their values are a first guess."""
    if anchored.any():
        spread[anchored] = spread[filled].mean(axis=0) if filled.any() else np.nan


class Anchors:
    """Anchors the border of sparse windows to the push-pull fill of `values` (rows, columns,
    bands) from its known pixels. Its pyramid from 2x2 cells up is made once, when a first
    window needs it (a quarter of the values' memory); a window's guess is the first level
    doubled at the window's pixels, which is the push-pull fill wherever a pixel is unknown."""

    def __init__(self, values: np.ndarray, gap: np.ndarray) -> None:
        self._values, self._gap = values, gap
        self._coarse: np.ndarray | None = None
        self._made = False

    def guess(self, window: tuple[slice, slice]) -> np.ndarray | None:
        """The push-pull fill at the unknown pixels of `window` (rows, columns of the values;
        None when nothing is known)."""
        if not self._made:
            known = known_pixels(self._values, self._gap)
            self._coarse = _pull(*_level_one(self._values, known)) if known.any() else None
            self._made = True
        if self._coarse is None:
            return None
        rows, cols = (range(*part.indices(n))
                      for part, n in zip(window, self._gap.shape, strict=True))  # fmt: skip
        return _doubled(self._coarse, rows, cols)

    def anchor(self, values: np.ndarray, gap: np.ndarray, window: tuple[slice, slice]) -> int:
        """Anchor a tile's window in place when it is sparse: (size, size, bands) `values` and
        (size, size) `gap`, whose first rows and columns are `window` of the caller's values
        (the rest is padding past their edge). The number of ring pixels anchored."""
        if known_pixels(values, gap).sum() >= len(gap):
            return 0
        guess = self.guess(window)
        if guess is None:
            return 0
        padded = np.full(values.shape, np.nan, np.float32)
        padded[: guess.shape[0], : guess.shape[1]] = guess
        ring = np.zeros(gap.shape, bool)
        ring[[0, -1], :] = ring[:, [0, -1]] = True
        anchored = ring & gap & np.isfinite(padded).all(axis=-1)
        values[anchored] = padded[anchored]
        gap[anchored] = False
        return int(anchored.sum())
