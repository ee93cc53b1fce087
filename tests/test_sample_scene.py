"""Tests of the synthetic OLCI L2 WFR scene generator (components/sample)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from importlib import resources

import numpy as np
import pytest
import xarray as xr
from scipy import ndimage

from components.olci import flags, format
from components.sample import artefacts, bio_optical, clouds, fields, geometry, wqsf
from components.sample.scene import sample_dataset

SHAPE = (96, 128)
SEED = 3


@pytest.fixture(scope="module")
def scene() -> xr.Dataset:
    return sample_dataset(SHAPE, SEED)


@pytest.fixture(scope="module")
def scene_rrs() -> xr.Dataset:
    return sample_dataset(SHAPE, SEED, collection="004")


def band_stack(ds: xr.Dataset) -> np.ndarray:
    return np.stack([ds[name].values for name in format.BAND_NAMES])


def flag(ds: xr.Dataset, name: str) -> np.ndarray:
    table = flags.flag_table(ds.wqsf.attrs, ds.attrs["product_name"])
    return flags.any_set(ds.wqsf.values, np.uint64(table[name]))


# --- layout -----------------------------------------------------------------------------------


def test_layout_follows_the_product_contract(scene: xr.Dataset) -> None:
    assert dict(scene.sizes) == {"y": SHAPE[0], "x": SHAPE[1]}
    for band in format.BANDS:
        variable = scene[band.name]
        assert variable.dims == ("y", "x")
        assert variable.dtype == np.float32
        assert variable.attrs["units"] == "dl"
        assert variable.attrs["standard_name"] == format.REFLECTANCE_STANDARD_NAME[format.RHO_W]
        assert variable.attrs["wavelength"] == band.wavelength_nm
        assert variable.attrs["bandwidth"] == band.bandwidth_nm
        assert f"{band.wavelength_nm:g} nm" in variable.attrs["long_name"]
        assert variable.encoding == format.reflectance_encoding("003")
    assert scene.wqsf.dtype == np.uint64
    for name in ("valid", "land", "cloud"):
        assert scene[name].dtype == bool
    for name, units in (("latitude", "degrees_north"), ("longitude", "degrees_east")):
        assert name in scene.coords
        assert scene[name].dtype == np.float32
        assert scene[name].attrs["units"] == units
        assert scene[name].attrs["standard_name"] == name


def test_attributes_describe_the_product(scene: xr.Dataset) -> None:
    name = format.ProductName.parse(scene.attrs["product_name"])
    assert name is not None
    assert name.folder_name() == scene.attrs["product_name"]
    assert (name.type, name.level, name.collection, name.timeliness) == ("WFR", "2", "003", "NT")
    assert name.stop - name.start == timedelta(seconds=180)
    assert name.start.year == 2023
    assert scene.attrs["platform"] == name.platform
    assert scene.attrs["start_time"] == name.start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert scene.attrs["stop_time"] == name.stop.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert scene.attrs["collection"] == "003"
    assert scene.attrs["reflectance"] == format.RHO_W
    assert scene.attrs["units"] == "dl"
    assert scene.attrs["product_type"] == "OL_2_WFR___"


def test_rrs_collection_is_labelled_as_rrs(scene_rrs: xr.Dataset) -> None:
    assert scene_rrs.attrs["reflectance"] == format.RRS
    assert scene_rrs.attrs["units"] == "sr-1"
    assert scene_rrs.Oa01.attrs["units"] == "sr-1"
    assert scene_rrs.Oa01.encoding == format.reflectance_encoding("004")
    assert scene_rrs.attrs["product_name"].endswith("_004.SEN3")


# --- determinism ------------------------------------------------------------------------------


def test_same_arguments_give_identical_scenes(scene: xr.Dataset) -> None:
    again = sample_dataset(SHAPE, SEED)
    xr.testing.assert_identical(scene, again)
    assert np.array_equal(band_stack(scene), band_stack(again), equal_nan=True)
    assert np.array_equal(scene.wqsf.values, again.wqsf.values)
    assert scene.attrs == again.attrs


def test_another_seed_gives_another_scene(scene: xr.Dataset) -> None:
    other = sample_dataset(SHAPE, SEED + 1)
    assert not np.array_equal(band_stack(scene), band_stack(other), equal_nan=True)
    assert not np.array_equal(scene.wqsf.values, other.wqsf.values)


def test_another_index_is_a_later_scene_of_the_same_site(scene: xr.Dataset) -> None:
    later = sample_dataset(SHAPE, SEED, index=2)
    assert not np.array_equal(band_stack(scene), band_stack(later), equal_nan=True)
    assert not np.array_equal(scene.cloud.values, later.cloud.values)
    start = format.ProductName.parse(scene.attrs["product_name"]).start
    later_start = format.ProductName.parse(later.attrs["product_name"]).start
    assert later_start.date() - start.date() == timedelta(days=2)
    # Same site: same geolocation and coastline.
    assert np.array_equal(scene.latitude.values, later.latitude.values)
    assert np.array_equal(scene.land.values, later.land.values)


# --- spectra ----------------------------------------------------------------------------------


def rrs_at(chl: float, tsm: float = 0.0, adg443: float = 0.0) -> dict[str, float]:
    values = bio_optical.remote_sensing_reflectance(chl, tsm, adg443)
    return dict(zip(format.BAND_NAMES, values.tolist(), strict=True))


def test_more_chlorophyll_lowers_the_blue_green_ratio() -> None:
    clear, green = rrs_at(0.1, 0.1, 0.01), rrs_at(10.0, 0.1, 0.01)
    assert clear["Oa03"] / clear["Oa06"] > 2.0
    assert green["Oa03"] / green["Oa06"] < 0.8
    ratios = [rrs_at(c)["Oa03"] / rrs_at(c)["Oa06"] for c in (0.03, 0.1, 0.3, 1, 3, 10, 30)]
    assert all(a > b for a, b in itertools.pairwise(ratios))


def test_pure_water_peaks_in_the_blue_and_falls_towards_the_red() -> None:
    spectrum = bio_optical.remote_sensing_reflectance(1e-6, 0.0, 0.0)
    assert int(np.argmax(spectrum)) in (0, 1)  # Oa01 or Oa02
    visible = spectrum[1:8]  # Oa02 .. Oa08
    assert np.all(np.diff(visible) < 0)
    assert 0.01 < spectrum.max() < 0.05  # sr-1


def test_clear_water_has_a_dark_near_infrared() -> None:
    spectrum = rrs_at(0.3, 0.5, 0.03)
    assert all(spectrum[b] > 1e-3 for b in ("Oa02", "Oa03", "Oa04", "Oa05", "Oa06"))
    assert all(0 <= spectrum[b] < 2e-4 for b in ("Oa17", "Oa18", "Oa21"))


def test_sediment_brightens_the_red_and_near_infrared() -> None:
    clear, turbid = rrs_at(1.0, 0.5, 0.05), rrs_at(1.0, 50.0, 0.05)
    for band in ("Oa07", "Oa08", "Oa17"):
        assert turbid[band] > 5 * clear[band]


def test_rrs_is_rho_w_over_pi_in_the_model() -> None:
    chl = np.array([[0.1, 1.0], [5.0, 30.0]], dtype=np.float32)
    tsm = np.array([[0.1, 1.0], [10.0, 100.0]], dtype=np.float32)
    adg = np.array([[0.01, 0.05], [0.3, 1.0]], dtype=np.float32)
    rho = bio_optical.water_leaving_reflectance(chl, tsm, adg)
    assert rho.shape == (16, 2, 2)
    assert rho.dtype == np.float32
    np.testing.assert_allclose(
        bio_optical.remote_sensing_reflectance(chl, tsm, adg), rho / np.pi, rtol=1e-6
    )


def test_bio_optical_model_rejects_impossible_water() -> None:
    with pytest.raises(ValueError, match="chlorophyll"):
        bio_optical.water_leaving_reflectance(0.0, 1.0, 0.1)
    with pytest.raises(ValueError, match="tsm"):
        bio_optical.water_leaving_reflectance(1.0, -1.0, 0.1)


def test_scene_spectra_are_plausible(scene: xr.Dataset) -> None:
    valid = scene.valid.values
    assert valid.sum() > 100
    median = {b: float(np.median(scene[b].values[valid])) for b in format.BAND_NAMES}
    assert all(median[b] > 0.001 for b in ("Oa03", "Oa04", "Oa05", "Oa06"))
    assert all(abs(median[b]) < 0.02 for b in ("Oa17", "Oa18", "Oa21"))
    assert abs(median["Oa21"]) < 0.005


def test_noise_drives_some_dark_bands_slightly_negative() -> None:
    negatives = 0
    for seed in range(3):
        ds = sample_dataset((64, 64), seed, cloud_fraction=0.2)
        for band in ("Oa12", "Oa16", "Oa17", "Oa18", "Oa21"):
            values = ds[band].values
            negatives += int(np.sum(values < 0))
            assert np.nanmin(values) > -0.01
    assert negatives > 0


def test_rrs_scene_is_the_rho_w_scene_over_pi(scene: xr.Dataset, scene_rrs: xr.Dataset) -> None:
    for band in format.BAND_NAMES:
        rho, rrs = scene[band].values, scene_rrs[band].values
        assert np.array_equal(np.isnan(rho), np.isnan(rrs))
        np.testing.assert_allclose(rrs, rho / np.float32(np.pi), rtol=1e-6, atol=1e-9)


# --- flags ------------------------------------------------------------------------------------


def test_wqsf_attributes_come_from_the_collection_layout(
    scene: xr.Dataset, scene_rrs: xr.Dataset
) -> None:
    for ds, collection in ((scene, "003"), (scene_rrs, "004")):
        expected = flags.layout_attributes(flags.WQSF_LAYOUTS[collection])
        assert ds.wqsf.attrs["flag_meanings"] == expected["flag_meanings"]
        np.testing.assert_array_equal(ds.wqsf.attrs["flag_masks"], expected["flag_masks"])
        assert ds.wqsf.attrs["long_name"]


def test_every_pixel_is_land_or_water_not_both(scene: xr.Dataset) -> None:
    land, water = flag(scene, "LAND"), flag(scene, "WATER")
    assert np.all(land ^ water)
    assert np.array_equal(scene.land.values, land)
    assert 0.02 < land.mean() < 0.5


def test_hidden_pixels_are_nan_and_valid_pixels_are_finite(scene: xr.Dataset) -> None:
    bands = band_stack(scene)
    hidden = flag(scene, "CLOUD") | flag(scene, "LAND") | flag(scene, "INVALID")
    assert np.all(np.isnan(bands[:, hidden]))
    assert np.all(np.isfinite(bands[:, ~hidden]))
    assert np.all(np.isfinite(bands[:, scene.valid.values]))


def test_thin_cloud_and_margin_pixels_keep_brightened_values(scene: xr.Dataset) -> None:
    rim = (flag(scene, "CLOUD_AMBIGUOUS") | flag(scene, "CLOUD_MARGIN")) & flag(scene, "WATER")
    rim &= ~flag(scene, "CLOUD") & ~flag(scene, "INVALID")
    assert rim.any()
    assert np.all(np.isfinite(scene.Oa06.values[rim]))
    clear = scene.valid.values
    assert np.median(scene.Oa08.values[rim]) > np.median(scene.Oa08.values[clear])


def test_cloud_margins_touch_clouds(scene: xr.Dataset) -> None:
    cloudy = flag(scene, "CLOUD") | flag(scene, "CLOUD_AMBIGUOUS")
    margin = flag(scene, "CLOUD_MARGIN")
    assert margin.any()
    assert not np.any(margin & cloudy)
    distance = ndimage.distance_transform_edt(~cloudy)
    assert distance[margin].max() <= 6.5


def test_derived_masks_are_what_the_reader_derives(scene: xr.Dataset) -> None:
    table = flags.flag_table(scene.wqsf.attrs, "scene")
    bits = scene.wqsf.values
    assert np.array_equal(scene.valid.values, flags.valid_mask(bits, table))
    cloud_any = flags.any_set(bits, flags.combined_mask(table, flags.CLOUD_ANY))
    assert np.array_equal(scene.cloud.values, cloud_any)
    assert not np.any(scene.valid.values & (scene.cloud.values | scene.land.values))


def test_negative_flags_mark_exactly_the_negative_values(scene: xr.Dataset) -> None:
    for band in format.BAND_NAMES:
        negative = scene[band].values < 0
        assert np.array_equal(flag(scene, wqsf.negative_flag(band)), negative), band


def test_rrs_layout_decodes_to_the_same_masks(scene: xr.Dataset, scene_rrs: xr.Dataset) -> None:
    assert not np.array_equal(scene.wqsf.values, scene_rrs.wqsf.values)
    for name in ("valid", "land", "cloud"):
        assert np.array_equal(scene[name].values, scene_rrs[name].values), name
    for name in ("CLOUD", "CLOUD_AMBIGUOUS", "CLOUD_MARGIN", "INVALID", "RWNEG_O8", "WATER"):
        assert np.array_equal(flag(scene, name), flag(scene_rrs, name)), name


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.35, 0.8, 1.0])
def test_cloud_fraction_is_met(fraction: float) -> None:
    ds = sample_dataset((64, 80), 11, cloud_fraction=fraction)
    assert abs(float(ds.cloud.mean()) - fraction) <= 0.01
    if fraction == 0.0:
        assert not ds.cloud.values.any()


def test_cloud_fraction_is_drawn_when_not_given() -> None:
    fractions = [float(sample_dataset((64, 64), seed).cloud.mean()) for seed in range(4)]
    assert all(0.09 <= f <= 0.71 for f in fractions)
    assert len(set(fractions)) > 1


# --- encoding ---------------------------------------------------------------------------------


@pytest.mark.parametrize("collection", ["003", "004"])
def test_values_fit_the_uint16_encoding(collection: str) -> None:
    ds = sample_dataset((64, 64), 5, collection=collection)
    encoding = format.reflectance_encoding(collection)
    scale = float(encoding["scale_factor"])
    for band in format.BAND_NAMES:
        encoded = xr.conventions.encode_cf_variable(ds[band].variable)
        assert encoded.dtype == np.uint16
        values = ds[band].values
        raw = encoded.values
        assert np.all(raw[np.isnan(values)] == format.UINT16_FILL)
        assert np.all(raw[~np.isnan(values)] < format.UINT16_FILL)
        decoded = xr.conventions.decode_cf_variable(band, encoded).values
        np.testing.assert_allclose(decoded, values, atol=scale, equal_nan=True)


# --- arguments --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"shape": (4, 64), "seed": 0},
        {"shape": (64,), "seed": 0},
        {"shape": (64, 64), "seed": -1},
        {"shape": (64, 64), "seed": 0, "collection": "002"},
        {"shape": (64, 64), "seed": 0, "index": -1},
        {"shape": (64, 64), "seed": 0, "cloud_fraction": 1.5},
    ],
)
def test_bad_arguments_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        sample_dataset(**kwargs)


# --- building blocks --------------------------------------------------------------------------


def test_shipped_cloud_masks_load_and_are_real_shapes() -> None:
    masks = clouds.load_real_masks()
    assert len(masks) == 19
    for mask in masks:
        assert mask.ndim == 2 and mask.dtype == bool
        assert 0.02 < mask.mean() < 0.98
    assert {mask.shape for mask in masks} == {(101, 100), (384, 384)}
    assert len({mask.tobytes() for mask in masks}) == len(masks)
    data = resources.files("components.sample").joinpath("data")
    for name in ("ATTRIBUTION.md", "LICENSE-eo-learn-MIT.txt", "LICENSE-38-Cloud-Apache-2.0.txt"):
        assert data.joinpath(name).is_file()


def test_cloud_flags_partition_the_cloudy_area() -> None:
    rng = np.random.default_rng(0)
    sky = clouds.cloud_masks((80, 90), rng, fraction=0.4, real_masks=clouds.load_real_masks())
    assert not np.any(sky.cloud & sky.ambiguous)
    assert not np.any(sky.cloud & sky.margin)
    assert not np.any(sky.ambiguous & sky.margin)
    assert abs(sky.any.mean() - 0.4) < 0.01
    assert np.all(sky.haze[sky.ambiguous | sky.margin] > 0)
    assert np.all(sky.haze[~(sky.ambiguous | sky.margin)] == 0)


def test_power_law_noise_is_standardised_and_reproducible() -> None:
    a = fields.power_law_noise((50, 70), 3.0, np.random.default_rng(1))
    b = fields.power_law_noise((50, 70), 3.0, np.random.default_rng(1))
    assert a.dtype == np.float32 and a.shape == (50, 70)
    assert np.array_equal(a, b)
    assert abs(float(a.mean())) < 1e-5
    assert abs(float(a.std()) - 1.0) < 1e-4


def test_steeper_spectrum_gives_smoother_field() -> None:
    rough = fields.power_law_noise((128, 128), 2.0, np.random.default_rng(2))
    smooth = fields.power_law_noise((128, 128), 4.0, np.random.default_rng(2))
    assert np.abs(np.diff(smooth, axis=1)).mean() < np.abs(np.diff(rough, axis=1)).mean() / 3


def test_advection_without_flow_changes_nothing() -> None:
    field = fields.power_law_noise((40, 60), 3.0, np.random.default_rng(3))
    still = fields.Flow((40, 60), np.zeros((40, 60), np.float32), np.zeros((40, 60), np.float32))
    (moved,) = fields.advect([field], still)
    np.testing.assert_allclose(moved, field, atol=1e-6)


def test_eddies_stir_but_keep_values_in_range() -> None:
    field = fields.power_law_noise((64, 64), 3.0, np.random.default_rng(4))
    flow = fields.eddy_flow((64, 64), np.random.default_rng(5))
    (stirred,) = fields.advect([field], flow)
    assert not np.allclose(stirred, field)
    assert field.min() - 1e-6 <= stirred.min() and stirred.max() <= field.max() + 1e-6


@pytest.mark.parametrize("latitude", [-35.0, 0.0, 24.5, 57.0])
def test_swath_runs_south_west_on_a_descending_pass(latitude: float) -> None:
    heading = geometry.descending_heading(latitude)
    assert 188.0 < heading < 205.0
    lat, lon = geometry.swath_coordinates((40, 50), (latitude, 10.0), heading)
    assert lat.dtype == np.float32 and lon.dtype == np.float32
    assert lat[0, 25] > lat[-1, 25]  # rows run south
    assert lon[20, -1] > lon[20, 0]  # columns run east
    metres = np.radians(lat[1, 25] - lat[0, 25]) * geometry.EARTH_RADIUS_M
    assert 280 < abs(metres) < 300
    assert abs(lat[20, 25] - latitude) < 0.01


def test_land_mask_covers_the_requested_share() -> None:
    land = geometry.land_mask((120, 150), np.random.default_rng(6), fraction=0.2)
    assert land.dtype == bool
    assert 0.17 < land.mean() < 0.3


def test_unknown_flag_is_refused() -> None:
    with pytest.raises(ValueError, match="NOT_A_FLAG"):
        wqsf.encode_flags({"NOT_A_FLAG": np.ones((2, 2), bool)}, flags.WQSF_003, (2, 2))
    with pytest.raises(ValueError, match="Oa13"):
        wqsf.negative_flag("Oa13")


def test_sun_glint_is_a_strip_in_the_eastern_swath() -> None:
    def glint(seed: int, first_column: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return artefacts.sun_glint(
            (16, 300), rng, latitude=20.0, day_of_year=172, first_column=first_column
        )

    east = [glint(seed, 3300) for seed in range(10)]
    assert any(g.max() > artefacts.GLINT_MEDIUM for g in east)
    assert all(g.dtype == np.float32 and g.min() >= 0 for g in east)
    assert all(glint(seed, 0).max() < 1e-6 for seed in range(10))
    levels = np.linspace(0.0, 0.1, 101, dtype=np.float32)
    residual = artefacts.glint_residual(levels)
    assert np.all(np.diff(residual) > 0)
    assert np.all(residual[1:] < levels[1:])
