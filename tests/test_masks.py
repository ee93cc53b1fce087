"""Tests of the gap-mask library (components/masks): harvest, synthetic shapes, sampling."""

from __future__ import annotations

import collections
import hashlib
import math
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage, stats

from components.masks import (
    KINDS,
    SYNTHETIC_KINDS,
    HarvestedShape,
    MaskDraw,
    MaskLibrary,
    MaskSampler,
    adjust_coverage,
    box_mask,
    coverage_bucket,
    coverage_bucket_labels,
    dihedral,
    fractal_mask,
    harvest_cloud_shapes,
    key_rng,
    stroke_mask,
)
from components.masks.synthetic import BOX_TOLERANCE, MAX_BOXES
from components.sample.clouds import cloud_masks

S = 32
REPOSITORY = Path(__file__).resolve().parents[1]


def all_dihedral(mask: np.ndarray) -> list[np.ndarray]:
    turns = [np.rot90(mask, k) for k in range(4)]
    return turns + [np.fliplr(turn) for turn in turns]


def is_dihedral_of(mask: np.ndarray, shape: np.ndarray) -> bool:
    return any(np.array_equal(mask, candidate) for candidate in all_dihedral(shape))


def asymmetric_shape(size: int) -> np.ndarray:
    """An L with a dot: no flip or turn maps it onto itself."""
    shape = np.zeros((size, size), dtype=bool)
    shape[4:20, 3:8] = True
    shape[15:20, 8:16] = True
    shape[25, 27] = True
    return shape


@pytest.fixture(scope="module")
def library() -> MaskLibrary:
    """Real-looking shapes harvested from a synthetic cloud scene."""
    rng = np.random.default_rng(11)
    cloud = cloud_masks((192, 192), rng, fraction=0.45).any
    shapes = harvest_cloud_shapes(cloud, S, stride=S // 2, min_coverage=0.02, max_coverage=0.95)
    return MaskLibrary.from_harvest("S3A_TEST.SEN3", shapes, size=S)


@pytest.fixture(scope="module")
def draws(library: MaskLibrary) -> list[MaskDraw]:
    sampler = MaskSampler(S, library=library)
    rng = np.random.default_rng(5)
    return [sampler.draw(rng) for _ in range(400)]


# --- harvest ----------------------------------------------------------------------------------


def test_harvest_returns_exactly_the_cloud_windows_in_range() -> None:
    cloud = np.zeros((64, 100), dtype=bool)  # the last 4 columns are not a whole window
    cloud[2:10, 40:48] = True  # window (0, 32): 64 pixels, 6.25 %
    cloud[0:16, 64:96] = True  # window (0, 64): 50 %
    cloud[32:64, 0:32] = True  # window (32, 0): full, above max_coverage
    cloud[40:42, 70:72] = True  # window (32, 64): 4 pixels, below min_coverage
    cloud[:, 96:] = True  # beyond the last whole window

    shapes = harvest_cloud_shapes(cloud, 32)

    assert [(shape.row, shape.column) for shape in shapes] == [(0, 32), (0, 64)]
    assert [shape.coverage for shape in shapes] == [64 / 1024, 0.5]
    for shape in shapes:
        window = cloud[shape.row : shape.row + 32, shape.column : shape.column + 32]
        np.testing.assert_array_equal(shape.mask, window)
        assert not np.shares_memory(shape.mask, cloud)
    bounds = harvest_cloud_shapes(cloud, 32, min_coverage=0.0, max_coverage=1.0)
    assert len(bounds) == 6


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 40),
    columns=st.integers(1, 40),
    size=st.integers(1, 12),
    stride=st.integers(1, 12),
    bounds=st.tuples(st.floats(0, 1), st.floats(0, 1)).map(sorted),
    seed=st.integers(0, 2**32 - 1),
)
def test_harvest_matches_a_brute_force_scan(
    rows: int, columns: int, size: int, stride: int, bounds: list[float], seed: int
) -> None:
    cloud = np.random.default_rng(seed).random((rows, columns)) < 0.4
    low, high = bounds
    expected = [
        (top, left)
        for top in range(0, rows - size + 1, stride)
        for left in range(0, columns - size + 1, stride)
        if low <= cloud[top : top + size, left : left + size].mean() <= high
    ]
    shapes = harvest_cloud_shapes(cloud, size, stride=stride, min_coverage=low, max_coverage=high)
    assert [(shape.row, shape.column) for shape in shapes] == expected


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"cloud": np.zeros((8, 8)), "size": 4}, "boolean.*float64"),
        ({"cloud": np.zeros((2, 8, 8), dtype=bool), "size": 4}, r"2-D.*\(2, 8, 8\)"),
        ({"cloud": [[True]], "size": 1}, "list"),
        ({"cloud": np.zeros((8, 8), dtype=bool), "size": 0}, "size must be at least 1, got 0"),
        ({"cloud": np.zeros((8, 8), dtype=bool), "size": 2.5}, "size must be an integer"),
        ({"cloud": np.zeros((8, 8), dtype=bool), "size": 4, "stride": -1}, "stride.*-1"),
        (
            {
                "cloud": np.zeros((8, 8), dtype=bool),
                "size": 4,
                "min_coverage": 0.6,
                "max_coverage": 0.5,
            },
            "min=0.6, max=0.5",
        ),
        ({"cloud": np.zeros((8, 8), dtype=bool), "size": 4, "max_coverage": 1.5}, "max=1.5"),
        ({"cloud": np.zeros((8, 8), dtype=bool), "size": 4, "min_coverage": -0.1}, "min=-0.1"),
    ],
)
def test_harvest_rejects_bad_arguments(arguments: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        harvest_cloud_shapes(**arguments)


# --- synthetic shapes -------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(sorted(SYNTHETIC_KINDS)),
    shape=st.sampled_from([(32, 32), (48, 48), (64, 64), (40, 56)]),
    coverage=st.floats(0.05, 0.8),
    seed=st.integers(0, 2**32 - 1),
)
def test_synthetic_shapes_meet_their_coverage(
    kind: str, shape: tuple[int, int], coverage: float, seed: int
) -> None:
    mask = SYNTHETIC_KINDS[kind](shape, coverage, np.random.default_rng(seed))
    assert mask.shape == shape
    assert mask.dtype == bool
    assert abs(mask.mean() - coverage) <= 0.02
    wanted = round(coverage * mask.size)
    if kind == "boxes":
        assert abs(int(mask.sum()) - wanted) <= BOX_TOLERANCE * mask.size
    else:
        assert int(mask.sum()) == wanted


