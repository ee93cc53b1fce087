"""Tests of scene tiling and blending (components/inpaint/tiling.py)."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.inpaint.tiling import (
    Blender,
    RowMerger,
    Tile,
    TilePlan,
    TileReason,
    block_layout,
    plan_tiles,
    row_groups,
    tile_needs_model,
    tile_weights,
)

BANDS = 3
EXAMPLES = settings(max_examples=50, deadline=None)


@st.composite
def plans(draw: st.DrawFn, min_tile_to_halo: int = 2) -> TilePlan:
    """Plans over scenes up to 200 x 200, tiles 16 to 64 and any halo the tile allows."""
    tile = draw(st.sampled_from(range(16, 65, 8)))
    halo = draw(st.integers(0, (tile - 1) // min_tile_to_halo))
    return plan_tiles(draw(st.integers(1, 200)), draw(st.integers(1, 200)), tile, halo)


def weight_sum(plan: TilePlan) -> np.ndarray:
    total = np.zeros((plan.height, plan.width))
    for row in plan.rows:
        for tile in row:
            total[tile.slices()] += tile_weights(plan, tile)
    return total


def smooth_field(plan: TilePlan, seed: int) -> np.ndarray:
    """A smooth float32 (height, width, BANDS) field without NaN, values in [1, 3]."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[: plan.height, : plan.width]
    freq = rng.uniform(0.01, 0.1, (BANDS, 2))
    phase = rng.uniform(0, 2 * np.pi, BANDS)
    bands = [np.sin(f[0] * rows + f[1] * cols + p) for f, p in zip(freq, phase, strict=True)]
    return (2 + np.stack(bands, axis=-1)).astype(np.float32)


def pad(window: np.ndarray, side: int) -> np.ndarray:
    """An in-scene window padded with zeros to side x side, as a model would see it."""
    padded = np.zeros((side, side, *window.shape[2:]), window.dtype)
    padded[: window.shape[0], : window.shape[1]] = window
    return padded


