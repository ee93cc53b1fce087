"""Counts of True pixels in every window of a mask, from a summed-area table."""

from __future__ import annotations

import numpy as np


def summed_area_table(mask: np.ndarray) -> np.ndarray:
    """Counts of True pixels above and left of each corner: shape (rows + 1, columns + 1)."""
    dtype = np.int32 if mask.size < 2**31 else np.int64
    table = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), dtype=dtype)
    np.cumsum(mask, axis=0, dtype=dtype, out=table[1:, 1:])
    np.cumsum(table[1:, 1:], axis=1, dtype=dtype, out=table[1:, 1:])
    return table


def window_counts(table: np.ndarray, height: int, width: int) -> np.ndarray:
    """True pixels in each height x width window, indexed by the window's top-left pixel.

    Args:
        table: summed-area table of a (rows, columns) mask, from `summed_area_table`.
        height: rows of a window, 1 to rows.
        width: columns of a window, 1 to columns.

    Returns:
        Array of shape (rows - height + 1, columns - width + 1).
    """
    return (
        table[height:, width:]
        - table[:-height, width:]
        - table[height:, :-width]
        + table[:-height, :-width]
    )
