"""Tiny gridded files for tests: an L3-style NetCDF time series and a GeoTIFF stack.

Values are smooth multi-scale fields (`components.sample.fields`) that drift from one time step
to the next; gaps are cloud-like blobs shared by all bands of a time step, plus a sprinkle of
pixels missing from one band only, so `valid` differs from any single band's finiteness.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import rasterio
import xarray as xr
from affine import Affine

from components.gridded import times as timefmt
from components.sample.fields import power_law_noise, standardise, top_share

FILL = -32767
RESOLUTION = 1 / 24  # degrees: the 4 km grid of NASA L3m files
NORTH, WEST = 45.0, 3.0
SPECKLE_FRACTION = 0.01
TIME_UNITS = "hours since 1970-01-01"


def write_netcdf_series(
    path: str | os.PathLike[str],
    *,
    times: int = 4,
    shape: tuple[int, int] = (48, 64),
    variables: tuple[str, ...] = ("chlor_a",),
    gap_fraction: float = 0.3,
    seed: int = 0,
    packed: bool = False,
    start: str = "2023-06-01T12:00:00Z",
) -> Path:
    """Write a daily L3-style series on dims (time, lat, lon) with 1-D lat/lon coordinates.

    Args:
        path: the NetCDF file to write (parent folders are made).
        times: number of daily time steps, the first at `start`.
        shape: (lat, lon) sizes of the grid (4 km cells from 45N, 3E).
        variables: names of the variables; "chl..." names hold chlorophyll (mg m-3), "Rrs_<nm>"
            names remote-sensing reflectance at that wavelength (sr-1), others a unitless field.
        gap_fraction: share of each time step covered by cloud-like gaps (all variables).
        seed: seed of the random generator.
        packed: store int16 with scale_factor/add_offset instead of float32; either way gaps
            hold the `_FillValue` -32767.
        start: ISO 8601 time of the first step.

    Returns:
        `path`, as a Path.
    """
    rng = np.random.default_rng(seed)
    base = power_law_noise(shape, 3.5, rng)
    steps: dict[str, list[np.ndarray]] = {name: [] for name in variables}
    for _ in range(times):
        field = standardise(0.9 * base + 0.45 * power_law_noise(shape, 3.5, rng))
        gaps = top_share(power_law_noise(shape, 4.0, rng), gap_fraction)
        for name in variables:
            values = _quantity(name, field)
            values[gaps | (rng.random(shape) < SPECKLE_FRACTION)] = np.nan
            steps[name].append(values)
    first = np.datetime64(timefmt.parse_text(start), "s")
    time = first + np.arange(times) * np.timedelta64(1, "D")
    lat = NORTH - (np.arange(shape[0]) + 0.5) * RESOLUTION
    lon = WEST + (np.arange(shape[1]) + 0.5) * RESOLUTION
    ds = xr.Dataset(
        {name: (("time", "lat", "lon"), np.stack(s), _attrs(name)) for name, s in steps.items()},
        coords={
            "time": ("time", time, {"standard_name": "time"}),
            "lat": ("lat", lat.astype(np.float32), _geo_attrs("latitude", "degrees_north")),
            "lon": ("lon", lon.astype(np.float32), _geo_attrs("longitude", "degrees_east")),
        },
        attrs={"Conventions": "CF-1.8", "title": "s3inpaint sample L3 series"},
    )
    encoding = {name: _encoding(ds[name].values, packed) for name in variables}
    encoding["time"] = {"units": TIME_UNITS, "calendar": "standard", "dtype": "int32"}
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    ds.to_netcdf(out, engine="netcdf4", encoding=encoding)
    return out


def write_geotiff_stack(
    path: str | os.PathLike[str],
    *,
    bands: int = 3,
    shape: tuple[int, int] = (48, 64),
    nodata_fraction: float = 0.2,
    seed: int = 0,
    datetime: str | None = "2023-06-01T10:00:00Z",
    descriptions: tuple[str, ...] | None = None,
    nodata: float = -9999.0,
) -> Path:
    """Write a float32 reflectance stack in EPSG:4326 (4 km cells from 45N, 3E).

    Args:
        path: the GeoTIFF to write (parent folders are made).
        bands: number of raster bands.
        shape: (rows, columns).
        nodata_fraction: share of pixels set to `nodata` in every band (cloud-like blobs).
        seed: seed of the random generator.
        datetime: ISO 8601 time written as the TIFFTAG_DATETIME tag; None for no tag.
        descriptions: band descriptions to write, one per band; None for none.
        nodata: the nodata value of the file.

    Returns:
        `path`, as a Path.
    """
    if descriptions is not None and len(descriptions) != bands:
        raise ValueError(f"{len(descriptions)} descriptions for {bands} bands")
    rng = np.random.default_rng(seed)
    field = power_law_noise(shape, 3.5, rng)
    gaps = top_share(power_law_noise(shape, 4.0, rng), nodata_fraction)
    data = np.empty((bands, *shape), dtype=np.float32)
    for i in range(bands):
        data[i] = _quantity(f"Rrs_{412 + 60 * i}", field)
        data[i][gaps | (rng.random(shape) < SPECKLE_FRACTION)] = nodata
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff",
        "width": shape[1],
        "height": shape[0],
        "count": bands,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": Affine(RESOLUTION, 0.0, WEST, 0.0, -RESOLUTION, NORTH),
        "nodata": nodata,
    }
    with rasterio.open(out, "w", **profile) as dst:
        dst.write(data)
        if datetime is not None:
            moment = timefmt.parse_text(datetime)
            dst.update_tags(**{"TIFFTAG_DATETIME": f"{moment:{timefmt.TIFF_DATETIME}}"})
        for i, text in enumerate(descriptions or (), start=1):
            dst.set_band_description(i, text)
    return out


def _quantity(name: str, field: np.ndarray) -> np.ndarray:
    """A float32 physical quantity for variable `name` from a standardised field."""
    if name.lower().startswith("chl"):
        return (10 ** (-0.7 + 0.35 * field)).astype(np.float32)
    wavelength = re.fullmatch(r"[Rr]rs_(\d+)", name)
    if wavelength:
        nm = float(wavelength.group(1))
        level = 0.008 * np.exp(-(nm - 440) / 150)
        # Blue reflectance falls and green rises as chlorophyll (the field) rises.
        slope = -0.15 if nm < 520 else 0.1
        return (level * 10 ** (slope * field)).astype(np.float32)
    return (10 ** (0.3 * field)).astype(np.float32)


def _attrs(name: str) -> dict[str, str]:
    if name.lower().startswith("chl"):
        return {"long_name": "Chlorophyll Concentration, OCI Algorithm", "units": "mg m^-3"}
    if re.fullmatch(r"[Rr]rs_\d+", name):
        return {"long_name": f"Remote sensing reflectance at {name[4:]} nm", "units": "sr^-1"}
    return {"long_name": name, "units": "1"}


def _geo_attrs(standard_name: str, units: str) -> dict[str, str]:
    return {"standard_name": standard_name, "long_name": standard_name.title(), "units": units}


def _encoding(values: np.ndarray, packed: bool) -> dict[str, object]:
    if not packed:
        return {"dtype": "float32", "_FillValue": np.float32(FILL)}
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    scale = (high - low) / 60000 if high > low else 1.0
    return {
        "dtype": "int16",
        "scale_factor": np.float32(scale),
        "add_offset": np.float32((high + low) / 2),
        "_FillValue": np.int16(FILL),
    }
