"""Where a sample scene lies: OLCI swath geolocation, and a land/sea split with a coastline.

The scene is a window of an OLCI full-resolution swath on a descending (daytime) pass: rows run
along-track from north to south, columns across-track from west to east, 300 m apart. The land is
synthetic: a smooth large-scale split with fractal detail, so coastlines look natural without
claiming to be the real one at those coordinates.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from components.sample.fields import (
    block_mean,
    coarse_shape,
    power_law_noise,
    resample,
    top_share,
)

EARTH_RADIUS_M = 6_371_000.0
PIXEL_SIZE_M = 300.0
SWATH_COLUMNS = 4865  # OLCI full-resolution swath width in pixels (about 1270 km)
INCLINATION_DEG = 98.65  # Sentinel-3 orbit inclination
ROW_BLOCK = 512  # rows of geolocation computed at a time, to bound float64 temporaries


def descending_heading(latitude: float) -> float:
    """Ground-track heading (degrees clockwise from north) of a descending pass at `latitude`.

    The orbit's own azimuth (from the inclination, for a spherical Earth) plus about 3 degrees
    for the Earth turning beneath it: about 192 degrees at the equator, 198 at 55 degrees.
    """
    ratio = math.cos(math.radians(INCLINATION_DEG)) / math.cos(math.radians(latitude))
    return 180.0 - math.degrees(math.asin(max(-1.0, min(1.0, ratio)))) + 3.0


def swath_coordinates(
    shape: tuple[int, int],
    centre: tuple[float, float],
    heading: float,
    *,
    pixel_size: float = PIXEL_SIZE_M,
) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude of every pixel of a scene on a great-circle ground track.

    Row i lies (i - centre row) pixels along the track from `centre`; column j lies
    (j - centre column) pixels from the track, at right angles to it (to the left of the flight
    direction, i.e. eastwards on a descending pass). The Earth is a sphere; OLCI's across-track
    pixel growth towards the swath edges is ignored.

    Args:
        shape: (rows, columns) of the scene.
        centre: (latitude, longitude) of the scene centre, degrees.
        heading: ground-track heading at the centre, degrees clockwise from north.
        pixel_size: pixel spacing in metres.

    Returns:
        float32 latitude and longitude arrays of `shape`, degrees north and east; longitudes are
        wrapped to [-180, 180).
    """
    rows, columns = shape
    lat0, lon0 = math.radians(centre[0]), math.radians(centre[1])
    along = (np.arange(rows) - (rows - 1) / 2) * pixel_size / EARTH_RADIUS_M
    track_lat, track_lon = _destination(lat0, lon0, math.radians(heading), along)
    # The track's own heading at each row: the bearing towards the next point along it.
    ahead_lat, ahead_lon = _destination(lat0, lon0, math.radians(heading), along + 1e-6)
    track_heading = _bearing(track_lat, track_lon, ahead_lat, ahead_lon)
    across = (np.arange(columns) - (columns - 1) / 2) * pixel_size / EARTH_RADIUS_M
    latitude = np.empty(shape, dtype=np.float32)
    longitude = np.empty(shape, dtype=np.float32)
    for start in range(0, rows, ROW_BLOCK):
        block = slice(start, min(start + ROW_BLOCK, rows))
        lat, lon = _destination(
            track_lat[block, None],
            track_lon[block, None],
            track_heading[block, None] - math.pi / 2,
            across[None, :],
        )
        latitude[block] = np.degrees(lat)
        longitude[block] = (np.degrees(lon) + 180.0) % 360.0 - 180.0
    return latitude, longitude


