"""The batch job on gridded NetCDF series: DirectRunner, local files and gs:// (emulator)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import rasterio
import xarray as xr

from components.example_gen.config import IngestConfig
from components.gridded import (
    BandNamesError,
    GriddedConfig,
    write_geotiff_stack,
    write_netcdf_series,
)
from components.gridded.eof_blend import BlendWeight, blend, series_eof
from components.olci import BAND_NAMES
from components.sample.series import write_sample_series
from pipelines.cli import main
from pipelines.inpaint import gridded
from pipelines.inpaint.job import InpaintConfig, run
from pipelines.inpaint.model import ModelInfo

pytestmark = pytest.mark.slow
CONSTANT = 0.5  # what the models add to each band's observed tile mean in the gap
SIGMA = 0.25  # the uncertainty they give every gap pixel
SMALL = dict(tile=32, halo=4, block_tile_rows=1, batch_size=4)
SERIES = GriddedConfig(variables=("chlor_a",), mask_variable="land")


def _save_model(path: Path, bands: tuple[str, ...], meta: dict | None = None) -> Path:
    """A SavedModel with the serving contract for `bands`: in the gap, each band's mean over the
    tile's observed pixels plus CONSTANT times its channel number (1, 2, ...), with SIGMA as
    the uncertainty; `meta` goes into its description."""
    # Deferred: TensorFlow takes seconds to import; collecting this module skips it.
    import tensorflow as tf

    steps = tf.constant([CONSTANT * (i + 1) for i in range(len(bands))], tf.float32)

    class Model(tf.Module):
        @tf.function(
            input_signature=[
                tf.TensorSpec([None, None, None, len(bands)], tf.float32, "reflectance"),
                tf.TensorSpec([None, None, None, 1], tf.float32, "gap"),
            ]
        )
        def serve(self, reflectance, gap):
            known = tf.math.is_finite(reflectance) & (gap < 0.5)
            total = tf.reduce_sum(tf.where(known, reflectance, 0.0), axis=[1, 2], keepdims=True)
            count = tf.reduce_sum(tf.cast(known, tf.float32), axis=[1, 2], keepdims=True)
            value = total / tf.maximum(count, 1.0) + steps
            return {
                "filled": tf.where(gap > 0.5, value, reflectance),
                "sigma": tf.where(gap > 0.5, tf.fill(tf.shape(reflectance), SIGMA), 0.0),
            }

    module = Model()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
    description = {"bands": len(bands), "band_names": list(bands), "stride": 8,
                   "outputs": ["filled", "sigma"], **(meta or {})}  # fmt: skip
    (path / "s3inpaint_model.json").write_text(json.dumps(description))
    return path


@pytest.fixture(scope="module")
def chl_model(tmp_path_factory) -> Path:
    """A chlor_a model that records the sample series' layout, as the Trainer does."""
    root = tmp_path_factory.mktemp("models")
    return _save_model(root / "chl", ("chlor_a",), {"gridded": SERIES.to_dict()})


@pytest.fixture(scope="module")
def series(tmp_path_factory) -> Path:
    """The sample series: 3 days of 48 x 48 chlor_a with its truth and a land mask."""
    return write_sample_series(tmp_path_factory.mktemp("series") / "chl.nc", (48, 48), 3, seed=5)


