"""When and by which satellite a sample scene was taken: its product name and times.

Sentinel-3 flies a sun-synchronous orbit (descending node at 10:00 local solar time, 385 orbits
in a 27-day cycle, about 101 minutes per orbit); an NT WFR product covers 3 minutes of it.
Cycle numbers are anchored to a cycle start near each satellite's mid-2023 cycle, so they are
plausible rather than exact.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np

from components.olci.format import ProductName

YEAR_START = datetime(2023, 1, 1)
DURATION_S = 180
ORBIT_PERIOD_S = 6060.0
ORBITS_PER_CYCLE = 385
CYCLE_DAYS = 27
INCLINATION_DEG = 98.65
# A cycle start and its number for each satellite (approximate).
CYCLE_ANCHORS = {"S3A": (datetime(2023, 5, 27), 99), "S3B": (datetime(2023, 6, 9), 80)}
ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def sample_product_name(
    site_rng: np.random.Generator,
    scene_rng: np.random.Generator,
    *,
    index: int,
    collection: str,
    first_row_latitude: float,
    longitude: float,
) -> ProductName:
    """A plausible OL_2_WFR product name for scene `index` of a site.

    The site fixes the satellite, the first date and the relative orbit; scene `index` is taken
    `index` days after it, at the overpass time of a 10:00 descending node at `longitude`.

    Args:
        site_rng: draws what all scenes of the site share.
        scene_rng: draws what varies from scene to scene.
        index: the scene's position in the site's series (days after the first).
        collection: the processing collection, e.g. "003".
        first_row_latitude: latitude of the scene's first row, degrees north.
        longitude: the scene's central longitude, degrees east.
    """
    mission = str(site_rng.choice(("S3A", "S3B")))
    first_day = int(site_rng.integers(0, 365))
    first_orbit = int(site_rng.integers(1, ORBITS_PER_CYCLE + 1))
    day = YEAR_START + timedelta(days=first_day + index)
    overpass_hours = 10.0 - longitude / 15.0 + scene_rng.uniform(-0.25, 0.25)
    start = (day + timedelta(hours=overpass_hours)).replace(microsecond=0)
    stop = start + timedelta(seconds=DURATION_S)
    created = stop + timedelta(days=1, seconds=int(scene_rng.integers(0, 12 * 3600)))
    anchor, anchor_cycle = CYCLE_ANCHORS[mission]
    cycle = anchor_cycle + math.floor((start - anchor).days / CYCLE_DAYS)
    orbit = 1 + (first_orbit - 1 + round(index * ORBITS_PER_CYCLE / CYCLE_DAYS)) % ORBITS_PER_CYCLE
    return ProductName(
        mission=mission,
        level="2",
        type="WFR",
        start=start,
        stop=stop,
        created=created,
        duration=DURATION_S,
        cycle=cycle,
        orbit=orbit,
        frame=f"{frame_of(first_row_latitude):04d}",
        centre="MAR",
        mode="O",
        timeliness="NT",
        collection=collection,
    )


def frame_of(latitude: float) -> int:
    """Frame of a descending pass at `latitude`: seconds since ascending node, in 180 s steps."""
    ratio = math.sin(math.radians(latitude)) / math.sin(math.radians(INCLINATION_DEG))
    argument = math.pi - math.asin(max(-1.0, min(1.0, ratio)))
    seconds = argument / (2 * math.pi) * ORBIT_PERIOD_S
    return int(seconds // DURATION_S) * DURATION_S


def iso_time(moment: datetime) -> str:
    """`moment` as an ISO 8601 UTC string, e.g. "2023-06-15T10:10:15Z"."""
    return moment.strftime(ISO_FORMAT)
