"""Write a Dataset in the reader's layout back to an OLCI L2 WFR `.SEN3` folder.

`write_product` writes a whole dataset, one of two ways, chosen by what the dataset carries:

- derived from a source product (`ds.encoding["source_folder"]`, as `open_product` sets it, and
  the same scene size): through a `ProductWriter`, which copies every file of the source and
  overwrites the band and WQSF variables in place, so file names, variable names, other variables,
  attributes, chunking and compression stay exactly the source's;
- fresh (a sample scene, or a dataset without a source): every file is built from the format
  description, with the encodings the dataset's variables carry.

`ProductWriter` also serves jobs that compute a scene row block by row block and never hold it
whole. Either way the folder is assembled under a temporary name beside the target and committed
by a rename, so a killed writer leaves a temporary folder (see `remove_stale_temporaries`), never a
torn product under the final name.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import netCDF4
import numpy as np
import xarray as xr

from components.olci.errors import ProductError
from components.olci.format import (
    BAND_NAMES,
    BANDS,
    BANDS_BY_NAME,
    COLUMNS,
    FILL_FILE,
    GEO_FILE,
    GEO_SCALE,
    MANIFEST,
    REFLECTANCE_QUANTITY,
    REFLECTANCE_UNITS,
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
TEMP_MARK = ".tmp-"  # in the names of folders being written: .<target name>.tmp-<uuid>
CACHE_SLOTS = 1009  # hash slots of a capped chunk cache: a prime well above the chunks it holds
FILLED = "filled"
FILLED_ATTRS = {
    "long_name": "pixel value filled by s3inpaint",
    "flag_values": np.array([0, 1], dtype=np.uint8),
    "flag_meanings": "observed filled",
}


def write_product(ds: xr.Dataset, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write `ds` as a `.SEN3` product folder at `path` and return it.

    Args:
        ds: a dataset in `open_product`'s layout (bands that are absent are carried from the
            source product when there is one). An optional boolean `filled` variable, and
            `<band>_uncertainty` float32 variables, go into the fill-description file.
        path: the target folder, conventionally `<product name>.SEN3`.
        overwrite: replace an existing folder at `path`.

    Raises:
        ValueError: `path` is a gs:// URL.
        FileExistsError: `path` exists and `overwrite` is False.
        ProductError: the dataset lacks what the product needs.
    """
    target = _target(path, overwrite)
    source = _source_folder(ds)
    _check(ds, target, has_source=source is not None)
    if source is not None:
        return _write_derived(ds, target, overwrite)
    tmp = _temp_folder(target)
    try:
        _write_fresh(ds, tmp)
        _write_fill_description(ds, tmp)
        write_manifest(tmp, _manifest_info(ds), _footprint(ds))
        _rename_into_place(tmp, target, overwrite)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


