"""Scenes from a gridded NetCDF time series (L3 products of any mission): one per time step.

`scene_count` and `open_scene` let a Beam job read time steps in parallel, each opening the file
and reading only its own step; `open_series` reads them all through one open file. Variables are
decoded with their own `_FillValue`/`missing_value`/`scale_factor`/`add_offset` (xarray's
mask_and_scale) to float32 NaN at gaps; `valid_min`/`valid_max` are not applied.

Each scene is named `<file stem>_<YYYYmmddTHHMMSS>` after its time (so two files with the same
stem in different folders give the same names). A file without a time dimension
(`time_dim=None`) is one scene named after its stem, timed by its `time_coverage_start`
attribute, or "" when it has none.

Only local paths are read: a gs:// URL raises `UnsupportedPathError`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from components.gridded import times
from components.gridded.config import GriddedConfig
from components.gridded.errors import (
    MissingDimensionError,
    MissingVariableError,
    SceneTimeError,
    ShapeMismatchError,
    WrongFormatError,
    local_file,
)
from components.gridded.scene import make_scene

ENGINE = "netcdf4"
COVERAGE_START = "time_coverage_start"
GEO_NAMES = {
    "latitude": ("lat", "latitude", "nav_lat"),
    "longitude": ("lon", "longitude", "nav_lon"),
}


def scene_count(path: str | os.PathLike[str], config: GriddedConfig) -> int:
    """How many scenes (time steps) the file holds; checks the file against `config`.

    Raises:
        GriddedError: a subclass naming the path and what is wrong with the file.
    """
    return len(scene_names(path, config))


def scene_names(path: str | os.PathLike[str], config: GriddedConfig) -> tuple[str, ...]:
    """The `product_name` of every scene in the file, in time-step order, without reading data.

    Raises:
        GriddedError: a subclass naming the path and what is wrong with the file.
    """
    with _opened(path) as ds:
        return _Series.of(ds, str(path), config).names


def scene_times(path: str | os.PathLike[str], config: GriddedConfig) -> tuple[str, ...]:
    """The `start_time` of every scene in the file (ISO 8601 UTC, "" when a single-scene file
    states none), in time-step order, without reading data.

    Raises:
        GriddedError: a subclass naming the path and what is wrong with the file.
    """
    with _opened(path) as ds:
        return _Series.of(ds, str(path), config).start_times


def open_scene(path: str | os.PathLike[str], config: GriddedConfig, index: int) -> xr.Dataset:
    """Scene `index` (0-based time step) of the file, read on its own.

    Returns:
        A Dataset on ("y", "x"): the configured variables as float32 (NaN at gaps), boolean
        `valid`, float32 `latitude`/`longitude` coords where the file has them, and attributes
        `product_name` and `start_time`. Its arrays are in memory; the file is closed.

    Raises:
        GriddedError: a subclass naming the path and what is wrong with the file.
        IndexError: `index` is not in [0, scene_count).
    """
    with _opened(path) as ds:
        series = _Series.of(ds, str(path), config)
        count = len(series.names)
        if not 0 <= index < count:
            raise IndexError(f"{path}: scene index {index} out of range; the file holds {count}")
        return series.scene(index)


def open_series(path: str | os.PathLike[str], config: GriddedConfig) -> Iterator[xr.Dataset]:
    """Every scene of the file in time-step order (see `open_scene`), through one open file."""
    with _opened(path) as ds:
        series = _Series.of(ds, str(path), config)
        for index in range(len(series.names)):
            yield series.scene(index)


def open_series_masked(
    path: str | os.PathLike[str], config: GriddedConfig
) -> Iterator[tuple[xr.Dataset, np.ndarray]]:
    """Every scene of the file (see `open_series`) with its mask: boolean (rows, columns), True
    where `mask_variable` marks a pixel that is never valid (land, ice); all False without one.

    Unlike `valid`, the mask tells a pixel that may never hold a value from a missing one (a
    gap), which is what a fill needs.
    """
    with _opened(path) as ds:
        series = _Series.of(ds, str(path), config)
        for index in range(len(series.names)):
            yield series.scene(index), series.masked(index)


@contextmanager
def _opened(path: str | os.PathLike[str]) -> Iterator[xr.Dataset]:
    source = str(path)
    local = local_file(source, "a NetCDF file")
    try:
        # Times are decoded by `_Series` (to report bad units as a time problem), and no
        # variable is turned into a timedelta because its units are "days" or "seconds".
        ds = xr.open_dataset(
            local, engine=ENGINE, cache=False, decode_times=False, decode_timedelta=False
        )
    except (OSError, ValueError) as err:
        raise WrongFormatError(source, f"not a readable NetCDF file ({err})") from None
    with ds:
        yield ds


@dataclass(frozen=True)
class _Series:
    """An open file checked against its config, with the name and time of every scene."""

    ds: xr.Dataset
    path: str
    config: GriddedConfig
    names: tuple[str, ...]
    start_times: tuple[str, ...]

    @classmethod
    def of(cls, ds: xr.Dataset, path: str, config: GriddedConfig) -> _Series:
        _check_grid(ds, path, config)
        stem = Path(path).stem
        if config.time_dim is None:
            start = _coverage_start(ds, path)
            start_time = "" if start is None else f"{start:{times.ISO}}"
            return cls(ds, path, config, (stem,), (start_time,))
        moments = _decoded_times(ds, path, config.time_dim)
        names = tuple(f"{stem}_{m:{times.STAMP}}" for m in moments)
        seen: dict[str, int] = {}
        for index, name in enumerate(names):
            if name in seen:
                raise SceneTimeError(
                    path,
                    f"time steps {seen[name]} and {index} both fall at {name[len(stem) + 1 :]} "
                    "(to the second), so their scene names would repeat",
                )
            seen[name] = index
        return cls(ds, path, config, names, tuple(f"{m:{times.ISO}}" for m in moments))

    def scene(self, index: int) -> xr.Dataset:
        config = self.config
        step = {} if config.time_dim is None else {config.time_dim: index}
        bands: dict[str, np.ndarray] = {}
        attrs: dict[str, dict[str, Any]] = {}
        for name in config.variables:
            array = self._grid_values(name, step)
            bands[name] = array.values
            attrs[name] = dict(array.attrs)
        masked = self.masked(index) if config.mask_variable is not None else None
        out = make_scene(
            bands,
            product_name=self.names[index],
            start_time=self.start_times[index],
            band_attrs=attrs,
            masked=masked,
            latitude=self._geo("latitude"),
            longitude=self._geo("longitude"),
        )
        out.encoding["source"] = self.path
        return out

    def masked(self, index: int) -> np.ndarray:
        """Scene `index`'s pixels that `mask_variable` marks never valid; its fill values and
        a series without a mask mark none."""
        shape = (self.ds.sizes[self.config.y_dim], self.ds.sizes[self.config.x_dim])
        if self.config.mask_variable is None:
            return np.zeros(shape, bool)
        step = {} if self.config.time_dim is None else {self.config.time_dim: index}
        mask = self._grid_values(self.config.mask_variable, step).values
        return np.isfinite(mask) & (mask != 0)

    def _grid_values(self, name: str, step: dict[str, int]) -> xr.DataArray:
        array = self.ds[name]
        if step and self.config.time_dim in array.dims:
            array = array.isel(step)
        return array.transpose(self.config.y_dim, self.config.x_dim)

    def _geo(self, standard_name: str) -> np.ndarray | None:
        y, x = self.config.y_dim, self.config.x_dim
        for name, var in self.ds.variables.items():
            named = name in GEO_NAMES[standard_name]
            if not (named or var.attrs.get("standard_name") == standard_name):
                continue
            if not var.dims or not set(var.dims) <= {y, x}:
                continue
            values = np.asarray(var.values, dtype=np.float32)
            shape = (self.ds.sizes[y], self.ds.sizes[x])
            if var.dims == (y,):
                values = values[:, None]
            elif var.dims == (x,):
                values = values[None, :]
            elif var.dims == (x, y):
                values = values.T
            return np.broadcast_to(values, shape).copy()
        return None


def _check_grid(ds: xr.Dataset, path: str, config: GriddedConfig) -> None:
    dims = {"time_dim": config.time_dim, "y_dim": config.y_dim, "x_dim": config.x_dim}
    for key, dim in dims.items():
        if dim is not None and dim not in ds.dims:
            raise MissingDimensionError(
                path, f"dimension {dim!r} ({key}) missing; the file has dimensions {tuple(ds.dims)}"
            )
    wanted = [*config.variables] + ([config.mask_variable] if config.mask_variable else [])
    missing = [name for name in wanted if name not in ds.variables]
    if missing:
        raise MissingVariableError(
            path,
            f"variable{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))} missing; "
            f"the file has {', '.join(map(repr, ds.data_vars)) or 'no data variables'}",
        )
    grid = tuple(d for d in dims.values() if d is not None)
    grid_shape = tuple(ds.sizes[d] for d in grid)
    for name in wanted:
        var = ds.variables[name]
        allowed = [set(grid)]
        if name == config.mask_variable:
            allowed.append({config.y_dim, config.x_dim})
        if set(var.dims) not in allowed or len(var.dims) != len(set(var.dims)):
            raise ShapeMismatchError(
                path,
                f"variable {name!r} has dimensions {var.dims} and shape {var.shape}, not the "
                f"scene grid's {grid} {grid_shape}",
            )


def _decoded_times(ds: xr.Dataset, path: str, time_dim: str) -> list[Any]:
    if time_dim not in ds.variables:
        raise SceneTimeError(path, f"dimension {time_dim!r} has no coordinate variable of times")
    raw = ds.variables[time_dim]
    units = raw.attrs.get("units")
    try:
        decoded = xr.decode_cf(xr.Dataset({time_dim: raw}))[time_dim].values
    except (ValueError, TypeError, OverflowError) as err:
        raise SceneTimeError(
            path, f"time coordinate {time_dim!r} (units {units!r}) cannot be decoded ({err})"
        ) from None
    moments = []
    for index, value in enumerate(decoded):
        try:
            moments.append(times.as_datetime(value))
        except TypeError as err:
            raise SceneTimeError(
                path, f"time step {index} of {time_dim!r} (units {units!r}) is not a date: {err}"
            ) from None
    return moments


def _coverage_start(ds: xr.Dataset, path: str) -> Any:
    text = ds.attrs.get(COVERAGE_START)
    if text is None:
        return None
    try:
        return times.parse_text(str(text))
    except ValueError as err:
        raise SceneTimeError(path, f"attribute {COVERAGE_START!r}: {err}") from None
