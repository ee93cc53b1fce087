"""Inputs to scenes: which scenes a matched file holds, and opening one of them.

An OLCI product or a GeoTIFF is one scene; a gridded NetCDF time series holds one scene per time
step. OLCI products are read as `IngestConfig.quantity` (ρw) whatever their collection stores,
so collections 003 (ρw) and 004 (Rrs = ρw/π) mix in one training set. Every scene is an
xarray Dataset with dims (y, x), its band variables, a boolean `valid` and attributes
`product_name` and `start_time` (see docs/architecture.md).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import rasterio
import xarray as xr

from components.example_gen.config import IngestConfig
from components.gridded import open_geotiff, scene_count
from components.gridded import open_scene as open_gridded
from components.olci import open_product
from components.olci.errors import CorruptFileError
from components.olci.format import MANIFEST
from components.olci.manifest import manifest_info
from components.olci.storage import read_product_file


@dataclass(frozen=True)
class SceneRef:
    """One scene of one input: `index` is the time step of a NetCDF series, else 0."""

    path: str
    index: int = 0

    def __str__(self) -> str:
        return self.path if self.index == 0 else f"{self.path}[{self.index}]"


def scene_refs(path: str, config: IngestConfig) -> list[SceneRef]:
    """The scenes an input file or product holds."""
    if config.kind != "netcdf":
        return [SceneRef(path)]
    count = scene_count(path, config.gridded)
    return [SceneRef(path, i) for i in range(count)]


def scene_size(path: str, config: IngestConfig) -> tuple[int, int]:
    """(rows, columns) of the scenes an input holds, read from its header alone: an OLCI
    product's manifest, a NetCDF file's dimensions, a GeoTIFF's raster size."""
    if config.kind == "olci":
        info = manifest_info(read_product_file(path, MANIFEST), f"{path}/{MANIFEST}")
        if info.rows is None or info.columns is None:
            raise CorruptFileError(f"{path}/{MANIFEST}", "the manifest states no image size")
        return info.rows, info.columns
    if config.kind == "netcdf":
        with xr.open_dataset(path, decode_times=False) as ds:  # lazy: only the header is read
            return ds.sizes[config.gridded.y_dim], ds.sizes[config.gridded.x_dim]
    with rasterio.open(path) as src:
        return src.height, src.width


def open_scene(ref: SceneRef, config: IngestConfig) -> AbstractContextManager[xr.Dataset]:
    """The scene `ref` points at, as a context manager that releases its files."""
    if config.kind == "olci":
        return open_product(ref.path, reflectance=config.quantity)
    if config.kind == "netcdf":
        return nullcontext(open_gridded(ref.path, config.gridded, ref.index))
    return nullcontext(open_geotiff(ref.path, config.bands))
