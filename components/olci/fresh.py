"""A product written afresh from the format description (sample scenes, or datasets without a
source product): every file, variable, encoding and the manifest's description."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from components.olci.errors import ProductError
from components.olci.format import (
    BANDS,
    COLUMNS,
    GEO_FILE,
    GEO_SCALE,
    REFLECTANCE_QUANTITY,
    RHO_W,
    ROWS,
    TIE_COLUMNS,
    TIE_GEO_FILE,
    TIE_ROWS,
    TIME_FILE,
    WQSF_FILE,
    WQSF_VARIABLE,
    ProductName,
)
from components.olci.manifest import ManifestInfo
from components.olci.packing import Packing, new_file, packed_var, row_blocks

TIE_COLUMN_STEP = 64  # OLCI FR tie points: every 64th column, every row
INT32_FILL = np.int32(-2147483648)
TIME_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _write_band(nc_var: Any, data: xr.DataArray, have: str, want: str) -> None:
    nc_var.set_auto_maskandscale(False)
    packing = Packing.of(nc_var, want)
    for rows in row_blocks(data.shape[0]):
        nc_var[rows, :] = packing.pack(np.asarray(data[rows].values, dtype=np.float32), have)


def _write_flags(nc_var: Any, data: xr.DataArray) -> None:
    nc_var.set_auto_maskandscale(False)
    for rows in row_blocks(data.shape[0]):
        nc_var[rows, :] = np.asarray(data[rows].values).astype(nc_var.dtype)


def write_fresh(ds: xr.Dataset, tmp: Path) -> None:
    """Write every file of the product `ds` into `tmp` from the format description, with the
    encodings its bands carry (their reflectance quantity is the collection's)."""
    rows, cols = ds.sizes["y"], ds.sizes["x"]
    grid = {ROWS: rows, COLUMNS: cols}
    have = ds.attrs.get("reflectance", RHO_W)
    collection = ds.attrs.get("collection", "003")
    want = REFLECTANCE_QUANTITY.get(collection, have)
    for band in BANDS:
        data = ds[band.name]
        enc = data.encoding
        for key in ("scale_factor", "add_offset", "_FillValue"):
            if key not in enc:
                raise ProductError(tmp / band.file_name, f"band {band.name} has no {key} encoding")
        attrs = {k: v for k, v in data.attrs.items() if k not in ("wavelength", "bandwidth")}
        attrs.update(
            scale_factor=np.float32(enc["scale_factor"]),
            add_offset=np.float32(enc["add_offset"]),
            wavelength=np.float32(band.wavelength_nm),
            bandwidth=np.float32(band.bandwidth_nm),
        )
        with new_file(
            tmp / band.file_name, ds, f"OLCI Level 2 {band.name} reflectance", grid
        ) as nc:
            dtype = np.dtype(enc.get("dtype", "uint16"))
            var = packed_var(nc, band.variable, (ROWS, COLUMNS), dtype, enc["_FillValue"], attrs)
            _write_band(var, data, have, want)

    wqsf = ds["wqsf"]
    with new_file(tmp / WQSF_FILE, ds, "OLCI Level 2 water quality and science flags", grid) as nc:
        attrs = {"long_name": "Water quality and science flags", **dict(wqsf.attrs)}
        var = packed_var(nc, WQSF_VARIABLE, (ROWS, COLUMNS), np.uint64, None, attrs)
        _write_flags(var, wqsf)

    geo_attrs = {
        "latitude": {"units": "degrees_north", "standard_name": "latitude",
                     "long_name": "DEM corrected latitude"},
        "longitude": {"units": "degrees_east", "standard_name": "longitude",
                      "long_name": "DEM corrected longitude"},
    }  # fmt: skip
    with new_file(tmp / GEO_FILE, ds, "OLCI Level 2 geo coordinates", grid) as nc:
        for name, attrs in geo_attrs.items():
            attrs = {**attrs, "scale_factor": GEO_SCALE, "add_offset": 0.0}
            var = packed_var(nc, name, (ROWS, COLUMNS), np.int32, INT32_FILL, attrs)
            _write_band(var, ds[name], RHO_W, RHO_W)

    tie_cols = (cols - 1) // TIE_COLUMN_STEP + 1
    tie = {TIE_ROWS: rows, TIE_COLUMNS: tie_cols}
    with new_file(tmp / TIE_GEO_FILE, ds, "OLCI Level 2 tie-point geo coordinates", tie) as nc:
        nc.setncatts({"ac_subsampling_factor": TIE_COLUMN_STEP, "al_subsampling_factor": 1})
        for name, attrs in geo_attrs.items():
            attrs = {**attrs, "scale_factor": GEO_SCALE, "add_offset": 0.0}
            var = packed_var(nc, name, (TIE_ROWS, TIE_COLUMNS), np.int32, INT32_FILL, attrs)
            var.set_auto_maskandscale(False)
            values = ds[name][:, ::TIE_COLUMN_STEP].values.astype(np.float64)
            var[:, :] = np.rint(values / GEO_SCALE).astype(np.int32)

    with new_file(tmp / TIME_FILE, ds, "OLCI Level 2 time coordinates", {ROWS: rows}) as nc:
        var = nc.createVariable("time_stamp", np.int64, (ROWS,))
        var.setncatts({
            "long_name": "Elapsed time since 01 Jan 2000 0h0m0s",
            "units": "microseconds since 2000-01-01 00:00:00",
            "standard_name": "time",
        })  # fmt: skip
        var[:] = _row_times(ds, rows)


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _row_times(ds: xr.Dataset, rows: int) -> np.ndarray:
    start = _parse_time(ds.attrs["start_time"])
    stop = _parse_time(ds.attrs["stop_time"])
    micros = [(t - TIME_EPOCH).total_seconds() * 1e6 for t in (start, stop)]
    return np.rint(np.linspace(micros[0], micros[1], rows)).astype(np.int64)


def manifest_info(ds: xr.Dataset) -> ManifestInfo:
    """The manifest's description of the product `ds`."""
    name = ProductName.parse(ds.attrs.get("product_name", ""))
    return ManifestInfo(
        product_name=ds.attrs.get("product_name"),
        product_type=ds.attrs.get("product_type", "OL_2_WFR___"),
        platform=ds.attrs.get("platform"),
        start_time=ds.attrs.get("start_time"),
        stop_time=ds.attrs.get("stop_time"),
        creation_time=f"{name.created:%Y-%m-%dT%H:%M:%SZ}" if name else None,
        collection=ds.attrs.get("collection"),
        timeliness=name.timeliness if name else None,
        rows=ds.sizes["y"],
        columns=ds.sizes["x"],
    )


def footprint(ds: xr.Dataset) -> str:
    """The scene's corners as the manifest's footprint: "lat lon" pairs, closed."""
    rows, cols = ds.sizes["y"], ds.sizes["x"]
    corners = [(0, 0), (0, cols - 1), (rows - 1, cols - 1), (rows - 1, 0), (0, 0)]
    lat, lon = ds["latitude"], ds["longitude"]
    return " ".join(f"{float(lat[r, c]):.6f} {float(lon[r, c]):.6f}" for r, c in corners)
