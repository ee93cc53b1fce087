"""Clouds for a daily gridded series: weather systems that drift across the grid and give way.

Each weather system is a cloudiness field larger than the grid: synthetic fractal cloud, in
most systems blended with a real cloud mask shipped with the package (see `clouds`). A system
lives for `2 * SYSTEM_HOP_DAYS` days, drifting a few cells a day with its wind, and fades in and
out as the next one takes over, so neighbouring days share much of their cloud and days a week
apart little. Each day adds rough noise of its own (ragged, changing edges) and is thresholded at
its own cloud fraction, which wanders around the series' mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from components.sample.clouds import real_cloud_field, synthetic_cloud_field
from components.sample.fields import power_law_noise, standardise, top_share

SYSTEM_HOP_DAYS = 3  # a new system is centred every 3 days and lives 6
WIND_PX_PER_DAY = (2.0, 6.0)
REAL_SHARE = 0.7  # systems whose shape mixes in a real cloud mask
MAX_DEPARTURE = 0.2  # the largest departure of a day's cloud fraction from the mean


@dataclass(frozen=True)
class _System:
    """A cloudiness field on a canvas and the wind that carries it across the grid."""

    field: np.ndarray
    velocity: tuple[float, float]
    centre_day: int

    def window(self, shape: tuple[int, int], day: int) -> np.ndarray:
        """The part of the canvas over the grid on `day`."""
        drift = [(day - self.centre_day) * v for v in self.velocity]
        offsets = [
            round(extra / 2 - d)
            for extra, d in zip(np.subtract(self.field.shape, shape), drift, strict=True)
        ]
        return self.field[offsets[0] : offsets[0] + shape[0], offsets[1] : offsets[1] + shape[1]]


def daily_fractions(days: int, mean: float, rng: np.random.Generator) -> np.ndarray:
    """Cloud fractions of `days` days: a red-noise wander whose mean is exactly `mean`.

    Days depart from the mean by at most `MAX_DEPARTURE`, and by at most 80 % of the way to 0
    or 1, so no day needs clipping and the series' mean is the one asked for.
    """
    if not 0.0 <= mean <= 1.0:
        raise ValueError(f"cloud fraction {mean} is not in [0, 1]")
    wander = np.empty(days)
    wander[0] = rng.standard_normal()
    for day in range(1, days):
        wander[day] = 0.7 * wander[day - 1] + math.sqrt(1 - 0.7**2) * rng.standard_normal()
    wander -= wander.mean()
    peak = float(np.abs(wander).max())
    spread = min(MAX_DEPARTURE, 0.8 * min(mean, 1 - mean))
    return mean + (spread / peak if peak > 0 else 0.0) * wander


def cloud_series(
    shape: tuple[int, int],
    days: int,
    rng: np.random.Generator,
    *,
    fraction: float,
    real_masks: tuple[np.ndarray, ...] = (),
) -> np.ndarray:
    """Daily cloud masks on a grid: drifting, evolving weather systems.

    Args:
        shape: (rows, columns) of the grid.
        days: number of daily masks.
        rng: the random generator to draw from.
        fraction: mean share of the grid under cloud over the series, 0 to 1; each day's share
            wanders around it (see `daily_fractions`) and is met to within a pixel.
        real_masks: real cloud masks to draw shapes from (see `clouds.load_real_masks`); with
            none, every system is synthetic.

    Returns:
        Boolean array (days, rows, columns), True under cloud.
    """
    if days < 1:
        raise ValueError(f"days {days} must be at least 1")
    system_rng, noise_rng, fraction_rng = rng.spawn(3)
    fractions = daily_fractions(days, fraction, fraction_rng)
    heading = system_rng.uniform(0, 2 * math.pi)
    systems: dict[int, _System] = {}
    out = np.empty((days, *shape), dtype=bool)
    for day in range(days):
        nearest = day // SYSTEM_HOP_DAYS
        for k in (nearest, nearest + 1):
            if k not in systems:
                heading += system_rng.normal(0, 0.5)
                systems[k] = _new_system(shape, k, heading, system_rng, real_masks)
        for k in [k for k in systems if k < nearest]:
            del systems[k]
        field = np.zeros(shape, dtype=np.float32)
        norm = 0.0
        for system in systems.values():
            weight = max(0.0, 1.0 - abs(day - system.centre_day) / SYSTEM_HOP_DAYS)
            if weight > 0:
                field += np.float32(weight) * system.window(shape, day)
                norm += weight * weight
        field /= np.float32(math.sqrt(norm))
        field += np.float32(0.15) * power_law_noise(
            shape, 2.6, noise_rng, outer_scale=min(shape) / 4
        )
        out[day] = top_share(field, float(fractions[day]))
    return out


def _new_system(
    shape: tuple[int, int],
    k: int,
    heading: float,
    rng: np.random.Generator,
    real_masks: tuple[np.ndarray, ...],
) -> _System:
    speed = rng.uniform(*WIND_PX_PER_DAY)
    velocity = (speed * math.sin(heading), speed * math.cos(heading))
    travel = 2 * SYSTEM_HOP_DAYS
    canvas = tuple(n + math.ceil(travel * abs(v)) + 2 for n, v in zip(shape, velocity, strict=True))
    field = synthetic_cloud_field(canvas, rng)
    if real_masks and rng.random() < REAL_SHARE:
        weight = rng.uniform(0.5, 0.85)
        field *= np.float32(1.0 - weight)
        field += np.float32(weight) * real_cloud_field(canvas, real_masks, rng)
        standardise(field)
    return _System(field, velocity, k * SYSTEM_HOP_DAYS)
