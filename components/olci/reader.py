"""`open_product`: an OLCI L2 WFR product as a lazily read xarray Dataset.

Nothing is decoded when a product is opened: each variable is a lazy array that reads and decodes
only the window it is indexed with, so a 4091x4865 scene costs its metadata until asked. Pass
`chunks` for dask arrays instead.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5netcdf
import h5py
import numpy as np
import xarray as xr
from xarray.backends import BackendArray, CachingFileManager
from xarray.core import indexing

from components.olci import flags
from components.olci.errors import (
    CorruptFileError,
    InconsistentProductError,
    MissingFileError,
    NotAProductError,
    ProductError,
    WrongProductTypeError,
)
from components.olci.format import (
    BANDS,
    COLUMNS,
    GEO_FILE,
    MANIFEST,
    REFLECTANCE_QUANTITY,
    REFLECTANCE_STANDARD_NAME,
    REFLECTANCE_UNITS,
    RHO_W,
    ROWS,
    RRS,
    WQSF_FILE,
    WQSF_VARIABLE,
    ProductName,
    quantity_factor,
    quantity_from_units,
)
from components.olci.manifest import ManifestInfo, read_manifest
from components.olci.storage import LocalProduct, materialise

ENCODING_KEYS = ("scale_factor", "add_offset", "_FillValue")
COORDINATES = ("latitude", "longitude")
CHECK_ROWS = 256  # rows read at a time while looking for a variable's first value
_LOCK = threading.Lock()  # HDF5 is not thread-safe


# --- decoders: small picklable callables applied to each raw window --------------------------


@dataclass(frozen=True)
class _Scaled:
    """Integer -> float32 with scale/offset, NaN where the fill value is."""

    scale: float
    offset: float
    fill: int | float | None

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        # uint16 reflectance decodes exactly enough in float32; wider integers (int32
        # micro-degrees) go through float64 so they are rounded to float32 once.
        work = np.float32 if raw.dtype.itemsize <= 2 else np.float64
        out = raw.astype(work)
        out *= work(self.scale)
        out += work(self.offset)
        if self.fill is not None:
            out[raw == self.fill] = np.nan
        return out.astype(np.float32, copy=False)


@dataclass(frozen=True)
class _Flags:
    """uint64 flags -> bool: any of `any_set` set and none of `none_set`."""

    any_set: int
    none_set: int = 0

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        out = (raw & np.uint64(self.any_set)) != 0
        if self.none_set:
            out &= (raw & np.uint64(self.none_set)) == 0
        return out


def _identity(raw: np.ndarray) -> np.ndarray:
    return raw


class _LazyVariable(BackendArray):
    """A variable of a NetCDF file, read window by window and decoded on the way."""

    def __init__(
        self, path: Path, manager: CachingFileManager, variable: str, shape, dtype, decode
    ) -> None:
        self.path = path
        self.manager = manager
        self.variable = variable
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.decode = decode

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        return indexing.explicit_indexing_adapter(
            key, self.shape, indexing.IndexingSupport.BASIC, self._read
        )

    def _read(self, key: tuple) -> np.ndarray:
        try:
            with _LOCK:
                raw = self.manager.acquire()[self.variable][key]
        except OSError as err:  # a damaged chunk: HDF5's filter or checksum fails mid-stream
            raise CorruptFileError(
                self.path, f"variable {self.variable!r} cannot be read ({err})"
            ) from None
        return self.decode(np.asarray(raw))


# --- opening ----------------------------------------------------------------------------------


@dataclass
class _File:
    """An open NetCDF-4 file: h5netcdf for its metadata, h5py for data reads.

    h5py reads windows directly; h5netcdf's per-read dimension bookkeeping costs more than the
    read itself for a strip of a patch row.
    """

    path: Path
    manager: CachingFileManager
    handle: Any
    data: CachingFileManager

    def close(self) -> None:
        self.manager.close()
        self.data.close()


def _open_file(path: Path) -> _File:
    if not path.is_file():
        raise MissingFileError(path, "file missing from the product")
    manager = CachingFileManager(h5netcdf.File, str(path), mode="r")
    try:
        handle = manager.acquire()
    except (OSError, ValueError) as err:
        manager.close()
        raise CorruptFileError(path, f"not a readable NetCDF-4 file ({err})") from None
    return _File(path, manager, handle, CachingFileManager(h5py.File, str(path), mode="r"))


def _variable(f: _File, name: str, dims: tuple[str, ...]) -> Any:
    if name not in f.handle.variables:
        raise CorruptFileError(f.path, f"variable {name!r} missing")
    var = f.handle.variables[name]
    if tuple(var.dimensions) != dims:
        raise CorruptFileError(
            f.path, f"variable {name!r} has dimensions {tuple(var.dimensions)}, expected {dims}"
        )
    return var


def _without_encoding(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if k not in ENCODING_KEYS}


def _decoder_for(f: _File, name: str, var: Any) -> _Scaled:
    """The decoder of variable `name`, once its encoding is known to decode to numbers."""
    attrs = var.attrs
    encoding = {}
    for key, default in (("scale_factor", 1.0), ("add_offset", 0.0)):
        value = np.asarray(attrs.get(key, default))
        if value.size != 1 or not np.issubdtype(value.dtype, np.number):
            raise CorruptFileError(f.path, f"variable {name!r} has {key} {value!r}, not a number")
        encoding[key] = float(value.reshape(()))
        if not np.isfinite(encoding[key]):
            raise CorruptFileError(
                f.path, f"variable {name!r} has {key} {encoding[key]}: its values cannot be decoded"
            )
    if encoding["scale_factor"] == 0:
        raise CorruptFileError(
            f.path, f"variable {name!r} has scale_factor 0: every value would decode the same"
        )
    fill = attrs.get("_FillValue")
    if fill is not None:
        fill = np.asarray(fill).reshape(()).item()
    return _Scaled(encoding["scale_factor"], encoding["add_offset"], fill)


def _lazy(f: _File, name: str, var: Any, dtype, decode) -> xr.Variable:
    array = _LazyVariable(f.path, f.data, name, var.shape, dtype, decode)
    return xr.Variable(
        ("y", "x"), indexing.LazilyIndexedArray(array), encoding={"source": str(f.path)}
    )


def _check_product_type(folder: Path, name: ProductName | None) -> None:
    if name is not None and (name.level != "2" or name.type != "WFR"):
        raise WrongProductTypeError(
            folder,
            f"is an OLCI Level-{name.level} {name.type} product; s3inpaint reads Level-2 WFR",
        )
    if (folder / "Oa01_radiance.nc").is_file():
        raise WrongProductTypeError(
            folder, "holds Oa01_radiance.nc: a Level-1 EFR/ERR product; s3inpaint reads Level-2 WFR"
        )
    has_bands = any((folder / b.file_name).is_file() for b in BANDS)
    if not (folder / MANIFEST).is_file() and not has_bands:
        raise NotAProductError(
            folder, f"not an OLCI L2 WFR product: no {MANIFEST} and no Oa??_reflectance.nc files"
        )


def _metadata(folder: Path, name: ProductName | None) -> dict[str, str]:
    info = read_manifest(folder) if (folder / MANIFEST).is_file() else ManifestInfo()
    if name is None and info.product_name:
        name = ProductName.parse(info.product_name)
    iso = "%Y-%m-%dT%H:%M:%SZ"
    attrs = {
        "product_name": info.product_name or folder.name,
        "product_type": info.product_type or (f"OL_2_{name.type}___" if name else "OL_2_WFR___"),
        "platform": info.platform or (name.platform if name else ""),
        "start_time": info.start_time or (f"{name.start:{iso}}" if name else ""),
        "stop_time": info.stop_time or (f"{name.stop:{iso}}" if name else ""),
        "collection": info.collection or (name.collection if name else ""),
    }
    return attrs


def _quantity(units: str, collection: str, path: Path) -> str:
    quantity = quantity_from_units(units) or REFLECTANCE_QUANTITY.get(collection)
    if quantity is None:
        raise CorruptFileError(
            path, f"reflectance units {units!r} are neither sr-1 nor dimensionless"
        )
    return quantity


def open_product(
    path: str | os.PathLike[str],
    *,
    chunks: dict[str, int] | None = None,
    reflectance: str | None = None,
    gcs_client: Any = None,
    workdir: str | None = None,
) -> xr.Dataset:
    """Open an OLCI Level-2 WFR product.

    Args:
        path: a `.SEN3` folder or a `.zip`, local or `gs://bucket/...`.
        chunks: dask chunk sizes per dim (e.g. {"y": 1024, "x": 1024}); None for lazy numpy.
        reflectance: "Rrs" or "rho_w" to return the bands as that quantity whatever the file
            stores; None for the file's own quantity (attribute `reflectance`).
        gcs_client: a google.cloud.storage.Client for gs:// paths.
        workdir: where zip and gs:// products are copied to while open.

    Returns:
        A Dataset with dims (y, x): one float32 variable per band (Oa01..Oa21, NaN at fill
        values), `wqsf` (uint64 with the file's flag table), booleans `valid`, `land`, `cloud`,
        float32 coords `latitude`/`longitude`, and product attributes. `close()` releases the
        files and removes any temporary copy.

    Raises:
        ProductError: a subclass naming the path and what is wrong with it.
    """
    if reflectance not in (None, RRS, RHO_W):
        raise ValueError(f"reflectance must be {RRS!r} or {RHO_W!r}, not {reflectance!r}")
    local = materialise(path, gcs_client=gcs_client, workdir=workdir)
    files: list[_File] = []
    try:
        ds = _open_folder(local, files, reflectance)
    except BaseException:
        for f in files:
            f.close()
        local.cleanup()
        raise

    def close() -> None:
        for f in files:
            f.close()
        local.cleanup()

    ds.set_close(close)
    return ds.chunk(chunks) if chunks else ds


def _open_folder(local: LocalProduct, files: list[_File], reflectance: str | None) -> xr.Dataset:
    folder = local.folder
    name = ProductName.parse(folder.name)
    _check_product_type(folder, name)
    attrs = _metadata(folder, name)

    def opened(path: Path) -> _File:
        f = _open_file(path)
        files.append(f)
        return f

    variables: dict[str, xr.Variable] = {}
    encodings: dict[str, dict[str, Any]] = {}
    shape: tuple[int, ...] | None = None
    first: Path | None = None

    def same_shape(f: _File, var: Any) -> None:
        nonlocal shape, first
        if shape is None:
            shape, first = tuple(var.shape), f.path
        elif tuple(var.shape) != shape:
            raise InconsistentProductError(
                f.path,
                f"dimensions {tuple(var.shape)} disagree with {first.name} {shape}",
            )

    quantity_in_file = None
    for band in BANDS:
        f = opened(folder / band.file_name)
        var = _variable(f, band.variable, (ROWS, COLUMNS))
        same_shape(f, var)
        file_attrs = dict(var.attrs)
        if "_FillValue" not in file_attrs:
            raise CorruptFileError(
                f.path,
                f"variable {band.variable!r} has no _FillValue: its missing pixels cannot be told "
                "from data",
            )
        decode = _decoder_for(f, band.variable, var)
        band_attrs = _without_encoding(file_attrs)
        quantity = _quantity(str(band_attrs.get("units", "")), attrs["collection"], f.path)
        if quantity_in_file is None:
            quantity_in_file = quantity
        elif quantity != quantity_in_file:
            raise InconsistentProductError(
                f.path, f"stores {quantity}, other bands store {quantity_in_file}"
            )
        if reflectance is not None and reflectance != quantity:
            factor = quantity_factor(quantity, reflectance)
            decode = _Scaled(decode.scale * factor, decode.offset * factor, decode.fill)
            band_attrs["units"] = REFLECTANCE_UNITS[reflectance]
            band_attrs["standard_name"] = REFLECTANCE_STANDARD_NAME[reflectance]
        band_attrs.setdefault("wavelength", band.wavelength_nm)
        variables[band.name] = _lazy(f, band.variable, var, np.float32, decode)
        variables[band.name].attrs.update(band_attrs)
        encodings[band.name] = {
            "dtype": var.dtype,
            **{k: file_attrs[k] for k in ENCODING_KEYS if k in file_attrs},
        }

    f = opened(folder / WQSF_FILE)
    var = _variable(f, WQSF_VARIABLE, (ROWS, COLUMNS))
    same_shape(f, var)
    if not np.issubdtype(var.dtype, np.integer):
        raise CorruptFileError(f.path, f"WQSF has dtype {var.dtype}, expected an integer type")
    wqsf_attrs = dict(var.attrs)
    table = flags.flag_table(wqsf_attrs, str(f.path))
    variables["wqsf"] = _lazy(f, WQSF_VARIABLE, var, var.dtype, _identity)
    variables["wqsf"].attrs.update(wqsf_attrs)
    valid_any = flags.combined_mask(table, flags.VALID_ANY)
    if not valid_any:
        raise CorruptFileError(f.path, "WQSF flag table has neither WATER nor INLAND_WATER")
    for key, decode, meaning in (
        ("valid", _Flags(int(valid_any), int(flags.combined_mask(table, flags.INVALID_ANY))),
         "water with usable reflectance (recommended WQSF mask)"),
        ("land", _Flags(int(flags.combined_mask(table, flags.LAND_ANY))), "LAND flag"),
        ("cloud", _Flags(int(flags.combined_mask(table, flags.CLOUD_ANY))),
         "CLOUD, CLOUD_AMBIGUOUS or CLOUD_MARGIN flag"),
    ):  # fmt: skip
        variables[key] = _lazy(f, WQSF_VARIABLE, var, bool, decode)
        variables[key].attrs["long_name"] = meaning

    f = opened(folder / GEO_FILE)
    coords = {}
    for coord in COORDINATES:
        var = _variable(f, coord, (ROWS, COLUMNS))
        same_shape(f, var)
        geo_attrs = dict(var.attrs)
        coords[coord] = _lazy(f, coord, var, np.float32, _decoder_for(f, coord, var))
        coords[coord].attrs.update(_without_encoding(geo_attrs))

    attrs["reflectance"] = reflectance or quantity_in_file
    attrs["units"] = REFLECTANCE_UNITS[attrs["reflectance"]]
    ds = xr.Dataset(variables, coords=coords, attrs=attrs)
    for band, encoding in encodings.items():
        ds[band].encoding.update(encoding)
    ds.encoding["source_folder"] = str(folder)
    ds.encoding["source"] = local.source
    return ds


def check_values(ds: xr.Dataset) -> None:
    """Raise when a band, the latitude or the longitude of `ds` holds not one decodable value.

    Such a variable (every pixel its `_FillValue`, or NaN) would be filled or georeferenced as if
    it held data. Each variable is read `CHECK_ROWS` rows at a time up to its first finite value,
    so a sound product costs a strip per variable.

    Raises:
        CorruptFileError: naming the file and the variable.
    """
    variables = {band.name: band.variable for band in BANDS if band.name in ds}
    variables.update({coord: coord for coord in COORDINATES if coord in ds.coords})
    for name, variable in variables.items():
        values = ds[name]
        strips = range(0, values.sizes["y"], CHECK_ROWS)
        if not any(np.isfinite(values[s : s + CHECK_ROWS].values).any() for s in strips):
            raise CorruptFileError(
                values.encoding.get("source", ds.attrs.get("product_name", "dataset")),
                f"variable {variable!r} holds no value: every pixel is its fill value or NaN",
            )


def to_rrs(ds: xr.Dataset) -> xr.Dataset:
    """The dataset with its bands as remote-sensing reflectance Rrs = rho_w / pi (sr-1)."""
    if ds.attrs.get("reflectance") == RRS:
        return ds
    if ds.attrs.get("reflectance") != RHO_W:
        raise ProductError(
            ds.attrs.get("product_name", "dataset"),
            f"unknown reflectance quantity {ds.attrs.get('reflectance')!r}",
        )
    out = ds.copy()
    for band in BANDS:
        if band.name in out:
            converted = (ds[band.name] / np.float32(np.pi)).astype(np.float32)
            converted.attrs.update(
                ds[band.name].attrs,
                units=REFLECTANCE_UNITS[RRS],
                standard_name=REFLECTANCE_STANDARD_NAME[RRS],
            )
            converted.encoding.update(ds[band.name].encoding)
            out[band.name] = converted
    out.attrs.update(reflectance=RRS, units=REFLECTANCE_UNITS[RRS])
    return out
