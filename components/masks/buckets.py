"""Coverage buckets, for splitting metrics by how much of a patch is gap."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence

from components.masks.checks import check_coverage

DEFAULT_EDGES = (0.1, 0.3, 0.5, 0.7)


def coverage_bucket_labels(edges: Sequence[float] = DEFAULT_EDGES) -> tuple[str, ...]:
    """Labels of all buckets in order: ("0-10%", "10-30%", "30-50%", "50-70%", ">70%").

    Raises:
        ValueError: `edges` are empty, not strictly increasing or not inside (0, 1).
    """
    percents = [f"{100 * edge:g}" for edge in _check_edges(edges)]
    lower = ["0", *percents]
    return (*(f"{a}-{b}%" for a, b in zip(lower, percents, strict=False)), f">{percents[-1]}%")


def coverage_bucket(coverage: float, edges: Sequence[float] = DEFAULT_EDGES) -> str:
    """The label of the bucket `coverage` falls in; each bucket holds its lower edge.

    With the default edges 0.05 is "0-10%", 0.1 is "10-30%" and 0.7 is ">70%".

    Raises:
        ValueError: `coverage` is outside [0, 1], or `edges` are as `coverage_bucket_labels`
            rejects.
    """
    labels = coverage_bucket_labels(edges)
    return labels[bisect.bisect_right(list(edges), check_coverage(coverage))]


def _check_edges(edges: Sequence[float]) -> tuple[float, ...]:
    values = tuple(float(edge) for edge in edges)
    if (
        not values
        or not all(0.0 < edge < 1.0 for edge in values)
        or any(b <= a for a, b in itertools.pairwise(values))
    ):
        raise ValueError(f"coverage bucket edges must increase strictly inside (0, 1), got {edges}")
    return values
