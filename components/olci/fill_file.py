"""The fill description beside a filled product's bands (`s3inpaint_fill.nc`): a per-pixel
`filled` flag and, where the model gives one, each band's `<band>_uncertainty`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import netCDF4
import numpy as np
import xarray as xr

from components.olci.format import (
    BAND_NAMES,
    COLUMNS,
    FILL_FILE,
    REFLECTANCE_UNITS,
    RHO_W,
    ROWS,
)
from components.olci.packing import new_file, packed_var, row_blocks

FILLED = "filled"
FILLED_ATTRS = {
    "long_name": "pixel value filled by s3inpaint",
    "flag_values": np.array([0, 1], dtype=np.uint8),
    "flag_meanings": "observed filled",
}


def uncertainty_bands(ds: xr.Dataset) -> list[str]:
    """The bands whose `<band>_uncertainty` the dataset has."""
    return [name for name in BAND_NAMES if f"{name}_uncertainty" in ds]


def create_fill_file(folder: Path, ds: xr.Dataset, filled: bool, bands: Sequence[str]) -> None:
    """Create the fill description with `filled` all 0 and `<band>_uncertainty` all NaN."""
    grid = {ROWS: ds.sizes["y"], COLUMNS: ds.sizes["x"]}
    with new_file(folder / FILL_FILE, ds, "s3inpaint gap-fill description", grid) as nc:
        if filled:
            var = packed_var(nc, FILLED, (ROWS, COLUMNS), np.uint8, None, FILLED_ATTRS)
            for rows in row_blocks(grid[ROWS]):
                var[rows, :] = 0
        for band in bands:
            name = f"{band}_uncertainty"
            if name in ds:
                attrs = {k: v for k, v in ds[name].attrs.items() if k != "_FillValue"}
            else:
                attrs = {
                    "long_name": f"uncertainty of the filled {band} reflectance",
                    "units": REFLECTANCE_UNITS[ds.attrs.get("reflectance", RHO_W)],
                }
            # Chunks never written read as the fill value: NaN, without writing it.
            packed_var(nc, name, (ROWS, COLUMNS), np.float32, np.float32(np.nan), attrs)


def write_fill_description(ds: xr.Dataset, folder: Path) -> None:
    """Write the dataset's `filled` and `<band>_uncertainty` variables, if any, into `folder`."""
    bands = uncertainty_bands(ds)
    filled = FILLED in ds
    if not filled and not bands:
        return
    create_fill_file(folder, ds, filled, bands)
    for rows in row_blocks(ds.sizes["y"]):
        block = ds.isel(y=rows)
        _write_fill_rows(
            folder / FILL_FILE,
            rows,
            block[FILLED].values if filled else None,
            {band: block[f"{band}_uncertainty"].values for band in bands},
        )


def _write_fill_rows(
    path: Path, rows: slice, filled: np.ndarray | None, uncertainty: Mapping[str, np.ndarray]
) -> None:
    with netCDF4.Dataset(path, "a") as nc:
        if filled is not None:
            nc.variables[FILLED][rows, :] = np.asarray(filled, dtype=np.uint8)
        for band, values in uncertainty.items():
            nc.variables[f"{band}_uncertainty"][rows, :] = np.asarray(values, dtype=np.float32)