def fill(blender: Blender, scene: np.ndarray, gap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(filled, filled_mask) of a whole-scene blender, by the job's path: `Blender.partial`,
    then a `RowMerger`. filled is `scene` with the blend at filled_mask, gap pixels some tile
    covered."""
    merger = RowMerger(blender.plan.width, blender.bands)
    merger.add(blender.rows, *blender.partial(gap))
    rows, filled_mask, values = merger.pop(blender.rows.stop)
    assert rows == blender.rows
    filled = scene.copy()
    filled[filled_mask] = values
    return filled, filled_mask


def blend(
    plan: TilePlan,
    scene: np.ndarray,
    gap: np.ndarray,
    water: np.ndarray,
    tiles: tuple[Tile, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """Blends seeded random predictions of the tiles that need the model over the scene."""
    blender = Blender(plan, range(plan.height), BANDS)
    for tile in tiles:
        window = tile.slices()
        if tile_needs_model(gap[window], water[window]) is TileReason.FILL:
            rng = np.random.default_rng(tile.index)
            blender.add(tile, rng.uniform(0, 1, (plan.tile, plan.tile, BANDS)).astype(np.float32))
    return fill(blender, scene, gap)


def random_masks(plan: TilePlan, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A scene with NaN on land, land on ~10% of pixels and gaps on ~20% of the water."""
    rng = np.random.default_rng(seed)
    water = rng.uniform(size=(plan.height, plan.width)) > 0.1
    gap = water & (rng.uniform(size=water.shape) < 0.2)
    scene = smooth_field(plan, seed)
    scene[~water] = np.nan
    return scene, gap, water


@EXAMPLES
@given(plans())
def test_tiles_cover_every_pixel_and_stay_inside_the_scene(plan: TilePlan) -> None:
    covered = np.zeros((plan.height, plan.width), bool)
    for i, row in enumerate(plan.rows):
        assert len(row) == len(plan.col_starts)
        for j, tile in enumerate(row):
            assert tile.index == (i, j)
            assert (tile.row0, tile.col0) == (plan.row_starts[i], plan.col_starts[j])
            assert tile.rows == min(plan.tile, plan.height)
            assert tile.cols == min(plan.tile, plan.width)
            if plan.height >= plan.tile:
                assert tile.row0 + plan.tile <= plan.height
            if plan.width >= plan.tile:
                assert tile.col0 + plan.tile <= plan.width
            covered[tile.slices()] = True
    assert covered.all()


@EXAMPLES
@given(plans())
def test_neighbouring_tiles_overlap_by_at_least_twice_the_halo(plan: TilePlan) -> None:
    for starts in (plan.row_starts, plan.col_starts):
        steps = np.diff(starts)
        assert (steps > 0).all()
        assert (steps <= plan.tile - 2 * plan.halo).all()


def test_a_scene_smaller_than_a_tile_has_one_tile_the_caller_pads() -> None:
    plan = plan_tiles(10, 70, tile=32, halo=4)

    assert plan.row_starts == (0,)
    assert plan.col_starts == (0, 24, 38)
    assert [tile.rows for tile in plan.rows[0]] == [10, 10, 10]
    assert tile_weights(plan, plan.rows[0][0]).shape == (10, 32)


@EXAMPLES
@given(plans())
def test_normalised_weights_sum_to_one_and_weights_are_positive(plan: TilePlan) -> None:
    total = weight_sum(plan)
    normalised = np.zeros_like(total)
    for row in plan.rows:
        for tile in row:
            weights = tile_weights(plan, tile)
            assert weights.dtype == np.float32
            assert weights.shape == (tile.rows, tile.cols)
            assert (weights > 0).all()
            assert (weights <= 1).all()
            normalised[tile.slices()] += weights / total[tile.slices()]
    np.testing.assert_allclose(normalised, 1, rtol=0, atol=1e-6)


@EXAMPLES
@given(plans(min_tile_to_halo=4).filter(lambda plan: plan.halo > 0))
def test_weights_fade_out_towards_neighbours_and_are_flat_on_the_border(plan: TilePlan) -> None:
    total = weight_sum(plan)
    edge = 1 / (4 * plan.halo)
    last_row, last_col = len(plan.row_starts) - 1, len(plan.col_starts) - 1
    for row in plan.rows:
        for tile in row:
            weights = tile_weights(plan, tile)
            normalised = weights / total[tile.slices()]
            i, j = tile.index
            sides = {
                "top": (i > 0, weights[0], normalised[0], weights.max(axis=0)),
                "bottom": (i < last_row, weights[-1], normalised[-1], weights.max(axis=0)),
                "left": (j > 0, weights[:, 0], normalised[:, 0], weights.max(axis=1)),
                "right": (j < last_col, weights[:, -1], normalised[:, -1], weights.max(axis=1)),
            }
            for has_neighbour, side, side_normalised, flat in sides.values():
                if has_neighbour:
                    assert (side_normalised <= edge + 1e-6).all()
                else:
                    np.testing.assert_array_equal(side, flat)


@EXAMPLES
@given(plans(), st.integers(0, 2**16))
def test_blending_the_identity_model_returns_the_scene(plan: TilePlan, seed: int) -> None:
    scene, gap, water = random_masks(plan, seed)
    blender = Blender(plan, range(plan.height), BANDS)
    for row in plan.rows:
        for tile in row:
            window = tile.slices()
            if tile_needs_model(gap[window], water[window]) is not TileReason.FILL:
                continue
            pred = np.nan_to_num(scene[window])
            full = tile.index[1] % 2 == 0  # both shapes `add` accepts
            blender.add(tile, pad(pred, plan.tile) if full else pred)

    filled, filled_mask = fill(blender, scene, gap)

    np.testing.assert_array_equal(filled_mask, gap)  # no gap pixel left unfilled
    assert filled.dtype == scene.dtype
    np.testing.assert_allclose(filled[gap], scene[gap], rtol=0, atol=1e-6)
    assert filled[~gap].tobytes() == scene[~gap].tobytes()


@EXAMPLES
@given(plans(), st.integers(0, 2**16), st.floats(-10, 10))
def test_blending_a_constant_prediction_gives_the_constant(
    plan: TilePlan, seed: int, constant: float
) -> None:
    scene, gap, _ = random_masks(plan, seed)
    blender = Blender(plan, range(plan.height), BANDS)
    for row in plan.rows:
        for tile in row:
            blender.add(tile, np.full((plan.tile, plan.tile, BANDS), constant, np.float32))

    filled, _ = fill(blender, scene, gap)

    np.testing.assert_allclose(filled[gap], np.float32(constant), rtol=0, atol=1e-6)
    assert filled[~gap].tobytes() == scene[~gap].tobytes()


@EXAMPLES
@given(plans(), st.integers(1, 4))
def test_row_groups_partition_the_tiles_and_the_final_rows(plan: TilePlan, per_group: int) -> None:
    groups = row_groups(plan, per_group)

    assert sum((g.tiles for g in groups), ()) == sum(plan.rows, ())  # every tile once
    assert groups[0].final.start == 0 and groups[-1].final.stop == plan.height
    for before, after in itertools.pairwise(groups):
        assert before.final.stop == after.final.start
        # no later group reaches above the rows a group finishes
        assert all(t.row0 >= before.final.stop for t in after.tiles)
    for group in groups:
        assert group.rows.start == min(t.row0 for t in group.tiles)
        assert group.rows.stop == max(t.row0 + t.rows for t in group.tiles)
        assert pickle.loads(pickle.dumps(group)) == group


@EXAMPLES
@given(plans(), st.integers(1, 4), st.integers(0, 2**16))
def test_merging_row_groups_blends_as_the_whole_scene(
    plan: TilePlan, per_group: int, seed: int
) -> None:
    scene, gap, water = random_masks(plan, seed)
    whole, whole_mask = blend(plan, scene, gap, water, tuple(sum(plan.rows, ())))

    merger = RowMerger(plan.width, BANDS)
    filled = scene.copy()
    mask = np.zeros(gap.shape, bool)
    for group in row_groups(plan, per_group):
        group_gap = gap[group.rows.start : group.rows.stop]
        blender = Blender(plan, group.rows, BANDS, where=group_gap)  # as the job holds them
        for tile in group.tiles:
            window = tile.slices()
            if tile_needs_model(gap[window], water[window]) is TileReason.FILL:
                rng = np.random.default_rng(tile.index)
                blender.add(tile, rng.uniform(0, 1, (plan.tile, plan.tile, BANDS)))
        merger.add(group.rows, *blender.partial(group_gap))
        rows, done, values = merger.pop(group.final.stop)
        assert rows == group.final
        part = filled[rows.start : rows.stop]
        part[done] = values
        mask[rows.start : rows.stop] = done

    np.testing.assert_array_equal(mask, whole_mask)
    np.testing.assert_allclose(filled, whole, rtol=0, atol=1e-6)
    assert filled[~mask].tobytes() == scene[~mask].tobytes()
    np.testing.assert_array_equal(whole_mask, gap)  # no gap pixel left unfilled


def test_a_group_reads_the_rows_of_its_tiles_from_a_row_offset() -> None:
    plan = plan_tiles(100, 40, tile=32, halo=4)
    scene, _, _ = random_masks(plan, seed=3)
    group = row_groups(plan, 1)[1]
    read = slice(group.rows.start, group.rows.stop)

    assert (group.final, group.rows) == (range(24, 48), range(24, 56))
    tile = group.tiles[0]
    np.testing.assert_array_equal(scene[read][tile.slices(group.rows.start)], scene[tile.slices()])


@pytest.mark.parametrize(
    ("gap", "water", "reason"),
    [
        ([[0, 1], [0, 0]], [[1, 1], [1, 0]], TileReason.FILL),
        ([[0, 0], [0, 0]], [[1, 1], [1, 0]], TileReason.NO_GAP),
        ([[0, 0], [0, 0]], [[0, 0], [0, 0]], TileReason.NO_WATER),
        ([[0, 1], [0, 0]], [[0, 0], [0, 0]], TileReason.NO_WATER),
    ],
)
def test_skip_rules(gap: list[list[int]], water: list[list[int]], reason: TileReason) -> None:
    decision = tile_needs_model(np.array(gap, bool), np.array(water, bool))

    assert decision is reason
    assert decision == reason.value


def test_gap_pixels_no_tile_covered_stay_original_and_are_counted() -> None:
    plan = plan_tiles(40, 40, tile=16, halo=2)
    scene, gap, _ = random_masks(plan, seed=5)
    blender = Blender(plan, range(40), BANDS)
    tile = plan.rows[0][0]
    blender.add(tile, np.zeros((16, 16, BANDS), np.float32))

    filled, filled_mask = fill(blender, scene, gap)

    covered = np.zeros_like(gap)
    covered[tile.slices()] = True
    np.testing.assert_array_equal(filled_mask, gap & covered)
    assert np.count_nonzero(gap & ~filled_mask) == np.count_nonzero(gap & ~covered)
    assert filled[~filled_mask].tobytes() == scene[~filled_mask].tobytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, 10, 16, 2), "height must be at least 1"),
        ((10, 10, 16, -1), "halo must be at least 0"),
        ((10, 10, 16, 8), "tile must be larger than 2 \\* halo"),
        ((10, 10.0, 16, 2), "width must be an integer"),
    ],
)
def test_plan_tiles_rejects_bad_sizes(args: tuple[int, int, int, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_tiles(*args)


def test_bad_ranges_and_shapes_are_rejected() -> None:
    plan = plan_tiles(40, 40, tile=16, halo=2)
    blender = Blender(plan, range(0, 12), BANDS)
    tiles = plan.rows

    with pytest.raises(ValueError, match="tile_rows_per_group must be at least 1"):
        row_groups(plan, 0)
    with pytest.raises(ValueError, match="cannot add rows"):
        RowMerger(40, BANDS).add(range(0, 4), np.zeros((3, 40), bool), np.zeros((0, 3)), [])
    with pytest.raises(ValueError, match="rows must be"):
        Blender(plan, range(30, 41), BANDS)
    with pytest.raises(ValueError, match=r"where must have shape \(12, 40\)"):
        Blender(plan, range(0, 12), BANDS, where=np.ones((40, 40), bool))
    with pytest.raises(ValueError, match=r"prediction for tile \(0, 0\)"):
        blender.add(tiles[0][0], np.zeros((16, 16, BANDS + 1)))
    with pytest.raises(ValueError, match=r"tile \(2, 0\) has no row"):
        blender.add(tiles[2][0], np.zeros((16, 16, BANDS)))
    with pytest.raises(ValueError, match="gap for scene rows"):
        blender.partial(np.zeros((40, 40), bool))
    with pytest.raises(ValueError, match="differ in shape"):
        tile_needs_model(np.zeros((2, 2), bool), np.zeros((2, 3), bool))


def test_block_layout_is_the_plan_and_its_groups_made_once() -> None:
    plan, groups = block_layout(70, 50, 32, 4, 2)
    assert plan == plan_tiles(70, 50, 32, 4)
    assert groups == row_groups(plan, 2)
    assert block_layout(70, 50, 32, 4, 2)[0] is plan  # the stages share one, not a copy each
    assert block_layout(70, 50, 32, 4, 1)[1] == row_groups(plan, 1)
