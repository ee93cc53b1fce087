"""Cutting a scene into overlapping model tiles and blending their predictions without seams.

A `TilePlan` covers a scene with square tiles of the model's side that overlap by twice the
halo. Predictions are blended with feathered weights (`tile_weights`): a raised-cosine ramp
across each overlap with a neighbouring tile, flat at the scene border. Large scenes are
processed in `RowGroup`s of whole tile rows (`row_groups`), so every tile is inferred once. A
group's `Blender` sums its tiles' weighted predictions over the rows they cover, and
`Blender.partial` hands out the sums and weights at the gap pixels; neighbouring groups' rows
overlap by the halos, so a `RowMerger` adds the groups' partial sums in order and hands out
each group's `final` rows once no later group touches them. Memory is O(group rows x width x
bands).
"""

from __future__ import annotations

import enum
import functools
import operator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tile:
    """One tile of a `TilePlan`: a window of the model's side with its top-left corner in the scene.

    Attributes:
        index: (tile row, tile column) in the plan.
        row0: first scene row of the window.
        col0: first scene column of the window.
        rows: rows of the window inside the scene, at most the tile side; the caller pads the
            rest when the scene is shorter than a tile.
        cols: columns of the window inside the scene, at most the tile side.
    """

    index: tuple[int, int]
    row0: int
    col0: int
    rows: int
    cols: int

    def slices(self, row_offset: int = 0) -> tuple[slice, slice]:
        """(rows, columns) of the in-scene window in an array whose first row is `row_offset`."""
        top = self.row0 - row_offset
        return slice(top, top + self.rows), slice(self.col0, self.col0 + self.cols)


@dataclass(frozen=True)
class TilePlan:
    """Tiles covering a height x width scene, overlapping by 2 * halo; build with `plan_tiles`.

    Attributes:
        height: scene rows.
        width: scene columns.
        tile: side of a tile (the model's window) in pixels.
        halo: half the overlap of neighbouring tiles, in pixels.
        row_starts: first scene row of each tile row, strictly increasing.
        col_starts: first scene column of each tile column, strictly increasing.
    """

    height: int
    width: int
    tile: int
    halo: int
    row_starts: tuple[int, ...]
    col_starts: tuple[int, ...]

    @property
    def rows(self) -> tuple[tuple[Tile, ...], ...]:
        """The tiles, one tuple per tile row, top to bottom and left to right."""
        return tuple(self.tile_row(i) for i in range(len(self.row_starts)))

    def tile_row(self, i: int) -> tuple[Tile, ...]:
        """The tiles of tile row `i`, left to right."""
        row0 = self.row_starts[i]
        rows = min(self.tile, self.height - row0)
        return tuple(
            Tile((i, j), row0, col0, rows, min(self.tile, self.width - col0))
            for j, col0 in enumerate(self.col_starts)
        )

    def row_end(self, i: int) -> int:
        """One past the last scene row that tile row `i` covers."""
        return min(self.row_starts[i] + self.tile, self.height)


@dataclass(frozen=True)
class RowGroup:
    """Whole tile rows inferred together; build with `row_groups`.

    Attributes:
        tile_rows: the tile-row indices of the group; groups partition them.
        rows: scene rows the group's tiles cover (neighbouring groups overlap by the halos).
        final: scene rows whose blend is complete once this group and those above it are
            merged; groups' final rows partition the scene rows.
        tiles: the group's tiles, in plan order.
    """

    tile_rows: range
    rows: range
    final: range
    tiles: tuple[Tile, ...]


class TileReason(enum.StrEnum):
    """Why a tile goes to the model or is skipped; the job counts tiles by it."""

    FILL = "fill"
    NO_WATER = "no_water"
    NO_GAP = "no_gap"


