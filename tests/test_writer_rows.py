"""ProductWriter: a derived product written row block by row block, committed atomically."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr

from components.olci import (
    BAND_NAMES,
    ProductError,
    ProductWriter,
    open_product,
    remove_stale_temporaries,
    verify_product,
    write_product,
)
from components.olci.format import FILL_FILE, MANIFEST

BLOCKS = (slice(0, 20), slice(20, 45), slice(45, 64))  # uneven blocks of the 64-row product


def stored(folder: Path) -> dict[tuple[str, str], np.ndarray]:
    """Every variable of every NetCDF file in `folder`, as stored (no mask, no scale)."""
    out = {}
    for path in sorted(folder.glob("*.nc")):
        with netCDF4.Dataset(path) as nc:
            nc.set_auto_maskandscale(False)
            for name, var in nc.variables.items():
                out[path.name, name] = var[:]
    return out


def assert_same_storage(a: Path, b: Path) -> None:
    before, after = stored(a), stored(b)
    assert before.keys() == after.keys()
    for key in before:
        np.testing.assert_array_equal(after[key], before[key], err_msg=str(key))


def read_fill(folder: Path) -> xr.Dataset:
    with xr.open_dataset(folder / FILL_FILE) as ds:
        return ds.load()


def gap_filled(ds: xr.Dataset, bands: tuple[str, ...]) -> xr.Dataset:
    """`ds` loaded, its gaps in `bands` filled, with `filled` and `<band>_uncertainty`."""
    out = ds.load()
    gap = np.isnan(out.Oa01.values)
    out["filled"] = xr.DataArray(gap, dims=("y", "x"))
    for band in bands:
        out[band] = out[band].fillna(np.float32(0.0123))
        sigma = np.where(gap, np.float32(0.002), np.float32(np.nan)).astype(np.float32)
        out[f"{band}_uncertainty"] = xr.DataArray(sigma, dims=("y", "x"), attrs={"units": "dl"})
    return out


def write_in_blocks(ds: xr.Dataset, target: Path, bands: tuple[str, ...], **kwargs) -> Path:
    with ProductWriter(ds, target, uncertainty=bands, **kwargs) as writer:
        for rows in BLOCKS:
            block = ds.isel(y=rows)
            writer.write_rows(
                rows,
                {name: block[name].values for name in BAND_NAMES},
                block.filled.values,
                {name: block[f"{name}_uncertainty"].values for name in bands},
            )
        return writer.commit()


def test_blocks_store_what_write_product_stores(product: Path, tmp_path: Path) -> None:
    bands = ("Oa03", "Oa08")
    with open_product(product) as ds:
        changed = gap_filled(ds, bands)
        whole = write_product(changed, tmp_path / "whole" / product.name)
        blocks = write_in_blocks(changed, tmp_path / "blocks" / product.name, bands)
    assert_same_storage(whole, blocks)
    xr.testing.assert_identical(read_fill(blocks), read_fill(whole))
    assert verify_product(blocks) == []
    assert FILL_FILE in (blocks / MANIFEST).read_text()
    assert sorted(p.name for p in blocks.parent.iterdir()) == [product.name]


def test_rows_and_bands_not_written_keep_the_source_integers(product: Path, tmp_path: Path) -> None:
    rows = slice(10, 30)
    with open_product(product) as ds, ProductWriter(ds, tmp_path / product.name) as writer:
        values = np.full((20, ds.sizes["x"]), 0.0123, dtype=np.float32)
        writer.write_rows(rows, {"Oa05": values}, np.ones((20, ds.sizes["x"]), bool))
        out = writer.commit()
    before, after = stored(product), stored(out)
    for key, raw in before.items():
        if key == ("Oa05_reflectance.nc", "Oa05_reflectance"):
            np.testing.assert_array_equal(after[key][:10], raw[:10])
            np.testing.assert_array_equal(after[key][30:], raw[30:])
            assert (after[key][rows] != raw[rows]).any()
        else:
            np.testing.assert_array_equal(after[key], raw, err_msg=str(key))
    filled = after[FILL_FILE, "filled"]
    assert (filled[rows] == 1).all() and (filled[:10] == 0).all() and (filled[30:] == 0).all()
    assert verify_product(out) == []


def test_filled_and_uncertainty_round_trip(product: Path, tmp_path: Path) -> None:
    with (
        open_product(product) as ds,
        ProductWriter(ds, tmp_path / "out.SEN3", uncertainty=True) as w,
    ):
        width = ds.sizes["x"]
        gap = np.isnan(ds.Oa02[:32].values)
        bands = {b: ds[b][:32].fillna(0.02).values for b in BAND_NAMES}
        sigma = {b: np.where(gap, np.float32(0.003), np.nan).astype(np.float32) for b in BAND_NAMES}
        w.write_rows(slice(0, 32), bands, gap, sigma)
        w.write_rows(slice(32, 40), {}, None, {"Oa04": np.full((8, width), 0.5, np.float32)})
        out = w.commit()
    with open_product(out) as back:
        for band in BAND_NAMES:
            np.testing.assert_allclose(back[band][:32].values, bands[band], atol=5e-6, rtol=0)
    fill = read_fill(out)
    assert set(fill.data_vars) == {"filled", *(f"{b}_uncertainty" for b in BAND_NAMES)}
    np.testing.assert_array_equal(fill.filled.values[:32] == 1, gap)
    assert (fill.filled.values[32:] == 0).all()
    np.testing.assert_array_equal(fill.Oa07_uncertainty.values[:32], sigma["Oa07"])
    assert np.isnan(fill.Oa07_uncertainty.values[32:]).all()
    assert (fill.Oa04_uncertainty.values[32:40] == 0.5).all()
    assert fill.Oa04_uncertainty.attrs["units"] == "dl"


def test_rrs_values_go_back_to_the_rho_w_file(product: Path, tmp_path: Path) -> None:
    with (
        open_product(product, reflectance="Rrs") as ds,
        ProductWriter(ds, tmp_path / product.name, filled=False) as writer,
    ):
        writer.write_rows(slice(0, 64), {"Oa07": ds.Oa07.values})
        out = writer.commit()
    before, after = stored(product), stored(out)
    key = ("Oa07_reflectance.nc", "Oa07_reflectance")
    assert np.abs(after[key].astype(int) - before[key].astype(int)).max() <= 1
    assert not (out / FILL_FILE).exists()


def test_exception_in_the_block_leaves_nothing(product: Path, tmp_path: Path) -> None:
    with (
        open_product(product) as ds,
        pytest.raises(KeyError),
        ProductWriter(ds, tmp_path / product.name) as writer,
    ):
        writer.write_rows(slice(0, 8), {"Oa01": ds.Oa01[:8].values})
        raise KeyError("the model failed")
    assert list(tmp_path.iterdir()) == []


def test_existing_target_is_refused_at_construction(product: Path, tmp_path: Path) -> None:
    target = tmp_path / product.name
    target.mkdir()
    with open_product(product) as ds:
        with pytest.raises(FileExistsError, match=str(target)):
            ProductWriter(ds, target)
        assert list(tmp_path.iterdir()) == [target]
        with ProductWriter(ds, target, overwrite=True) as writer:
            writer.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == [product.name]
    assert verify_product(target) == []


def test_gcs_target_is_refused(product: Path) -> None:
    with open_product(product) as ds, pytest.raises(ValueError, match="local folders"):
        ProductWriter(ds, "gs://bucket/out.SEN3")


def test_dataset_without_source_is_refused(product: Path, tmp_path: Path) -> None:
    with open_product(product) as ds:
        loaded = ds.load()
    loaded.encoding.clear()
    with pytest.raises(ProductError, match="no local product folder"):
        ProductWriter(loaded, tmp_path / product.name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda w, a: w.write_rows(slice(60, 70), {"Oa01": a}), "not within"),
        (lambda w, a: w.write_rows(slice(0, 8, 2), {"Oa01": a}), "integer bounds"),
        (lambda w, a: w.write_rows(slice(0, 8), {"Oa13": a}), "unknown band 'Oa13'"),
        (lambda w, a: w.write_rows(slice(0, 9), {"Oa01": a}), r"Oa01: shape \(8, 80\)"),
        (lambda w, a: w.write_rows(slice(0, 8), {}, None, {"Oa01": a}), "no uncertainty"),
        (lambda w, a: w.write_rows(slice(0, 8), {"Oa01": a}, a[:4] > 0), r"filled: shape"),
    ],
)
def test_bad_blocks_are_refused_before_anything_is_written(
    product: Path, tmp_path: Path, call, message
) -> None:
    with open_product(product) as ds, ProductWriter(ds, tmp_path / product.name) as writer:
        with pytest.raises(ValueError, match=message):
            call(writer, np.zeros((8, 80), np.float32))
        out = writer.commit()
    before, after = stored(product), stored(out)
    key = ("Oa01_reflectance.nc", "Oa01_reflectance")
    np.testing.assert_array_equal(after[key], before[key])


def test_a_finished_writer_refuses_more(product: Path, tmp_path: Path) -> None:
    with open_product(product) as ds:
        writer = ProductWriter(ds, tmp_path / product.name)
        writer.abort()
        assert list(tmp_path.iterdir()) == []
        with pytest.raises(RuntimeError, match="aborted"):
            writer.write_rows(slice(0, 1), {})
        with pytest.raises(RuntimeError, match="aborted"):
            writer.commit()


def test_source_without_manifest_gets_one(product: Path, tmp_path: Path) -> None:
    source = Path(shutil.copytree(product, tmp_path / "src" / product.name))
    (source / MANIFEST).unlink()
    with open_product(source) as ds, ProductWriter(ds, tmp_path / product.name) as writer:
        writer.write_rows(slice(0, 64), {"Oa01": ds.Oa01.values}, ds.cloud.values)
        out = writer.commit()
    assert verify_product(out) == []
    assert FILL_FILE in (out / MANIFEST).read_text()


def test_remove_stale_temporaries_keeps_fresh_ones(product: Path, tmp_path: Path) -> None:
    with open_product(product) as ds:
        ProductWriter(ds, tmp_path / product.name)  # as if killed before commit
        done = write_product(ds, tmp_path / "done.SEN3")
    (temporary,) = tmp_path.glob(f".{product.name}.tmp-*")
    assert remove_stale_temporaries(tmp_path, older_than=3600) == []
    hours_ago = time.time() - 2 * 3600
    for item in [temporary, *temporary.iterdir()]:
        os.utime(item, (hours_ago, hours_ago))
    assert remove_stale_temporaries(tmp_path, older_than=3600) == [temporary]
    assert list(tmp_path.iterdir()) == [done]
