"""Cutting scenes into training patches: the pure core of OlciExampleGen."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

# A patch with a land mask needs this much water: coastal patches, not specks of sea on land.
MIN_WATER_SHARE = 0.5


@dataclass(frozen=True)
class Neighbours:
    """The same window of the k previous and k next scenes of a patch's series
    (`components.example_gen.temporal`), oldest first; a missing one is all invalid."""

    values: np.ndarray  # (2k, size, size, bands) float32, 0 where not valid
    valid: np.ndarray  # (2k, size, size) bool
    offsets: np.ndarray  # (2k,) float32: each neighbour's time minus the patch's, in days


@dataclass(frozen=True)
class Patch:
    """A square crop of a scene: all bands and the valid mask (and, with a temporal window,
    its neighbours in time)."""

    product: str
    time: str
    row: int
    column: int
    reflectance: np.ndarray  # (size, size, bands) float32, 0 where not valid
    valid: np.ndarray  # (size, size) bool
    neighbours: Neighbours | None = None

    @property
    def valid_share(self) -> float:
        return float(self.valid.mean())


def grid_offsets(length: int, size: int, stride: int) -> list[int]:
    """Start offsets of windows of `size` every `stride` that fit inside `length`."""
    if size <= 0 or stride <= 0:
        raise ValueError(f"patch size {size} and stride {stride} must be positive")
    if length < size:
        return []
    return list(range(0, length - size + 1, stride))


def extract_patches(
    scene: xr.Dataset,
    bands: Sequence[str],
    size: int,
    *,
    stride: int | None = None,
    min_valid: float = 0.99,
) -> Iterator[Patch]:
    """Patches of `scene` on a grid whose valid share is at least `min_valid`.

    When the scene has a `land` mask (OLCI products), the valid share is counted over the
    patch's water and a patch needs at least `MIN_WATER_SHARE` water, so coastal patches are
    kept: the model learns coasts as it meets them at serving (land as invalid pixels). The
    `valid` mask is read once; the bands one row of patches at a time, and only rows that
    hold a patch, so a full OLCI scene never sits in memory decoded whole. Invalid pixels
    inside a kept patch are set to 0 in `reflectance` (their `valid` is False), so no NaN
    reaches the statistics.

    Args:
        scene: a Dataset with dims (y, x), the `bands` variables and a boolean `valid`, and
            attributes `product_name` and `start_time`.
        bands: the band variables, in channel order.
        size: patch side in pixels.
        stride: grid step (default: `size`, non-overlapping).
        min_valid: smallest share of valid pixels (of the water, when there is a `land`
            mask) for a patch to be kept.
    """
    if not 0.0 <= min_valid <= 1.0:
        raise ValueError(f"min_valid {min_valid} is not in [0, 1]")
    missing = [b for b in bands if b not in scene]
    if missing or "valid" not in scene:
        raise ValueError(
            f"{scene.attrs.get('product_name', 'scene')}: lacks {missing or ['valid']}"
        )
    stride = stride or size
    product = str(scene.attrs.get("product_name", ""))
    time = str(scene.attrs.get("start_time", ""))
    rows = grid_offsets(scene.sizes["y"], size, stride)
    columns = grid_offsets(scene.sizes["x"], size, stride)
    valid_scene = np.asarray(scene["valid"].values, dtype=bool)
    if "land" in scene:
        water_scene = ~np.asarray(scene["land"].values, dtype=bool)
    else:
        water_scene = np.ones(valid_scene.shape, bool)

    def needed(water: np.ndarray) -> float:
        count = int(water.sum())
        return np.ceil(min_valid * count) if count >= MIN_WATER_SHARE * size * size else np.inf

    for row in rows:
        valid_strip, water_strip = valid_scene[row : row + size], water_scene[row : row + size]
        wanted = {c: needed(water_strip[:, c : c + size]) for c in columns}
        keep = [c for c in columns if valid_strip[:, c : c + size].sum() >= wanted[c]]
        if not keep:
            continue
        strip = scene[list(bands)].isel(y=slice(row, row + size))
        data = np.stack([np.asarray(strip[b].values, dtype=np.float32) for b in bands], -1)
        for column in keep:
            valid = valid_strip[:, column : column + size].copy()
            window = data[:, column : column + size, :].copy()
            valid &= np.isfinite(window).all(axis=-1)
            if valid.sum() < wanted[column]:
                continue
            window[~valid] = 0.0
            yield Patch(product, time, row, column, window, valid)
