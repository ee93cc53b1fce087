"""Gridded inputs: NetCDF time series and GeoTIFF stacks read as scenes, their errors and config."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import rasterio
import xarray as xr
from affine import Affine

from components.gridded import (
    BandNamesError,
    GriddedConfig,
    GriddedConfigError,
    GriddedError,
    GriddedFileNotFoundError,
    MissingDimensionError,
    MissingVariableError,
    SceneTimeError,
    ShapeMismatchError,
    UnsupportedPathError,
    WrongFormatError,
    open_geotiff,
    open_scene,
    open_series,
    scene_count,
    scene_names,
    write_geotiff_stack,
    write_netcdf_series,
)
from components.gridded.geotiff_writer import encode
from components.olci import ProductError, ProductNotFoundError

RRS = ("Rrs_443", "Rrs_490", "Rrs_560")
CHL = GriddedConfig(("chlor_a",))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gridded")


@pytest.fixture(scope="module")
def chl_series(data_dir: Path) -> Path:
    """Four daily float32 chlor_a steps with a -32767 fill value (treat as read-only)."""
    return write_netcdf_series(data_dir / "chl_daily.nc", times=4, seed=1)


@pytest.fixture(scope="module")
def rrs_series(data_dir: Path) -> Path:
    """Three daily steps of three Rrs bands packed as int16 with scale/offset/fill."""
    return write_netcdf_series(data_dir / "rrs_daily.nc", times=3, variables=RRS, packed=True)


@pytest.fixture(scope="module")
def stack(data_dir: Path) -> Path:
    return write_geotiff_stack(data_dir / "stack.tif", bands=3, descriptions=("a", "b", "c"))


def assert_scene_contract(ds: xr.Dataset, bands: tuple[str, ...]) -> None:
    assert tuple(ds.dims) == ("y", "x")
    assert tuple(ds.data_vars) == (*bands, "valid")
    for band in bands:
        assert ds[band].dims == ("y", "x")
        assert ds[band].dtype == np.float32
    assert ds["valid"].dtype == bool
    expected_valid = np.logical_and.reduce([np.isfinite(ds[b].values) for b in bands])
    np.testing.assert_array_equal(ds["valid"].values, expected_valid)
    assert 0 < ds["valid"].values.sum() < ds["valid"].size
    assert "cloud" not in ds
    for coord in ("latitude", "longitude"):
        if coord in ds.coords:
            assert ds[coord].dims == ("y", "x")
            assert ds[coord].dtype == np.float32
    assert isinstance(ds.attrs["product_name"], str) and ds.attrs["product_name"]
    assert isinstance(ds.attrs["start_time"], str)


def decoded_from_file(path: Path, variable: str, index: int) -> np.ndarray:
    """The file's values at one time step, decoded here by hand from the raw integers/floats."""
    with netCDF4.Dataset(path) as nc:
        var = nc[variable]
        var.set_auto_maskandscale(False)
        raw = np.asarray(var[index])
        fill = var.getncattr("_FillValue")
        scale = float(getattr(var, "scale_factor", 1.0))
        offset = float(getattr(var, "add_offset", 0.0))
    out = raw.astype(np.float64) * scale + offset
    out[raw == fill] = np.nan
    return out


def file_times(path: Path) -> list[dt.datetime]:
    with netCDF4.Dataset(path) as nc:
        assert nc["time"].units == "hours since 1970-01-01"
        hours = np.asarray(nc["time"][:])
    return [dt.datetime(1970, 1, 1) + dt.timedelta(hours=int(h)) for h in hours]


# --- NetCDF series ------------------------------------------------------------------------------


def test_count_and_names_are_unique_and_stable(chl_series: Path) -> None:
    names = scene_names(chl_series, CHL)
    assert scene_count(chl_series, CHL) == 4
    assert len(set(names)) == 4
    assert names == scene_names(chl_series, CHL)
    expected = tuple(f"chl_daily_{t:%Y%m%dT%H%M%S}" for t in file_times(chl_series))
    assert expected[0] == "chl_daily_20230601T120000"
    assert names == expected
    assert [open_scene(chl_series, CHL, i).attrs["product_name"] for i in range(4)] == list(names)