def test_a_one_band_series_is_filled_in_its_own_format(chl_model, series, tmp_path) -> None:
    out = tmp_path / "out"
    summary = run(InpaintConfig(str(chl_model), (str(series),), str(out), **SMALL))
    assert summary["counts"] == {"written": 1, "skipped": 0, "failed": 0}
    assert summary["run"]["config"]["gridded"]["variables"] == ["chlor_a"]  # the model's
    filled_path = out / "chl.nc"
    (outcome,) = summary["outcomes"]
    assert outcome["output"] == str(filled_path) and outcome["tiles"]["fill"] > 0
    with xr.open_dataset(series) as before, xr.open_dataset(filled_path) as after:
        assert dict(after.sizes) == dict(before.sizes)
        assert after.attrs.pop("history").endswith(f"filled with the model {chl_model}")
        assert after.attrs == before.attrs
        for name in ("time", "lat", "lon", "land", "chlor_a_truth"):  # kept as they are
            xr.testing.assert_identical(after[name], before[name])
        land = before["land"].values.astype(bool)
        gap = ~np.isfinite(before["chlor_a"].values) & ~land
        observed = np.isfinite(before["chlor_a"].values)
        chl = after["chlor_a"].values
        np.testing.assert_array_equal(chl[observed], before["chlor_a"].values[observed])
        assert np.isfinite(chl[gap]).all() and np.isnan(chl[:, land]).all()
        assert outcome["filled_pixels"] == gap.sum() > 0
        # The fill is the model's: above the observed mean of some tile by CONSTANT.
        assert (chl[gap] > CONSTANT).all()
        np.testing.assert_array_equal(after["filled"].values, gap.astype(np.int8))
        sigma = after["chlor_a_uncertainty"].values
        np.testing.assert_allclose(sigma[gap], SIGMA)
        assert np.isnan(sigma[~gap]).all()
        assert after["chlor_a"].attrs == {
            **before["chlor_a"].attrs,
            "ancillary_variables": "filled chlor_a_uncertainty",
        }
        assert after["chlor_a"].encoding["dtype"] == np.float32
        assert after["chlor_a"].encoding["_FillValue"] == before["chlor_a"].encoding["_FillValue"]
    with netCDF4.Dataset(filled_path) as nc:  # the CF attributes as stored
        flag = nc.variables["filled"]
        assert flag.dimensions == ("time", "lat", "lon") and flag.dtype == np.int8
        assert (
            np.atleast_1d(flag.flag_masks).tolist()
            == np.atleast_1d(flag.flag_values).tolist()
            == [1]
        )
        assert flag.flag_meanings == "chlor_a_filled"
        assert "_FillValue" not in flag.ncattrs()
        sigma = nc.variables["chlor_a_uncertainty"]
        assert sigma.standard_name == (
            "mass_concentration_of_chlorophyll_a_in_sea_water standard_error"
        )
        assert sigma.units == "mg m-3"
    assert not list(out.glob(".chl.nc.tmp-*")) and not (out / ".s3inpaint-work").exists()


def test_packed_variables_are_filled_per_variable(tmp_path) -> None:
    """Two int16-packed variables, gaps of one band only: each variable is written only where
    it was missing, and the flag says which."""
    source = write_netcdf_series(tmp_path / "in" / "l3.nc", times=2, shape=(40, 48),
                                 variables=("chlor_a", "Rrs_443"), packed=True)  # fmt: skip
    model = _save_model(tmp_path / "model", ("Rrs_443", "chlor_a"))  # another channel order
    layout = tmp_path / "layout.yaml"
    layout.write_text("variables: [chlor_a, Rrs_443]\n")
    out = tmp_path / "out"
    assert main(["inpaint", "--model", str(model), "--input", str(tmp_path / "in" / "*.nc"),
                 "--output", str(out), "--gridded-config", str(layout), "--tile", "32",
                 "--halo", "4"]) == 0  # fmt: skip
    with netCDF4.Dataset(source) as before, netCDF4.Dataset(out / "l3.nc") as after:
        flags = after.variables["filled"][:]
        assert list(after.variables["filled"].flag_masks) == [1, 2]
        assert after.variables["filled"].flag_meanings == "Rrs_443_filled chlor_a_filled"
        for bit, name in ((1, "Rrs_443"), (2, "chlor_a")):
            old, new = before.variables[name], after.variables[name]
            assert new.dtype == np.int16 and new.scale_factor == old.scale_factor
            old.set_auto_maskandscale(False)
            new.set_auto_maskandscale(False)
            raw_before, raw_after = old[:], new[:]
            missing = raw_before == old._FillValue
            assert ((flags & bit) != 0).tolist() == missing.tolist()
            np.testing.assert_array_equal(raw_after[~missing], raw_before[~missing])
            assert (raw_after[missing] != old._FillValue).all()
        # A pixel where one variable was observed and the other missing flags only the latter.
        assert ((flags == 1) | (flags == 2)).any()


