"""Synthetic gap shapes of a given coverage: free-form strokes, boxes and fractal clouds.

Each maker takes `(shape, coverage, rng)` and returns a bool mask (True = gap) with
round(coverage * pixels) gap pixels: exactly for strokes and fractal clouds, and for boxes
exactly or to within `BOX_TOLERANCE` (half a percent).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import MappingProxyType

import numpy as np
from scipy import ndimage

from components.masks.checks import check_coverage, check_shape
from components.masks.transforms import adjust_coverage
from components.masks.windows import summed_area_table, window_counts
from components.sample.fields import power_law_noise

# Free-form strokes after Yu et al. (2019), "Free-form image inpainting with gated convolution":
# thick polylines of a few vertices with a round brush. Lengths are shares of the shorter side.
STROKE_RADIUS = (0.02, 0.07)
STROKE_VERTICES = (4, 12)
STROKE_SEGMENT = (0.1, 0.35)
STROKE_TURN = math.pi / 3
# Strokes drawn before the rest of the coverage is made up by dilation (only near full cover).
MAX_STROKES = 100

MAX_BOXES = 4
# Dirichlet concentration of the boxes' shares of the target; above 1 keeps slivers rare.
BOX_SHARE_CONCENTRATION = 3.0
# Greatest ratio of a box's longer side to its shorter one (before it is clipped to the mask).
BOX_ASPECT = 3.0
# Box heights tried around the one the aspect ratio asks for, to meet the pixel count exactly.
BOX_HEIGHT_FACTORS = (0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15)
# Greatest miss, as a share of the mask's pixels, between a box mask's coverage and the target.
BOX_TOLERANCE = 0.005
# Box areas tried, spaced geometrically from the pixels wanted to the whole mask.
BOX_AREAS = 8

# Slope of the power spectrum of fractal clouds: ~2.7 is the observed cloud-field slope; steeper
# is smoother. The light smoothing removes single-pixel specks.
FRACTAL_EXPONENT = (2.6, 4.0)
FRACTAL_OUTER_SCALE = (0.25, 1.0)
FRACTAL_SMOOTHING = 1.0

MaskMaker = Callable[[tuple[int, int], float, np.random.Generator], np.ndarray]


def stroke_mask(shape: tuple[int, int], coverage: float, rng: np.random.Generator) -> np.ndarray:
    """Random thick brush strokes covering exactly round(coverage * pixels) pixels.

    Strokes are polylines of 4-12 vertices with random turns, drawn with a round brush whose
    radius is 2-7 % of the shorter side (at least one pixel), bouncing off the mask's edges.
    Strokes are added until the coverage is met; the last brush stamp is cut short at its
    leading edge so the count is exact.

    Raises:
        ValueError: `shape` is not two positive integers or `coverage` is outside [0, 1].
    """
    rows, columns = check_shape(shape)
    target = round(check_coverage(coverage) * rows * columns)
    mask = np.zeros((rows, columns), dtype=bool)
    if target == 0:
        return mask
    count = 0
    for _ in range(MAX_STROKES):
        count = _draw_stroke(mask, count, target, rng)
        if count == target:
            return mask
    return adjust_coverage(mask, coverage, rng)


def _draw_stroke(mask: np.ndarray, count: int, target: int, rng: np.random.Generator) -> int:
    """Draw one stroke into `mask`, stopping at `target` gap pixels; returns the new count."""
    rows, columns = mask.shape
    side = min(rows, columns)
    radius = max(1.0, rng.uniform(*STROKE_RADIUS) * side)
    reach = math.ceil(radius)
    offset_rows, offset_columns = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    inside = offset_rows**2 + offset_columns**2 <= radius**2
    brush = (offset_rows[inside], offset_columns[inside])
    # The pen moves on the unbounded plane; folding its position into the mask makes the
    # stroke bounce off the edges.
    position = rng.uniform((0.0, 0.0), (rows - 1.0, columns - 1.0))
    heading = rng.uniform(0.0, 2 * math.pi)
    previous = _fold(position, mask.shape)
    count = _stamp(mask, previous, previous, brush, count, target)
    for _ in range(int(rng.integers(STROKE_VERTICES[0], STROKE_VERTICES[1] + 1))):
        heading += rng.uniform(-STROKE_TURN, STROKE_TURN)
        length = rng.uniform(*STROKE_SEGMENT) * side
        steps = max(1, math.ceil(length))
        direction = np.array((math.sin(heading), math.cos(heading)))
        for step in range(1, steps + 1):
            centre = _fold(position + direction * (length * step / steps), mask.shape)
            count = _stamp(mask, centre, previous, brush, count, target)
            if count == target:
                return count
            previous = centre
        position = position + direction * length
    return count


def _fold(position: np.ndarray, shape: tuple[int, int]) -> tuple[int, int]:
    """The pixel a point of the unbounded plane lands on when mirrored into the mask."""
    folded = []
    for value, length in zip(position, shape, strict=True):
        last = length - 1
        if last == 0:
            folded.append(0)
            continue
        wrapped = float(value) % (2 * last)
        folded.append(round(2 * last - wrapped if wrapped > last else wrapped))
    return folded[0], folded[1]


def _stamp(
    mask: np.ndarray,
    centre: tuple[int, int],
    previous: tuple[int, int],
    brush: tuple[np.ndarray, np.ndarray],
    count: int,
    target: int,
) -> int:
    """Press the brush at `centre`, adding at most `target - count` pixels; returns the count.

    When the whole brush would overshoot, the pixels kept are those furthest behind in the
    direction of travel (from `previous` to `centre`), so the stroke ends in a blunt tip.
    """
    rows = centre[0] + brush[0]
    columns = centre[1] + brush[1]
    keep = (rows >= 0) & (rows < mask.shape[0]) & (columns >= 0) & (columns < mask.shape[1])
    rows, columns = rows[keep], columns[keep]
    new = ~mask[rows, columns]
    rows, columns = rows[new], columns[new]
    room = target - count
    if rows.size > room:
        ahead = (rows - centre[0]) * (centre[0] - previous[0]) + (columns - centre[1]) * (
            centre[1] - previous[1]
        )
        first = np.argsort(ahead, kind="stable")[:room]
        rows, columns = rows[first], columns[first]
    mask[rows, columns] = True
    return count + rows.size


def box_mask(shape: tuple[int, int], coverage: float, rng: np.random.Generator) -> np.ndarray:
    """One to four rectangles, possibly overlapping, covering round(coverage * pixels) pixels.

    The target is split at random between the boxes, and each box's aspect ratio is drawn up to
    1:3 either way. Each box is the one, among a few sizes near that aspect and all positions,
    that adds most nearly the pixels it should, trying larger sizes that overlap the boxes
    already drawn until one adds them exactly; the coverage is met exactly or to within
    `BOX_TOLERANCE`, and a further small box makes up a larger shortfall (rare).

    Raises:
        ValueError: `shape` is not two positive integers or `coverage` is outside [0, 1].
    """
    rows, columns = check_shape(shape)
    target = round(check_coverage(coverage) * rows * columns)
    mask = np.zeros((rows, columns), dtype=bool)
    boxes = int(rng.integers(1, MAX_BOXES + 1))
    goals = np.round(
        np.cumsum(rng.dirichlet(np.full(boxes, BOX_SHARE_CONCENTRATION))) * target
    ).astype(int)
    slack = math.floor(BOX_TOLERANCE * rows * columns)
    count = 0
    for goal in goals:
        if goal > count:
            count += _place_box(mask, int(goal) - count, slack, rng)
    while target - count > slack:
        count += _place_box(mask, target - count, slack, rng)
    return mask


def _place_box(mask: np.ndarray, wanted: int, slack: int, rng: np.random.Generator) -> int:
    """Set a rectangle adding about `wanted` gap pixels, at most `wanted + slack`, to `mask`.

    Returns:
        The number of gap pixels the rectangle added.
    """
    rows, columns = mask.shape
    table = summed_area_table(~mask)
    aspect = math.exp(rng.uniform(-math.log(BOX_ASPECT), math.log(BOX_ASPECT)))
    best_error = math.inf
    options: list[tuple[int, int, np.ndarray]] = []
    # Box areas from the pixels wanted (no overlap) up to the whole mask (all overlap).
    for area in np.geomspace(wanted, rows * columns, BOX_AREAS):
        for height, width in _box_sizes(float(area), aspect, (rows, columns)):
            added = window_counts(table, height, width)
            error = np.where(added <= wanted + slack, np.abs(added - wanted), rows * columns)
            smallest = int(error.min())
            if smallest < best_error:
                best_error, options = smallest, []
            if smallest == best_error:
                options.append((height, width, np.flatnonzero(error == smallest)))
        if best_error == 0:
            break
    ends = np.cumsum([len(found) for _, _, found in options])
    pick = int(rng.integers(ends[-1]))
    which = int(np.searchsorted(ends, pick, side="right"))
    height, width, found = options[which]
    top, left = divmod(int(found[pick - (ends[which] - len(found))]), columns - width + 1)
    added = int(
        table[top + height, left + width]
        - table[top, left + width]
        - table[top + height, left]
        + table[top, left]
    )
    mask[top : top + height, left : left + width] = True
    return added


def _box_sizes(area: float, aspect: float, shape: tuple[int, int]) -> list[tuple[int, int]]:
    """(height, width) pairs near `area` pixels and height/width ratio `aspect`, within `shape`."""
    rows, columns = shape
    nominal = math.sqrt(area * aspect)
    # At most `area` rows, so that a width of at least one keeps the box within `area`.
    tallest = min(rows, max(1, math.floor(area)))
    heights = sorted({min(tallest, max(1, round(nominal * f))) for f in BOX_HEIGHT_FACTORS})
    sizes = set()
    for height in heights:
        for width in (math.floor(area / height), math.ceil(area / height)):
            sizes.add((height, min(columns, max(1, width))))
    return sorted(sizes)


def fractal_mask(shape: tuple[int, int], coverage: float, rng: np.random.Generator) -> np.ndarray:
    """A fractal cloud: a power-law (1/f^beta) noise field, lightly smoothed, thresholded.

    The spectral slope beta is drawn from 2.6-4.0 and the largest structures span 25-100 % of
    the longer side; exactly the round(coverage * pixels) highest pixels become gaps.

    Raises:
        ValueError: `shape` is not two positive integers or `coverage` is outside [0, 1].
    """
    rows, columns = check_shape(shape)
    pixels = rows * columns
    target = round(check_coverage(coverage) * pixels)
    mask = np.zeros((rows, columns), dtype=bool)
    if target == 0:
        return mask
    outer_scale = rng.uniform(*FRACTAL_OUTER_SCALE) * max(rows, columns)
    field = power_law_noise(
        (rows, columns), rng.uniform(*FRACTAL_EXPONENT), rng, outer_scale=outer_scale
    )
    field = ndimage.gaussian_filter(field, FRACTAL_SMOOTHING, mode="nearest")
    highest = np.argpartition(field.ravel(), pixels - target)[pixels - target :]
    mask.flat[highest] = True
    return mask


SYNTHETIC_KINDS: MappingProxyType[str, MaskMaker] = MappingProxyType(
    {"fractal": fractal_mask, "strokes": stroke_mask, "boxes": box_mask}
)