def plan_tiles(height: int, width: int, tile: int, halo: int) -> TilePlan:
    """Tiles of side `tile` stepping by tile - 2 * halo, covering every pixel of the scene.

    In a dimension at least `tile` long, the last tile is shifted back to end at the scene edge,
    so no tile leaves the scene. In a shorter dimension there is one tile starting at 0, and
    its window reaches past the scene.

    Raises:
        ValueError: a size is not an integer, height, width or tile is below 1, halo is
            negative, or tile <= 2 * halo.
    """
    height = _check_int("height", height, 1)
    width = _check_int("width", width, 1)
    tile = _check_int("tile", tile, 1)
    halo = _check_int("halo", halo, 0)
    if tile <= 2 * halo:
        raise ValueError(f"tile must be larger than 2 * halo, got tile={tile}, halo={halo}")
    step = tile - 2 * halo
    return TilePlan(
        height, width, tile, halo, _starts(height, tile, step), _starts(width, tile, step)
    )


def tile_weights(plan: TilePlan, tile: Tile) -> np.ndarray:
    """Blending weights of a tile's in-scene window: float32 (rows, cols), in (0, 1].

    Each side facing a neighbouring tile ramps up from near 0 at the edge to 1 across 2 * halo
    pixels (raised cosine); sides on the scene border stay 1. Two tiles overlapping by exactly
    2 * halo have weights that sum to 1 across the overlap.
    """
    i, j = tile.index
    row = _profile(plan.tile, plan.halo, i > 0, i < len(plan.row_starts) - 1)[: tile.rows]
    col = _profile(plan.tile, plan.halo, j > 0, j < len(plan.col_starts) - 1)[: tile.cols]
    return np.outer(row, col).astype(np.float32)


def row_groups(plan: TilePlan, tile_rows_per_group: int) -> tuple[RowGroup, ...]:
    """Groups of `tile_rows_per_group` tile rows each (fewer in the last), top to bottom.

    Raises:
        ValueError: `tile_rows_per_group` is not an integer of at least 1.
    """
    size = _check_int("tile_rows_per_group", tile_rows_per_group, 1)
    count = len(plan.row_starts)
    firsts = list(range(0, count, size))
    groups = []
    for g, first in enumerate(firsts):
        tile_rows = range(first, min(first + size, count))
        final_start = 0 if g == 0 else plan.row_starts[first]
        final_stop = plan.row_starts[firsts[g + 1]] if g + 1 < len(firsts) else plan.height
        groups.append(RowGroup(
            tile_rows,
            range(plan.row_starts[first], max(plan.row_end(i) for i in tile_rows)),
            range(final_start, final_stop),
            tuple(t for i in tile_rows for t in plan.tile_row(i)),
        ))  # fmt: skip
    return tuple(groups)


@functools.lru_cache(maxsize=32)
def block_layout(
    height: int, width: int, tile: int, halo: int, tile_rows_per_group: int
) -> tuple[TilePlan, tuple[RowGroup, ...]]:
    """A scene's tile plan and its row groups (`plan_tiles`, `row_groups`), made once per
    scene shape and settings in a process: every stage of the batch job that handles a row
    block asks for the same ones."""
    plan = plan_tiles(height, width, tile, halo)
    return plan, row_groups(plan, tile_rows_per_group)


def tile_window(array: np.ndarray, tile: Tile, size: int, row_offset: int, fill) -> np.ndarray:
    """The tile's window of `array` (rows, columns, ...), whose first row is scene row
    `row_offset`, padded with `fill` to `size` x `size` past the scene's edge."""
    window = np.full((size, size, *array.shape[2:]), fill, array.dtype)
    window[: tile.rows, : tile.cols] = array[tile.slices(row_offset)]
    return window


def tile_needs_model(gap_window: np.ndarray, water_window: np.ndarray) -> TileReason:
    """Whether a tile goes to the model: only when its window holds a gap; no water comes first.

    Args:
        gap_window: bool mask of the tile's window, True = gap.
        water_window: bool mask of the same window, True = water.

    Raises:
        ValueError: the two windows differ in shape.
    """
    if gap_window.shape != water_window.shape:
        raise ValueError(
            f"gap and water windows differ in shape: {gap_window.shape} != {water_window.shape}"
        )
    if not water_window.any():
        return TileReason.NO_WATER
    if not gap_window.any():
        return TileReason.NO_GAP
    return TileReason.FILL