def _destination(
    lat: np.ndarray | float, lon: np.ndarray | float, bearing: np.ndarray | float, angle: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The point `angle` radians of arc from (lat, lon) along `bearing` (all radians)."""
    sin_lat = np.sin(lat) * np.cos(angle) + np.cos(lat) * np.sin(angle) * np.cos(bearing)
    lat2 = np.arcsin(np.clip(sin_lat, -1.0, 1.0))
    lon2 = lon + np.arctan2(
        np.sin(bearing) * np.sin(angle) * np.cos(lat), np.cos(angle) - np.sin(lat) * sin_lat
    )
    return lat2, lon2


def _bearing(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Initial great-circle bearing from point 1 to point 2 (radians)."""
    dlon = lon2 - lon1
    return np.arctan2(
        np.sin(dlon) * np.cos(lat2),
        np.cos(lat1) * np.sin(lat2) - np.sin(lat1) * np.cos(lat2) * np.cos(dlon),
    )


def land_mask(shape: tuple[int, int], rng: np.random.Generator, *, fraction: float) -> np.ndarray:
    """A natural-looking land mask: a coast across the scene, fractal detail, sometimes islands.

    A ramp across the scene in a random direction gives the large-scale split; fractal noise
    with a spectral slope of 3.5 (a coastline of fractal dimension near 1.25) roughens it into
    bays and headlands; in about half the scenes a few islands are added. Enclosed water bodies
    smaller than 0.1 % of the scene are filled, so inland ponds do not pass for sea.

    Args:
        shape: (rows, columns) of the scene.
        rng: the random generator to draw from.
        fraction: the share of the scene that is mainland, before islands are added.

    Returns:
        Boolean array of `shape`, True on land.
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"land fraction {fraction} is not in [0, 1)")
    rows, columns = shape
    angle = rng.uniform(0, 2 * math.pi)
    diagonal = math.hypot(rows, columns)
    ramp_rows = (np.arange(rows, dtype=np.float32) - rows / 2) * np.float32(
        math.cos(angle) / diagonal
    )
    ramp_columns = (np.arange(columns, dtype=np.float32) - columns / 2) * np.float32(
        math.sin(angle) / diagonal
    )
    height = power_law_noise(shape, 3.5, rng, outer_scale=max(shape) / 4)
    height *= np.float32(rng.uniform(0.04, 0.1))
    height += ramp_rows[:, None]
    height += ramp_columns[None, :]
    land = top_share(height, fraction)
    if rng.random() < 0.5:
        land |= _islands(shape, rng, height)
    del height
    return _fill_lakes(land, min_area=max(4, shape[0] * shape[1] // 1000))


def _islands(shape: tuple[int, int], rng: np.random.Generator, height: np.ndarray) -> np.ndarray:
    """A few islands with fractal outlines, each a bump raised above the sea around it."""
    rows, columns = shape
    islands = np.zeros(shape, dtype=bool)
    side = min(shape)
    for _ in range(int(rng.integers(1, 6))):
        radius = rng.uniform(0.01, 0.05) * side + 1.0
        centre = (rng.uniform(0, rows), rng.uniform(0, columns))
        half = int(3 * radius) + 1
        top, left = max(0, int(centre[0]) - half), max(0, int(centre[1]) - half)
        bottom, right = min(rows, int(centre[0]) + half), min(columns, int(centre[1]) + half)
        if bottom <= top or right <= left:
            continue
        window_rows = np.arange(top, bottom)[:, None] - centre[0]
        window_columns = np.arange(left, right)[None, :] - centre[1]
        bump = np.exp(-(window_rows**2 + window_columns**2) / (2 * radius**2))
        detail = height[top:bottom, left:right]
        roughness = (detail - detail.mean()) / (detail.std() + 1e-6)
        islands[top:bottom, left:right] |= bump + 0.25 * roughness > 0.6
    return islands


def _fill_lakes(land: np.ndarray, *, min_area: int) -> np.ndarray:
    """`land` with water bodies smaller than `min_area` pixels turned into land."""
    labels, count = ndimage.label(~land)
    if count == 0:
        return land
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    small = areas < min_area
    small[0] = False
    return land | small[labels]


def land_proximity(land: np.ndarray, scale: float) -> np.ndarray:
    """How coastal each pixel is: the share of land within about `scale` pixels, 0 to 1.

    A Gaussian-weighted land fraction, computed on a coarse grid (it is smooth) and resampled.

    Args:
        land: boolean land mask.
        scale: the e-folding distance of the coastal influence, in pixels.

    Returns:
        float32 array of `land`'s shape.
    """
    coarse = coarse_shape(land.shape)
    fraction = block_mean(land, coarse)
    factor = (land.shape[0] / coarse[0] + land.shape[1] / coarse[1]) / 2
    smooth = ndimage.gaussian_filter(fraction, sigma=max(scale / factor, 0.5), mode="nearest")
    cells = math.ceil(land.shape[0] / coarse[0]), math.ceil(land.shape[1] / coarse[1])
    fine = resample(smooth, (coarse[0] * cells[0], coarse[1] * cells[1]))
    return np.ascontiguousarray(np.clip(fine[: land.shape[0], : land.shape[1]], 0.0, 1.0))