@pytest.mark.parametrize(
    ("fixture", "variables"), [("chl_series", ("chlor_a",)), ("rrs_series", RRS)]
)
def test_each_scene_holds_the_files_values(
    fixture: str, variables: tuple[str, ...], request: pytest.FixtureRequest
) -> None:
    path = request.getfixturevalue(fixture)
    config = GriddedConfig(variables)
    moments = file_times(path)
    for index in range(scene_count(path, config)):
        scene = open_scene(path, config, index)
        assert_scene_contract(scene, variables)
        assert scene.attrs["start_time"] == f"{moments[index]:%Y-%m-%dT%H:%M:%SZ}"
        for name in variables:
            expected = decoded_from_file(path, name, index)
            np.testing.assert_array_equal(np.isnan(scene[name].values), np.isnan(expected))
            np.testing.assert_allclose(scene[name].values, expected, rtol=2e-7, equal_nan=True)


def test_packed_int16_decodes_with_its_own_scale_and_fill(rrs_series: Path) -> None:
    with netCDF4.Dataset(rrs_series) as nc:
        var = nc["Rrs_443"]
        assert var.dtype == np.int16
        assert var.scale_factor != 1 and var._FillValue == -32767
    scene = open_scene(rrs_series, GriddedConfig(RRS), 0)
    values = scene["Rrs_443"].values
    assert np.isnan(values).any()
    assert np.nanmin(values) > 0.001 and np.nanmax(values) < 0.05  # reflectance, not counts
    assert scene["Rrs_443"].attrs["units"] == "sr^-1"
    assert "_FillValue" not in scene["Rrs_443"].attrs


def test_multi_variable_valid_needs_every_band(rrs_series: Path) -> None:
    scene = open_scene(rrs_series, GriddedConfig(RRS), 1)
    finite = [np.isfinite(scene[b].values) for b in RRS]
    # Some pixels miss one band only, so no single band's finiteness equals `valid`.
    assert all((f & ~scene["valid"].values).any() for f in finite)


def test_a_subset_of_variables_in_another_order(rrs_series: Path) -> None:
    scene = open_scene(rrs_series, GriddedConfig(("Rrs_560", "Rrs_443")), 2)
    assert tuple(scene.data_vars) == ("Rrs_560", "Rrs_443", "valid")


def test_coordinates_broadcast_from_1d_lat_lon(chl_series: Path) -> None:
    scene = open_scene(chl_series, CHL, 0)
    with netCDF4.Dataset(chl_series) as nc:
        lat, lon = np.asarray(nc["lat"][:]), np.asarray(nc["lon"][:])
    assert scene["latitude"].shape == (lat.size, lon.size)
    np.testing.assert_array_equal(scene["latitude"].values, np.repeat(lat[:, None], lon.size, 1))
    np.testing.assert_array_equal(scene["longitude"].values, np.repeat(lon[None], lat.size, 0))
    assert scene["latitude"].values[0, 0] > scene["latitude"].values[-1, 0]  # north up


def test_open_series_yields_the_same_scenes(chl_series: Path) -> None:
    scenes = list(open_series(chl_series, CHL))
    assert len(scenes) == 4
    for index, scene in enumerate(scenes):
        xr.testing.assert_identical(scene, open_scene(chl_series, CHL, index))


def test_scene_is_in_memory_once_returned(chl_series: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copy(chl_series, tmp_path / "copy.nc"))
    scene = open_scene(copy, CHL, 3)
    copy.write_bytes(b"\0" * copy.stat().st_size)  # same inode: a lazy read would see zeros
    xr.testing.assert_equal(scene, open_scene(chl_series, CHL, 3))


Variable = tuple[tuple[str, ...], np.ndarray, dict[str, object]]


def write_nc(
    path: Path,
    dims: dict[str, int],
    variables: dict[str, Variable],
    attrs: dict[str, object] | None = None,
) -> Path:
    """A NetCDF file written with netCDF4 directly, for layouts the sample writer does not make."""
    with netCDF4.Dataset(path, "w") as nc:
        for name, size in dims.items():
            nc.createDimension(name, size)
        for name, (var_dims, values, var_attrs) in variables.items():
            fill = var_attrs.get("_FillValue")
            var = nc.createVariable(name, values.dtype, var_dims, fill_value=fill)
            var.setncatts({k: v for k, v in var_attrs.items() if k != "_FillValue"})
            var[:] = values
        nc.setncatts(attrs or {})
    return path