class Blender:
    """Weighted sums of tile predictions over a range of full-width scene rows.

    Accumulates in float64 so that the result does not depend on how many tiles overlap, and
    adds tiles in the order given, so the same tiles in the same order give bit-identical
    sums whether the scene is blended whole or group by group (`RowGroup`, `RowMerger`). Sums
    are held only at the pixels `where` names (the gap, when it is known beforehand), so its
    memory follows them, not the rows' width times the bands.
    """

    def __init__(
        self, plan: TilePlan, rows: range, bands: int, where: np.ndarray | None = None
    ) -> None:
        """Empty sums for scene rows `rows` (e.g. a group's `rows`) and `bands` bands, at the
        pixels `where` (len(rows), plan.width) is true (None: all of them).

        Raises:
            ValueError: `rows` is empty, not contiguous or outside the scene, `bands` < 1, or
                `where` has another shape.
        """
        if rows.step != 1 or not 0 <= rows.start < rows.stop <= plan.height:
            raise ValueError(
                f"rows must be a non-empty range in range(0, {plan.height}), got {rows}"
            )
        self.plan = plan
        self.rows = rows
        self.bands = _check_int("bands", bands, 1)
        shape = (len(rows), plan.width)
        if where is None:
            where = np.ones(shape, bool)
        if where.shape != shape:
            raise ValueError(f"where must have shape {shape}, got {where.shape}")
        self._index = np.full(shape, -1, np.int64)
        self._index[where] = np.arange(np.count_nonzero(where))
        self._sum = np.zeros((np.count_nonzero(where), self.bands), np.float64)
        self._weight = np.zeros(len(self._sum), np.float64)

    def add(self, tile: Tile, pred: np.ndarray) -> None:
        """Adds a tile's prediction, (tile, tile, bands) or its in-scene (rows, cols, bands).

        Only the tile's rows inside this blender's rows are used. NaN in `pred` spreads only to
        the pixels where it lies.

        Raises:
            ValueError: `pred` has another shape, or the tile has no row in this blender's rows.
        """
        side = self.plan.tile
        allowed = ((side, side, self.bands), (tile.rows, tile.cols, self.bands))
        if pred.shape not in allowed:
            raise ValueError(
                f"prediction for tile {tile.index} must be one of {allowed}, got {pred.shape}"
            )
        top = max(tile.row0, self.rows.start)
        bottom = min(tile.row0 + tile.rows, self.rows.stop)
        if top >= bottom:
            raise ValueError(f"tile {tile.index} has no row in the blender's rows {self.rows}")
        inside = slice(top - tile.row0, bottom - tile.row0)
        weights = tile_weights(self.plan, tile)[inside].astype(np.float64)
        own_rows = slice(top - self.rows.start, bottom - self.rows.start)
        index = self._index[own_rows, tile.slices()[1]]
        held = index >= 0
        self._sum[index[held]] += weights[held][:, None] * pred[inside, : tile.cols][held]
        self._weight[index[held]] += weights[held]

    def partial(self, gap: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mask, sums, weights) at the gap pixels any tile covered: what a `RowMerger` takes.

        mask is gap & (weight > 0) over this blender's rows (pixels outside `where` have no
        weight); sums (n, bands) are the weighted predictions there and weights (n,) their
        weights, both float64.
        """
        if gap.shape != self._index.shape:
            raise ValueError(f"gap for scene rows {self.rows} must have shape "
                             f"{self._index.shape}, got {gap.shape}")  # fmt: skip
        mask = gap & (self._index >= 0)
        mask[mask] = self._weight[self._index[mask]] > 0
        index = self._index[mask]
        return mask, self._sum[index], self._weight[index]


def _starts(length: int, tile: int, step: int) -> tuple[int, ...]:
    if length <= tile:
        return (0,)
    return (*range(0, length - tile, step), length - tile)


def _profile(size: int, halo: int, ramp_start: bool, ramp_end: bool) -> np.ndarray:
    width = 2 * halo
    ramp = np.sin(0.5 * np.pi * (np.arange(width) + 0.5) / width) ** 2
    profile = np.ones(size)
    if ramp_start:
        profile[:width] = np.minimum(profile[:width], ramp)
    if ramp_end:
        profile[size - width :] = np.minimum(profile[size - width :], ramp[::-1])
    return profile


def _check_int(name: str, value: int, minimum: int) -> int:
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if number < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {number}")
    return number


class RowMerger:
    """Adds groups' partial sums in group order and hands out finished rows.

    Rows stay pending from the first row not yet handed out to the last row any group added;
    `pop(stop)` returns the rows before `stop` (a group's `final.stop`), which no later group
    touches. Only the pixels groups gave are held (their scene index, sums and weights), so its
    memory follows the gaps, not the scene's width times its bands; sums of a pixel are added
    in group order, as a dense float64 sum would add them.
    """

    def __init__(self, width: int, bands: int) -> None:
        self.width = _check_int("width", width, 1)
        self.bands = _check_int("bands", bands, 1)
        self.start = 0
        self._index = np.zeros(0, np.int64)
        self._sum = np.zeros((0, bands), np.float64)
        self._weight = np.zeros(0, np.float64)

    def add(self, rows: range, mask: np.ndarray, sums: np.ndarray, weights: np.ndarray) -> None:
        """Add a group's `Blender.partial` over scene rows `rows`.

        Raises:
            ValueError: `rows` start above rows already handed out, or shapes disagree.
        """
        count = int(np.count_nonzero(mask)) if mask.shape == (len(rows), self.width) else -1
        if rows.start < self.start or count < 0:
            raise ValueError(f"cannot add rows {rows} (pending from {self.start}) with a mask "
                             f"of shape {mask.shape}")  # fmt: skip
        sums, weights = np.asarray(sums), np.asarray(weights)
        if sums.shape != (count, self.bands) or weights.shape != (count,):
            raise ValueError(f"rows {rows}: {count} masked pixels need sums of shape "
                             f"{(count, self.bands)} and weights of shape {(count,)}, got "
                             f"{sums.shape} and {weights.shape}")  # fmt: skip
        index = rows.start * self.width + np.flatnonzero(mask)
        self._index = np.concatenate([self._index, index])
        self._sum = np.concatenate([self._sum, sums.astype(np.float64)])
        self._weight = np.concatenate([self._weight, weights.astype(np.float64)])

    def pop(self, stop: int) -> tuple[range, np.ndarray, np.ndarray]:
        """(rows, filled_mask, values): the pending rows before `stop`, done.

        filled_mask is where some tile added weight; values (n, bands) float32 the blend there.
        """
        rows = range(self.start, max(self.start, stop))
        done = self._index < rows.stop * self.width
        pixels, which = np.unique(self._index[done], return_inverse=True)
        weight = np.bincount(which, self._weight[done], minlength=len(pixels))
        sums = self._sum[done]
        summed = np.stack([np.bincount(which, sums[:, band], minlength=len(pixels))
                           for band in range(self.bands)], axis=-1)  # fmt: skip
        self._index, self._sum, self._weight = (
            kept[~done] for kept in (self._index, self._sum, self._weight)
        )
        self.start = rows.stop
        weighted = weight > 0
        mask = np.zeros((len(rows), self.width), bool)
        mask.reshape(-1)[pixels[weighted] - rows.start * self.width] = True
        values = summed[weighted] / weight[weighted][:, None]
        return rows, mask, values.astype(np.float32)
