"""Write the fill of a gridded NetCDF series into a copy of it, scene by scene.

The output is the source file itself, copied byte for byte, so its dimensions, coordinates,
attributes, encodings (packing, fill values, chunking, compression) and CF metadata stay the
source's; only the gaps of the filled variables are overwritten, in the variable's own stored
type (packed with its `scale_factor` / `add_offset`, clipped to what it can hold). Beside them:

- `filled`, one bit per filled variable (`flag_masks` / `flag_values` 1, 2, 4, ... and
  `flag_meanings` "<var>_filled ..."): the bit is set where that variable was a gap and now
  holds the model's fill, so a pixel where one variable was observed and another missing says
  exactly which was filled;
- `<var>_uncertainty` (when the model gives one): the fill's standard deviation in the
  variable's units at its filled pixels, NaN elsewhere (`standard_name` "<name> standard_error");
- each filled variable's `ancillary_variables` names both; the global `history` gains a line.

The copy is written as `.<name>.tmp-<id>` beside the target and renamed into place by
`commit()`, so a killed writer never leaves a file under the target's name.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from types import TracebackType
from typing import Any

import netCDF4
import numpy as np

from components.gridded.config import GriddedConfig
from components.gridded.errors import GriddedError
from components.olci.commit import temp_name

log = logging.getLogger(__name__)

FLAG = "filled"
UNCERTAINTY_SUFFIX = "_uncertainty"
FLAG_TYPES = (np.int8, np.int16, np.int32)  # signed: NetCDF-3 files have no unsigned types


def uncertainty_name(variable: str) -> str:
    return variable + UNCERTAINTY_SUFFIX


class SeriesWriter:
    """Fill a copy of `source` scene by scene and commit it as `target` (both local).

    Use as a context manager: leaving the block on an exception removes the temporary copy.

    Args:
        source: the NetCDF series that was filled.
        target: the file to write (its folder is created).
        layout: the series' layout; its `variables` are the filled ones, in the order of the
            values given to `write_scene`.
        uncertainty: write `<var>_uncertainty` too.
        history: the line added to the global `history` attribute.
    """

    def __init__(self, source: Path, target: Path, layout: GriddedConfig, *, uncertainty: bool,
                 history: str) -> None:  # fmt: skip
        self.source, self.target, self.layout = Path(source), Path(target), layout
        self.uncertainty = uncertainty
        self.history = history
        self.temporary = temp_name(self.target)
        self._nc: Any = None

    def __enter__(self) -> SeriesWriter:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.source, self.temporary)
        try:
            self._nc = netCDF4.Dataset(self.temporary, "r+")
            self._add_variables()
        except BaseException:
            self._discard()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:  # fmt: skip
        if kind is not None:
            self._discard()

    def _discard(self) -> None:
        if self._nc is not None and self._nc.isopen():
            self._nc.close()
        self.temporary.unlink(missing_ok=True)

    def _add_variables(self) -> None:
        nc, variables = self._nc, self.layout.variables
        new = [FLAG] + [uncertainty_name(v) for v in variables] * self.uncertainty
        if clashing := [name for name in new if name in nc.variables]:
            raise GriddedError(self.source, f"already has the variable(s) {clashing} that the "
                               "fill would add (was it filled before?)")  # fmt: skip
        template = nc.variables[variables[0]]
        storage = _storage(nc, template, self.layout.time_dim)
        flag_type = next(t for t in FLAG_TYPES if len(variables) < 8 * np.dtype(t).itemsize)
        bits = np.array([1 << i for i in range(len(variables))], flag_type)
        flag = nc.createVariable(FLAG, flag_type, template.dimensions, **storage)
        flag.setncatts({
            "long_name": "gaps filled by s3inpaint",
            "flag_masks": bits,
            "flag_values": bits,
            "flag_meanings": " ".join(f"{v}_filled" for v in variables),
            "comment": "a bit is set where its variable was a gap (missing, not masked) and "
                       "holds the model's fill; 0 where nothing was filled",
            **_located(template),
        })  # fmt: skip
        for name in variables:
            var = nc.variables[name]
            ancillary = [FLAG] + [uncertainty_name(name)] * self.uncertainty
            if "ancillary_variables" in var.ncattrs():
                ancillary.insert(0, var.getncattr("ancillary_variables"))
            var.setncattr("ancillary_variables", " ".join(ancillary))
            if not self.uncertainty:
                continue
            sigma = nc.createVariable(uncertainty_name(name), np.float32, var.dimensions,
                                      fill_value=np.float32(np.nan), **storage)  # fmt: skip
            attrs = {"long_name": f"uncertainty (one standard deviation) of the filled {name}",
                     "comment": f"NaN where {name} was not filled"}  # fmt: skip
            if "standard_name" in var.ncattrs():
                attrs["standard_name"] = f"{var.getncattr('standard_name')} standard_error"
            if "units" in var.ncattrs():
                attrs["units"] = var.getncattr("units")
            sigma.setncatts({**attrs, **_located(var)})
        history = nc.getncattr("history") + "\n" if "history" in nc.ncattrs() else ""
        nc.setncattr("history", history + self.history)

    def write_scene(self, index: int, mask: np.ndarray, values: np.ndarray) -> int:
        """Write scene `index`'s fill; return how many pixels had a variable filled.

        Args:
            index: the time step (0 for a file without a time dimension).
            mask: (rows, columns) bool, the pixels the fill covers.
            values: (mask.sum(), channels) float32: the filled variables in layout order, then
                (with `uncertainty`) their standard deviations. A variable is written only where
                it is missing, so values it holds stay bit-exact.
        """
        nc, variables = self._nc, self.layout.variables
        flags = np.zeros(mask.shape, nc.variables[FLAG].dtype)
        full = np.full((*mask.shape, values.shape[-1]), np.nan, np.float32)
        full[mask] = values
        for i, name in enumerate(variables):
            var = nc.variables[name]
            var.set_auto_maskandscale(False)
            index_, transposed = self._index(var, index)
            stored = np.array(var[index_])
            stored = stored.T if transposed else stored
            fill = full[..., i]
            todo = mask & missing(stored, var) & np.isfinite(fill)
            if not todo.any():
                continue
            stored[todo] = encode(fill[todo], var)
            var[index_] = stored.T if transposed else stored
            flags[todo] |= 1 << i
            if self.uncertainty:
                sigma = np.full(mask.shape, np.nan, np.float32)
                sigma[todo] = full[..., len(variables) + i][todo]
                nc.variables[uncertainty_name(name)][index_] = sigma.T if transposed else sigma
        flag = nc.variables[FLAG]
        index_, transposed = self._index(flag, index)
        flag[index_] = flags.T if transposed else flags
        return int(np.count_nonzero(flags))

    def _index(self, var: Any, scene: int) -> tuple[tuple, bool]:
        """(the index of scene `scene` in `var`, whether its (y, x) are stored as (x, y))."""
        layout = self.layout
        index = tuple(scene if d == layout.time_dim else slice(None) for d in var.dimensions)
        grid = [d for d in var.dimensions if d != layout.time_dim]
        return index, grid == [layout.x_dim, layout.y_dim]

    def commit(self) -> Path:
        """Close the copy and rename it to the target (replacing one that exists)."""
        self._nc.close()
        os.replace(self.temporary, self.target)
        return self.target


def missing(stored: np.ndarray, var: Any) -> np.ndarray:
    """Where stored values are missing as xarray's CF decoding reads them: NaN, `_FillValue`,
    `missing_value`."""
    out = np.isnan(stored) if stored.dtype.kind == "f" else np.zeros(stored.shape, bool)
    for attr in ("_FillValue", "missing_value"):
        if attr in var.ncattrs():
            out |= np.isin(stored, np.atleast_1d(var.getncattr(attr)))
    return out


def encode(values: np.ndarray, var: Any) -> np.ndarray:
    """Physical `values` in `var`'s stored type: packed with its scale and offset, rounded for
    integers, clipped to its valid range and its type's range (never onto a fill value)."""
    attrs = var.ncattrs()
    scale = float(var.getncattr("scale_factor")) if "scale_factor" in attrs else 1.0
    offset = float(var.getncattr("add_offset")) if "add_offset" in attrs else 0.0
    packed = (values.astype(np.float64) - offset) / scale
    dtype = var.dtype
    low, high = -np.inf, np.inf
    if dtype.kind in "iu":
        packed = np.rint(packed)
        low, high = float(np.iinfo(dtype).min), float(np.iinfo(dtype).max)
        fills = [float(v) for a in ("_FillValue", "missing_value") if a in attrs
                 for v in np.atleast_1d(var.getncattr(a))]  # fmt: skip
        low += low in fills
        high -= high in fills
    if "valid_range" in attrs:
        valid_low, valid_high = (float(v) for v in var.getncattr("valid_range"))
        low, high = max(low, valid_low), min(high, valid_high)
    if "valid_min" in attrs:
        low = max(low, float(var.getncattr("valid_min")))
    if "valid_max" in attrs:
        high = min(high, float(var.getncattr("valid_max")))
    clipped = int(np.count_nonzero((packed < low) | (packed > high)))
    if clipped:
        log.warning("%s: %d filled values clipped to what the variable can hold", var.name,
                    clipped)  # fmt: skip
    return np.clip(packed, low, high).astype(dtype)


def _storage(nc: Any, template: Any, time_dim: str | None) -> dict[str, Any]:
    """Chunking and compression for a new variable shaped like `template` (NetCDF-4 only)."""
    if not nc.data_model.startswith("NETCDF4"):
        return {}
    chunks = template.chunking()
    if chunks == "contiguous":  # one scene per chunk, so a scene is written in one piece
        dims = zip(template.dimensions, template.shape, strict=True)
        chunks = [1 if d == time_dim else max(n, 1) for d, n in dims]
    return {"compression": "zlib", "complevel": 4, "shuffle": True, "chunksizes": chunks}


def _located(var: Any) -> dict[str, Any]:
    """The attributes that place `var`'s values (coordinates, grid mapping), to copy."""
    return {a: var.getncattr(a) for a in ("coordinates", "grid_mapping") if a in var.ncattrs()}