def grid(shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    values = np.random.default_rng(seed).random(shape, dtype=np.float32)
    values[0, :3] = -999.0
    return values


def test_transposed_variable_comes_out_y_x(tmp_path: Path) -> None:
    values = grid((2, 5, 4))  # (time, lon, lat)
    path = write_nc(
        tmp_path / "transposed.nc",
        {"time": 2, "lat": 4, "lon": 5},
        {
            "time": (("time",), np.array([0, 1], "i4"), {"units": "days since 2020-01-01"}),
            "chl": (("time", "lon", "lat"), values, {"_FillValue": np.float32(-999.0)}),
        },
    )
    scene = open_scene(path, GriddedConfig(("chl",)), 1)
    expected = np.where(values[1] == -999.0, np.nan, values[1]).T
    np.testing.assert_array_equal(scene["chl"].values, expected)
    assert scene.attrs["start_time"] == "2020-01-02T00:00:00Z"
    assert "latitude" not in scene.coords  # the file has no lat/lon variables


def test_non_standard_calendar_times(tmp_path: Path) -> None:
    path = write_nc(
        tmp_path / "noleap.nc",
        {"t": 2, "y": 3, "x": 4},
        {
            "t": (
                ("t",),
                np.array([58.5, 59.5]),
                {"units": "days since 2001-01-01", "calendar": "noleap"},
            ),
            "sst": (("t", "y", "x"), grid((2, 3, 4)), {"_FillValue": np.float32(-999.0)}),
        },
    )
    config = GriddedConfig(("sst",), time_dim="t", y_dim="y", x_dim="x")
    assert scene_names(path, config) == ("noleap_20010228T120000", "noleap_20010301T120000")
    assert open_scene(path, config, 1).attrs["start_time"] == "2001-03-01T12:00:00Z"


def test_single_scene_file_without_time_dimension(tmp_path: Path) -> None:
    variables = {"chlor_a": (("lat", "lon"), grid((3, 4)), {"_FillValue": np.float32(-999.0)})}
    dims = {"lat": 3, "lon": 4}
    config = GriddedConfig(("chlor_a",), time_dim=None)
    timed = write_nc(
        tmp_path / "A2023152.L3m_DAY_CHL.nc",
        dims,
        variables,
        {"time_coverage_start": "2023-06-01T00:30:00.000Z"},
    )
    assert scene_names(timed, config) == ("A2023152.L3m_DAY_CHL",)
    scene = open_scene(timed, config, 0)
    assert scene.attrs["start_time"] == "2023-06-01T00:30:00Z"
    assert np.isnan(scene["chlor_a"].values[0, :3]).all()
    untimed = write_nc(tmp_path / "untimed.nc", dims, variables)
    assert open_scene(untimed, config, 0).attrs["start_time"] == ""


def test_mask_variable_makes_pixels_invalid_and_unobserved_water_cloud(
    chl_series: Path, tmp_path: Path
) -> None:
    path = Path(shutil.copy(chl_series, tmp_path / "masked.nc"))
    with netCDF4.Dataset(path, "a") as nc:
        land = nc.createVariable("land", "u1", ("lat", "lon"))
        mask = np.zeros((nc.dimensions["lat"].size, nc.dimensions["lon"].size), np.uint8)
        mask[:, :10] = 1
        land[:] = mask
    config = GriddedConfig(("chlor_a",), mask_variable="land")
    masked = open_scene(path, config, 0)
    plain = open_scene(chl_series, CHL, 0)
    assert tuple(masked.data_vars) == ("chlor_a", "valid", "cloud")
    assert "cloud" not in plain  # without a mask, land and cloud look alike
    assert (plain["valid"].values & ~masked["valid"].values).any()
    np.testing.assert_array_equal(masked["chlor_a"].values, plain["chlor_a"].values)
    np.testing.assert_array_equal(masked["valid"].values, plain["valid"].values & (mask == 0))
    cloud = masked["cloud"].values
    assert cloud.any() and not cloud[:, :10].any()
    np.testing.assert_array_equal(cloud, ~plain["valid"].values & (mask == 0))


# --- GeoTIFF ------------------------------------------------------------------------------------


def test_geotiff_values_nodata_and_names(stack: Path) -> None:
    scene = open_geotiff(stack)
    assert_scene_contract(scene, ("a", "b", "c"))
    assert scene.attrs["product_name"] == "stack"
    with rasterio.open(stack) as src:
        raw, nodata = src.read(), src.nodata
    for index, band in enumerate(("a", "b", "c")):
        expected = np.where(raw[index] == nodata, np.nan, raw[index])
        np.testing.assert_array_equal(scene[band].values, expected)
    assert not scene["valid"].values[(raw == nodata).any(axis=0)].any()


def test_geotiff_band_names(stack: Path, tmp_path: Path) -> None:
    named = open_geotiff(stack, band_names=("Rrs_443", "Rrs_560", "Rrs_665"))
    assert tuple(named.data_vars) == ("Rrs_443", "Rrs_560", "Rrs_665", "valid")
    np.testing.assert_array_equal(named["Rrs_560"].values, open_geotiff(stack)["b"].values)
    bare = write_geotiff_stack(tmp_path / "bare.tif", bands=2)
    assert tuple(open_geotiff(bare).data_vars) == ("b1", "b2", "valid")


def test_geotiff_times(stack: Path, tmp_path: Path) -> None:
    assert open_geotiff(stack).attrs["start_time"] == "2023-06-01T10:00:00Z"
    untimed = write_geotiff_stack(tmp_path / "untimed.tif", datetime=None)
    assert open_geotiff(untimed).attrs["start_time"] == ""
    with rasterio.open(untimed, "r+") as dst:
        dst.update_tags(ACQUISITION_TIME="2023-06-01T12:15:00+02:00")
    assert open_geotiff(untimed).attrs["start_time"] == "2023-06-01T10:15:00Z"


def test_geotiff_coordinates_from_the_transform(stack: Path) -> None:
    scene = open_geotiff(stack)
    with rasterio.open(stack) as src:
        west, north, res = src.transform.c, src.transform.f, src.transform.a
    np.testing.assert_allclose(
        scene["latitude"].values[:, 0], north - (np.arange(48) + 0.5) * res, rtol=1e-6
    )
    np.testing.assert_allclose(
        scene["longitude"].values[0], west + (np.arange(64) + 0.5) * res, rtol=1e-6
    )


def write_tiff(path: Path, data: np.ndarray, crs: str, **profile: object) -> Path:
    count, height, width = data.shape
    transform = Affine(300.0, 0.0, 500000.0, 0.0, -300.0, 4800000.0)
    profile.update(driver="GTiff", width=width, height=height, count=count, dtype=data.dtype)
    with rasterio.open(path, "w", crs=crs, transform=transform, **profile) as dst:
        dst.write(data)
    return path


def test_geotiff_projected_scaled_int16(tmp_path: Path) -> None:
    raw = np.array([[[0, 100], [200, -1]]], dtype=np.int16)
    path = write_tiff(tmp_path / "utm.tif", raw, "EPSG:32631", nodata=-1)
    with rasterio.open(path, "r+") as dst:
        dst.scales, dst.offsets = (0.5,), (1.0,)
    scene = open_geotiff(path)
    np.testing.assert_array_equal(scene["b1"].values, [[1.0, 51.0], [101.0, np.nan]])
    assert "latitude" not in scene.coords and "longitude" not in scene.coords


# --- errors -------------------------------------------------------------------------------------


def chl_with(
    tmp_path: Path, **extra: tuple[tuple[str, ...], np.ndarray, dict[str, object]]
) -> Path:
    return write_nc(
        tmp_path / "bad.nc",
        {"time": 2, "lat": 3, "lon": 4, "lat2": 6, "lon2": 8},
        {
            "time": (("time",), np.array([0, 24], "i4"), {"units": "hours since 2023-01-01"}),
            "chlor_a": (("time", "lat", "lon"), grid((2, 3, 4)), {}),
            **extra,
        },
    )


def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.nc"
    path.write_text("not a NetCDF file\n" * 20)
    return path


Case = tuple[Callable[[Path], Path], Callable[[Path], object], type[Exception], list[str]]

NETCDF_CASES: dict[str, Case] = {
    "missing file": (lambda t: t / "absent.nc", lambda p: scene_count(p, CHL),
                     GriddedFileNotFoundError, ["no such file"]),
    "text file": (text_file, lambda p: scene_count(p, CHL), WrongFormatError,
                  ["not a readable NetCDF file"]),
    "geotiff": (lambda t: write_geotiff_stack(t / "s.tif"), lambda p: open_scene(p, CHL, 0),
                WrongFormatError, ["not a readable NetCDF file"]),
    "folder": (lambda t: t, lambda p: scene_count(p, CHL), WrongFormatError, ["folder"]),
    "variable missing": (chl_with, lambda p: scene_count(p, GriddedConfig(("chlor_a", "Rrs_443"))),
                         MissingVariableError, ["'Rrs_443' missing", "the file has 'chlor_a'"]),
    "mask missing": (chl_with, lambda p: open_scene(p, GriddedConfig(("chlor_a",),
                                                                     mask_variable="land"), 0),
                     MissingVariableError, ["'land' missing"]),
    "dimension missing": (chl_with, lambda p: scene_count(p, GriddedConfig(("chlor_a",),
                                                                           y_dim="latitude")),
                          MissingDimensionError, ["'latitude' (y_dim) missing", "'lat'"]),
    "time dimension missing": (chl_with, lambda p: scene_count(p, GriddedConfig(("chlor_a",),
                                                                                time_dim="t")),
                               MissingDimensionError, ["'t' (time_dim) missing"]),
    "other grid": (lambda t: chl_with(t, sst=(("time", "lat2", "lon2"), grid((2, 6, 8)), {})),
                   lambda p: scene_count(p, GriddedConfig(("chlor_a", "sst"))),
                   ShapeMismatchError, ["'sst'", "(2, 6, 8)", "(2, 3, 4)"]),
    "no time axis": (lambda t: chl_with(t, depth=(("lat", "lon"), grid((3, 4)), {})),
                     lambda p: open_scene(p, GriddedConfig(("chlor_a", "depth")), 0),
                     ShapeMismatchError, ["'depth'", "('lat', 'lon')"]),
    "index out of range": (chl_with, lambda p: open_scene(p, CHL, 2), IndexError,
                           ["scene index 2 out of range", "holds 2"]),
}  # fmt: skip


def bad_times(
    values: np.ndarray, attrs: dict[str, object], name: str = "time"
) -> Callable[[Path], Path]:
    def make(tmp_path: Path) -> Path:
        return write_nc(
            tmp_path / "times.nc",
            {"time": 2, "lat": 3, "lon": 4},
            {
                name: (("time",), values, attrs),
                "chlor_a": (("time", "lat", "lon"), grid((2, 3, 4)), {}),
            },
        )

    return make


TIME_CASES: dict[str, tuple[Callable[[Path], Path], list[str]]] = {
    "no coordinate": (bad_times(np.zeros(2), {}, name="other"), ["no coordinate variable"]),
    "no units": (bad_times(np.array([0.0, 1.0]), {}), ["not a date", "units None"]),
    "bad units": (bad_times(np.array([0.0, 1.0]), {"units": "furlongs since the flood"}),
                  ["cannot be decoded", "furlongs"]),
    "repeated": (bad_times(np.array([0.0, 0.1]), {"units": "seconds since 2023-01-01"}),
                 ["steps 0 and 1", "20230101T000000", "repeat"]),
}  # fmt: skip


def check_error(err: pytest.ExceptionInfo[Exception], path: Path, problems: list[str]) -> None:
    message = str(err.value)
    assert message.startswith(str(path)), message
    for problem in problems:
        assert problem in message, message


@pytest.mark.parametrize("case", NETCDF_CASES, ids=list(NETCDF_CASES))
def test_netcdf_errors_name_the_path_and_the_problem(case: str, tmp_path: Path) -> None:
    make, call, error, problems = NETCDF_CASES[case]
    path = make(tmp_path)
    with pytest.raises(error) as err:
        call(path)
    check_error(err, path, problems)
    if error is not IndexError:
        assert isinstance(err.value, GriddedError) and isinstance(err.value, ProductError)


@pytest.mark.parametrize("case", TIME_CASES, ids=list(TIME_CASES))
def test_time_errors(case: str, tmp_path: Path) -> None:
    make, problems = TIME_CASES[case]
    path = make(tmp_path)
    with pytest.raises(SceneTimeError) as err:
        scene_count(path, CHL)
    check_error(err, path, problems)


def test_missing_file_is_also_a_product_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(ProductNotFoundError):
        open_geotiff(tmp_path / "absent.tif")
    with pytest.raises(FileNotFoundError):
        scene_count(tmp_path / "absent.nc", CHL)


def test_gs_urls_are_refused_by_name() -> None:
    for call in (lambda p: scene_count(p, CHL), open_geotiff):
        with pytest.raises(UnsupportedPathError, match=r"^gs://bucket/a\.nc: gs:// URLs"):
            call("gs://bucket/a.nc")


GEOTIFF_CASES: dict[str, tuple[Callable[[Path], Path], dict[str, object], type, list[str]]] = {
    "missing file": (lambda t: t / "absent.tif", {}, GriddedFileNotFoundError, ["no such file"]),
    "text file": (text_file, {}, WrongFormatError, ["not a readable raster"]),
    "netcdf": (lambda t: write_netcdf_series(t / "s.nc", times=1), {}, WrongFormatError,
               ["netCDF raster, not a GeoTIFF"]),
    "band count": (lambda t: write_geotiff_stack(t / "s.tif", bands=3),
                   {"band_names": ("a", "b")}, BandNamesError,
                   ["names 2 bands", "the file has 3"]),
    "bad datetime": (lambda t: write_geotiff_stack(t / "s.tif", datetime=None),
                     {}, SceneTimeError, ["tag ACQUISITION_TIME", "'yesterday'"]),
}  # fmt: skip


@pytest.mark.parametrize("case", GEOTIFF_CASES, ids=list(GEOTIFF_CASES))
def test_geotiff_errors_name_the_path_and_the_problem(case: str, tmp_path: Path) -> None:
    make, kwargs, error, problems = GEOTIFF_CASES[case]
    path = make(tmp_path)
    if case == "bad datetime":
        with rasterio.open(path, "r+") as dst:
            dst.update_tags(ACQUISITION_TIME="yesterday")
    with pytest.raises(error) as err:
        open_geotiff(path, **kwargs)
    check_error(err, path, problems)


@pytest.mark.parametrize("names", [("a", "a", "b"), ("valid", "b", "c")])
def test_geotiff_band_names_must_be_distinct_and_unreserved(stack: Path, names: tuple) -> None:
    with pytest.raises(ValueError, match="band_names"):
        open_geotiff(stack, band_names=names)


# --- config -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        CHL,
        GriddedConfig(
            RRS,
            time_dim=None,
            y_dim="rows",
            x_dim="columns",
            mask_variable="land",
            band_names=("red", "green"),
        ),
    ],
)
def test_config_round_trips_through_json(config: GriddedConfig) -> None:
    data = config.to_dict()
    assert json.loads(json.dumps(data)) == data
    again = GriddedConfig.from_dict(json.loads(json.dumps(data)))
    assert again == config and hash(again) == hash(config)
    assert isinstance(again.variables, tuple)


