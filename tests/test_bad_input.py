"""Bad input: each case raises its own exception with a message naming the path and the problem."""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import netCDF4
import pytest
from damage import (
    all_fill_band,
    all_fill_latitude,
    corrupt_chunk,
    float_band,
    float_band_without_fill,
    infinite_add_offset,
    nan_scale_factor,
)

from components.olci import (
    CorruptFileError,
    InconsistentProductError,
    MissingFileError,
    NotAProductError,
    ProductError,
    ProductNotFoundError,
    ProductWriter,
    UnsafeArchiveError,
    WrongProductTypeError,
    check_values,
    open_product,
)


def copy_of(product: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(product, tmp_path / product.name))


def missing_band(p: Path) -> Path:
    (p / "Oa05_reflectance.nc").unlink()
    return p / "Oa05_reflectance.nc"


def missing_wqsf(p: Path) -> Path:
    (p / "wqsf.nc").unlink()
    return p / "wqsf.nc"


def missing_geo(p: Path) -> Path:
    (p / "geo_coordinates.nc").unlink()
    return p / "geo_coordinates.nc"


def truncated(p: Path) -> Path:
    target = p / "Oa08_reflectance.nc"
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    return target


def not_netcdf(p: Path) -> Path:
    target = p / "Oa02_reflectance.nc"
    target.write_bytes(b"this is not a NetCDF file\n" * 50)
    return target


def variable_missing(p: Path) -> Path:
    target = p / "Oa11_reflectance.nc"
    with netCDF4.Dataset(target, "a") as nc:
        nc.renameVariable("Oa11_reflectance", "something_else")
    return target


def dims_disagree(p: Path) -> Path:
    target = p / "Oa06_reflectance.nc"
    target.unlink()
    with netCDF4.Dataset(target, "w") as nc:
        nc.createDimension("rows", 10)
        nc.createDimension("columns", 12)
        var = nc.createVariable("Oa06_reflectance", "u2", ("rows", "columns"), fill_value=65535)
        var.setncatts({"scale_factor": 1e-5, "add_offset": -0.05, "units": "dl"})
    return target


def wqsf_without_flag_table(p: Path) -> Path:
    target = p / "wqsf.nc"
    with netCDF4.Dataset(target, "a") as nc:
        nc["WQSF"].delncattr("flag_meanings")
    return target


