"""`write_product`: a Dataset in the reader's layout back to an OLCI L2 WFR `.SEN3` folder.

Two ways, chosen by what the dataset carries:

- derived from a source product (`ds.encoding["source_folder"]`, as `open_product` sets it, and
  the same scene size): every file of the source is copied and the band and WQSF variables are
  overwritten in place with the dataset's values, so file names, variable names, other variables,
  attributes, chunking and compression stay exactly the source's;
- fresh (a sample scene, or a dataset without a source): every file is built from the format
  description, with the encodings the dataset's variables carry.

Either way the folder is assembled under a temporary name beside the target and committed by a
rename, so a killed writer never leaves a torn product under the final name.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import netCDF4
import numpy as np
import xarray as xr

from components.olci.errors import ProductError
from components.olci.format import (
    BANDS,
    COLUMNS,
    FILL_FILE,
    GEO_FILE,
    GEO_SCALE,
    MANIFEST,
    REFLECTANCE_QUANTITY,
    RHO_W,
    ROWS,
    RRS,
    TIE_COLUMNS,
    TIE_GEO_FILE,
    TIE_ROWS,
    TIME_FILE,
    WQSF_FILE,
    WQSF_VARIABLE,
    ProductName,
    quantity_from_units,
)
from components.olci.manifest import ManifestInfo, update_manifest, write_manifest
from components.olci.storage import is_gcs

log = logging.getLogger(__name__)

BLOCK_ROWS = 512  # rows encoded at a time, to bound memory on full scenes
CHUNK = (256, 256)  # NetCDF chunk shape of fresh files
TIE_COLUMN_STEP = 64  # OLCI FR tie points: every 64th column, every row
INT32_FILL = np.int32(-2147483648)
TIME_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def write_product(ds: xr.Dataset, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write `ds` as a `.SEN3` product folder at `path` and return it.

    Args:
        ds: a dataset in `open_product`'s layout (bands that are absent are carried from the
            source product when there is one). An optional boolean `filled` variable, and
            `<band>_uncertainty` float32 variables, go into the fill-description file.
        path: the target folder, conventionally `<product name>.SEN3`.
        overwrite: replace an existing folder at `path`.

    Raises:
        FileExistsError: `path` exists and `overwrite` is False.
        ProductError: the dataset lacks what the product needs.
    """
    if is_gcs(path):
        raise ValueError(f"{path}: write_product writes local folders; copy the result to gs://")
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target}: exists (pass overwrite=True to replace it)")
    source = _source_folder(ds)
    _check(ds, target, has_source=source is not None)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        if source is not None:
            _write_derived(ds, source, tmp)
        else:
            _write_fresh(ds, tmp)
        _write_fill_description(ds, tmp)
        if source is not None and (source / MANIFEST).is_file():
            update_manifest(source / MANIFEST, tmp)
        else:
            write_manifest(tmp, _manifest_info(ds), _footprint(ds))
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _check(ds: xr.Dataset, target: Path, has_source: bool) -> None:
    if tuple(ds.sizes) and set(ds.sizes) != {"y", "x"}:
        raise ProductError(target, f"dataset dims are {tuple(ds.sizes)}, expected ('y', 'x')")
    if "wqsf" not in ds:
        raise ProductError(target, "dataset has no 'wqsf' variable")
    if not has_source:
        missing = [b.name for b in BANDS if b.name not in ds]
        if missing:
            raise ProductError(target, f"dataset lacks bands {missing} and has no source product")
        for coord in ("latitude", "longitude"):
            if coord not in ds.coords:
                raise ProductError(target, f"dataset has no {coord!r} coordinate")


def _source_folder(ds: xr.Dataset) -> Path | None:
    source = ds.encoding.get("source_folder")
    if not source or not Path(source).is_dir():
        return None
    folder = Path(source)
    with netCDF4.Dataset(folder / WQSF_FILE) as nc:
        shape = (nc.dimensions[ROWS].size, nc.dimensions[COLUMNS].size)
    if shape != (ds.sizes["y"], ds.sizes["x"]):
        log.warning("%s: source shape %s differs from the dataset's; writing afresh", folder, shape)
        return None
    return folder


def _file_quantity(nc_var: Any, collection: str) -> str:
    units = str(getattr(nc_var, "units", ""))
    return quantity_from_units(units) or REFLECTANCE_QUANTITY.get(collection, RHO_W)


