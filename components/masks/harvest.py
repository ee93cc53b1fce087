"""Real gap shapes: square windows cut from a scene's cloud mask."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from components.masks.checks import check_bool_array, check_positive
from components.masks.windows import summed_area_table, window_counts


@dataclass(frozen=True, eq=False)
class HarvestedShape:
    """One window of a scene's cloud mask.

    Attributes:
        row: row of the window's top-left pixel in the scene.
        column: column of the window's top-left pixel in the scene.
        mask: bool (size, size) copy of the window, True where cloud (a gap).
    """

    row: int
    column: int
    mask: np.ndarray

    @property
    def coverage(self) -> float:
        """Share of the window that is cloud."""
        return float(self.mask.mean())


def harvest_cloud_shapes(
    cloud: np.ndarray,
    size: int,
    *,
    stride: int | None = None,
    min_coverage: float = 0.02,
    max_coverage: float = 0.9,
) -> list[HarvestedShape]:
    """The size x size windows of `cloud` whose coverage lies in [min_coverage, max_coverage].

    Windows start on a grid of `stride` pixels from the scene's top-left corner and lie wholly
    inside it, so the last rows and columns are left out when the grid does not reach them.

    Args:
        cloud: bool (rows, columns) cloud mask of a scene, True where cloudy (clouds with their
            margins, from WQSF).
        size: side of a window in pixels.
        stride: step between windows in pixels; `size` (windows that touch) when not given.
        min_coverage: least share of cloud a window needs, inclusive.
        max_coverage: greatest share of cloud a window may have, inclusive.

    Returns:
        The kept windows in row-major order.

    Raises:
        ValueError: `cloud` is not a 2-D boolean array, `size` or `stride` is below 1, or the
            coverage bounds are not 0 <= min_coverage <= max_coverage <= 1.
    """
    check_bool_array("cloud mask", cloud, 2)
    size = check_positive("size", size)
    stride = size if stride is None else check_positive("stride", stride)
    if not 0.0 <= min_coverage <= max_coverage <= 1.0:
        raise ValueError(
            f"coverage bounds must satisfy 0 <= min <= max <= 1, got min={min_coverage}, "
            f"max={max_coverage}"
        )
    rows, columns = cloud.shape
    if rows < size or columns < size:
        return []
    tops = np.arange(0, rows - size + 1, stride)
    lefts = np.arange(0, columns - size + 1, stride)
    counts = window_counts(summed_area_table(cloud), size, size)[::stride, ::stride]
    coverage = counts / float(size * size)
    keep = (coverage >= min_coverage) & (coverage <= max_coverage)
    shapes = []
    for i, j in zip(*np.nonzero(keep), strict=True):
        row, column = int(tops[i]), int(lefts[j])
        window = cloud[row : row + size, column : column + size]
        shapes.append(HarvestedShape(row, column, window.copy()))
    return shapes