class ProductWriter:
    """Writes a product derived from a source product, row block by row block.

    The product is assembled in a temporary folder beside the target that starts as a copy of the
    source's files, so rows and bands never written keep the source's stored integers bit for bit.
    The fill-description file (`s3inpaint_fill.nc`) is created up front, `filled` all 0 and the
    uncertainties all NaN. `commit()` lists every file in the manifest with its size and MD5 and
    renames the folder to the target. As a context manager, an exception inside the `with` block
    aborts (removes the temporary folder); committing is the caller's job.

    The files stay open between `write_rows` calls, each variable with a chunk cache of two chunk
    rows, so blocks of any height cost about the same and memory stays a few blocks' worth.

    Attributes:
        target: the product folder that `commit()` makes.
        shape: (rows, columns) of the scene.
        filled: whether the fill description has a `filled` flag.
        uncertainty: the bands whose `<band>_uncertainty` the fill description has.

    Example:
        with open_product(src) as ds, ProductWriter(ds, out, uncertainty=True) as writer:
            for rows, bands, filled, sigma in blocks:
                writer.write_rows(rows, bands, filled, sigma)
            writer.commit()
    """

    def __init__(
        self,
        source: xr.Dataset,
        path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        filled: bool = True,
        uncertainty: bool | Sequence[str] = False,
    ) -> None:
        """Check the arguments and start the temporary folder.

        Args:
            source: the source product, as `open_product` opened it from any location (its local
                folder must stay until the constructor returns). Band values passed to
                `write_rows` are in its reflectance quantity (`source.attrs["reflectance"]`).
            path: the target folder, local, conventionally `<product name>.SEN3`.
            overwrite: replace an existing folder at `path` on commit.
            filled: keep a per-pixel `filled` flag in the fill description.
            uncertainty: keep `<band>_uncertainty` in the fill description: True for every band,
                or the band names. Attributes come from the source's `<band>_uncertainty`
                variables where it has them.

        Raises:
            ValueError: `path` is a gs:// URL, or `uncertainty` names an unknown band.
            FileExistsError: `path` exists and `overwrite` is False.
            ProductError: `source` has no local source product of its own size.
        """
        self.target = _target(path, overwrite)
        folder = _source_folder(source)
        if folder is None:
            raise ProductError(
                self.target,
                "the source dataset has no local product folder of its size (see open_product)",
            )
        bands = BAND_NAMES if uncertainty is True else tuple(uncertainty or ())
        unknown = sorted(set(bands) - set(BAND_NAMES))
        if unknown:
            raise ValueError(f"uncertainty names unknown bands {unknown}; bands are {BAND_NAMES}")
        self.shape = (source.sizes["y"], source.sizes["x"])
        self.uncertainty = bands
        self.filled = filled
        self._overwrite = overwrite
        self._have = source.attrs.get("reflectance", RHO_W)
        self._state = "open"
        self._files: dict[str, netCDF4.Dataset] = {}
        self._tmp = _temp_folder(self.target)
        try:
            self._packing = _copy_source(folder, self._tmp, source)
            if filled or bands:
                _create_fill_file(self._tmp, source, filled, bands)
            if not (self._tmp / MANIFEST).is_file():  # commit completes it like a source's own
                write_manifest(self._tmp, _manifest_info(source), _footprint(source))
        except BaseException:
            self.abort()
            raise

    def __enter__(self) -> ProductWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.abort()
        else:
            self._close()

    def write_rows(
        self,
        rows: slice,
        bands: Mapping[str, np.ndarray],
        filled: np.ndarray | None = None,
        uncertainty: Mapping[str, np.ndarray] | None = None,
        *,
        wqsf: np.ndarray | None = None,
    ) -> None:
        """Store the values of rows `rows` (of the whole scene); what is not passed is kept.

        Every array is (rows, columns) of the scene's width. All arguments are checked before
        anything is written.

        Args:
            rows: `slice(start, stop)` of scene rows.
            bands: band name -> float32 reflectance in the source's quantity, NaN where missing.
            filled: True where a value was filled; None keeps the flags of these rows.
            uncertainty: band name -> float32 uncertainty, for bands the writer was made for.
            wqsf: integer flags to store instead of the source's.

        Raises:
            ValueError: a bad row range, band name or array shape, naming it.
            RuntimeError: the writer was already committed or aborted.
        """
        self._check_open()
        uncertainty = uncertainty or {}
        block = self._block(rows)
        for name in bands:
            if name not in BANDS_BY_NAME:
                raise ValueError(f"unknown band {name!r}; bands are {BAND_NAMES}")
        for name in uncertainty:
            if name not in self.uncertainty:
                raise ValueError(f"{self.target}: no uncertainty kept for band {name!r}")
        if filled is not None and not self.filled:
            raise ValueError(f"{self.target}: the writer was made without a 'filled' flag")
        named = {**bands, **{f"{b}_uncertainty": v for b, v in uncertainty.items()}}
        if filled is not None:
            named[FILLED] = filled
        if wqsf is not None:
            named["wqsf"] = wqsf
        expected = (block.stop - block.start, self.shape[1])
        for name, values in named.items():
            if np.shape(values) != expected:
                raise ValueError(
                    f"{name}: shape {np.shape(values)}, expected {expected} for rows "
                    f"{block.start}:{block.stop}"
                )

        for name, values in bands.items():
            band = BANDS_BY_NAME[name]
            packed = self._packing[name].pack(np.asarray(values, dtype=np.float32), self._have)
            self._file(band.file_name).variables[band.variable][block, :] = packed
        if wqsf is not None:
            var = self._file(WQSF_FILE).variables[WQSF_VARIABLE]
            var[block, :] = np.asarray(wqsf).astype(var.dtype, copy=False)
        if filled is not None:
            self._file(FILL_FILE).variables[FILLED][block, :] = np.asarray(filled, np.uint8)
        for name, values in uncertainty.items():
            var = self._file(FILL_FILE).variables[f"{name}_uncertainty"]
            var[block, :] = np.asarray(values, dtype=np.float32)

    def commit(self) -> Path:
        """Complete the manifest (sizes and MD5s) and rename the folder to the target.

        Raises:
            FileExistsError: the target appeared meanwhile and `overwrite` is False.
            RuntimeError: the writer was already committed or aborted.
        """
        self._check_open()
        self._close()
        update_manifest(self._tmp / MANIFEST, self._tmp)
        _rename_into_place(self._tmp, self.target, self._overwrite)
        self._state = "committed"
        return self.target

    def abort(self) -> None:
        """Remove the temporary folder, leaving the target as it was; nothing after a commit."""
        if self._state == "open":
            self._close()
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._state = "aborted"

    def _file(self, name: str) -> netCDF4.Dataset:
        """The file `name` of the temporary folder, opened on first use and kept open."""
        if name not in self._files:
            nc = netCDF4.Dataset(self._tmp / name, "a")
            nc.set_auto_maskandscale(False)
            for var in nc.variables.values():
                if var.ndim == 2 and var.chunking() != "contiguous":
                    var.set_var_chunk_cache(size=_chunk_cache_bytes(var), nelems=CACHE_SLOTS)
            self._files[name] = nc
        return self._files[name]

    def _close(self) -> None:
        while self._files:
            self._files.popitem()[1].close()

    def _check_open(self) -> None:
        if self._state != "open":
            raise RuntimeError(f"{self.target}: the writer is {self._state}")

    def _block(self, rows: slice) -> slice:
        start, stop, step = rows.start, rows.stop, rows.step
        height = self.shape[0]
        integers = (int, np.integer)
        if not (isinstance(start, integers) and isinstance(stop, integers) and step in (None, 1)):
            raise ValueError(f"rows must be slice(start, stop) with integer bounds, not {rows}")
        if not 0 <= start < stop <= height:
            raise ValueError(f"rows {start}:{stop} are not within the scene's {height} rows")
        return slice(int(start), int(stop))


