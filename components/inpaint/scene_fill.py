"""Fill a whole scene in memory with the batch job's own tiling and blending.

`fill_scene` cuts a (H, W, bands) scene into the tiles of `plan_tiles`, sends the tiles that
hold a pixel to fill to a tile filler (a model's serving signature, a classical fill) in
batches, and blends the predictions with the Beam job's code (`Blender`'s feathered weights and
partial sums, `RowMerger`'s blend), the whole scene as one group. As in the job, a tile that
knows too little has its border anchored to a push-pull fill of the scene
(`components.inpaint.anchors`). It is for scenes that fit in
memory: the quality benchmark and gridded scenes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from components.inpaint.anchors import Anchors, spread_to_anchored
from components.inpaint.tiling import Blender, RowMerger, plan_tiles, tile_window

# (n, S, S, bands) float32 values, NaN where unknown; (n, S, S) bool, True where to fill
# -> (n, S, S, bands) filled (known pixels as given).
TileFiller = Callable[[np.ndarray, np.ndarray], np.ndarray]


def fill_scene(
    values: np.ndarray,
    to_fill: np.ndarray,
    fill_tiles: TileFiller,
    tile: int,
    halo: int,
    batch_size: int = 16,
    channels: int | None = None,
    context: int = 0,
) -> np.ndarray:
    """`values` with its `to_fill` pixels replaced by the blended fills of their tiles.

    Args:
        values: (H, W, bands) float32, NaN where unknown (gaps, land).
        to_fill: (H, W) bool, the pixels to fill.
        fill_tiles: fills a batch of tiles (see `TileFiller`); tiles past the scene's edge are
            padded with NaN and nothing to fill.
        tile: the tile side; halo: half the overlap of neighbouring tiles.
        batch_size: tiles per call of `fill_tiles`.
        channels: values per pixel the filler returns, when not `bands` (e.g. the bands and
            then their uncertainties): the result has that many, NaN outside `to_fill` past
            the input's bands.
        context: how many of the last bands of `values` are context rather than the scene's
            own (a temporal model's neighbours): what is known, and the anchored borders, are
            the scene's own bands'; channels the filler returns past those are uncertainties.

    Returns:
        A float32 copy of `values`, filled where `to_fill` (NaN where the filler gave NaN).

    Raises:
        ValueError: the shapes disagree.
    """
    if values.ndim != 3 or to_fill.shape != values.shape[:2]:
        raise ValueError(f"need (H, W, bands) values and (H, W) to_fill, got {values.shape} "
                         f"and {to_fill.shape}")  # fmt: skip
    height, width, bands = values.shape
    channels = channels or bands
    own = bands - context
    plan = plan_tiles(height, width, tile, halo)
    blender = Blender(plan, range(height), channels, where=to_fill)
    tiles = [t for row in plan.rows for t in row if to_fill[t.slices()].any()]
    anchors = Anchors(values[..., :own], to_fill)
    for start in range(0, len(tiles), batch_size):
        chunk = tiles[start : start + batch_size]
        inputs = np.stack([tile_window(values, t, tile, 0, np.nan) for t in chunk]).astype(
            np.float32
        )
        gaps = np.stack([tile_window(to_fill, t, tile, 0, False) for t in chunk])
        given = gaps.copy()
        for i, t in enumerate(chunk):
            anchors.anchor(inputs[i, ..., :own], given[i], t.slices())
        for t, pred, gap, model_gap in zip(chunk, fill_tiles(inputs, given), gaps, given,
                                           strict=True):  # fmt: skip
            if channels > own:  # the uncertainties after the scene's own bands
                spread_to_anchored(pred[..., own:], gap & ~model_gap, model_gap)
            blender.add(t, pred)
    filled = np.full((height, width, max(channels, bands)), np.nan, np.float32)
    filled[..., :bands] = values
    merger = RowMerger(width, channels)
    merger.add(blender.rows, *blender.partial(to_fill))
    _, mask, blended = merger.pop(height)
    filled[mask, :channels] = blended
    return filled[..., :channels]
