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
by a rename (`components.olci.commit`), so a killed writer leaves a temporary folder, never a torn
product under the final name. How values are packed is `components.olci.packing`'s; the files of a
fresh product are `components.olci.fresh`'s; the fill description is `components.olci.fill_file`'s.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import netCDF4
import numpy as np
import xarray as xr

from components.olci.commit import local_target, rename_into_place, temp_folder
from components.olci.errors import ProductError
from components.olci.fill_file import (
    FILLED,
    create_fill_file,
    uncertainty_bands,
    write_fill_description,
)
from components.olci.format import (
    BAND_NAMES,
    BANDS,
    BANDS_BY_NAME,
    COLUMNS,
    FILL_FILE,
    MANIFEST,
    RHO_W,
    ROWS,
    WQSF_FILE,
    WQSF_VARIABLE,
)
from components.olci.fresh import footprint, manifest_info, write_fresh
from components.olci.manifest import update_manifest, write_manifest
from components.olci.packing import Packing, file_quantity, row_blocks

log = logging.getLogger(__name__)

CACHE_SLOTS = 1009  # hash slots of a capped chunk cache: a prime well above the chunks it holds


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
    target = local_target(path, overwrite)
    source = _source_folder(ds)
    _check(ds, target, has_source=source is not None)
    if source is not None:
        return _write_derived(ds, target, overwrite)
    tmp = temp_folder(target)
    try:
        write_fresh(ds, tmp)
        write_fill_description(ds, tmp)
        write_manifest(tmp, manifest_info(ds), footprint(ds))
        rename_into_place(tmp, target, overwrite)
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
        self.target = local_target(path, overwrite)
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
        self._tmp = temp_folder(self.target)
        try:
            self._packing = _copy_source(folder, self._tmp, source)
            if filled or bands:
                create_fill_file(self._tmp, source, filled, bands)
            if not (self._tmp / MANIFEST).is_file():  # commit completes it like a source's own
                write_manifest(self._tmp, manifest_info(source), footprint(source))
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
        rename_into_place(self._tmp, self.target, self._overwrite)
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


def _copy_source(source: Path, tmp: Path, ds: xr.Dataset) -> dict[str, Packing]:
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
            packing[band.name] = Packing.of(var, file_quantity(var, collection))
    return packing


def _write_derived(ds: xr.Dataset, target: Path, overwrite: bool) -> Path:
    bands = [name for name in BAND_NAMES if name in ds]
    uncertainty = uncertainty_bands(ds)
    filled = FILLED in ds
    with ProductWriter(
        ds, target, overwrite=overwrite, filled=filled, uncertainty=uncertainty
    ) as writer:
        for rows in row_blocks(ds.sizes["y"]):
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
