"""The batch job with a temporal model: each tile is given the same tiles of its neighbouring
scenes, as the inputs observed them, exactly as training and the evaluator give them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from temporal_models import temporal_unet

from components.gridded import GriddedConfig, write_netcdf_series
from components.inpaint.anchors import Anchors
from components.sample.series import write_sample_series
from model.signature import neighbour_inputs
from pipelines.inpaint.job import InpaintConfig, run
from pipelines.inpaint.neighbours import SeriesNeighbours, grid_scenes, input_windows

LAYOUT = GriddedConfig(variables=("chlor_a",), mask_variable="land")
TILE, DAYS = 16, 4
# Tiles that do not overlap, so every filled pixel is one tile's prediction as it is; one tile a
# call, as the test calls the model (its arithmetic differs in the last bits with the batch).
JOB = dict(tile=TILE, halo=0, block_tile_rows=1, batch_size=1)


def test_the_neighbours_of_a_series_in_two_files_are_their_observed_values(tmp_path) -> None:
    """Two files on one grid are one series: a window reaches across them, a neighbour keeps
    its gaps as NaN, one past the series' end is all NaN with offset 0."""
    first = write_netcdf_series(tmp_path / "a.nc", times=2, shape=(16, 16), seed=1,
                                start="2023-06-01T12:00:00Z")  # fmt: skip
    second = write_netcdf_series(tmp_path / "b.nc", times=2, shape=(16, 16), seed=2,
                                 start="2023-06-03T12:00:00Z")  # fmt: skip
    layout = GriddedConfig(variables=("chlor_a",))
    found = [s for path in (first, second) for s in grid_scenes(("name", [str(path)]), layout)]
    assert len({grid for grid, _ in found}) == 1
    windows = list(input_windows((found[0][0], [scene for _, scene in found]), 1))
    assert sorted(path for path, _ in windows) == [str(first)] * 2 + [str(second)] * 2
    own = [w for path, w in windows if path == str(second)]
    with xr.open_dataset(first) as a, xr.open_dataset(second) as b:
        day2, day4 = a["chlor_a"].values[1], b["chlor_a"].values[1]
    with SeriesNeighbours(str(second), second, layout, own) as neighbours:
        values, offsets = neighbours.around(0, (16, 16))  # day 3: days 2 and 4
        np.testing.assert_array_equal(values[..., 0], [day2, day4])
        assert np.isnan(day2).any() and offsets.tolist() == [-1.0, 1.0]
        values, offsets = neighbours.around(1, (16, 16))  # day 4: day 3, then the end
        assert np.isnan(values[1]).all() and offsets.tolist() == [-1.0, 0.0]


def test_neighbour_inputs_mark_the_unobserved_and_repeat_the_offsets() -> None:
    neighbours = np.ones((3, 2, 4, 4, 2), np.float32)
    neighbours[:, 0, :2, :, 1] = np.nan  # one band missing: the pixel is unobserved
    neighbours[:, 1] = np.nan  # a missing neighbour
    inputs = neighbour_inputs(neighbours, np.array([-1.0, 0.0]))
    gap = inputs["neighbour_gap"][..., 0]
    assert gap[:, 0, :2].all() and not gap[:, 0, 2:].any() and gap[:, 1].all()
    assert inputs["neighbour_offset"].tolist() == [[-1.0, 0.0]] * 3
    with pytest.raises(ValueError, match="do not match 2 neighbours of 3 tiles"):
        neighbour_inputs(neighbours, np.zeros(3))


@pytest.fixture(scope="module")
def temporal_model(tmp_path_factory) -> Path:
    """A tiny exported temporal UNet (one scene each side; a random output layer, so the
    neighbours shape its fill) that records the sample series' layout, as the Trainer does."""
    # Deferred: model.export imports TensorFlow, seconds that collecting this module skips.
    from model.export import export_model

    path = tmp_path_factory.mktemp("models") / "temporal"
    meta = {"kind": "unet", "band_names": ["chlor_a"], "gridded": LAYOUT.to_dict(),
            "patch_size": TILE}  # fmt: skip
    mean, std = np.array([0.0], np.float32), np.array([0.3], np.float32)
    export_model(str(path), temporal_unet(True), None, mean, std, ("log10",), meta)
    return path