def test_config_is_frozen_and_takes_lists() -> None:
    config = GriddedConfig(["chlor_a"])  # type: ignore[arg-type]
    assert config.variables == ("chlor_a",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.time_dim = "t"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("data", "problems"),
    [
        ({"variables": ["chl"], "colour": "red"}, ["unknown key", "'colour'"]),
        ({"time_dim": "time"}, ["missing key 'variables'"]),
        ({"variables": "chlor_a"}, ["variables", "'chlor_a'"]),
        ({"variables": []}, ["variables", "at least one"]),
        ({"variables": ["chl", "chl"]}, ["variables", "repeat", "'chl'"]),
        ({"variables": ["chl", "valid"]}, ["variables", "'valid'", "reserved"]),
        ({"variables": ["chl", 3]}, ["variables", "3"]),
        ({"variables": ["chl"], "y_dim": 3}, ["y_dim", "3"]),
        ({"variables": ["chl"], "time_dim": ""}, ["time_dim", "''"]),
        ({"variables": ["chl"], "x_dim": "lat"}, ["must differ", "'lat'"]),
        ({"variables": ["chl"], "mask_variable": "chl"}, ["mask_variable", "'chl'"]),
        ({"variables": ["chl"], "band_names": ["latitude"]}, ["band_names", "'latitude'"]),
        (["chl"], ["expected a mapping"]),
    ],
)
def test_config_errors_name_the_key_and_value(data: object, problems: list[str]) -> None:
    with pytest.raises(GriddedConfigError) as err:
        GriddedConfig.from_dict(data)  # type: ignore[arg-type]
    for problem in problems:
        assert problem in str(err.value), str(err.value)


def test_geotiff_fill_is_encoded_in_the_band_type() -> None:
    """Packed with the band's scale and offset, rounded and clipped for integers, and never
    onto the nodata value (which would read back as a gap)."""
    values = np.array([0.5, 1.0, 1000.0, -5.0, 0.0])
    packed = encode(values, np.dtype(np.uint16), 0.01, 0.0, 100)
    assert packed.dtype == np.uint16
    assert packed.tolist() == [50, 101, 65535, 0, 0]  # 1.0 is the nodata 100: moved off it
    floats = encode(np.array([-9999.0, 1.5]), np.dtype(np.float32), 1.0, 0.0, -9999.0)
    assert floats[0] != -9999.0 and floats[1] == np.float32(1.5)
    assert encode(np.array([2.0]), np.dtype(np.float32), 2.0, 1.0, None).tolist() == [0.5]
