"""The transplant protocol (DINCAE; Stock et al.): judge a fill on real cloud shapes.

Observed water pixels of a scene are hidden under the real cloud shape of *another* scene; a
fill sees what remains and is scored only on the hidden pixels, whose truth is known and which
it did not see. `pick_cloud_sources` chooses, for each scene to score, another scene whose cloud
hides a share of its observed water within a range, so coverage is realistic but not total.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def hidden_pixels(observed: np.ndarray, cloud: np.ndarray, water: np.ndarray) -> np.ndarray:
    """The observed water pixels under `cloud` (all (H, W) bool): what a fill must recover."""
    if not observed.shape == cloud.shape == water.shape:
        raise ValueError(f"shapes differ: observed {observed.shape}, cloud {cloud.shape}, "
                         f"water {water.shape}")  # fmt: skip
    return observed & cloud & water


def hidden_share(observed: np.ndarray, cloud: np.ndarray) -> float:
    """The share of `observed` pixels that `cloud` hides (0 when nothing is observed)."""
    count = int(observed.sum())
    return float((observed & cloud).sum()) / count if count else 0.0


def pick_cloud_sources(
    observed: np.ndarray,
    clouds: np.ndarray,
    targets: Sequence[int],
    share: tuple[float, float] = (0.2, 0.6),
    exclude: Sequence[int] = (),
    seed: int = 0,
) -> list[int]:
    """For each target scene, the index of another scene whose cloud hides `share` of it.

    Args:
        observed: (T, H, W) bool, each target's observed water.
        clouds: (S, H, W) bool, the candidate cloud shapes (cloudy water of S scenes).
        targets: indices into `observed` of the scenes to score.
        share: (min, max) share of a target's observed water its source must hide.
        exclude: candidate indices never used (e.g. the target itself when `clouds` is the same
            series, or the other targets).
        seed: the choice among suitable sources is random, seeded.

    Raises:
        ValueError: no candidate hides a share in range for some target (naming it).
    """
    rng = np.random.default_rng(seed)
    low, high = share
    sources = []
    for target in targets:
        suitable = [
            s
            for s in range(len(clouds))
            if s != target
            and s not in exclude
            and low <= hidden_share(observed[target], clouds[s]) <= high
        ]
        if not suitable:
            raise ValueError(f"no cloud shape hides {low:.0%}-{high:.0%} of scene {target}'s "
                             "observed water")  # fmt: skip
        sources.append(int(rng.choice(suitable)))
    return sources


def tile_to(mask: np.ndarray, shape: tuple[int, int], offset: tuple[int, int] = (0, 0)):
    """`mask` repeated periodically over `shape`, starting `offset` into it (a cloud shape
    from a smaller scene laid over a larger one)."""
    reps = [-(-(n + o) // m) for n, o, m in zip(shape, offset, mask.shape, strict=True)]
    tiled = np.tile(mask, reps)
    return tiled[offset[0] : offset[0] + shape[0], offset[1] : offset[1] + shape[1]]
