"""A synthetic daily gridded time series (L3-style NetCDF) whose fields evolve smoothly in time.

`sample_series` makes it and `write_sample_series` writes it. A seed fixes a region (its water
type sets the chlorophyll level and the grid's place), a coastline, a flow, a bloom and the
weather. The water is a field of two water masses split by a front, with multi-scale detail,
carried day by day by a slowly changing eddy flow that follows the coast: each day's map is the
first day's, read at where its water was on day 0 (the back-trajectories are composed day by
day, so fronts and filaments stay sharp instead of blurring by repeated interpolation). A
phytoplankton bloom grows in one area for a few days and decays over a week, drifting with the
flow. Clouds are weather systems that drift and give way (`cloud_series`). So a neighbouring day
genuinely predicts a missing one, as temporal fills (DINEOF, DINCAE) expect.

Each variable `<v>` (cloud and land gaps as NaN) comes with `<v>_truth`, the same field without
cloud gaps (NaN on land only), so fills can be scored; where `<v>` is observed the two are equal.
The same arguments give bit-identical files.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
from scipy import ndimage

from components.gridded import times as timefmt
from components.sample import geometry
from components.sample.bio_optical import WAVELENGTHS_NM, remote_sensing_reflectance
from components.sample.cloud_series import cloud_series
from components.sample.clouds import load_real_masks
from components.sample.constituents import ADG443_RANGE, CHL_RANGE, TSM_RANGE
from components.sample.fields import (
    Flow,
    advect,
    block_mean,
    cell_centres,
    coarse_shape,
    eddy_streamfunction,
    power_law_noise,
    resample,
    standardise,
)
from components.sample.regions import REGIONS, Region
from components.sample.scene import checked_shape

RESOLUTION = 1 / 24  # degrees: the 4 km grid of NASA L3m files
MIN_SIDE = 16
DEFAULT_SHAPE = (96, 128)
DEFAULT_DAYS = 30
DEFAULT_START = "2023-05-01T12:00:00Z"
DEFAULT_CLOUD_FRACTION = 0.4
FILL = np.float32(-32767.0)
TIME_UNITS = "hours since 1970-01-01"
TRUTH_SUFFIX = "_truth"
LAND_VARIABLE = "land"

CHLOROPHYLL = "chlor_a"
SST = "sst"
RRS_PATTERN = re.compile(r"Rrs_(\d+)")
RRS_TOLERANCE_NM = 3.0

MAX_SPEED_PX_PER_DAY = (2.0, 4.0)  # fastest current: 8-16 km (0.1-0.2 m s-1) a day
FLOW_PERIOD_DAYS = (40.0, 80.0)  # the flow turns from one eddy field to another over this
SUBSTEPS = 2  # midpoint steps per day for the back-trajectories
FLOW_SIDE = 48  # the flow is smooth: at most this many cells a side carry it
COAST_PX = 3.0  # currents fall off within about this distance of land
LAND_FRACTION = (0.05, 0.25)
COASTAL_SCALE_PX = 5.0  # 20 km of coastal enrichment
SPREAD_CHL = 0.55  # natural-log spread of chlorophyll about the region's median
WANDER_CHL = 0.15  # natural-log amplitude of the slow change that is not carried by the flow
KM_PER_DEGREE = 111.0
BLOOM_FOLD = (6.0, 12.0)  # peak chlorophyll over the background in the bloom's core
BLOOM_RISE_DAYS = 3.0
BLOOM_DECAY_DAYS = 7.0


def sample_series(
    shape: tuple[int, int] = DEFAULT_SHAPE,
    days: int = DEFAULT_DAYS,
    seed: int = 0,
    *,
    variables: tuple[str, ...] = (CHLOROPHYLL,),
    cloud_fraction: float = DEFAULT_CLOUD_FRACTION,
    start: str = DEFAULT_START,
) -> xr.Dataset:
    """A daily series on dims (time, lat, lon), CF conventions, with its known truth.

    Args:
        shape: (lat, lon) sizes of the grid, each at least 16 (4 km cells).
        days: number of daily time steps, at least 1.
        seed: non-negative integer fixing everything drawn.
        variables: "chlor_a" (chlorophyll-a, mg m-3, log-normal), "sst" (sea surface
            temperature, degree_Celsius) and "Rrs_<nm>" (remote-sensing reflectance, sr-1, at
            an OLCI band within 3 nm of <nm>, e.g. Rrs_443, Rrs_560, Rrs_665).
        cloud_fraction: mean share of the grid under cloud over the series, 0 to 1.
        start: ISO 8601 time of the first step; later steps follow a day apart.

    Returns:
        A Dataset with, for each variable `v`, `v` (NaN under cloud and on land) and
        `v_truth` (NaN on land only), both float32 on (time, lat, lon); int8 `land` on
        (lat, lon), 1 on land; 1-D `time`, `lat`, `lon` coordinates; attributes describing the
        bloom (`bloom_latitude`, `bloom_longitude`, `bloom_radius_km`, `bloom_peak_time`).

    Raises:
        ValueError: an argument is out of range or a variable is not one of those above.
    """
    shape, days, seed = _checked(shape, days, seed, cloud_fraction)
    bands = _rrs_bands(variables)
    first = np.datetime64(timefmt.parse_text(start).replace(tzinfo=None), "s")
    site_rng, cloud_rng, *ocean_rngs = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)
    )
    region = REGIONS[int(site_rng.integers(len(REGIONS)))]
    centre = (region.latitude + site_rng.uniform(-1, 1), region.longitude + site_rng.uniform(-1, 1))
    land = geometry.land_mask(shape, site_rng, fraction=site_rng.uniform(*LAND_FRACTION))
    lat = (centre[0] + (shape[0] / 2 - np.arange(shape[0]) - 0.5) * RESOLUTION).astype(np.float32)
    lon = (centre[1] + (np.arange(shape[1]) - shape[1] / 2 + 0.5) * RESOLUTION).astype(np.float32)
    ocean = _Ocean.of(region, land, days, *ocean_rngs)

    truth = {name: np.empty((days, *shape), dtype=np.float32) for name in variables}
    for day, state in enumerate(ocean.days(days)):
        for name in variables:
            if name == CHLOROPHYLL:
                truth[name][day] = state.chl
            elif name == SST:
                truth[name][day] = _sst(lat, state, day)
        if bands:
            rrs = remote_sensing_reflectance(state.chl, *_tsm_adg(region, state, ocean.coast))
            for name, band in bands.items():
                truth[name][day] = rrs[band]
    gaps = cloud_series(shape, days, cloud_rng, fraction=cloud_fraction,
                        real_masks=load_real_masks())  # fmt: skip
    observed = {}
    for name, values in truth.items():
        values[:, land] = np.nan
        observed[name] = np.where(gaps, np.float32(np.nan), values)
    bloom = ocean.bloom
    peak = first + np.timedelta64(round(bloom.peak_day * 86400), "s")
    return _dataset(
        observed,
        truth,
        land,
        first + np.arange(days) * np.timedelta64(1, "D"),
        lat,
        lon,
        attrs={
            "bloom_latitude": float(np.interp(bloom.centre[0], np.arange(shape[0]), lat)),
            "bloom_longitude": float(np.interp(bloom.centre[1], np.arange(shape[1]), lon)),
            "bloom_radius_km": bloom.radius * RESOLUTION * KM_PER_DEGREE,
            "bloom_peak_time": f"{peak.astype(object):{timefmt.ISO}}",
            "region": region.name,
        },
    )


def write_sample_series(
    path: str | os.PathLike[str],
    shape: tuple[int, int] = DEFAULT_SHAPE,
    days: int = DEFAULT_DAYS,
    seed: int = 0,
    *,
    variables: tuple[str, ...] = (CHLOROPHYLL,),
    cloud_fraction: float = DEFAULT_CLOUD_FRACTION,
    start: str = DEFAULT_START,
) -> Path:
    """Write `sample_series(...)` to a NetCDF-4 file (parent folders are made); returns it.

    Raises:
        ValueError: an argument is out of range (see `sample_series`).
        IsADirectoryError: `path` is a folder.
    """
    out = Path(path)
    if out.is_dir():
        raise IsADirectoryError(f"{out} is a folder; name the NetCDF file to write")
    ds = sample_series(shape, days, seed, variables=variables, cloud_fraction=cloud_fraction,
                       start=start)  # fmt: skip
    encoding: dict[str, dict[str, object]] = {
        name: {"dtype": "float32", "_FillValue": FILL}
        for name in ds.data_vars
        if name != LAND_VARIABLE
    }
    encoding[LAND_VARIABLE] = {"dtype": "int8", "_FillValue": None}
    encoding["time"] = {"units": TIME_UNITS, "calendar": "standard", "dtype": "int32"}
    for name in ("lat", "lon"):
        encoding[name] = {"_FillValue": None}
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed, so a failed write never leaves a torn file.
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        ds.to_netcdf(tmp, engine="netcdf4", encoding=encoding)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _checked(
    shape: tuple[int, int], days: int, seed: int, cloud_fraction: float
) -> tuple[tuple[int, int], int, int]:
    shape = checked_shape(shape, MIN_SIDE)
    if not isinstance(days, (int, np.integer)) or days < 1:
        raise ValueError(f"days {days!r} is not a positive integer")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed {seed!r} is not a non-negative integer")
    if not 0.0 <= cloud_fraction <= 1.0:
        raise ValueError(f"cloud fraction {cloud_fraction} is not in [0, 1]")
    return shape, int(days), int(seed)


def _rrs_bands(variables: tuple[str, ...]) -> dict[str, int]:
    """The OLCI band index of every Rrs variable; raises on names that are not supported."""
    if not variables:
        raise ValueError("variables must name at least one variable")
    repeated = sorted({v for v in variables if variables.count(v) > 1})
    if repeated:
        raise ValueError(f"variables repeat: {', '.join(repeated)}")
    bands = {}
    for name in variables:
        if name in (CHLOROPHYLL, SST):
            continue
        match = RRS_PATTERN.fullmatch(name)
        nearest = None
        if match:
            distances = [abs(w - float(match.group(1))) for w in WAVELENGTHS_NM]
            nearest = int(np.argmin(distances))
        if nearest is None or distances[nearest] > RRS_TOLERANCE_NM:
            raise ValueError(
                f"variable {name!r} is not {CHLOROPHYLL!r}, {SST!r} or Rrs_<nm> with <nm> within "
                f"{RRS_TOLERANCE_NM:g} nm of an OLCI band "
                f"({', '.join(f'{w:g}' for w in WAVELENGTHS_NM)})"
            )
        bands[name] = nearest
    return bands


@dataclass(frozen=True)
class _State:
    """The ocean on one day: chlorophyll (mg m-3), the two water-mass fields where the water
    now is (see `_WaterMasses`), and the slow large-scale wander of this day."""

    chl: np.ndarray
    mass: np.ndarray
    other: np.ndarray
    wander: np.ndarray


@dataclass(frozen=True)
class _Ocean:
    """Everything that makes the ocean of a series: water, flow, coast, bloom and wander."""

    region: Region
    coast: np.ndarray
    flow: _TurningFlow
    water: _WaterMasses
    bloom: _Bloom
    wander: tuple[np.ndarray, np.ndarray]
    wander_phase: float

    @classmethod
    def of(
        cls,
        region: Region,
        land: np.ndarray,
        days: int,
        flow_rng: np.random.Generator,
        water_rng: np.random.Generator,
        bloom_rng: np.random.Generator,
        wander_rng: np.random.Generator,
    ) -> _Ocean:
        shape = land.shape
        flow = _TurningFlow.of(shape, land, flow_rng)
        # Day-0 water reaches the grid from as far as the fastest current carries it.
        pad = min(math.ceil(flow.max_speed * days) + 2, max(shape))
        wander = tuple(
            power_law_noise(shape, 3.5, wander_rng, outer_scale=min(shape) / 2) for _ in "ab"
        )
        return cls(
            region,
            geometry.land_proximity(land, COASTAL_SCALE_PX),
            flow,
            _WaterMasses.of(shape, pad, water_rng),
            _Bloom.of(shape, days, land, bloom_rng),
            wander,
            wander_rng.uniform(0, 2 * math.pi),
        )

    def days(self, days: int) -> Iterator[_State]:
        """The state of each day in turn, the water carried along by the flow."""
        shape = self.coast.shape
        departure = (np.zeros(shape, np.float32), np.zeros(shape, np.float32))
        biomass = np.zeros(shape, dtype=np.float32)
        rows = np.arange(shape[0], dtype=np.float32)[:, None]
        columns = np.arange(shape[1], dtype=np.float32)[None, :]
        for day in range(days):
            if day > 0:
                # Compose the day's back-trajectories with the earlier ones, and carry the bloom.
                step = self.flow.back_step(day)
                moved = advect([*departure, biomass], step)
                departure = (
                    moved[0] + resample(step.rows, shape),
                    moved[1] + resample(step.columns, shape),
                )
                biomass = moved[2]
            biomass *= np.float32(math.exp(-1 / BLOOM_DECAY_DAYS))
            biomass += self.bloom.growth(day)
            mass, other = self.water.at(rows + departure[0], columns + departure[1])
            angle = self.wander_phase + 2 * math.pi * day / self.flow.period
            wander = np.float32(math.cos(angle)) * self.wander[0]
            wander += np.float32(math.sin(angle)) * self.wander[1]
            ln_chl = np.float32(SPREAD_CHL) * mass + np.float32(self.region.coastal) * self.coast
            ln_chl += np.float32(WANDER_CHL) * wander + np.log1p(biomass)
            ln_chl += np.float32(math.log(self.region.chl))
            chl = np.clip(np.exp(ln_chl), *CHL_RANGE).astype(np.float32)
            yield _State(chl, mass, other, wander)


@dataclass(frozen=True)
class _TurningFlow:
    """A flow on a coarse grid that turns from one eddy field to another and back.

    Velocities are in full-resolution pixels a day; the stream functions are tapered to zero
    over land, so water runs along the coast and never onto it.
    """

    shape: tuple[int, int]
    velocities: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # row_a, col_a, row_b, col_b
    period: float
    phase: float
    max_speed: float

    @classmethod
    def of(cls, shape: tuple[int, int], land: np.ndarray, rng: np.random.Generator) -> _TurningFlow:
        grid = coarse_shape(shape, FLOW_SIDE)
        rows, columns = cell_centres(grid[0], shape[0]), cell_centres(grid[1], shape[1])
        taper = block_mean(1 - np.exp(-ndimage.distance_transform_edt(~land) / COAST_PX), grid)
        fields = []
        for _ in "ab":
            psi = resample(eddy_streamfunction(shape, rng), grid).astype(np.float64) * taper
            drow, dcolumn = np.gradient(psi, rows, columns)
            fields += [dcolumn, -drow]  # divergence-free
        fastest = max(float(np.hypot(fields[0], fields[1]).max()),
                      float(np.hypot(fields[2], fields[3]).max()))  # fmt: skip
        max_speed = rng.uniform(*MAX_SPEED_PX_PER_DAY)
        scale = max_speed / fastest if fastest > 0 else 0.0
        velocities = tuple((f * scale).astype(np.float32) for f in fields)
        period = rng.uniform(*FLOW_PERIOD_DAYS)
        return cls(shape, velocities, period, rng.uniform(0, 2 * math.pi), max_speed)

    def back_step(self, day: int) -> Flow:
        """Where the water at each coarse cell on `day` was on the day before."""
        grid = self.velocities[0].shape
        start_rows, start_columns = np.meshgrid(
            cell_centres(grid[0], self.shape[0]),
            cell_centres(grid[1], self.shape[1]),
            indexing="ij",
        )
        row, column = start_rows.copy(), start_columns.copy()
        dt = 1.0 / SUBSTEPS
        for sub in range(SUBSTEPS):
            t = day - (sub + 0.5) * dt
            v_row, v_column = self._velocity(row, column, t)
            v_row, v_column = self._velocity(
                row - 0.5 * dt * v_row, column - 0.5 * dt * v_column, t
            )
            row -= dt * v_row
            column -= dt * v_column
        return Flow(
            self.shape,
            (row - start_rows).astype(np.float32),
            (column - start_columns).astype(np.float32),
        )

    def _velocity(
        self, row: np.ndarray, column: np.ndarray, day: float
    ) -> tuple[np.ndarray, np.ndarray]:
        grid = self.velocities[0].shape
        at = [
            (row + 0.5) * grid[0] / self.shape[0] - 0.5,
            (column + 0.5) * grid[1] / self.shape[1] - 0.5,
        ]
        angle = self.phase + 2 * math.pi * day / self.period
        a, b = np.float32(math.cos(angle)), np.float32(math.sin(angle))
        row_a, column_a, row_b, column_b = self.velocities
        return tuple(
            ndimage.map_coordinates(a * va + b * vb, at, order=1, mode="nearest")
            for va, vb in ((row_a, row_b), (column_a, column_b))
        )


@dataclass(frozen=True)
class _WaterMasses:
    """Day 0's water on a canvas `pad` cells wider than the grid on every side.

    `mass` holds two water masses split by a front, with multi-scale detail (high: rich,
    cold water); `other` is independent structure that decouples temperature and sediment.
    """

    pad: int
    mass: np.ndarray
    other: np.ndarray

    @classmethod
    def of(cls, shape: tuple[int, int], pad: int, rng: np.random.Generator) -> _WaterMasses:
        canvas = (shape[0] + 2 * pad, shape[1] + 2 * pad)
        side = min(shape)
        mass = power_law_noise(canvas, 3.8, rng, outer_scale=side / 2)
        angle = rng.uniform(0, math.pi)
        rows = np.arange(canvas[0], dtype=np.float32)[:, None] - canvas[0] / 2
        columns = np.arange(canvas[1], dtype=np.float32)[None, :] - canvas[1] / 2
        across = rows * np.float32(math.cos(angle)) - columns * np.float32(math.sin(angle))
        width = rng.uniform(0.02, 0.05) * side
        mass += np.float32(1.2) * np.tanh((across - rng.uniform(-0.2, 0.2) * side) / width)
        other = power_law_noise(canvas, 3.8, rng, outer_scale=side / 3)
        return cls(pad, standardise(mass), other)

    def at(self, rows: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Both fields at the given day-0 positions (grid pixels; outside the canvas, mirrored)."""
        where = [rows + np.float32(self.pad), columns + np.float32(self.pad)]
        return tuple(
            ndimage.map_coordinates(f, where, output=np.float32, order=1, mode="mirror")
            for f in (self.mass, self.other)
        )