def _as_quantity(values: np.ndarray, have: str, want: str) -> np.ndarray:
    if have == want:
        return values
    return values / np.pi if want == RRS else values * np.pi


def _encode(values: np.ndarray, scale: float, offset: float, fill: int, dtype) -> np.ndarray:
    """Physical values -> packed integers (rounded; NaN -> fill; out of range -> clipped)."""
    info = np.iinfo(dtype)
    packed = np.rint((values.astype(np.float64) - offset) / scale)
    nan = np.isnan(packed)
    low, high = info.min, info.max
    if fill == info.max:
        high -= 1
    elif fill == info.min:
        low += 1
    clipped = np.count_nonzero((packed < low) | (packed > high))
    if clipped:
        log.warning("%d values outside the encodable range were clipped", clipped)
    packed = np.clip(np.where(nan, 0, packed), low, high).astype(dtype)
    packed[nan] = fill
    return packed


def _blocks(n_rows: int):
    for start in range(0, n_rows, BLOCK_ROWS):
        yield slice(start, min(start + BLOCK_ROWS, n_rows))


def _write_band(nc_var: Any, data: xr.DataArray, have: str, want: str) -> None:
    nc_var.set_auto_maskandscale(False)
    scale = float(getattr(nc_var, "scale_factor", 1.0))
    offset = float(getattr(nc_var, "add_offset", 0.0))
    fill = int(nc_var._FillValue)
    for rows in _blocks(data.shape[0]):
        values = _as_quantity(np.asarray(data[rows].values, dtype=np.float32), have, want)
        nc_var[rows, :] = _encode(values, scale, offset, fill, nc_var.dtype)


def _write_flags(nc_var: Any, data: xr.DataArray) -> None:
    nc_var.set_auto_maskandscale(False)
    for rows in _blocks(data.shape[0]):
        nc_var[rows, :] = np.asarray(data[rows].values).astype(nc_var.dtype)


def _write_derived(ds: xr.Dataset, source: Path, tmp: Path) -> None:
    for item in source.iterdir():
        if item.name != MANIFEST and item.name != FILL_FILE and item.is_file():
            shutil.copy2(item, tmp / item.name)
    have = ds.attrs.get("reflectance", RHO_W)
    collection = ds.attrs.get("collection", "003")
    for band in BANDS:
        if band.name not in ds:
            continue
        with netCDF4.Dataset(tmp / band.file_name, "a") as nc:
            var = nc.variables[band.variable]
            _write_band(var, ds[band.name], have, _file_quantity(var, collection))
    with netCDF4.Dataset(tmp / WQSF_FILE, "a") as nc:
        _write_flags(nc.variables[WQSF_VARIABLE], ds["wqsf"])


# --- fresh products -----------------------------------------------------------------------------


def _global_attrs(ds: xr.Dataset, title: str) -> dict[str, str]:
    return {
        "title": title,
        "product_name": ds.attrs.get("product_name", ""),
        "product_type": ds.attrs.get("product_type", "OL_2_WFR___"),
        "platform": ds.attrs.get("platform", ""),
        "start_time": ds.attrs.get("start_time", ""),
        "stop_time": ds.attrs.get("stop_time", ""),
        "baseline_collection": ds.attrs.get("collection", ""),
        "institution": "s3inpaint",
        "Conventions": "CF-1.6",
    }


def _new_file(path: Path, ds: xr.Dataset, title: str, dims: dict[str, int]) -> netCDF4.Dataset:
    nc = netCDF4.Dataset(path, "w", format="NETCDF4")
    nc.setncatts(_global_attrs(ds, title))
    for name, size in dims.items():
        nc.createDimension(name, size)
    return nc


def _packed_var(nc, name: str, dims, dtype, fill, attrs: dict[str, Any]) -> Any:
    chunks = [min(c, nc.dimensions[d].size) for c, d in zip(CHUNK, dims, strict=True)]
    var = nc.createVariable(
        name, dtype, dims, zlib=True, complevel=4, shuffle=True, fill_value=fill, chunksizes=chunks
    )
    var.setncatts(attrs)
    return var