@pytest.fixture(scope="module")
def series(tmp_path_factory) -> Path:
    """The sample series: 4 days of 32 x 48 chlor_a with clouds and land."""
    folder = tmp_path_factory.mktemp("series") / "whole"
    return write_sample_series(folder / "chl.nc", (32, 48), DAYS, seed=3)


@pytest.fixture(scope="module")
def filled(temporal_model, series, tmp_path_factory) -> Path:
    """The series filled by the job with the temporal model."""
    out = tmp_path_factory.mktemp("filled")
    summary = run(InpaintConfig(str(temporal_model), (str(series),), str(out), **JOB))
    assert summary["counts"] == {"written": 1, "skipped": 0, "failed": 0}
    return out / series.name


def _direct(serve, values: np.ndarray, gap: np.ndarray, neighbours: list[np.ndarray | None],
            offsets: list[float]) -> np.ndarray:  # fmt: skip
    """The model's fill of one tile, given its neighbours by hand (None: a missing one)."""
    # Deferred: TensorFlow takes seconds to import; collecting this module skips it.
    import tensorflow as tf

    empty = np.full_like(values, np.nan)
    stacked = np.stack([empty if n is None else n for n in neighbours])[np.newaxis, ..., None]
    outputs = serve(
        reflectance=tf.constant(values[np.newaxis, ..., None]),
        gap=tf.constant(gap[np.newaxis, ..., None].astype(np.float32)),
        neighbours=tf.constant(stacked),
        neighbour_gap=tf.constant((~np.isfinite(stacked)).astype(np.float32)),
        neighbour_offset=tf.constant([offsets], tf.float32),
    )
    return outputs["filled"].numpy()[0, ..., 0]


@pytest.mark.slow
def test_the_fill_is_the_models_given_the_neighbours_observed_values(
    temporal_model, series, filled
) -> None:
    """Every tile of every scene, the series' ends included, holds what the model returns when
    given by hand the same tiles of the day before and after as the input holds them (NaN in
    their own gaps; an empty neighbour with offset 0 past the ends), not the job's fill of
    those days; and the neighbours change the fill. A tile inside a wide cloud is given, as
    in the job, its border anchored to the scene's push-pull fill."""
    # Deferred: model.export imports TensorFlow, seconds that collecting this module skips.
    from model.export import load_serving

    serve = load_serving(str(temporal_model))
    with xr.open_dataset(series) as before, xr.open_dataset(filled) as after:
        observed = before["chlor_a"].values.astype(np.float32)
        land = before["land"].values.astype(bool)
        result = after["chlor_a"].values
    gap = ~np.isfinite(observed) & ~land
    np.testing.assert_array_equal(result[~gap], observed[~gap])
    assert np.isfinite(result[gap]).all()
    compared, fed_back, anchored = set(), 0, 0
    for day in range(DAYS):
        anchors = Anchors(observed[day][..., np.newaxis], gap[day])  # the scene's, as the job's
        for row in range(0, 32, TILE):
            for column in range(0, 48, TILE):
                window = np.s_[row : row + TILE, column : column + TILE]
                to_fill = gap[day][window]
                if not to_fill.any():
                    continue
                values, model_gap = observed[day][window][..., np.newaxis].copy(), to_fill.copy()
                anchored += bool(anchors.anchor(values, model_gap, window))
                values = values[..., 0]
                days = [day - 1, day + 1]
                present = [0 <= d < DAYS for d in days]
                neighbours = [observed[d][window] if ok else None
                              for d, ok in zip(days, present, strict=True)]  # fmt: skip
                offsets = [-1.0 if present[0] else 0.0, 1.0 if present[1] else 0.0]
                expected = _direct(serve, values, model_gap, neighbours, offsets)
                np.testing.assert_allclose(result[day][window][to_fill], expected[to_fill],
                                           rtol=1e-6)  # fmt: skip
                blank = _direct(serve, values, model_gap, [None, None], [0.0, 0.0])
                assert not np.allclose(blank[to_fill], expected[to_fill], rtol=1e-4)
                # Had the job given the neighbours its own fill of their gaps, it would differ.
                if any(gap[d][window].any() for d, ok in zip(days, present, strict=True) if ok):
                    given = [result[d][window] if ok else None
                             for d, ok in zip(days, present, strict=True)]  # fmt: skip
                    wrong = _direct(serve, values, model_gap, given, offsets)
                    assert not np.allclose(wrong[to_fill], expected[to_fill], rtol=1e-4)
                    fed_back += 1
                compared.add(day)
    assert compared == set(range(DAYS)) and fed_back > DAYS  # the ends included
    assert anchored  # a tile inside a wide cloud was among them