def test_band_name_mismatches_are_refused_before_any_work(chl_model, series, tmp_path,
                                                          capsys) -> None:  # fmt: skip
    out = tmp_path / "out"
    sst = _save_model(tmp_path / "sst", ("sst",))
    message = re.escape(
        f"model {sst} takes the bands ['sst'], matched by name to the series' variables, but "
        "the gridded layout names the variables ['chlor_a']"
    )
    with pytest.raises(ValueError, match=message):
        run(InpaintConfig(str(sst), (str(series),), str(out), gridded=SERIES, **SMALL))
    # A model that records a layout whose variable the series lacks: the file is named.
    recorded = GriddedConfig(variables=("sst",), mask_variable="land")
    other = _save_model(tmp_path / "other", ("sst",), {"gridded": recorded.to_dict()})
    with pytest.raises(ValueError, match=re.escape(f"{series}: variable 'sst' missing")):
        run(InpaintConfig(str(other), (str(series),), str(out), **SMALL))
    # Without a layout, a model of other bands is no OLCI model either.
    assert main(["inpaint", "--model", str(sst), "--input", str(series), "--output",
                 str(out)]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "takes bands ['sst'] that are not OLCI L2 WFR bands" in err and "Traceback" not in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("variables: [chlor_a]\ntime_dimension: time\n")
    assert main(["inpaint", "--model", str(chl_model), "--input", str(series), "--output",
                 str(out), "--gridded-config", str(bad)]) == 2  # fmt: skip
    assert f"--gridded-config: {bad}: unknown key 'time_dimension'" in capsys.readouterr().err
    assert not out.exists()


def test_a_signature_without_the_temporal_inputs_is_refused(series, tmp_path) -> None:
    """A description that states a temporal window over a signature without neighbour inputs,
    and a temporal model without a gridded layout, are refused before any work."""
    meta = {"gridded": SERIES.to_dict(), "config": {"temporal_window": 2}}
    model = _save_model(tmp_path / "temporal", ("chlor_a",), meta)
    message = (
        f"{model / 'saved_model.pb'}: signature 'serving_default' lacks the inputs "
        "['neighbour_gap', 'neighbour_offset', 'neighbours'] of a model with a temporal window "
        "of 2, as its s3inpaint_model.json says"
    )
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=re.escape(message)):
        run(InpaintConfig(str(model), (str(series),), str(out), **SMALL))
    bare = _save_model(tmp_path / "bare", ("chlor_a",), {"temporal_window": 2})
    message = (
        f"model {bare} takes 2 neighbouring scenes on each side as context: it fills gridded "
        "NetCDF series (give --gridded-config, or train it on a NetCDF ingest)"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        run(InpaintConfig(str(bare), (str(series),), str(out), **SMALL))
    assert not out.exists()


def test_a_resumed_series_job_skips_complete_outputs(chl_model, series, tmp_path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("a.nc", "b.nc"):
        shutil.copy(series, inputs / name)
    (inputs / "notes.txt").write_text("not a series")
    out = tmp_path / "out"
    config = InpaintConfig(str(chl_model), (str(inputs / "*"),), str(out), **SMALL)
    first = run(config)
    assert first["counts"] == {"written": 2, "skipped": 0, "failed": 1}
    (failed,) = [o for o in first["outcomes"] if o["state"] == "failed"]
    assert failed["input"].endswith("notes.txt") and "not a NetCDF series" in failed["reason"]
    kept = (out / "a.nc").stat().st_mtime_ns
    (out / "b.nc").unlink()  # as if the first run had been killed before committing b.nc
    second = run(config)
    states = {Path(o["input"]).name: o["state"] for o in second["outcomes"]}
    assert states == {"a.nc": "skipped", "b.nc": "written", "notes.txt": "failed"}
    assert (out / "a.nc").stat().st_mtime_ns == kept
    with xr.open_dataset(out / "a.nc") as a, xr.open_dataset(out / "b.nc") as b:
        for name in ("chlor_a", "filled", "chlor_a_uncertainty"):
            xr.testing.assert_identical(a[name], b[name])
    assert len(list((out / "runs").iterdir())) == 2


def test_a_series_on_gcs(chl_model, series, gcs, tmp_path) -> None:
    gcs.create_bucket("series")
    gcs.bucket("series").blob("in/chl.nc").upload_from_filename(str(series))
    config = InpaintConfig(str(chl_model), ("gs://series/in/*.nc",), "gs://series/out", **SMALL)
    assert run(config, ["--no_auth"])["counts"] == {"written": 1, "skipped": 0, "failed": 0}
    local = tmp_path / "chl.nc"
    gcs.bucket("series").blob("out/chl.nc").download_to_filename(str(local))
    with xr.open_dataset(local) as ds:
        assert int(ds["filled"].sum()) > 0 and "chlor_a_uncertainty" in ds
    assert run(config, ["--no_auth"])["counts"]["skipped"] == 1


RRS = ("Rrs_412", "Rrs_472")
STACK = GriddedConfig(variables=RRS)  # a GeoTIFF's layout: its bands, named by description


@pytest.fixture(scope="module")
def rrs_model(tmp_path_factory) -> Path:
    """A model of two reflectance bands that records no layout (given one by --gridded-config)."""
    return _save_model(tmp_path_factory.mktemp("models") / "rrs", RRS)


@pytest.fixture(scope="module")
def stacks(tmp_path_factory) -> Path:
    """A folder of two 32 x 32 GeoTIFFs whose band descriptions are the model's bands."""
    folder = tmp_path_factory.mktemp("stacks")
    for seed, name in enumerate(("a.tif", "b.tif")):
        write_geotiff_stack(folder / name, bands=2, shape=(32, 32), seed=seed,
                            descriptions=RRS, nodata_fraction=0.3)  # fmt: skip
    return folder


def test_a_model_trained_on_geotiffs_fills_them_as_training_read_them(stacks, tmp_path) -> None:
    """A GeoTIFF ingest's layout (bands named in order by `ingest.bands`), which the Trainer
    records, is enough for the job: no --gridded-config."""
    layout = IngestConfig(kind="geotiff", bands=RRS).layout
    assert layout == GriddedConfig(variables=RRS, band_names=RRS)
    assert IngestConfig().layout is None
    series = GriddedConfig(variables=("chlor_a",), mask_variable="land")
    assert IngestConfig(kind="netcdf", bands=("chlor_a",), gridded=series).layout == series
    model = _save_model(tmp_path / "model", RRS, {"gridded": layout.to_dict()})
    config = InpaintConfig(str(model), (str(stacks / "*.tif"),), str(tmp_path / "out"), **SMALL)
    summary = run(config)
    assert summary["counts"] == {"written": 2, "skipped": 0, "failed": 0}
    assert summary["run"]["config"]["gridded"]["band_names"] == list(RRS)  # the model's


def test_an_output_a_sidecar_would_overwrite_fails_naming_both(rrs_model, stacks, tmp_path):
    """Inputs a.tif and a.filled.tif: a.tif's flag sidecar is a.filled.tif, so the second
    fails before any work, naming the first, and the first is filled with its sidecars."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(stacks / "a.tif", folder / "a.tif")
    shutil.copy(stacks / "b.tif", folder / "a.filled.tif")
    out = tmp_path / "out"
    summary = run(InpaintConfig(str(rrs_model), (str(folder / "*.tif"),), str(out),
                                gridded=STACK, **SMALL))  # fmt: skip
    assert summary["counts"] == {"written": 1, "skipped": 0, "failed": 1}
    (failed,) = [o for o in summary["outcomes"] if o["state"] == "failed"]
    assert failed["input"] == str(folder / "a.filled.tif")
    assert (
        "its output a.filled.tif would be overwritten by a sidecar of the fill of a.tif"
        in (failed["reason"])
    )
    with rasterio.open(out / "a.filled.tif") as flag:
        assert flag.descriptions == ("filled",)  # a.tif's flag, not a fill of the other


def test_a_geotiff_is_filled_in_its_own_format(rrs_model, stacks, tmp_path) -> None:
    out = tmp_path / "out"
    config = InpaintConfig(str(rrs_model), (str(stacks / "*.tif"),), str(out), gridded=STACK,
                           **SMALL)  # fmt: skip
    summary = run(config)
    assert summary["counts"] == {"written": 2, "skipped": 0, "failed": 0}
    with rasterio.open(stacks / "a.tif") as src, rasterio.open(out / "a.tif") as dst:
        for key in ("crs", "transform", "dtype", "nodata", "count", "width", "height"):
            assert dst.profile[key] == src.profile[key], key
        assert dst.descriptions == src.descriptions == RRS
        assert dst.tags() == src.tags() and "TIFFTAG_DATETIME" in dst.tags()
        before, after, keep = src.read(), dst.read(), src.read_masks() != 0
    gap = ~keep.all(axis=0)  # a pixel is a gap where any band is missing
    np.testing.assert_array_equal(after[keep], before[keep])  # observed: bit-exact
    # One 32 x 32 tile: each band's fill is the model's, its observed mean plus its step.
    for i in range(len(RRS)):
        expected = before[i][~gap].mean(dtype=np.float32) + CONSTANT * (i + 1)
        np.testing.assert_allclose(after[i][~keep[i]], expected, rtol=1e-6)
    with rasterio.open(out / "a.filled.tif") as flag:
        assert flag.crs == dst.crs and flag.transform == dst.transform
        assert flag.descriptions == ("filled",) and flag.dtypes == ("uint8",)
        assert flag.tags(1)["flag_meanings"] == "Rrs_412_filled Rrs_472_filled"
        bits = flag.read(1)
    np.testing.assert_array_equal(bits, (~keep[0]) * 1 + (~keep[1]) * 2)
    with rasterio.open(out / "a.uncertainty.tif") as sigma:
        assert sigma.descriptions == ("Rrs_412_uncertainty", "Rrs_472_uncertainty")
        spread = sigma.read()
    np.testing.assert_allclose(spread[~keep], SIGMA)
    assert np.isnan(spread[keep]).all()
    (outcome,) = [o for o in summary["outcomes"] if o["input"].endswith("a.tif")]
    assert outcome["filled_pixels"] == (bits > 0).sum() == gap.sum() > 0
    assert sorted(p.name for p in out.glob("*.tif")) == [
        "a.filled.tif", "a.tif", "a.uncertainty.tif",
        "b.filled.tif", "b.tif", "b.uncertainty.tif",
    ]  # fmt: skip
    assert not list(out.glob(".*.tmp-*")) and not (out / ".s3inpaint-work").exists()


def test_a_geotiff_band_mismatch_is_refused_before_any_work(rrs_model, tmp_path,
                                                            capsys) -> None:  # fmt: skip
    other = write_geotiff_stack(tmp_path / "in" / "other.tif", bands=2, shape=(32, 32),
                                descriptions=("Rrs_412", "Rrs_560"))  # fmt: skip
    out = tmp_path / "out"
    message = re.escape(
        f"{other}: its bands are ['Rrs_412', 'Rrs_560'] (named by its band descriptions, else "
        "b1..bN), but the model takes ['Rrs_412', 'Rrs_472']"
    )
    with pytest.raises(BandNamesError, match=message):
        run(InpaintConfig(str(rrs_model), (str(other),), str(out), gridded=STACK, **SMALL))
    layout = tmp_path / "stack.yaml"  # the same through the command, as the README says
    layout.write_text("variables: [Rrs_412, Rrs_472]\n")
    assert main(["inpaint", "--model", str(rrs_model), "--input", str(other), "--output",
                 str(out), "--gridded-config", str(layout)]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert re.search(message, err) and "Traceback" not in err
    assert not out.exists()
    # A temporal model has no neighbours in time for a lone GeoTIFF: `run` checks its first
    # input so (after the model's signature, which these test models lack).
    with pytest.raises(ValueError, match=re.escape(f"{other}: a GeoTIFF is a single scene")):
        gridded.check_first_input(str(other), STACK, temporal_window=1)


def test_a_resumed_geotiff_job_skips_complete_outputs(rrs_model, stacks, tmp_path) -> None:
    out = tmp_path / "out"
    config = InpaintConfig(str(rrs_model), (str(stacks / "*.tif"),), str(out), gridded=STACK,
                           **SMALL)  # fmt: skip
    assert run(config)["counts"]["written"] == 2
    kept = (out / "a.tif").stat().st_mtime_ns
    (out / "b.tif").unlink()  # as if killed after b's sidecars were committed, before b.tif
    second = run(config)
    states = {Path(o["input"]).name: o["state"] for o in second["outcomes"]}
    assert states == {"a.tif": "skipped", "b.tif": "written"}
    assert (out / "a.tif").stat().st_mtime_ns == kept
    with rasterio.open(out / "a.tif") as a, rasterio.open(out / "b.tif") as b:
        assert a.read().shape == b.read().shape == (2, 32, 32)


def test_geotiffs_on_gcs(rrs_model, stacks, gcs, tmp_path) -> None:
    gcs.create_bucket("stacks")
    gcs.bucket("stacks").blob("in/a.tif").upload_from_filename(str(stacks / "a.tif"))
    config = InpaintConfig(str(rrs_model), ("gs://stacks/in/*.tif",), "gs://stacks/out",
                           gridded=STACK, **SMALL)  # fmt: skip
    assert run(config, ["--no_auth"])["counts"] == {"written": 1, "skipped": 0, "failed": 0}
    names = {b.name for b in gcs.bucket("stacks").list_blobs(prefix="out/")}
    assert {"out/a.tif", "out/a.filled.tif", "out/a.uncertainty.tif"} <= names
    local = tmp_path / "a.tif"
    gcs.bucket("stacks").blob("out/a.tif").download_to_filename(str(local))
    with rasterio.open(local) as filled, rasterio.open(stacks / "a.tif") as source:
        assert filled.read_masks().all() and not source.read_masks().all()
    assert run(config, ["--no_auth"])["counts"]["skipped"] == 1


def test_eof_blends_the_models_fill_with_a_dineof_fill_of_the_series(chl_model, tmp_path):
    """--eof: each filled value is the model's and the series' DINEOF fill weighted by their
    uncertainties (the model's σ, the EOFs' cross-validated error); observations stay."""
    source = write_sample_series(tmp_path / "in" / "chl.nc", (48, 48), 8, seed=6)
    outputs = {}
    for eof in (False, True):
        out = tmp_path / f"out-{eof}"
        summary = run(InpaintConfig(str(chl_model), (str(source),), str(out), eof=eof, **SMALL))
        assert summary["counts"]["written"] == 1
        outputs[eof] = out / "chl.nc"
    with xr.open_dataset(source) as before:
        observed = before["chlor_a"].values
        land = before["land"].values.astype(bool)
        days = (before["time"].values - before["time"].values[0]) / np.timedelta64(1, "D")
    gap = ~np.isfinite(observed) & ~land
    eof = series_eof(observed[..., np.newaxis], ("none",), times=days)
    with xr.open_dataset(outputs[False]) as plain, xr.open_dataset(outputs[True]) as blended:
        model = plain["chlor_a"].values[gap][:, np.newaxis]
        sigma = np.full_like(model, SIGMA)
        weight = BlendWeight(1)
        weight.add(model, sigma, eof.filled[gap], ("none",))  # all scenes at once: the same
        expected, spread = blend(model, sigma, eof.filled[gap], eof.error, ("none",),
                                 weight.weight(eof.error))  # fmt: skip
        chl = blended["chlor_a"].values
        np.testing.assert_array_equal(chl[~gap], observed[~gap])
        np.testing.assert_allclose(chl[gap], expected[:, 0], rtol=1e-5)
        assert not np.allclose(chl[gap], model[:, 0], rtol=1e-3)  # the EOFs moved the fill
        np.testing.assert_allclose(blended["chlor_a_uncertainty"].values[gap], spread[:, 0],
                                   rtol=1e-5)  # fmt: skip
        # Narrower where the EOFs fill too; the model's alone at pixels never observed.
        covered = np.isfinite(eof.filled[gap][:, 0])
        assert covered.mean() > 0.5 and (spread[covered] < SIGMA).all()
        np.testing.assert_allclose(spread[~covered], SIGMA)
        assert "blended with a DINEOF fill" in blended.attrs["history"]


def test_eof_is_refused_where_there_is_no_series_or_no_uncertainty(rrs_model, stacks,
                                                                  tmp_path) -> None:  # fmt: skip
    out = tmp_path / "out"
    summary = run(InpaintConfig(str(rrs_model), (str(stacks / "a.tif"),), str(out),
                                gridded=STACK, eof=True, **SMALL))  # fmt: skip
    (outcome,) = summary["outcomes"]
    assert outcome["state"] == "failed" and "a GeoTIFF is one scene" in outcome["reason"]
    olci = ModelInfo("m", BAND_NAMES, 8, uncertainty=True)
    with pytest.raises(ValueError, match="OLCI products share no grid"):
        InpaintConfig("m", ("x",), str(out), eof=True).check(olci)
    silent = ModelInfo("m", ("chlor_a",), 8, gridded=SERIES)
    with pytest.raises(ValueError, match="gives no uncertainty"):
        InpaintConfig("m", ("x",), str(out), gridded=SERIES, eof=True).check(silent)
