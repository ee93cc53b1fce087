"""Gridded inputs (L3 NetCDF time series, GeoTIFF stacks) read as scenes for the pipeline.

Every reader yields the scene contract of `components.gridded.scene`: a Dataset on ("y", "x")
with one float32 variable per band, a boolean `valid`, optional float32 `latitude`/`longitude`
coords and the attributes `product_name` and `start_time`.
"""

from components.gridded.config import RESERVED_NAMES, GriddedConfig
from components.gridded.errors import (
    BandNamesError,
    GriddedConfigError,
    GriddedError,
    GriddedFileNotFoundError,
    MissingDimensionError,
    MissingVariableError,
    SceneTimeError,
    ShapeMismatchError,
    UnsupportedPathError,
    WrongFormatError,
)
from components.gridded.geotiff import open_geotiff
from components.gridded.netcdf_series import (
    open_scene,
    open_series,
    open_series_masked,
    scene_count,
    scene_names,
    scene_times,
)
from components.gridded.samples import write_geotiff_stack, write_netcdf_series
from components.gridded.scene import make_scene

__all__ = [
    "RESERVED_NAMES",
    "BandNamesError",
    "GriddedConfig",
    "GriddedConfigError",
    "GriddedError",
    "GriddedFileNotFoundError",
    "MissingDimensionError",
    "MissingVariableError",
    "SceneTimeError",
    "ShapeMismatchError",
    "UnsupportedPathError",
    "WrongFormatError",
    "make_scene",
    "open_geotiff",
    "open_scene",
    "open_series",
    "open_series_masked",
    "scene_count",
    "scene_names",
    "scene_times",
    "write_geotiff_stack",
    "write_netcdf_series",
]
