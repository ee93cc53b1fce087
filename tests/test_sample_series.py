"""The time-coherent sample series: read as gridded input, coherent in time, with known truth."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from components.example_gen.config import IngestConfig
from components.example_gen.patches import extract_patches
from components.example_gen.scenes import open_scene, scene_refs
from components.gridded import GriddedConfig, open_series, scene_names
from components.sample import series as sample
from components.sample.cloud_series import cloud_series, daily_fractions
from components.sample.clouds import load_real_masks
from pipelines.cli import main

VARIABLES = ("chlor_a", "sst", "Rrs_443")
SEED = 5
# The configuration the README documents for the sample series.
CONFIG = GriddedConfig(variables=("chlor_a",), mask_variable="land")


@pytest.fixture(scope="module")
def path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("series")
    return sample.write_sample_series(folder / "sample.nc", seed=SEED, variables=VARIABLES)


@pytest.fixture(scope="module")
def ds(path: Path) -> xr.Dataset:
    with xr.open_dataset(path) as opened:
        return opened.load()


def _correlation(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    return float(np.corrcoef(a[where], b[where])[0, 1])


def test_the_gridded_reader_opens_it_with_the_documented_config(path: Path, ds: xr.Dataset):
    names = scene_names(path, CONFIG)
    assert len(names) == sample.DEFAULT_DAYS
    assert names[0] == "sample_20230501T120000" and names[1] == "sample_20230502T120000"
    land = ds.land.values.astype(bool)
    scenes = list(open_series(path, CONFIG))
    for day, scene in enumerate(scenes):
        assert scene.sizes == {"y": 96, "x": 128}
        observed = np.isfinite(ds.chlor_a.values[day])
        np.testing.assert_array_equal(scene.valid.values, observed & ~land)
        assert not scene.valid.values[land].any()
    assert scenes[0].latitude.values[0, 0] > scenes[0].latitude.values[-1, 0]  # north first
    every = GriddedConfig(variables=VARIABLES, mask_variable="land")
    assert list(next(open_series(path, every)).data_vars) == [*VARIABLES, "valid", "cloud"]


def test_cf_metadata(path: Path, ds: xr.Dataset) -> None:
    with xr.open_dataset(path, decode_times=False) as raw:
        assert raw.time.attrs["units"] == sample.TIME_UNITS
        assert raw.chlor_a.encoding["_FillValue"] == sample.FILL
    assert ds.attrs["Conventions"] == "CF-1.8"
    assert ds.chlor_a.attrs["units"] == "mg m-3"
    assert ds.chlor_a.attrs["standard_name"] == "mass_concentration_of_chlorophyll_a_in_sea_water"
    assert ds.sst.attrs["units"] == "degree_Celsius"
    assert ds.Rrs_443.attrs["units"] == "sr-1"
    assert ds.lat.attrs["standard_name"] == "latitude"
    assert ds.land.dims == ("lat", "lon") and ds.land.attrs["flag_meanings"] == "water land"
    assert np.all(np.diff(ds.time.values) == np.timedelta64(1, "D"))


def test_truth_is_gap_free_and_equals_what_is_observed(ds: xr.Dataset) -> None:
    land = ds.land.values.astype(bool)
    assert 0 < land.mean() < 0.5
    for name in VARIABLES:
        truth, observed = ds[f"{name}_truth"].values, ds[name].values
        assert np.isfinite(truth[:, ~land]).all(), name
        assert np.isnan(truth[:, land]).all() and np.isnan(observed[:, land]).all(), name
        seen = np.isfinite(observed)
        np.testing.assert_array_equal(observed[seen], truth[seen], err_msg=name)
        assert 0.2 < 1 - seen[:, ~land].mean() < 0.6, name  # cloudy water
    chl = ds.chlor_a_truth.values[:, ~land]
    assert chl.min() > 0
    log_chl = np.log10(chl)
    assert 0.1 < log_chl.std() < 0.6  # log-normal spread of a real chlorophyll field
    rrs = ds.Rrs_443_truth.values[:, ~land]
    assert rrs.min() > 0 and 0.0005 < np.median(rrs) < 0.02
    assert 0 < np.nanmedian(ds.sst_truth.values) < 32


def test_neighbouring_days_predict_each_other(ds: xr.Dataset) -> None:
    log_chl = np.log10(ds.chlor_a.values)
    days = log_chl.shape[0]

    def mean_correlation(lag: int) -> float:
        values = []
        for t in range(days - lag):
            clear = np.isfinite(log_chl[t]) & np.isfinite(log_chl[t + lag])
            values.append(_correlation(log_chl[t], log_chl[t + lag], clear))
        return float(np.mean(values))

    next_day, ten_days = mean_correlation(1), mean_correlation(10)
    assert next_day > 0.95
    assert next_day > ten_days + 0.08
    sst = ds.sst_truth.values
    water = ~ds.land.values.astype(bool)
    assert _correlation(sst[0], sst[1], water) > 0.95


def _shift_scores(
    before: np.ndarray, after: np.ndarray, row: int, column: int, size: int, search: int
) -> dict[tuple[int, int], float]:
    """Correlation of a window of `before` with the window of `after` at each shift."""
    window = before[row : row + size, column : column + size].ravel()
    return {
        (dr, dc): float(
            np.corrcoef(
                window, after[row + dr : row + dr + size, column + dc : column + dc + size].ravel()
            )[0, 1]
        )
        for dr in range(-search, search + 1)
        for dc in range(-search, search + 1)
    }


def test_features_are_carried_by_the_flow(ds: xr.Dataset) -> None:
    """Windows of day 0 match day 8 best somewhere else: the water moved (that it keeps its
    structure from day to day is `test_neighbouring_days_predict_each_other`)."""
    log_chl = np.log10(ds.chlor_a_truth.values)
    land = ds.land.values.astype(bool)
    size, search, lag = 24, 8, 8
    shifts, gains = [], []
    for row in range(search, land.shape[0] - size - search, 12):
        for column in range(search, land.shape[1] - size - search, 12):
            if land[
                row - search : row + size + search, column - search : column + size + search
            ].any():
                continue
            scores = _shift_scores(log_chl[0], log_chl[lag], row, column, size, search)
            best = max(scores, key=scores.get)
            shifts.append(np.hypot(*best))
            gains.append(scores[best] - scores[(0, 0)])
    assert len(shifts) >= 8
    assert np.mean(np.array(shifts) >= 1) >= 0.6
    assert np.mean(gains) > 0.01


def test_a_bloom_rises_and_decays(ds: xr.Dataset) -> None:
    lat, lon = ds.lat.values[:, None], ds.lon.values[None, :]
    cells = np.hypot(lat - ds.attrs["bloom_latitude"], lon - ds.attrs["bloom_longitude"])
    core = cells * 111.0 < ds.attrs["bloom_radius_km"]
    core &= ~ds.land.values.astype(bool)
    assert core.sum() > 50
    level = ds.chlor_a_truth.values[:, core].mean(axis=1)
    peak = int(np.argmax(level))
    stated = dt.datetime.fromisoformat(ds.attrs["bloom_peak_time"].replace("Z", ""))
    start = dt.datetime(2023, 5, 1, 12)
    assert abs(peak - (stated - start).total_seconds() / 86400) <= 2
    assert level[peak] > 2 * level[0]
    assert level[-1] < 0.7 * level[peak]
    assert np.all(np.diff(level[: peak + 1]) > -0.02 * level[peak])  # rises over days


def test_clouds_cover_the_share_asked_for_and_move(ds: xr.Dataset) -> None:
    water = ~ds.land.values.astype(bool)
    cloud = np.isnan(ds.chlor_a.values) & water
    shares = cloud[:, water].mean(axis=1)
    assert abs(shares.mean() - sample.DEFAULT_CLOUD_FRACTION) < 0.06
    assert shares.std() > 0.03  # some days clearer than others

    def iou(a: np.ndarray, b: np.ndarray) -> float:
        return float((a & b).sum() / (a | b).sum())

    next_day = np.mean([iou(cloud[t], cloud[t + 1]) for t in range(len(cloud) - 1)])
    ten_days = np.mean([iou(cloud[t], cloud[t + 10]) for t in range(len(cloud) - 10)])
    assert 0.3 < next_day < 0.9  # clouds change from one day to the next...
    assert next_day > ten_days + 0.1  # ...but tomorrow's sky resembles today's


@pytest.mark.parametrize("fraction", [0.0, 0.15, 0.5, 0.9, 1.0])
def test_cloud_series_meets_its_mean_fraction(fraction: float) -> None:
    masks = cloud_series((40, 48), 12, np.random.default_rng(1), fraction=fraction)
    assert masks.shape == (12, 40, 48)
    assert abs(masks.mean() - fraction) < 0.002
    days = daily_fractions(12, fraction, np.random.default_rng(2))
    assert days.min() >= 0 and days.max() <= 1 and abs(days.mean() - fraction) < 1e-9


def test_cloud_series_draws_real_shapes_when_given() -> None:
    synthetic = cloud_series((40, 48), 9, np.random.default_rng(3), fraction=0.4)
    real = cloud_series(
        (40, 48), 9, np.random.default_rng(3), fraction=0.4, real_masks=load_real_masks()
    )
    assert not np.array_equal(synthetic, real)


def test_same_arguments_same_bytes(tmp_path: Path) -> None:
    args = {"shape": (32, 40), "days": 6, "seed": 9, "variables": ("chlor_a", "sst")}
    a = sample.write_sample_series(tmp_path / "a.nc", **args)
    b = sample.write_sample_series(tmp_path / "b.nc", **args)
    assert a.read_bytes() == b.read_bytes()
    c = sample.write_sample_series(tmp_path / "c.nc", **{**args, "seed": 10})
    with xr.open_dataset(a) as first, xr.open_dataset(c) as other:
        assert not np.array_equal(first.chlor_a_truth.values, other.chlor_a_truth.values)


def test_scenes_pass_the_gridded_ingest_patch_cutting(path: Path) -> None:
    ingest = IngestConfig(kind="netcdf", bands=("chlor_a",), patch_size=32, min_valid=0.95,
                          gridded=CONFIG)  # fmt: skip
    refs = scene_refs(str(path), ingest)
    assert len(refs) == sample.DEFAULT_DAYS
    patches = []
    for ref in refs:
        with open_scene(ref, ingest) as scene:
            patches += extract_patches(scene, ingest.bands, ingest.patch_size,
                                       min_valid=ingest.min_valid)  # fmt: skip
    assert len(patches) >= 10
    assert len({p.product for p in patches}) >= 5  # from many days, not one clear day
    for patch in patches:
        assert patch.reflectance.shape == (32, 32, 1) and patch.valid_share >= 0.95
        assert np.all(patch.reflectance[patch.valid] > 0)


def test_cli_writes_the_series(tmp_path: Path, capsys) -> None:
    out = tmp_path / "nested" / "series.nc"
    args = ["--series", "--days", "5", "--size", "32", "40", "--seed", "2",
            "--variables", "chlor_a", "Rrs_560", "--cloud-fraction", "0.25"]  # fmt: skip
    assert main(["sample-data", str(out), *args]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    with xr.open_dataset(out) as ds:
        assert dict(ds.sizes) == {"time": 5, "lat": 32, "lon": 40}
        assert {"chlor_a", "chlor_a_truth", "Rrs_560", "Rrs_560_truth", "land"} <= set(ds)
    expected = sample.sample_series((32, 40), 5, 2, variables=("chlor_a", "Rrs_560"),
                                    cloud_fraction=0.25)  # fmt: skip
    with xr.open_dataset(out) as ds:
        np.testing.assert_array_equal(ds.chlor_a.values, expected.chlor_a.values)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--series", "--zip"], "--zip is for products, not --series"),
        (["--series", "--products", "2"], "--products is for products, not --series"),
        (["--days", "4"], "--days needs --series"),
        (["--series", "--variables", "Rrs_999"], "'Rrs_999' is not 'chlor_a', 'sst' or Rrs_<nm>"),
        (["--series", "--variables", "sst", "sst"], "variables repeat: sst"),
        (["--series", "--size", "8", "40"], "each side must be at least 16"),
    ],
)
def test_cli_refuses_bad_series_arguments(tmp_path: Path, capsys, args, message) -> None:
    assert main(["sample-data", str(tmp_path / "s.nc"), *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "s.nc").exists()


def test_cli_refuses_a_folder_as_the_series_file(tmp_path: Path, capsys) -> None:
    assert main(["sample-data", str(tmp_path), "--series", "--days", "2"]) == 2
    assert f"{tmp_path} is a folder; name the NetCDF file to write" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": 0}, "days 0 is not a positive integer"),
        ({"seed": -1}, "seed -1 is not a non-negative integer"),
        ({"cloud_fraction": 1.5}, "cloud fraction 1.5 is not in [0, 1]"),
        ({"variables": ()}, "variables must name at least one variable"),
        ({"shape": (16,)}, "is not a (rows, columns) pair"),
    ],
)
def test_sample_series_names_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        sample.sample_series(**{"shape": (16, 16), "days": 2, **kwargs})
