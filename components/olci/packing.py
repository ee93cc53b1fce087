"""How OLCI files store physical values: packed integers (scale, offset, fill value) in
compressed, chunked NetCDF-4 variables, written a block of rows at a time."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import netCDF4
import numpy as np
import xarray as xr

from components.olci.format import REFLECTANCE_QUANTITY, RHO_W, RRS, quantity_from_units

log = logging.getLogger(__name__)

BLOCK_ROWS = 512  # rows encoded at a time, to bound memory on full scenes
CHUNK = (256, 256)  # NetCDF chunk shape of new files


def row_blocks(n_rows: int) -> Iterator[slice]:
    """Slices of `BLOCK_ROWS` rows covering `n_rows`."""
    for start in range(0, n_rows, BLOCK_ROWS):
        yield slice(start, min(start + BLOCK_ROWS, n_rows))


def file_quantity(nc_var: Any, collection: str) -> str:
    """The reflectance quantity (ρw or Rrs) a band variable stores: its units say, else its
    collection's convention."""
    units = str(getattr(nc_var, "units", ""))
    return quantity_from_units(units) or REFLECTANCE_QUANTITY.get(collection, RHO_W)


def as_quantity(values: np.ndarray, have: str, want: str) -> np.ndarray:
    """Reflectance `values` in quantity `have` converted to `want` (Rrs = ρw / π)."""
    if have == want:
        return values
    return values / np.pi if want == RRS else values * np.pi


def encode(values: np.ndarray, scale: float, offset: float, fill: int, dtype) -> np.ndarray:
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


@dataclass(frozen=True)
class Packing:
    """How a file stores a physical variable: integer type, scale, offset, fill and quantity."""

    dtype: np.dtype
    scale: float
    offset: float
    fill: int
    quantity: str

    @classmethod
    def of(cls, nc_var: Any, quantity: str) -> Packing:
        return cls(
            dtype=nc_var.dtype,
            scale=float(getattr(nc_var, "scale_factor", 1.0)),
            offset=float(getattr(nc_var, "add_offset", 0.0)),
            fill=int(nc_var._FillValue),
            quantity=quantity,
        )

    def pack(self, values: np.ndarray, have: str) -> np.ndarray:
        """`values` (float32, as quantity `have`) -> the integers the file stores."""
        values = as_quantity(values, have, self.quantity)
        return encode(values, self.scale, self.offset, self.fill, self.dtype)


def global_attrs(ds: xr.Dataset, title: str) -> dict[str, str]:
    """The global attributes of a new file of the product `ds`."""
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


def new_file(path: Path, ds: xr.Dataset, title: str, dims: dict[str, int]) -> netCDF4.Dataset:
    """A new NetCDF-4 file of the product `ds` with `dims`, open for writing."""
    nc = netCDF4.Dataset(path, "w", format="NETCDF4")
    nc.setncatts(global_attrs(ds, title))
    for name, size in dims.items():
        nc.createDimension(name, size)
    return nc


def packed_var(nc, name: str, dims, dtype, fill, attrs: dict[str, Any]) -> Any:
    """A new compressed variable of `CHUNK`-sized chunks (cut to the dimensions)."""
    chunks = [min(c, nc.dimensions[d].size) for c, d in zip(CHUNK, dims, strict=True)]
    var = nc.createVariable(
        name, dtype, dims, zlib=True, complevel=4, shuffle=True, fill_value=fill, chunksizes=chunks
    )
    var.setncatts(attrs)
    return var