def _write_fresh(ds: xr.Dataset, tmp: Path) -> None:
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
        with _new_file(
            tmp / band.file_name, ds, f"OLCI Level 2 {band.name} reflectance", grid
        ) as nc:
            dtype = np.dtype(enc.get("dtype", "uint16"))
            var = _packed_var(nc, band.variable, (ROWS, COLUMNS), dtype, enc["_FillValue"], attrs)
            _write_band(var, data, have, want)

    wqsf = ds["wqsf"]
    with _new_file(tmp / WQSF_FILE, ds, "OLCI Level 2 water quality and science flags", grid) as nc:
        attrs = {"long_name": "Water quality and science flags", **dict(wqsf.attrs)}
        var = _packed_var(nc, WQSF_VARIABLE, (ROWS, COLUMNS), np.uint64, None, attrs)
        _write_flags(var, wqsf)

    geo_attrs = {
        "latitude": {"units": "degrees_north", "standard_name": "latitude",
                     "long_name": "DEM corrected latitude"},
        "longitude": {"units": "degrees_east", "standard_name": "longitude",
                      "long_name": "DEM corrected longitude"},
    }  # fmt: skip
    with _new_file(tmp / GEO_FILE, ds, "OLCI Level 2 geo coordinates", grid) as nc:
        for name, attrs in geo_attrs.items():
            attrs = {**attrs, "scale_factor": GEO_SCALE, "add_offset": 0.0}
            var = _packed_var(nc, name, (ROWS, COLUMNS), np.int32, INT32_FILL, attrs)
            _write_band(var, ds[name], RHO_W, RHO_W)

    tie_cols = (cols - 1) // TIE_COLUMN_STEP + 1
    tie = {TIE_ROWS: rows, TIE_COLUMNS: tie_cols}
    with _new_file(tmp / TIE_GEO_FILE, ds, "OLCI Level 2 tie-point geo coordinates", tie) as nc:
        nc.setncatts({"ac_subsampling_factor": TIE_COLUMN_STEP, "al_subsampling_factor": 1})
        for name, attrs in geo_attrs.items():
            attrs = {**attrs, "scale_factor": GEO_SCALE, "add_offset": 0.0}
            var = _packed_var(nc, name, (TIE_ROWS, TIE_COLUMNS), np.int32, INT32_FILL, attrs)
            var.set_auto_maskandscale(False)
            values = ds[name][:, ::TIE_COLUMN_STEP].values.astype(np.float64)
            var[:, :] = np.rint(values / GEO_SCALE).astype(np.int32)

    with _new_file(tmp / TIME_FILE, ds, "OLCI Level 2 time coordinates", {ROWS: rows}) as nc:
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


def _manifest_info(ds: xr.Dataset) -> ManifestInfo:
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


def _footprint(ds: xr.Dataset) -> str:
    rows, cols = ds.sizes["y"], ds.sizes["x"]
    corners = [(0, 0), (0, cols - 1), (rows - 1, cols - 1), (rows - 1, 0), (0, 0)]
    lat, lon = ds["latitude"], ds["longitude"]
    return " ".join(f"{float(lat[r, c]):.6f} {float(lon[r, c]):.6f}" for r, c in corners)


def _write_fill_description(ds: xr.Dataset, tmp: Path) -> None:
    extra = [b.name + "_uncertainty" for b in BANDS if b.name + "_uncertainty" in ds]
    if "filled" not in ds and not extra:
        return
    grid = {ROWS: ds.sizes["y"], COLUMNS: ds.sizes["x"]}
    with _new_file(tmp / FILL_FILE, ds, "s3inpaint gap-fill description", grid) as nc:
        if "filled" in ds:
            var = _packed_var(nc, "filled", (ROWS, COLUMNS), np.uint8, None, {
                "long_name": "pixel value filled by s3inpaint",
                "flag_values": np.array([0, 1], dtype=np.uint8),
                "flag_meanings": "observed filled",
            })  # fmt: skip
            _write_flags(var, ds["filled"])
        for name in extra:
            attrs = {k: v for k, v in ds[name].attrs.items() if k != "_FillValue"}
            var = _packed_var(nc, name, (ROWS, COLUMNS), np.float32, np.float32(np.nan), attrs)
            for rows in _blocks(ds.sizes["y"]):
                var[rows, :] = np.asarray(ds[name][rows].values, dtype=np.float32)
