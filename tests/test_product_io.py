"""open_product / write_product on tiny sample products: decoding, laziness, exact round trips."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr

from components.olci import (
    BAND_NAMES,
    open_product,
    reader,
    to_rrs,
    verify_product,
    write_product,
    writer,
)
from components.olci.format import FILL_FILE, MANIFEST, ProductName
from components.olci.manifest import read_manifest


def packed(folder: Path) -> dict[tuple[str, str], np.ndarray]:
    """Every variable of every NetCDF file in `folder`, as the stored integers."""
    out = {}
    for path in sorted(folder.glob("*.nc")):
        with netCDF4.Dataset(path) as nc:
            for name, var in nc.variables.items():
                var.set_auto_maskandscale(False)
                out[path.name, name] = var[:]
    return out


def file_attrs(folder: Path) -> dict[tuple[str, str], dict]:
    out = {}
    for path in sorted(folder.glob("*.nc")):
        with netCDF4.Dataset(path) as nc:
            out[path.name, ""] = {k: nc.getncattr(k) for k in nc.ncattrs()}
            for name, var in nc.variables.items():
                out[path.name, name] = {
                    "dims": var.dimensions,
                    "dtype": var.dtype,
                    **{k: np.asarray(var.getncattr(k)).tolist() for k in var.ncattrs()},
                }
    return out


def test_decodes_bands_flags_and_geo(product: Path) -> None:
    with open_product(product) as ds:
        assert set(BAND_NAMES) <= set(ds.data_vars)
        assert ds.sizes == {"y": 64, "x": 80}
        assert all(ds[b].dtype == np.float32 for b in BAND_NAMES)
        assert ds.latitude.dtype == np.float32 and ds.longitude.dtype == np.float32
        assert ds.wqsf.dtype == np.uint64
        for name in ("valid", "land", "cloud"):
            assert ds[name].dtype == bool
        assert ds.attrs["collection"] == "003" and ds.attrs["reflectance"] == "rho_w"
        assert ds.attrs["platform"].startswith("Sentinel-3")
        assert ProductName.parse(ds.attrs["product_name"]) is not None
        with netCDF4.Dataset(product / "Oa04_reflectance.nc") as nc:
            expected = np.ma.filled(nc["Oa04_reflectance"][:].astype(np.float32), np.nan)
        np.testing.assert_allclose(ds.Oa04.values, expected, rtol=1e-6)
        valid, land = ds.valid.values, ds.land.values
        assert valid.any() and land.any() and ds.cloud.values.any()
        assert not (valid & land).any()
        assert np.isfinite(np.stack([ds[b].values[valid] for b in BAND_NAMES])).all()


def test_open_is_lazy_and_reads_windows(product: Path) -> None:
    with open_product(product) as ds:
        for name in [*BAND_NAMES, "wqsf", "valid"]:
            assert not isinstance(ds[name].variable._data, np.ndarray)
        window = ds.Oa06[10:20, 5:9]
        assert not isinstance(window.variable._data, np.ndarray)
        np.testing.assert_array_equal(window.values, ds.Oa06.values[10:20, 5:9])
        strided = ds.Oa06[::3, ::7].values
        np.testing.assert_array_equal(strided, ds.Oa06.values[::3, ::7])


def test_chunks_give_dask_arrays(product: Path) -> None:
    with open_product(product, chunks={"y": 32, "x": 40}) as ds:
        assert ds.Oa01.chunks == ((32, 32), (40, 40))
        with open_product(product) as eager:
            np.testing.assert_array_equal(ds.Oa01.values, eager.Oa01.values)
            np.testing.assert_array_equal(ds.valid.values, eager.valid.values)


def test_lazy_dataset_pickles(product: Path) -> None:
    with open_product(product) as ds:
        clone = pickle.loads(pickle.dumps(ds.Oa02))
        np.testing.assert_array_equal(clone.values, ds.Oa02.values)


def test_round_trip_is_exact_on_encoded_integers(product: Path, tmp_path: Path) -> None:
    with open_product(product) as ds:
        out = write_product(ds, tmp_path / product.name)
    before, after = packed(product), packed(out)
    assert before.keys() == after.keys()
    for key in before:
        np.testing.assert_array_equal(after[key], before[key], err_msg=str(key))
    assert file_attrs(out) == file_attrs(product)
    assert verify_product(out) == []


def test_fresh_write_without_source_is_exact_on_bands_and_flags(
    product: Path, tmp_path: Path
) -> None:
    with open_product(product) as ds:
        loaded = ds.load()
    loaded.encoding.clear()  # no source product: every file is built afresh
    out = write_product(loaded, tmp_path / product.name)
    before, after = packed(product), packed(out)
    for band in BAND_NAMES:
        key = (f"{band}_reflectance.nc", f"{band}_reflectance")
        np.testing.assert_array_equal(after[key], before[key], err_msg=band)
    np.testing.assert_array_equal(after["wqsf.nc", "WQSF"], before["wqsf.nc", "WQSF"])
    # Geolocation passes through float32: within its precision (about 1 m), not bit-exact.
    for coord in ("latitude", "longitude"):
        diff = np.abs(after["geo_coordinates.nc", coord] - before["geo_coordinates.nc", coord])
        assert diff.max() <= 10  # micro-degrees


def test_modified_values_are_written(product: Path, tmp_path: Path) -> None:
    with open_product(product) as ds:
        changed = ds.load()
        changed["Oa05"] = changed.Oa05.fillna(0.0123)
        changed["filled"] = xr.DataArray(np.isnan(ds.Oa05.values), dims=("y", "x"))
        out = write_product(changed, tmp_path / product.name)
    with open_product(out) as back:
        np.testing.assert_allclose(back.Oa05.values, changed.Oa05.values, atol=5e-6)
        np.testing.assert_array_equal(back.Oa06.values, changed.Oa06.values)
    with netCDF4.Dataset(out / FILL_FILE) as nc:
        np.testing.assert_array_equal(nc["filled"][:] == 1, changed.filled.values)
    assert verify_product(out) == []
    assert FILL_FILE in (out / MANIFEST).read_text()


def test_zip_reads_like_folder(product: Path, product_zip: Path) -> None:
    with open_product(product) as a, open_product(product_zip) as b:
        xr.testing.assert_identical(a.load(), b.load())
        tmp = Path(b.encoding["source_folder"])
        assert tmp.is_dir()
    assert not tmp.exists()  # close() removed the extracted copy


def test_collection_004_is_rrs_with_its_own_flag_table(product: Path, product_004: Path) -> None:
    with open_product(product) as a, open_product(product_004) as b:
        assert b.attrs["collection"] == "004" and b.attrs["reflectance"] == "Rrs"
        assert b.Oa01.attrs["units"] == "sr-1"
        assert not np.array_equal(a.wqsf.values, b.wqsf.values)  # the bits moved
        for name in ("valid", "land", "cloud"):
            np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
        rrs = to_rrs(a)
        np.testing.assert_allclose(rrs.Oa03.values, b.Oa03.values, rtol=2e-3, atol=5e-6)
        assert rrs.attrs["reflectance"] == "Rrs" and rrs.Oa03.attrs["units"] == "sr-1"


def test_reflectance_option_converts_at_read(product: Path) -> None:
    with open_product(product, reflectance="Rrs") as rrs, open_product(product) as rho:
        assert rrs.attrs["reflectance"] == "Rrs"
        np.testing.assert_allclose(rrs.Oa02.values * np.pi, rho.Oa02.values, rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(to_rrs(rho).Oa02.values, rrs.Oa02.values, rtol=1e-5)


def test_rrs_dataset_writes_back_to_rho_w_file(product: Path, tmp_path: Path) -> None:
    with open_product(product, reflectance="Rrs") as ds:
        out = write_product(ds, tmp_path / product.name)
    before, after = packed(product), packed(out)
    key = ("Oa07_reflectance.nc", "Oa07_reflectance")
    assert np.abs(after[key].astype(int) - before[key].astype(int)).max() <= 1


def test_manifest_metadata(product: Path) -> None:
    info = read_manifest(product)
    name = ProductName.parse(product.name)
    assert info.product_name == product.name
    assert info.collection == "003" and info.rows == 64 and info.columns == 80
    assert info.start_time.startswith(f"{name.start:%Y-%m-%dT%H:%M:%S}")


def test_verify_finds_damage(product: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(product, tmp_path / product.name))
    assert verify_product(copy) == []
    target = copy / "Oa03_reflectance.nc"
    data = bytearray(target.read_bytes())
    data[-10] ^= 0xFF
    target.write_bytes(bytes(data))
    (copy / "wqsf.nc").unlink()
    problems = verify_product(copy)
    assert any("Oa03_reflectance.nc: MD5" in p for p in problems)
    assert any("wqsf.nc: listed in the manifest but missing" in p for p in problems)


def test_writer_refuses_existing_target_and_leaves_no_temporaries(
    product: Path, tmp_path: Path
) -> None:
    with open_product(product) as ds:
        out = write_product(ds, tmp_path / product.name)
        with pytest.raises(FileExistsError, match=str(out)):
            write_product(ds, out)
        write_product(ds, out, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [product.name]


def test_writer_interrupted_leaves_nothing(product: Path, tmp_path: Path, monkeypatch) -> None:
    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(writer, "update_manifest", boom)
    with open_product(product) as ds, pytest.raises(KeyboardInterrupt):
        write_product(ds, tmp_path / product.name)
    assert list(tmp_path.iterdir()) == []


def test_only_the_indexed_window_is_decoded(product: Path, monkeypatch) -> None:
    decoded = []
    original = reader._Scaled.__call__

    def counting(self, raw):
        decoded.append(raw.size)
        return original(self, raw)

    monkeypatch.setattr(reader._Scaled, "__call__", counting)
    with open_product(product) as ds:
        assert decoded == []
        window = ds.Oa01[3:7, 10:15].values
        assert decoded == [window.size] == [20]
