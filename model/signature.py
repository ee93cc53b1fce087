"""The serving signature's inputs, and its neighbour inputs built from tiles of neighbouring
scenes: one place for every caller (the evaluator, the batch job, the quality benchmark), in
numpy, so that callers which do not otherwise need TensorFlow can import it. The names are
`components.features`'.

See `model.export` for the signature itself.
"""

from __future__ import annotations

import numpy as np

from components.features import (
    INPUT_GAP,
    INPUT_NEIGHBOUR_GAP,
    INPUT_NEIGHBOUR_OFFSET,
    INPUT_NEIGHBOURS,
    INPUT_REFLECTANCE,
)


def signature_inputs(window: int) -> list[str]:
    """The names of the serving signature's inputs for a temporal window of `window`."""
    inputs = [INPUT_REFLECTANCE, INPUT_GAP]
    if window:
        inputs += [INPUT_NEIGHBOURS, INPUT_NEIGHBOUR_GAP, INPUT_NEIGHBOUR_OFFSET]
    return inputs


def neighbour_inputs(neighbours: np.ndarray, offsets: np.ndarray) -> dict[str, np.ndarray]:
    """The signature's neighbour inputs for `n` tiles: each neighbour pixel that is not finite
    in every band is a gap of that neighbour (its own cloud, land, or a neighbour the series
    lacks).

    Args:
        neighbours: (n, 2k, size, size, bands) the neighbours' tiles, oldest first, in the
            model's units, NaN where unobserved.
        offsets: (2k,) or (n, 2k) each neighbour's time minus the tile's, in days (0 for a
            missing one).

    Returns:
        float32 arrays under the names of `INPUT_NEIGHBOURS`, `INPUT_NEIGHBOUR_GAP` (n, 2k,
        size, size, 1) and `INPUT_NEIGHBOUR_OFFSET` (n, 2k).

    Raises:
        ValueError: the offsets do not match the neighbours.
    """
    neighbours = np.asarray(neighbours, np.float32)
    if neighbours.ndim != 5:
        raise ValueError(f"neighbours must be (n, 2k, size, size, bands), got {neighbours.shape}")
    count, window = neighbours.shape[:2]
    offsets = np.asarray(offsets, np.float32)
    if offsets.shape not in ((window,), (count, window)):
        raise ValueError(f"offsets {offsets.shape} do not match {window} neighbours of {count} "
                         "tiles")  # fmt: skip
    unobserved = ~np.isfinite(neighbours).all(axis=-1, keepdims=True)
    return {
        INPUT_NEIGHBOURS: neighbours,
        INPUT_NEIGHBOUR_GAP: unobserved.astype(np.float32),
        INPUT_NEIGHBOUR_OFFSET: np.ascontiguousarray(np.broadcast_to(offsets, (count, window))),
    }