@dataclass(frozen=True)
class _Bloom:
    """Where and when phytoplankton grow: a patch of water that blooms once in the series.

    Growth is a Gaussian pulse in time around `peak_day - BLOOM_RISE_DAYS` over a Gaussian
    patch in space; the biomass it adds (a fold increase of chlorophyll over the background)
    drifts with the flow and decays with an e-folding time of `BLOOM_DECAY_DAYS`.
    """

    centre: tuple[float, float]
    radius: float
    peak_day: float
    footprint: np.ndarray
    rate: float

    @classmethod
    def of(
        cls, shape: tuple[int, int], days: int, land: np.ndarray, rng: np.random.Generator
    ) -> _Bloom:
        side = min(shape)
        radius = rng.uniform(0.1, 0.16) * side
        # The centre: a water pixel at least a radius from land and from the grid's edges.
        room = ndimage.distance_transform_edt(np.pad(~land, 1))[1:-1, 1:-1]
        candidates = np.argwhere(room >= min(radius, room.max()))
        centre = tuple(float(c) for c in candidates[int(rng.integers(len(candidates)))])
        rows = np.arange(shape[0], dtype=np.float32)[:, None] - np.float32(centre[0])
        columns = np.arange(shape[1], dtype=np.float32)[None, :] - np.float32(centre[1])
        patchy = 0.75 + 0.25 * np.tanh(power_law_noise(shape, 3.0, rng, outer_scale=radius))
        footprint = np.exp(-(rows**2 + columns**2) / np.float32(2 * radius**2)) * patchy
        fold = rng.uniform(*BLOOM_FOLD)
        # The pulse's total growth, spread over ~2 rise times, leaves `fold` - 1 at the peak.
        rate = (fold - 1) / (BLOOM_RISE_DAYS * math.sqrt(math.pi))
        peak_day = rng.uniform(0.3, 0.5) * (days - 1) + BLOOM_RISE_DAYS
        return cls(centre, radius, peak_day, footprint.astype(np.float32), rate)

    def growth(self, day: int) -> np.ndarray:
        """Biomass added on `day`."""
        onset = self.peak_day - BLOOM_RISE_DAYS
        pulse = self.rate * math.exp(-(((day - onset) / BLOOM_RISE_DAYS) ** 2))
        return np.float32(pulse) * self.footprint