def _chunk_cache_bytes(var: Any) -> int:
    """A chunk cache for two rows of `var`'s chunks.

    Row blocks that do not line up with the chunks then leave their partial chunks in the cache
    for the next block to complete (instead of compressing them twice), while the cache, unlike
    the default one, stays far smaller than a band of a full scene.
    """
    chunk_rows, chunk_columns = var.chunking()
    chunks_across = -(-var.shape[1] // chunk_columns)
    return 2 * chunks_across * chunk_rows * chunk_columns * var.dtype.itemsize


def remove_stale_temporaries(folder: str | os.PathLike[str], *, older_than: float) -> list[Path]:
    """Remove the temporary folders that killed writers left in `folder`; return them.

    A temporary folder is stale when neither it nor anything in it was modified for `older_than`
    seconds, so the folders of writers still at work are kept.
    """
    removed = []
    for item in sorted(Path(folder).glob(f".*{TEMP_MARK}*")):
        if not item.is_dir():
            continue
        newest = max(p.stat().st_mtime for p in [item, *item.iterdir()])
        if time.time() - newest >= older_than:
            shutil.rmtree(item)
            removed.append(item)
    return removed


def _target(path: str | os.PathLike[str], overwrite: bool) -> Path:
    if is_gcs(path):
        raise ValueError(f"{path}: products are written to local folders; copy the result to gs://")
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target}: exists (pass overwrite=True to replace it)")
    return target


def _temp_name(target: Path) -> Path:
    return target.parent / f".{target.name}{TEMP_MARK}{uuid.uuid4().hex[:8]}"


def _temp_folder(target: Path) -> Path:
    tmp = _temp_name(target)
    tmp.mkdir(parents=True)
    return tmp


def _rename_into_place(tmp: Path, target: Path, overwrite: bool) -> None:
    """Rename `tmp` to `target`; an existing target is renamed aside first, then removed.

    Between the two renames a killed process leaves no product at `target`, never a torn one.
    """
    if not target.exists():
        tmp.rename(target)
        return
    if not overwrite:
        raise FileExistsError(f"{target}: exists (pass overwrite=True to replace it)")
    old = _temp_name(target)
    target.rename(old)
    tmp.rename(target)
    shutil.rmtree(old)


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


