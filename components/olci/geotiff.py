"""`write_geotiff`: chosen bands of a product as a float32 GeoTIFF georeferenced by GCPs.

An OLCI scene is on the instrument's grid, not a map projection, so the file carries ground
control points taken from the product's latitude/longitude instead of a geotransform;
`gdalwarp` (or `rasterio.warp`) turns it into a map. Rows are written a block at a time, so a
full 4091x4865 scene never holds more than one band's block in memory.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rasterio
import xarray as xr
from rasterio.control import GroundControlPoint
from rasterio.crs import CRS
from rasterio.windows import Window

from components.olci.format import BAND_NAMES
from components.olci.storage import is_gcs

BLOCK_ROWS = 512  # rows read and written at a time; a multiple of TILE
TILE = 256
GCP_CRS = CRS.from_epsg(4326)
FILLED_BAND = "filled"


def gcp_positions(size: int, spacing: int) -> np.ndarray:
    """Indices 0, spacing, 2*spacing, ... along a side of `size` pixels, and the last one."""
    positions = np.arange(0, size, spacing)
    return positions if positions[-1] == size - 1 else np.append(positions, size - 1)


def ground_control_points(ds: xr.Dataset, spacing: int) -> list[GroundControlPoint]:
    """GCPs at the pixel centres of a regular grid, from the dataset's latitude/longitude.

    The coordinates are read one grid row at a time, so a full scene's geolocation is never
    loaded whole.
    """
    rows = gcp_positions(ds.sizes["y"], spacing)
    columns = gcp_positions(ds.sizes["x"], spacing)
    gcps = []
    for row in rows:
        lat = _rows(ds["latitude"], row, row + 1)[0, columns]
        lon = _rows(ds["longitude"], row, row + 1)[0, columns]
        for column, y, x in zip(columns, lat, lon, strict=True):
            if np.isfinite(y) and np.isfinite(x):  # GDAL cannot fit a warp through NaN
                gcps.append(
                    GroundControlPoint(row=row + 0.5, col=column + 0.5, x=float(x), y=float(y))
                )
    return gcps


def write_geotiff(
    ds: xr.Dataset,
    path: str | os.PathLike[str],
    bands: Sequence[str],
    *,
    gcp_spacing: int = 64,
    filled: xr.DataArray | np.ndarray | None = None,
) -> Path:
    """Write `bands` of `ds` as a tiled, deflate-compressed float32 GeoTIFF at `path`.

    The file is written under a temporary name beside `path` and renamed when complete, so a
    killed writer never leaves a torn file under the final name; an existing file is replaced.

    Args:
        ds: a dataset in `open_product`'s layout (lazy or loaded).
        path: a local file path.
        bands: OLCI band names (e.g. "Oa08"), one raster band each, in this order; each raster
            band's description is its name, NaN is the nodata value.
        gcp_spacing: pixels between ground control points; the last row and column always get
            points too.
        filled: optional boolean (y, x) mask of filled pixels, written as a last band named
            "filled" holding 0 or 1 (float32, as a GeoTIFF has one data type for all bands).

    Returns:
        The path written.

    Raises:
        ValueError: `path` is on gs://, a band is unknown or repeated, `gcp_spacing` is not
            positive or `filled` does not match the scene's shape.
    """
    if is_gcs(path):
        raise ValueError(f"{path}: write_geotiff writes local files; copy the result to gs://")
    _check_bands(ds, bands)
    if gcp_spacing < 1:
        raise ValueError(f"gcp_spacing must be a positive number of pixels, not {gcp_spacing}")
    height, width = ds.sizes["y"], ds.sizes["x"]
    layers = {name: ds[name] for name in bands}
    if filled is not None:
        if np.shape(filled) != (height, width):
            raise ValueError(
                f"filled mask has shape {np.shape(filled)}, the scene {(height, width)}"
            )
        layers[FILLED_BAND] = filled

    target = Path(path)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": len(layers),
        "dtype": "float32",
        "nodata": np.nan,
        "tiled": True,
        "blockxsize": TILE,
        "blockysize": TILE,
        "compress": "deflate",
        "predictor": 3,  # the floating-point predictor, made for deflate on float32
        "interleave": "band",  # one band a tile: a written block completes its tiles (pixel
        # interleave keeps every part-written tile in GDAL's cache until the file is closed)
        "BIGTIFF": "IF_SAFER",
        "gcps": ground_control_points(ds, gcp_spacing),
        "crs": GCP_CRS,  # with gcps, the CRS of the points: the raster has no geotransform
    }
    try:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.update_tags(
                product_name=ds.attrs.get("product_name", ""),
                reflectance=ds.attrs.get("reflectance", ""),
            )
            for index, (name, layer) in enumerate(layers.items(), start=1):
                dst.set_band_description(index, name)
                if name != FILLED_BAND:
                    dst.update_tags(index, **_band_tags(layer))
            for start in range(0, height, BLOCK_ROWS):
                stop = min(start + BLOCK_ROWS, height)
                window = Window(0, start, width, stop - start)
                for index, layer in enumerate(layers.values(), start=1):
                    dst.write(
                        _rows(layer, start, stop).astype(np.float32, copy=False),
                        index,
                        window=window,
                    )
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _check_bands(ds: xr.Dataset, bands: Sequence[str]) -> None:
    available = [name for name in BAND_NAMES if name in ds]
    if not bands:
        raise ValueError(f"no bands chosen; available: {', '.join(available)}")
    for name in bands:
        if name not in available:
            raise ValueError(f"unknown band {name!r}; available: {', '.join(available)}")
    if len(set(bands)) != len(bands):
        raise ValueError(f"bands named more than once: {list(bands)}")


def _band_tags(band: xr.DataArray) -> dict[str, str]:
    return {key: str(band.attrs[key]) for key in ("wavelength", "units") if key in band.attrs}


def _rows(array: xr.DataArray | np.ndarray, start: int, stop: int) -> np.ndarray:
    """Rows `start:stop` of a (y, x) array, read from the file only for that window."""
    if isinstance(array, xr.DataArray):
        return array.transpose("y", "x").isel(y=slice(start, stop)).values
    return np.asarray(array[start:stop])