CASES: list[tuple[str, Callable[[Path], Path], type[ProductError], str]] = [
    ("missing band", missing_band, MissingFileError, "file missing"),
    ("missing wqsf", missing_wqsf, MissingFileError, "file missing"),
    ("missing geo", missing_geo, MissingFileError, "file missing"),
    ("truncated netcdf", truncated, CorruptFileError, "not a readable NetCDF-4 file"),
    ("not netcdf", not_netcdf, CorruptFileError, "not a readable NetCDF-4 file"),
    ("variable missing", variable_missing, CorruptFileError, "variable 'Oa11_reflectance' missing"),
    ("dims disagree", dims_disagree, InconsistentProductError, r"dimensions \(10, 12\) disagree"),
    ("no flag table", wqsf_without_flag_table, CorruptFileError, "flag_masks / flag_meanings"),
    ("nan scale_factor", nan_scale_factor, CorruptFileError,
     "'Oa05_reflectance' has scale_factor nan: its values cannot be decoded"),
    ("inf add_offset", infinite_add_offset, CorruptFileError,
     "'Oa09_reflectance' has add_offset inf: its values cannot be decoded"),
    ("float band without fill", float_band_without_fill, CorruptFileError,
     "'Oa07_reflectance' has no _FillValue"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("damage", "error", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_damaged_product(product, tmp_path, damage, error, message) -> None:
    folder = copy_of(product, tmp_path)
    culprit = damage(folder)
    with pytest.raises(error, match=message) as info:
        open_product(folder)
    assert info.value.path == str(culprit)
    assert str(info.value).startswith(f"{culprit}: ")


@pytest.mark.parametrize(
    ("damage", "variable"),
    [(all_fill_band, "Oa05_reflectance"), (all_fill_latitude, "latitude")],
    ids=["all-fill band", "all-fill latitude"],
)
def test_a_variable_without_a_value_is_refused(product, tmp_path, damage, variable) -> None:
    folder = copy_of(product, tmp_path)
    culprit = damage(folder)
    with open_product(folder) as ds, pytest.raises(CorruptFileError) as info:
        check_values(ds)
    assert str(info.value) == (
        f"{culprit}: variable {variable!r} holds no value: every pixel is its fill value or NaN"
    )


def test_a_sound_product_has_values(product) -> None:
    with open_product(product) as ds:
        check_values(ds)


def test_a_band_corrupted_mid_stream_names_its_file_and_variable(product, tmp_path) -> None:
    culprit = corrupt_chunk(copy_of(product, tmp_path))
    with open_product(culprit.parent) as ds:
        ds["Oa05"].load()  # the other bands read
        with pytest.raises(CorruptFileError, match="filter returned failure") as info:
            ds["Oa06"].load()
    assert info.value.path == str(culprit)
    assert info.value.problem.startswith("variable 'Oa06_reflectance' cannot be read (")


def test_a_float_band_reads_but_is_refused_by_the_writer(product, tmp_path) -> None:
    folder = copy_of(product, tmp_path)
    culprit = float_band(folder)
    with open_product(folder) as ds:
        check_values(ds)
        with pytest.raises(ProductError, match="'Oa07_reflectance' stores float32; ") as info:
            ProductWriter(ds, tmp_path / "out" / folder.name)
    assert info.value.path == str(culprit)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_zip_slip_is_refused(product: Path, tmp_path: Path) -> None:
    archive = tmp_path / (product.name + ".zip")
    with zipfile.ZipFile(archive, "w") as zf:
        for item in sorted(product.iterdir()):
            zf.write(item, f"{product.name}/{item.name}")
        zf.writestr("../evil.txt", "escaped")
    with pytest.raises(UnsafeArchiveError, match=re.escape("'../evil.txt' escapes")) as info:
        open_product(archive)
    assert info.value.path == str(archive)
    assert not (tmp_path.parent / "evil.txt").exists()


def test_absolute_zip_member_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("/etc/evil.txt", "escaped")
    with pytest.raises(UnsafeArchiveError, match="escapes the target folder"):
        open_product(archive)


def test_level1_efr_product_is_refused(tmp_path: Path) -> None:
    name = (
        "S3A_OL_1_EFR____20230615T101015_20230615T101315_20230616T223016_"
        "0180_100_065_2160_MAR_O_NT_003.SEN3"
    )
    folder = tmp_path / name
    folder.mkdir()
    (folder / "Oa01_radiance.nc").write_bytes(b"")
    with pytest.raises(WrongProductTypeError, match="Level-1 EFR product") as info:
        open_product(folder)
    assert info.value.path == str(folder)


def test_level1_by_content_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "renamed.SEN3"
    folder.mkdir()
    (folder / "Oa01_radiance.nc").write_bytes(b"")
    with pytest.raises(WrongProductTypeError, match=re.escape("Oa01_radiance.nc")):
        open_product(folder)


def test_folder_that_is_not_a_product(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(NotAProductError, match="not an OLCI L2 WFR product") as info:
        open_product(tmp_path)
    assert info.value.path == str(tmp_path)


def test_file_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "scene.SEN3.zip"
    path.write_bytes(b"PK but not really")
    with pytest.raises(NotAProductError, match=r"not a \.SEN3 folder or a \.zip"):
        open_product(path)


def test_missing_local_path(tmp_path: Path) -> None:
    with pytest.raises(ProductNotFoundError, match="no such file or folder"):
        open_product(tmp_path / "nothing.SEN3")


def test_missing_gcs_object(gcs) -> None:
    gcs.create_bucket("bad-input")
    url = "gs://bad-input/archive/S3A_missing.SEN3"
    with pytest.raises(ProductNotFoundError, match="no such object or folder") as info:
        open_product(url, gcs_client=gcs)
    assert info.value.path == url
