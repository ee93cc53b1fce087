"""Reading a scene's rows for inference, and the blended block results passed between stages."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import xarray as xr

from components.inpaint.anchors import Anchors
from components.inpaint.tiling import RowGroup, Tile, TileReason, tile_needs_model, tile_window
from pipelines.inpaint.model import Tiles

PRODUCT_SUFFIX = ".SEN3"
ANCHORED = "anchored"


def output_name(path: str) -> str:
    """The output folder name of an input product: `<name>.SEN3` (zips lose `.zip`)."""
    name = path.rstrip("/").rsplit("/", 1)[-1]
    name = name.removesuffix(".zip")
    return name if name.endswith(PRODUCT_SUFFIX) else name + PRODUCT_SUFFIX


def fill_mask(valid: np.ndarray, land: np.ndarray, cloud: np.ndarray) -> np.ndarray:
    """The pixels the job fills: cloudy water without a usable value.

    Land and pixels that are invalid for other reasons (glint, AC failure) stay as they are.
    """
    return cloud & ~land & ~valid


def read_rows(
    ds: xr.Dataset, rows: range, bands: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(reflectance (n, width, bands) float32; gap (n, width); water (n, width)).

    Invalid pixels outside the gap (glint, AC failure) are NaN, so the model does not take them
    for observations; gap pixels keep their stored values, which the model ignores.
    """
    window = ds.isel(y=slice(rows.start, rows.stop))
    valid = np.asarray(window["valid"].values, bool)
    land = np.asarray(window["land"].values, bool)
    cloud = np.asarray(window["cloud"].values, bool)
    reflectance = np.empty((len(rows), ds.sizes["x"], len(bands)), np.float32)
    for i, band in enumerate(bands):
        reflectance[..., i] = window[band].values
    gap = fill_mask(valid, land, cloud)
    reflectance[~valid & ~gap] = np.nan
    return reflectance, gap, ~land


def tile_input(
    reflectance: np.ndarray, gap: np.ndarray, tile: Tile, size: int, row_offset: int
) -> tuple[np.ndarray, np.ndarray]:
    """A tile's model input, padded to `size` (NaN reflectance, no gap) past the scene's edge."""
    return (tile_window(reflectance, tile, size, row_offset, np.nan),
            tile_window(gap, tile, size, row_offset, False))  # fmt: skip


def tile_counts() -> dict[str, int]:
    """Tile counts of a scene, zero: by `TileReason`, and `ANCHORED` (filled tiles whose window
    knew too little and whose border was anchored to a wider fill, `components.inpaint.anchors`)."""
    return dict.fromkeys([*(r.value for r in TileReason), ANCHORED], 0)


def block_tiles(
    values: np.ndarray,
    gap: np.ndarray,
    water: np.ndarray,
    block: RowGroup,
    size: int,
    row_offset: int,
    counts: dict[str, int],
    neighbours: np.ndarray | None = None,
    offsets: np.ndarray | None = None,
    anchors: Anchors | None = None,
) -> Tiles | None:
    """The model's input for a row block: its tiles that hold a gap (None when none does).

    Every tile's `TileReason` is counted in `counts` (`tile_counts`). `values`, `gap` and `water`
    hold scene rows from `row_offset` on; `neighbours` (2k, rows, columns, bands), the same rows
    of the scene's neighbours in time (with their `offsets`), for a model with a temporal
    window. A tile whose window knows fewer pixels than its side has its border anchored to
    `anchors` (default: the push-pull fill of `values`; pass one to share it between blocks of
    the same rows): `Tiles.anchored` marks those pixels, which stay in `Tiles.gaps`.
    """
    anchors = anchors or Anchors(values, gap)
    inputs, context, indices, anchored = [], [], [], []
    for tile in block.tiles:
        window = tile.slices(row_offset)
        reason = tile_needs_model(gap[window], water[window])
        counts[reason.value] += 1
        if reason is TileReason.FILL:
            tile_values, tile_gap = tile_input(values, gap, tile, size, row_offset)
            model_gap = tile_gap.copy()
            if anchors.anchor(tile_values, model_gap, window):
                counts[ANCHORED] += 1
            inputs.append((tile_values, tile_gap))
            anchored.append(tile_gap & ~model_gap)
            if neighbours is not None:
                context.append(np.stack([tile_window(n, tile, size, row_offset, np.nan)
                                         for n in neighbours]))  # fmt: skip
            indices.append(tile.index)
    if not inputs:
        return None
    return Tiles(np.stack([i[0] for i in inputs]), np.stack([i[1] for i in inputs]),
                 tuple(indices), np.stack(context) if context else None, offsets,
                 np.stack(anchored) if any(a.any() for a in anchored) else None)  # fmt: skip


def encode_block(rows: range, index: np.ndarray, sums: np.ndarray, weights: np.ndarray) -> bytes:
    """A row group's blend as bytes: its scene rows, and at the gap pixels its tiles covered
    (flat indices into those rows) the weighted sums (n, bands) and weights (n,), float32."""
    buffer = io.BytesIO()
    np.savez(buffer, rows=np.array([rows.start, rows.stop]), index=index,
             sums=sums.astype(np.float32), weights=weights.astype(np.float32))  # fmt: skip
    return buffer.getvalue()


def decode_block(data: bytes) -> tuple[range, np.ndarray, np.ndarray, np.ndarray]:
    """The inverse of `encode_block`: (rows, index, sums, weights)."""
    with np.load(io.BytesIO(data)) as npz:
        start, stop = (int(v) for v in npz["rows"])
        return range(start, stop), npz["index"], npz["sums"], npz["weights"]