def _sst(lat: np.ndarray, state: _State, day: int) -> np.ndarray:
    """Sea surface temperature, degree_Celsius: warmer towards the equator, cold rich water
    (high `mass`), and a spring warming of 0.05 degree a day."""
    base = 29.0 - 0.45 * np.maximum(np.abs(lat) - 12.0, 0.0)
    anomaly = np.float32(0.8) * state.other - np.float32(0.6) * state.mass
    values = base[:, None] + np.float32(1.2) * anomaly
    values += np.float32(0.3) * state.wander + np.float32(0.05 * day)
    return values.astype(np.float32)


def _tsm_adg(region: Region, state: _State, coast: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Suspended matter (g m-3) and CDOM absorption at 443 nm (m-1), as `constituents` makes
    them: log-normal about the region's medians, richer at the coast."""
    mass, other = state.mass, state.other
    coastal = np.float32(region.coastal) * coast
    ln_tsm = np.float32(0.6) * (0.5 * mass + 0.85 * other) + 1.3 * coastal
    ln_adg = np.float32(0.4) * (0.7 * mass - 0.5 * other) + 0.8 * coastal
    tsm = np.clip(np.exp(ln_tsm + np.float32(math.log(region.tsm))), *TSM_RANGE)
    adg = np.clip(np.exp(ln_adg + np.float32(math.log(region.adg443))), *ADG443_RANGE)
    return tsm.astype(np.float32), adg.astype(np.float32)


def _dataset(
    observed: dict[str, np.ndarray],
    truth: dict[str, np.ndarray],
    land: np.ndarray,
    time: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    *,
    attrs: dict[str, object],
) -> xr.Dataset:
    dims = ("time", "lat", "lon")
    data_vars = {}
    for name, values in observed.items():
        meta = _attrs(name)
        data_vars[name] = (dims, values, meta)
        data_vars[name + TRUTH_SUFFIX] = (
            dims,
            truth[name],
            {
                **meta,
                "long_name": f"{meta['long_name']}, without cloud gaps (the sample's known truth)",
            },
        )
    data_vars[LAND_VARIABLE] = (
        ("lat", "lon"),
        land.astype(np.int8),
        {"long_name": "land mask", "flag_values": np.array([0, 1], np.int8),
         "flag_meanings": "water land"},
    )  # fmt: skip
    geo = {
        "lat": ("lat", lat, {"standard_name": "latitude", "units": "degrees_north"}),
        "lon": ("lon", lon, {"standard_name": "longitude", "units": "degrees_east"}),
    }
    return xr.Dataset(
        data_vars,
        coords={"time": ("time", time, {"standard_name": "time", "axis": "T"}), **geo},
        attrs={
            "Conventions": "CF-1.8",
            "title": "s3inpaint sample daily series (synthetic)",
            "source": "s3inpaint sample-data --series: advected synthetic fields, real and "
            "synthetic cloud shapes",
            "comment": f"<var>{TRUTH_SUFFIX} holds <var> without cloud gaps; where <var> is "
            f"observed the two are equal. {LAND_VARIABLE} is 1 on land.",
            **attrs,
        },
    )


def _attrs(name: str) -> dict[str, str]:
    if name == CHLOROPHYLL:
        return {
            "standard_name": "mass_concentration_of_chlorophyll_a_in_sea_water",
            "long_name": "Chlorophyll-a concentration",
            "units": "mg m-3",
        }
    if name == SST:
        return {
            "standard_name": "sea_surface_temperature",
            "long_name": "Sea surface temperature",
            "units": "degree_Celsius",
        }
    return {
        "standard_name": "surface_ratio_of_upwelling_radiance_emerging_from_sea_water_to_"
        "downwelling_radiative_flux_in_air",
        "long_name": f"Remote sensing reflectance at {name[4:]} nm",
        "units": "sr-1",
    }