@pytest.mark.slow
def test_a_series_split_into_daily_files_has_the_same_neighbours(
    temporal_model, series, filled, tmp_path
) -> None:
    """The neighbours of a scene are found across the inputs of one grid, as in training: the
    same days as one file per day are filled exactly as the whole series."""
    days = tmp_path / "days"
    days.mkdir()
    with xr.open_dataset(series) as whole:
        for day in range(DAYS):
            whole.isel(time=[day]).to_netcdf(days / f"chl_{day}.nc")
    out = tmp_path / "out"
    summary = run(InpaintConfig(str(temporal_model), (str(days / "*.nc"),), str(out), **JOB))
    assert summary["counts"] == {"written": DAYS, "skipped": 0, "failed": 0}
    with xr.open_dataset(filled) as reference:
        for day in range(DAYS):
            with xr.open_dataset(out / f"chl_{day}.nc") as part:
                np.testing.assert_array_equal(part["chlor_a"].values[0],
                                              reference["chlor_a"].values[day])  # fmt: skip


@pytest.mark.slow
def test_scenes_without_a_time_fail_naming_the_file(temporal_model, series, tmp_path) -> None:
    """A series of one-scene files without a time cannot be placed in time: each input fails,
    named, with the reason; nothing is written."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    with xr.open_dataset(series) as whole:
        whole.isel(time=0, drop=True).to_netcdf(inputs / "untimed.nc")
    layout = GriddedConfig(variables=("chlor_a",), time_dim=None, mask_variable="land")
    out = tmp_path / "out"
    summary = run(InpaintConfig(str(temporal_model), (str(inputs / "*.nc"),), str(out),
                                gridded=layout, **JOB))  # fmt: skip
    (outcome,) = summary["outcomes"]
    assert outcome["state"] == "failed"
    assert outcome["reason"] == (
        f"SceneTimeError: {inputs / 'untimed.nc'}: scene 0 states no time (no time dimension or "
        "time_coverage_start): a temporal model needs every scene's time to find its neighbours"
    )
    assert not (out / "untimed.nc").exists()


@pytest.mark.slow
def test_a_temporal_fill_on_gcs(temporal_model, series, filled, gcs, tmp_path) -> None:
    """Daily files on gs://: the windows are read from downloaded headers and each planner
    downloads the other files its scenes' neighbours lie in; the fill is the local one."""
    gcs.create_bucket("temporal")
    bucket = gcs.bucket("temporal")
    with xr.open_dataset(series) as whole:
        for day in range(DAYS):
            whole.isel(time=[day]).to_netcdf(tmp_path / f"chl_{day}.nc")
            bucket.blob(f"in/chl_{day}.nc").upload_from_filename(str(tmp_path / f"chl_{day}.nc"))
    config = InpaintConfig(str(temporal_model), ("gs://temporal/in/*.nc",), "gs://temporal/out",
                           **JOB)  # fmt: skip
    assert run(config, ["--no_auth"])["counts"] == {"written": DAYS, "skipped": 0, "failed": 0}
    with xr.open_dataset(filled) as reference:
        for day in range(DAYS):
            local = tmp_path / f"out_{day}.nc"
            bucket.blob(f"out/chl_{day}.nc").download_to_filename(str(local))
            with xr.open_dataset(local) as part:
                np.testing.assert_array_equal(part["chlor_a"].values[0],
                                              reference["chlor_a"].values[day])  # fmt: skip