@pytest.mark.parametrize("kind", sorted(SYNTHETIC_KINDS))
def test_synthetic_shapes_at_the_extremes_and_repeatable(kind: str) -> None:
    make = SYNTHETIC_KINDS[kind]
    assert not make((S, S), 0.0, np.random.default_rng(0)).any()
    assert make((S, S), 1.0, np.random.default_rng(0)).all()
    first = make((S, S), 0.4, np.random.default_rng(9))
    np.testing.assert_array_equal(first, make((S, S), 0.4, np.random.default_rng(9)))
    assert not np.array_equal(first, make((S, S), 0.4, np.random.default_rng(10)))


def test_boxes_are_few_rectangles_and_strokes_are_thick() -> None:
    rng = np.random.default_rng(4)
    for _ in range(20):
        boxes = box_mask((64, 64), 0.25, rng)
        _, pieces = ndimage.label(boxes)
        assert 1 <= pieces <= MAX_BOXES + 1  # a further box only makes up a shortfall
        # Brush strokes are at least a few pixels wide: a 2x2 opening keeps most of them.
        strokes = stroke_mask((64, 64), 0.25, rng)
        opened = ndimage.binary_opening(strokes, structure=np.ones((2, 2)))
        assert opened.sum() >= 0.8 * strokes.sum()


