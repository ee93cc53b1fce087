"""Damage that leaves a product's files openable but their values undecodable or unreadable.

Each function damages a copy of a product folder and returns the file it damaged.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import netCDF4
import numpy as np


def nan_scale_factor(p: Path) -> Path:
    target = p / "Oa05_reflectance.nc"
    with netCDF4.Dataset(target, "a") as nc:
        nc["Oa05_reflectance"].scale_factor = np.float32("nan")
    return target


def infinite_add_offset(p: Path) -> Path:
    target = p / "Oa09_reflectance.nc"
    with netCDF4.Dataset(target, "a") as nc:
        nc["Oa09_reflectance"].add_offset = np.float32("inf")
    return target


def _as_float(p: Path, fill_value: float | bool) -> Path:
    """Oa07 rewritten as float32 reflectance (`fill_value` False: without `_FillValue`)."""
    target = p / "Oa07_reflectance.nc"
    with netCDF4.Dataset(target, "a") as nc:
        old = nc["Oa07_reflectance"]
        values, units = old[:].filled(np.nan).astype(np.float32), old.units
        nc.renameVariable("Oa07_reflectance", "Oa07_packed")
        new = nc.createVariable(
            "Oa07_reflectance", "f4", ("rows", "columns"), fill_value=fill_value
        )
        new.units = units
        new[:] = values
    return target


def float_band_without_fill(p: Path) -> Path:
    return _as_float(p, False)


def float_band(p: Path) -> Path:
    return _as_float(p, np.float32("nan"))


def _fill_everywhere(target: Path, variable: str) -> Path:
    with netCDF4.Dataset(target, "a") as nc:
        var = nc[variable]
        var.set_auto_maskandscale(False)
        var[:] = var._FillValue
    return target


def all_fill_band(p: Path) -> Path:
    return _fill_everywhere(p / "Oa05_reflectance.nc", "Oa05_reflectance")


def all_fill_latitude(p: Path) -> Path:
    return _fill_everywhere(p / "geo_coordinates.nc", "latitude")


def corrupt_chunk(p: Path) -> Path:
    """Garble the middle of Oa06's first compressed chunk: the file opens, reading fails."""
    target = p / "Oa06_reflectance.nc"
    with h5py.File(target, "r") as h5:
        chunk = h5["Oa06_reflectance"].id.get_chunk_info(0)
    data = bytearray(target.read_bytes())
    middle = chunk.byte_offset + chunk.size // 2
    data[middle : middle + 16] = b"\xff" * 16
    target.write_bytes(bytes(data))
    return target
