"""A scene from a GeoTIFF stack: one band per raster band, read through rasterio.

The whole file is one scene, named after the file stem and read into memory at once. Pixels
the file masks (its nodata value, an internal mask or alpha band) become NaN; band scale/offset,
where set, are applied.

The start time comes from the `TIFFTAG_DATETIME` tag ("YYYY:MM:DD HH:MM:SS", taken as UTC), else
from an `ACQUISITION_TIME` or `start_time` tag (ISO 8601); a file with none of them has
`start_time` "" (nothing is guessed from the file's modification time).

`latitude`/`longitude` of pixel centres are computed from the transform when the CRS is
geographic (e.g. EPSG:4326). For a projected CRS, or none, they are left out: reprojecting
needs pyproj and the patch extractor works without them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import rasterio
import rasterio.errors
import xarray as xr

from components.gridded import times
from components.gridded.config import RESERVED_NAMES, check_band_names
from components.gridded.errors import (
    BandNamesError,
    SceneTimeError,
    WrongFormatError,
    local_file,
)
from components.gridded.scene import make_scene

DRIVER = "GTiff"
DATETIME_TAG = "TIFFTAG_DATETIME"
TIME_TAGS = (DATETIME_TAG, "ACQUISITION_TIME", "start_time")


def open_geotiff(
    path: str | os.PathLike[str], band_names: Sequence[str] | None = None
) -> xr.Dataset:
    """The GeoTIFF at `path` as a scene.

    Args:
        path: a local GeoTIFF (or Cloud-Optimised GeoTIFF).
        band_names: a name for each band, in band order; None for the file's band descriptions
            when every band has one and they are distinct and unreserved, else b1..bN.

    Returns:
        A Dataset on ("y", "x"): one float32 variable per band (NaN where masked), boolean
        `valid`, float32 `latitude`/`longitude` coords for a geographic CRS, and attributes
        `product_name` (the file stem) and `start_time` (ISO 8601 UTC, or "").

    Raises:
        GriddedError: a subclass naming the path and what is wrong with the file.
        ValueError: `band_names` repeat or use a name the scene contract reserves.
    """
    source = str(path)
    with _named(source, band_names) as (src, names):
        data = src.read(out_dtype=np.float64 if src.dtypes[0] == "float64" else np.float32)
        keep = src.read_masks() != 0
        for i, (scale, offset) in enumerate(zip(src.scales, src.offsets, strict=True)):
            if (scale, offset) != (1.0, 0.0):
                data[i] = data[i] * scale + offset
        data = np.where(keep, data, np.nan).astype(np.float32)
        start_time = _start_time(src.tags(), source)
        latitude = longitude = None
        if src.crs is not None and src.crs.is_geographic:
            rows, columns = np.mgrid[0 : src.height, 0 : src.width] + 0.5
            longitude, latitude = src.transform @ (columns, rows)
        units = src.units
    out = make_scene(
        dict(zip(names, data, strict=True)),
        product_name=Path(source).stem,
        start_time=start_time,
        band_attrs={n: {"units": u} for n, u in zip(names, units, strict=True) if u},
        latitude=latitude,
        longitude=longitude,
    )
    out.encoding["source"] = source
    return out


def geotiff_band_names(
    path: str | os.PathLike[str], band_names: Sequence[str] | None = None
) -> tuple[str, ...]:
    """The names `open_geotiff(path, band_names)` gives the bands of the GeoTIFF at `path`, in
    band order, read from its header alone.

    Raises:
        GriddedError: a subclass naming the path and what is wrong with the file.
        ValueError: `band_names` repeat or use a name the scene contract reserves.
    """
    with _named(str(path), band_names) as (_, names):
        return names


@contextmanager
def _named(
    source: str, band_names: Sequence[str] | None
) -> Iterator[tuple[rasterio.DatasetReader, tuple[str, ...]]]:
    """The GeoTIFF at `source`, open, with its bands' names (`band_names`, checked, or the
    file's own: see `open_geotiff`)."""
    if band_names is not None:
        band_names = check_band_names("band_names", tuple(band_names))
    with _open(source) as src:
        yield src, _band_names(src, source, band_names)


def _open(source: str) -> rasterio.DatasetReader:
    """The GeoTIFF at `source`, open; the specific GriddedError when it is not one."""
    local = local_file(source, "a GeoTIFF")
    try:
        src = rasterio.open(local)
    except rasterio.errors.RasterioIOError as err:
        raise WrongFormatError(source, f"not a readable raster ({err})") from None
    if src.driver != DRIVER:
        src.close()
        raise WrongFormatError(source, f"is a {src.driver} raster, not a GeoTIFF")
    return src


def _band_names(
    src: rasterio.DatasetReader, path: str, given: tuple[str, ...] | None
) -> tuple[str, ...]:
    if given is not None:
        if len(given) != src.count:
            raise BandNamesError(
                path, f"band_names names {len(given)} bands {given}; the file has {src.count}"
            )
        return given
    described = tuple(d or "" for d in src.descriptions)
    usable = (
        all(described)
        and len(set(described)) == len(described)
        and not RESERVED_NAMES.intersection(described)
    )
    return described if usable else tuple(f"b{i}" for i in range(1, src.count + 1))


def _start_time(tags: dict[str, str], path: str) -> str:
    for tag in TIME_TAGS:
        if tag in tags:
            try:
                return f"{times.parse_text(tags[tag]):{times.ISO}}"
            except ValueError as err:
                raise SceneTimeError(path, f"tag {tag}: {err}") from None
    return ""
