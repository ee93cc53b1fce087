"""Temporal context: the k previous and k next scenes of the same grid, beside each scene.

A gridded series is every scene of the inputs that lies on one grid (the same size and, where
the file locates its pixels, the same corner coordinates), ordered by time. A scene's window is
the k scenes before it and the k after it in that order (`scene_windows`); near the series'
ends the missing neighbours are None, and so become empty channels (nothing valid). A scene at
the very time of the centre is never its neighbour: it could be the centre itself, read twice,
and would hand the model the truth it must fill.

Each patch of the centre carries the same window of its neighbours (`cut_neighbours`): their
values (0 where not valid, like the patch's own), their validity and their time offsets in
days. The masks laid over the centre (MaskGen's) hide only the centre's pixels; neighbours
keep their own gaps.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import rasterio
import xarray as xr

from components.example_gen.config import IngestConfig
from components.example_gen.patches import Neighbours
from components.example_gen.scenes import SceneRef
from components.gridded import GriddedConfig, scene_times, times
from components.gridded.geotiff import TIME_TAGS

SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class SceneWindow:
    """A scene with its neighbours in time: `neighbours` holds the k scenes before it (oldest
    first) then the k after it, None where the series has none; `offsets` their times minus the
    centre's, in days (0.0 for a missing one)."""

    centre: SceneRef
    neighbours: tuple[SceneRef | None, ...]
    offsets: tuple[float, ...]

    def __str__(self) -> str:
        return str(self.centre)


def scene_windows(scenes: Iterable[tuple[SceneRef, str]], k: int) -> list[SceneWindow]:
    """The window of every scene of one grid, given each scene's ISO 8601 start time.

    Raises:
        ValueError: `k` is not positive, or a scene has no time (its neighbours are unknown).
    """
    if k < 1:
        raise ValueError(f"temporal window {k} must be at least 1")
    timed = []
    for ref, text in scenes:
        if not text:
            raise ValueError(f"{ref}: the scene states no time, so it has no place in a series")
        timed.append((times.parse_text(text), str(ref), ref))
    timed.sort(key=lambda item: item[:2])
    moments = [moment for moment, _, _ in timed]
    windows = []
    for moment, _, ref in timed:
        first, last = bisect.bisect_left(moments, moment), bisect.bisect_right(moments, moment)
        before, after = timed[max(first - k, 0) : first], timed[last : last + k]
        chosen = [None] * (k - len(before)) + before + after + [None] * (k - len(after))
        windows.append(
            SceneWindow(
                centre=ref,
                neighbours=tuple(None if c is None else c[2] for c in chosen),
                offsets=tuple(
                    0.0 if c is None else (c[0] - moment).total_seconds() / SECONDS_PER_DAY
                    for c in chosen
                ),
            )
        )
    return windows


def timed_scene_refs(path: str, config: IngestConfig) -> list[tuple[str, SceneRef, str]]:
    """(grid, scene, start time) of every scene an input holds, from its header alone.

    The grid is a text naming the scenes' size and corner coordinates: scenes with the same
    grid form one series.
    """
    if config.kind == "netcdf":
        return series_scene_refs(path, config.gridded)
    with rasterio.open(path) as src:
        grid = _grid(src.height, src.width, [np.asarray(src.transform)[:6]])
        tags = src.tags()
    start = next((tags[t] for t in TIME_TAGS if t in tags), "")
    if start:
        start = f"{times.parse_text(start):{times.ISO}}"
    return [(grid, SceneRef(path), start)]


def series_scene_refs(
    path: str | os.PathLike[str], gridded: GriddedConfig, source: str | None = None
) -> list[tuple[str, SceneRef, str]]:
    """(grid, scene, start time) of every scene of a NetCDF series, from its header alone (see
    `timed_scene_refs`); the scenes name `source` (a gs:// input whose local copy is `path`),
    else `path`.

    Raises:
        GriddedError: a subclass naming the file and what is wrong with it.
    """
    starts = scene_times(path, gridded)  # checks the file against the layout first
    with xr.open_dataset(path, decode_times=False) as ds:  # lazy: only the header is read
        rows, columns = ds.sizes[gridded.y_dim], ds.sizes[gridded.x_dim]
        corners = [ds[dim].values[[0, -1]] for dim in (gridded.y_dim, gridded.x_dim) if dim in ds]
    grid = _grid(rows, columns, corners)
    name = str(path) if source is None else source
    return [(grid, SceneRef(name, index), start) for index, start in enumerate(starts)]


def _grid(rows: int, columns: int, coordinates: Sequence[np.ndarray]) -> str:
    located = ",".join(f"{float(v):.6f}" for c in coordinates for v in np.ravel(c))
    return f"{rows}x{columns}@{located}"


def neighbour_arrays(
    scenes: Sequence[xr.Dataset | None], bands: Sequence[str], shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The neighbours' bands (n, H, W, bands) float32, 0 where not valid, and their validity
    (n, H, W) bool: a pixel is valid where the scene says so and every band is finite; a
    missing neighbour (None) is nothing valid.

    Raises:
        ValueError: a neighbour is not on the centre's grid (`shape`).
    """
    values = np.zeros((len(scenes), *shape, len(bands)), np.float32)
    valid = np.zeros((len(scenes), *shape), bool)
    for i, scene in enumerate(scenes):
        if scene is None:
            continue
        size = (scene.sizes["y"], scene.sizes["x"])
        if size != tuple(shape):
            raise ValueError(
                f"{scene.attrs.get('product_name', 'neighbour')}: {size} is not the centre's "
                f"grid {tuple(shape)}"
            )
        data = np.stack([np.asarray(scene[b].values, np.float32) for b in bands], axis=-1)
        ok = np.asarray(scene["valid"].values, bool) & np.isfinite(data).all(axis=-1)
        values[i] = np.where(ok[..., np.newaxis], data, np.float32(0.0))
        valid[i] = ok
    return values, valid


def cut_neighbours(
    values: np.ndarray, valid: np.ndarray, offsets: Sequence[float], row: int, column: int,
    size: int,
) -> Neighbours:  # fmt: skip
    """The `size` window at (`row`, `column`) of every neighbour (see `neighbour_arrays`)."""
    window = (slice(None), slice(row, row + size), slice(column, column + size))
    return Neighbours(
        values=values[window].copy(),
        valid=valid[window].copy(),
        offsets=np.asarray(offsets, np.float32),
    )