@pytest.mark.parametrize("make", [stroke_mask, box_mask, fractal_mask])
@pytest.mark.parametrize(
    ("shape", "coverage", "message"),
    [
        ((0, 8), 0.5, "rows must be at least 1, got 0"),
        ((8,), 0.5, r"\(rows, columns\)"),
        ((8, 8), 1.5, r"coverage must be in \[0, 1\], got 1\.5"),
        ((8, 8), math.nan, "got nan"),
    ],
)
def test_synthetic_shapes_reject_bad_arguments(
    make, shape: tuple[int, ...], coverage: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make(shape, coverage, np.random.default_rng(0))


# --- dilation, erosion, flips and turns -------------------------------------------------------


@pytest.mark.parametrize("coverage", [0.0, 0.05, 0.2, 0.5, 0.9, 1.0])
def test_adjust_coverage_dilates_or_erodes_to_the_exact_count(coverage: float) -> None:
    shape = asymmetric_shape(S)
    adjusted = adjust_coverage(shape, coverage, np.random.default_rng(1))
    assert int(adjusted.sum()) == round(coverage * shape.size)
    if coverage >= shape.mean():
        assert adjusted[shape].all()  # grown: keeps every gap pixel
        # Dilation fills the nearest pixels first: nothing added lies further out than
        # anything left clear.
        distance = ndimage.distance_transform_edt(~shape)
        added, clear = distance[adjusted & ~shape], distance[~adjusted]
        assert added.size == 0 or clear.size == 0 or added.max() <= clear.min()
    else:
        assert not adjusted[~shape].any()  # shrunk: adds nothing


def test_adjust_coverage_of_empty_and_full_masks() -> None:
    rng = np.random.default_rng(2)
    grown = adjust_coverage(np.zeros((S, S), dtype=bool), 0.1, rng)
    assert int(grown.sum()) == round(0.1 * S * S)
    assert ndimage.label(grown)[1] == 1  # one disk
    shrunk = adjust_coverage(np.ones((S, S), dtype=bool), 0.5, rng)
    assert int(shrunk.sum()) == S * S // 2
    assert not shrunk[0].any() and shrunk[S // 2, S // 2]  # eroded from the edge


def test_dihedral_gives_the_eight_flips_and_turns() -> None:
    shape = asymmetric_shape(S)
    transforms = [dihedral(shape, index) for index in range(8)]
    assert len({transform.tobytes() for transform in transforms}) == 8
    assert all(is_dihedral_of(transform, shape) for transform in transforms)
    np.testing.assert_array_equal(transforms[0], shape)
    with pytest.raises(ValueError, match="got 8"):
        dihedral(shape, 8)
    with pytest.raises(ValueError, match="mask must be a 2-D boolean array"):
        adjust_coverage(shape.astype(np.uint8), 0.5, np.random.default_rng(0))


# --- library ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [36, 8])
def test_library_bytes_round_trip_exactly(size: int) -> None:
    rng = np.random.default_rng(3)
    shapes = rng.random((5, size, size)) < 0.3
    sources = tuple(f"S3B_OL_2_WFR____{i}.SEN3|{i * size}|0" for i in range(5))
    library = MaskLibrary(shapes, sources)

    restored = MaskLibrary.from_bytes(library.to_bytes())

    np.testing.assert_array_equal(restored.shapes, shapes)
    assert restored.shapes.dtype == bool
    assert restored.sources == sources
    assert restored.size == size
    np.testing.assert_array_equal(restored.coverages, shapes.mean(axis=(1, 2)))


def test_empty_library_round_trips_and_keeps_its_size() -> None:
    empty = MaskLibrary.from_harvest("S3A.SEN3", [], size=24)
    assert len(empty) == 0
    restored = MaskLibrary.from_bytes(empty.to_bytes())
    assert (len(restored), restored.size, restored.sources) == (0, 24, ())
    assert restored.shapes.shape == (0, 24, 24)
    assert restored.coverages.shape == (0,)


def test_library_from_harvest_and_merge() -> None:
    cloud = np.zeros((32, 48), dtype=bool)
    cloud[0:8, 0:8] = True
    cloud[20:30, 20:40] = True
    first = MaskLibrary.from_harvest("A.SEN3", harvest_cloud_shapes(cloud, 16), size=16)
    assert first.sources == ("A.SEN3|0|0", "A.SEN3|16|16", "A.SEN3|16|32")
    np.testing.assert_array_equal(first.shapes[1], cloud[16:32, 16:32])
    second = MaskLibrary.from_harvest("B.SEN3", harvest_cloud_shapes(cloud[:, ::-1], 16), size=16)

    merged = MaskLibrary.merge([first, MaskLibrary.empty(16), second])

    assert len(merged) == len(first) + len(second)
    assert merged.sources == first.sources + second.sources
    np.testing.assert_array_equal(merged.shapes, np.concatenate([first.shapes, second.shapes]))
    with pytest.raises(ValueError):
        merged.shapes[0, 0, 0] = True  # read-only


def test_library_rejects_bad_arguments() -> None:
    shapes = np.zeros((2, 8, 8), dtype=bool)
    with pytest.raises(ValueError, match="1 sources given for 2 shapes"):
        MaskLibrary(shapes, ("a",))
    with pytest.raises(ValueError, match=r"square.*\(2, 8, 9\)"):
        MaskLibrary(np.zeros((2, 8, 9), dtype=bool), ("a", "b"))
    with pytest.raises(ValueError, match="int64"):
        MaskLibrary(np.zeros((2, 8, 8), dtype=np.int64), ("a", "b"))
    with pytest.raises(ValueError, match="sources must be strings, got 3"):
        MaskLibrary(shapes, ("a", 3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"different sizes \[8, 16\]"):
        MaskLibrary.merge([MaskLibrary.empty(8), MaskLibrary.empty(16)])
    with pytest.raises(ValueError, match="no mask libraries"):
        MaskLibrary.merge([])
    with pytest.raises(ValueError, match=r"A.SEN3: shape at row 0, column 16 is \(8, 8\)"):
        MaskLibrary.from_harvest("A.SEN3", [HarvestedShape(0, 16, shapes[0])], size=16)
    with pytest.raises(ValueError, match="not a mask library file"):
        MaskLibrary.from_bytes(b"not an npz")


# --- sampler ----------------------------------------------------------------------------------


def test_sampled_coverages_follow_the_target_distribution(draws: list[MaskDraw]) -> None:
    coverages = np.array([draw.coverage for draw in draws])
    targets = np.array([draw.target for draw in draws])
    assert np.all(np.abs(coverages - targets) <= 0.03 + 1e-9)
    assert coverages.min() >= 0.1 - 0.03 and coverages.max() <= 0.7 + 0.03
    assert stats.kstest(coverages, "uniform", args=(0.1, 0.6)).pvalue > 0.01
    for draw in draws:
        assert draw.mask.shape == (S, S) and draw.mask.dtype == bool
        assert draw.coverage == draw.mask.mean()


def test_sampled_kinds_appear_at_their_weights(draws: list[MaskDraw]) -> None:
    counts = collections.Counter(draw.kind for draw in draws)
    weights = {"real": 0.5, "fractal": 0.2, "strokes": 0.2, "boxes": 0.1}
    assert set(counts) == set(weights)
    for kind, weight in weights.items():
        spread = math.sqrt(len(draws) * weight * (1 - weight))
        assert abs(counts[kind] - len(draws) * weight) <= 4 * spread, (kind, counts)


def test_real_kind_drops_out_of_an_empty_library() -> None:
    sampler = MaskSampler(S)
    assert sampler.kind_weights == pytest.approx({"fractal": 0.4, "strokes": 0.4, "boxes": 0.2})
    rng = np.random.default_rng(0)
    assert {sampler.draw(rng).kind for _ in range(30)} <= {"fractal", "strokes", "boxes"}
    with pytest.raises(ValueError, match="the mask library is empty"):
        MaskSampler(S, kinds={"real": 1.0})


def test_real_shapes_are_flipped_and_turned_when_no_adjustment_is_needed() -> None:
    shape = asymmetric_shape(S)
    library = MaskLibrary(shape[None], ("P.SEN3|0|0",))
    coverage = float(shape.mean())
    sampler = MaskSampler(S, coverage=(coverage, coverage), kinds={"real": 1}, library=library)
    rng = np.random.default_rng(6)
    masks = [sampler.sample(rng) for _ in range(40)]
    assert all(is_dihedral_of(mask, shape) and achieved == coverage for mask, achieved in masks)
    assert len({mask.tobytes() for mask, _ in masks}) >= 6


def test_real_shapes_far_from_the_target_are_dilated_to_it() -> None:
    shape = asymmetric_shape(S)
    library = MaskLibrary(shape[None], ("P.SEN3|0|0",))
    sampler = MaskSampler(S, coverage=(0.4, 0.6), kinds={"real": 1}, library=library)
    rng = np.random.default_rng(7)
    for _ in range(10):
        draw = sampler.draw(rng)
        assert int(draw.mask.sum()) == round(draw.target * S * S)
        assert any(draw.mask[transform].all() for transform in all_dihedral(shape))


def test_fixed_mask_is_deterministic_and_keyed(library: MaskLibrary) -> None:
    sampler = MaskSampler(S, library=library)
    drawn = sampler.fixed_mask("S3A_X.SEN3|128|256", 0)
    again = sampler.fixed_mask("S3A_X.SEN3|128|256", 0)
    mask = drawn.mask
    np.testing.assert_array_equal(mask, again.mask)
    assert (drawn.coverage, drawn.kind) == (again.coverage, again.kind)
    others = [
        sampler.fixed_mask("S3A_X.SEN3|128|384", 0).mask,
        sampler.fixed_mask("S3A_Y.SEN3|128|256", 0).mask,
        sampler.fixed_mask("S3A_X.SEN3|128|256", 1).mask,
    ]
    assert all(not np.array_equal(mask, other) for other in others)
    restored = pickle.loads(pickle.dumps(sampler))
    np.testing.assert_array_equal(restored.fixed_mask("S3A_X.SEN3|128|256", 0).mask, mask)


def test_fixed_mask_is_the_same_in_another_process() -> None:
    def digest(mask: np.ndarray) -> str:
        return hashlib.sha256(np.packbits(mask).tobytes()).hexdigest()

    script = (
        "import hashlib, numpy as np\n"
        "from components.masks import MaskSampler\n"
        "for key in ('a|0|0', 'b|0|128'):\n"
        f"    mask = MaskSampler({S}).fixed_mask(key, 42).mask\n"
        "    print(hashlib.sha256(np.packbits(mask).tobytes()).hexdigest())\n"
    )
    environment = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPOSITORY)}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    here = [digest(MaskSampler(S).fixed_mask(key, 42).mask) for key in ("a|0|0", "b|0|128")]
    assert result.stdout.split() == here


def test_sampler_rejects_bad_arguments(library: MaskLibrary) -> None:
    with pytest.raises(ValueError, match="size must be at least 1, got 0"):
        MaskSampler(0)
    with pytest.raises(ValueError, match=r"low <= high, got \(0.7, 0.1\)"):
        MaskSampler(S, coverage=(0.7, 0.1))
    with pytest.raises(ValueError, match=r"coverage range must be in \[0, 1\], got 1\.2"):
        MaskSampler(S, coverage=(0.1, 1.2))
    with pytest.raises(ValueError, match=r"\(low, high\), got \(0.1, 0.2, 0.3\)"):
        MaskSampler(S, coverage=(0.1, 0.2, 0.3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown mask kind 'clouds'"):
        MaskSampler(S, kinds={"clouds": 1.0})
    with pytest.raises(ValueError, match=r"weight of mask kind 'boxes'.*-1"):
        MaskSampler(S, kinds={"boxes": -1.0})
    with pytest.raises(ValueError, match="no mask kind has a positive weight"):
        MaskSampler(S, kinds={"boxes": 0.0}, library=library)
    with pytest.raises(ValueError, match="size 32 does not match sampler size 64"):
        MaskSampler(64, library=library)
    with pytest.raises(ValueError, match="mask key must be a string, got 3"):
        key_rng(3, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mask seed must be an integer, got '0'"):
        key_rng("a", "0")  # type: ignore[arg-type]
    assert set(KINDS) == {"real", "fractal", "strokes", "boxes"}


# --- coverage buckets -------------------------------------------------------------------------


def test_coverage_buckets() -> None:
    assert coverage_bucket_labels() == ("0-10%", "10-30%", "30-50%", "50-70%", ">70%")
    expected = {
        0.0: "0-10%",
        0.0999: "0-10%",
        0.1: "10-30%",
        0.3: "30-50%",
        0.55: "50-70%",
        0.7: ">70%",
        1.0: ">70%",
    }
    assert {coverage: coverage_bucket(coverage) for coverage in expected} == expected
    assert coverage_bucket(0.2, edges=(0.25,)) == "0-25%"
    assert coverage_bucket_labels((0.125, 0.5)) == ("0-12.5%", "12.5-50%", ">50%")
    with pytest.raises(ValueError, match=r"got 1\.5"):
        coverage_bucket(1.5)
    with pytest.raises(ValueError, match=r"got \(0.3, 0.1\)"):
        coverage_bucket(0.2, edges=(0.3, 0.1))
    with pytest.raises(ValueError, match=r"got \(\)"):
        coverage_bucket_labels(())


def test_transplanted_mask_is_another_scenes_cloud_as_it_is(library: MaskLibrary) -> None:
    other = MaskLibrary(library.shapes[:5], [s.replace("S3A_TEST", "S3B_OTHER") for s in
                                             library.sources[:5]])  # fmt: skip
    sampler = MaskSampler(S, coverage=(0.0, 1.0), library=MaskLibrary.merge([library, other]))
    for key in ("S3A_TEST.SEN3|0|0", "S3A_TEST.SEN3|0|64", "S3A_TEST.SEN3|64|0"):
        mask, source = sampler.transplanted_mask(key, 3, "S3A_TEST.SEN3")
        assert source.startswith("S3B_OTHER.SEN3|")
        assert is_dihedral_of(mask, other.shapes[other.sources.index(source)])  # not refitted
        again, _ = sampler.transplanted_mask(key, 3, "S3A_TEST.SEN3")
        np.testing.assert_array_equal(mask, again)
    assert MaskSampler(S, library=library).transplanted_mask("k", 0, "S3A_TEST.SEN3") is None
    above = (float(other.coverages.max()) + 1e-3, 1.0)
    outside = MaskSampler(S, coverage=above, library=MaskLibrary.merge([library, other]))
    assert outside.transplanted_mask("k", 0, "S3A_TEST.SEN3") is None