@dataclass(frozen=True)
class _Packing:
    """How a file stores a physical variable: integer type, scale, offset, fill and quantity."""

    dtype: np.dtype
    scale: float
    offset: float
    fill: int
    quantity: str

    @classmethod
    def of(cls, nc_var: Any, quantity: str) -> _Packing:
        return cls(
            dtype=nc_var.dtype,
            scale=float(getattr(nc_var, "scale_factor", 1.0)),
            offset=float(getattr(nc_var, "add_offset", 0.0)),
            fill=int(nc_var._FillValue),
            quantity=quantity,
        )

    def pack(self, values: np.ndarray, have: str) -> np.ndarray:
        """`values` (float32, as quantity `have`) -> the integers the file stores."""
        values = _as_quantity(values, have, self.quantity)
        return _encode(values, self.scale, self.offset, self.fill, self.dtype)


def _blocks(n_rows: int):
    for start in range(0, n_rows, BLOCK_ROWS):
        yield slice(start, min(start + BLOCK_ROWS, n_rows))


# --- derived products ---------------------------------------------------------------------------


def _copy_source(source: Path, tmp: Path, ds: xr.Dataset) -> dict[str, _Packing]:
    """Copy the source's files, but a fill description, into `tmp`; return the bands' packings."""
    for item in source.iterdir():
        if item.name != FILL_FILE and item.is_file():
            shutil.copy2(item, tmp / item.name)
    collection = ds.attrs.get("collection", "003")
    packing = {}
    for band in BANDS:
        with netCDF4.Dataset(tmp / band.file_name) as nc:
            var = nc.variables[band.variable]
            if not np.issubdtype(var.dtype, np.integer):
                raise ProductError(
                    source / band.file_name,
                    f"variable {band.variable!r} stores {var.dtype}; bands are written packed as "
                    "integers (scale_factor, add_offset, _FillValue), as L2 WFR stores them",
                )
            packing[band.name] = _Packing.of(var, _file_quantity(var, collection))
    return packing


def _write_derived(ds: xr.Dataset, target: Path, overwrite: bool) -> Path:
    bands = [name for name in BAND_NAMES if name in ds]
    uncertainty = _uncertainty_bands(ds)
    filled = FILLED in ds
    with ProductWriter(
        ds, target, overwrite=overwrite, filled=filled, uncertainty=uncertainty
    ) as writer:
        for rows in _blocks(ds.sizes["y"]):
            block = ds.isel(y=rows)
            for name in bands:  # one band at a time bounds memory as the files do
                writer.write_rows(rows, {name: block[name].values})
            writer.write_rows(
                rows,
                {},
                block[FILLED].values if filled else None,
                {name: block[f"{name}_uncertainty"].values for name in uncertainty},
                wqsf=block["wqsf"].values,
            )
        return writer.commit()


# --- fresh products -----------------------------------------------------------------------------


def _write_band(nc_var: Any, data: xr.DataArray, have: str, want: str) -> None:
    nc_var.set_auto_maskandscale(False)
    packing = _Packing.of(nc_var, want)
    for rows in _blocks(data.shape[0]):
        nc_var[rows, :] = packing.pack(np.asarray(data[rows].values, dtype=np.float32), have)


def _write_flags(nc_var: Any, data: xr.DataArray) -> None:
    nc_var.set_auto_maskandscale(False)
    for rows in _blocks(data.shape[0]):
        nc_var[rows, :] = np.asarray(data[rows].values).astype(nc_var.dtype)


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


# --- the fill description -----------------------------------------------------------------------


def _uncertainty_bands(ds: xr.Dataset) -> list[str]:
    return [name for name in BAND_NAMES if f"{name}_uncertainty" in ds]


def _create_fill_file(folder: Path, ds: xr.Dataset, filled: bool, bands: Sequence[str]) -> None:
    """Create the fill description with `filled` all 0 and `<band>_uncertainty` all NaN."""
    grid = {ROWS: ds.sizes["y"], COLUMNS: ds.sizes["x"]}
    with _new_file(folder / FILL_FILE, ds, "s3inpaint gap-fill description", grid) as nc:
        if filled:
            var = _packed_var(nc, FILLED, (ROWS, COLUMNS), np.uint8, None, FILLED_ATTRS)
            for rows in _blocks(grid[ROWS]):
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
            _packed_var(nc, name, (ROWS, COLUMNS), np.float32, np.float32(np.nan), attrs)


def _write_fill_description(ds: xr.Dataset, tmp: Path) -> None:
    bands = _uncertainty_bands(ds)
    filled = FILLED in ds
    if not filled and not bands:
        return
    _create_fill_file(tmp, ds, filled, bands)
    for rows in _blocks(ds.sizes["y"]):
        block = ds.isel(y=rows)
        _write_fill_rows(
            tmp / FILL_FILE,
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
