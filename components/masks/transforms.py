"""Edits of a gap shape that keep its outline: flips and quarter turns, dilation and erosion."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from components.masks.checks import check_bool_array, check_coverage
from components.sample.fields import power_law_noise


def adjust_coverage(mask: np.ndarray, coverage: float, rng: np.random.Generator) -> np.ndarray:
    """`mask` dilated or eroded until exactly round(coverage * mask.size) pixels are gaps.

    Clear pixels are added in order of their distance from the gap, which dilates the shape by
    a growing disk; gap pixels are removed in order of their distance from clear pixels, which
    erodes it. Pixels at the same distance (the last, partial ring) are taken where a smooth
    random field is highest, so that ring is added or removed in arcs rather than specks. An
    empty mask grows from one random pixel; a full one is eroded from the window's edge.

    Args:
        mask: bool 2-D gap shape, True = gap; left unchanged.
        coverage: the share of gap wanted, 0 to 1.
        rng: the random generator to draw from.

    Returns:
        A new bool array of the shape of `mask`.

    Raises:
        ValueError: `mask` is not a 2-D boolean array or `coverage` is outside [0, 1].
    """
    check_bool_array("mask", mask, 2)
    check_coverage(coverage)
    target = round(coverage * mask.size)
    count = int(np.count_nonzero(mask))
    result = mask.copy()
    if target == count:
        return result
    tie_break = power_law_noise(mask.shape, 4.0, rng).ravel()
    flat = result.ravel()
    if target > count:
        seed = mask
        if count == 0:
            seed = np.zeros(mask.shape, dtype=bool)
            seed.flat[rng.integers(mask.size)] = True
        distance = ndimage.distance_transform_edt(~seed).ravel()
        candidates = np.flatnonzero(~flat)
        order = np.lexsort((-tie_break[candidates], distance[candidates]))
        flat[candidates[order[: target - count]]] = True
    else:
        if count == mask.size:
            depth = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1].ravel()
        else:
            depth = ndimage.distance_transform_edt(mask).ravel()
        candidates = np.flatnonzero(flat)
        order = np.lexsort((tie_break[candidates], depth[candidates]))
        flat[candidates[order[: count - target]]] = False
    return result


def dihedral(mask: np.ndarray, index: int) -> np.ndarray:
    """One of the 8 flips and quarter turns of a 2-D array: `index` 0-7, 0 the identity.

    Indices 0-3 turn by that many quarter turns counter-clockwise; 4-7 do the same and then
    flip left to right. Returns a new array.
    """
    if not 0 <= index < 8:
        raise ValueError(f"dihedral index must be 0 to 7, got {index}")
    turned = np.rot90(mask, k=index % 4)
    return (turned[:, ::-1] if index >= 4 else turned).copy()
