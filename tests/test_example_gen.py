"""OlciExampleGen's pure core and its build-time checks (no pipeline run)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

from components import features
from components.example_gen.config import IngestConfig
from components.example_gen.patches import MIN_WATER_SHARE, extract_patches, grid_offsets
from components.example_gen.scenes import SceneRef, open_scene
from components.olci import open_product
from components.olci.storage import list_products


def scene(valid: np.ndarray, bands: int = 2) -> xr.Dataset:
    rng = np.random.default_rng(0)
    data = {
        f"b{i}": (("y", "x"), rng.uniform(0, 1, valid.shape).astype(np.float32))
        for i in range(bands)
    }
    ds = xr.Dataset(data, attrs={"product_name": "P", "start_time": "2023-01-01T00:00:00Z"})
    ds["valid"] = (("y", "x"), valid)
    return ds


@given(
    length=st.integers(0, 300), size=st.integers(1, 64), stride=st.integers(1, 64)
)  # fmt: skip
def test_grid_offsets_fit_and_step(length: int, size: int, stride: int) -> None:
    offsets = grid_offsets(length, size, stride)
    assert all(o >= 0 and o + size <= length for o in offsets)
    assert offsets == sorted(offsets)
    assert all(b - a == stride for a, b in itertools.pairwise(offsets))
    if offsets:
        assert offsets[-1] + stride + size > length  # no window that fits is missed
    else:
        assert length < size


def test_patches_kept_by_valid_share() -> None:
    valid = np.ones((32, 48), bool)
    valid[0:16, 16:32] = False  # one fully invalid window
    valid[16, 0] = False  # one pixel off: 255/256 valid
    ds = scene(valid)
    kept = {(p.row, p.column) for p in extract_patches(ds, ["b0", "b1"], 16, min_valid=0.99)}
    assert kept == {(0, 0), (0, 32), (16, 0), (16, 16), (16, 32)}
    strict = {(p.row, p.column) for p in extract_patches(ds, ["b0", "b1"], 16, min_valid=1.0)}
    assert strict == kept - {(16, 0)}


def test_patch_content_and_invalid_pixels_zeroed() -> None:
    valid = np.ones((16, 16), bool)
    valid[3, 4] = False
    ds = scene(valid, bands=3)
    ds["b1"][5, 6] = np.nan  # a NaN the flags missed is not valid either
    (patch,) = extract_patches(ds, ["b2", "b0", "b1"], 16, min_valid=0.9)
    assert patch.reflectance.shape == (16, 16, 3)
    np.testing.assert_array_equal(patch.reflectance[0, 0], [ds.b2[0, 0], ds.b0[0, 0], ds.b1[0, 0]])
    assert not patch.valid[3, 4] and not patch.valid[5, 6]
    assert patch.reflectance[3, 4].tolist() == [0, 0, 0] and np.isfinite(patch.reflectance).all()
    assert (patch.product, patch.time) == ("P", "2023-01-01T00:00:00Z")


def test_patches_from_a_product_are_valid_water_and_may_hold_land(product: Path) -> None:
    with open_product(product) as ds:
        patches = list(extract_patches(ds, ["Oa04", "Oa08"], 8, min_valid=1.0))
        assert patches
        coastal = 0
        for p in patches:
            window = ds.isel(y=slice(p.row, p.row + 8), x=slice(p.column, p.column + 8))
            water = ~window.land.values
            assert window.valid.values[water].all() and water.mean() >= MIN_WATER_SHARE
            np.testing.assert_array_equal(p.valid, window.valid.values)
            np.testing.assert_array_equal(p.reflectance[..., 1][water], window.Oa08.values[water])
            assert (p.reflectance[~water] == 0).all()
            coastal += int(not water.all())
        assert coastal  # the tiny product has a coast: its patches count their water only


def test_collections_003_and_004_give_the_same_patches(product: Path, product_004: Path) -> None:
    """Both collections are read as ρw, so one training set can mix them."""
    config = IngestConfig(bands=("Oa04", "Oa08"), patch_size=8, min_valid=1.0)
    patches = []
    for path in (product, product_004):
        with open_scene(SceneRef(str(path)), config) as ds:
            assert ds.attrs["reflectance"] == config.quantity == "rho_w"
            patches.append(list(extract_patches(ds, config.bands, 8, min_valid=1.0)))
    assert len(patches[0]) == len(patches[1]) > 0
    for a, b in zip(*patches, strict=True):
        np.testing.assert_allclose(a.reflectance, b.reflectance, rtol=1e-3, atol=2e-5)


def test_patch_example_encoding() -> None:
    # Deferred: the encoding imports TensorFlow, seconds that collecting this module skips.
    from components.example_gen.encoding import example_key, patch_example

    valid = np.ones((8, 8), bool)
    (patch,) = extract_patches(scene(valid), ["b0", "b1"], 8)
    example = patch_example(patch)
    f = example.features.feature
    flat = np.array(f[features.REFLECTANCE].float_list.value, np.float32)
    np.testing.assert_array_equal(flat.reshape(8, 8, 2), patch.reflectance)
    assert list(f[features.VALID].int64_list.value) == [1] * 64
    assert example_key(example) == "P|0|0"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "hdf"}, "kind: .*got 'hdf'"),
        ({"bands": ("Oa01", "Oa13")}, r"\['Oa13'\] are not OLCI"),
        ({"patch_size": 1}, "patch_size: .*got 1"),
        ({"min_valid": 1.5}, "min_valid: .*got 1.5"),
        ({"harvest_coverage": (0.5, 0.2)}, "harvest_coverage"),
        ({"kind": "netcdf", "bands": ("chl",)}, "needs a gridded configuration"),
    ],
)
def test_ingest_config_is_checked(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        IngestConfig(**kwargs)


def test_ingest_config_json_round_trip() -> None:
    config = IngestConfig(kind="geotiff", bands=("red", "nir"), patch_size=64, stride=32)
    assert IngestConfig.from_json(config.to_json()) == config


def test_list_products_local(tmp_path: Path) -> None:
    for name in ("a.SEN3", "b.SEN3.zip", "notes.txt"):
        (tmp_path / name).mkdir() if name.endswith("SEN3") else (tmp_path / name).write_text("")
    assert list_products(str(tmp_path / "*.SEN3*")) == [
        str(tmp_path / "a.SEN3"),
        str(tmp_path / "b.SEN3.zip"),
    ]


def test_list_products_gcs_folders_and_zips(gcs) -> None:
    bucket = gcs.create_bucket("listing")
    for name in (
        "span-1/A.SEN3/Oa01_reflectance.nc",
        "span-1/A.SEN3/wqsf.nc",
        "span-1/B.SEN3.zip",
        "span-2/C.SEN3/wqsf.nc",
    ):
        bucket.blob(name).upload_from_string(b"x")
    assert list_products("gs://listing/span-1/*", gcs_client=gcs) == [
        "gs://listing/span-1/A.SEN3",
        "gs://listing/span-1/B.SEN3.zip",
    ]


@pytest.mark.slow
def test_component_refuses_a_split_that_is_not_by_product() -> None:
    # Deferred: TFX and TensorFlow take seconds to import; collecting this module skips them.
    from tfx.proto import example_gen_pb2

    from components.example_gen.component import OlciExampleGen, split_by_product

    by_hash = example_gen_pb2.Output(
        split_config=example_gen_pb2.SplitConfig(
            splits=[
                example_gen_pb2.SplitConfig.Split(name="train", hash_buckets=2),
                example_gen_pb2.SplitConfig.Split(name="eval", hash_buckets=1),
            ]
        )
    )
    with pytest.raises(ValueError, match="must split by the product feature"):
        OlciExampleGen("/data", output_config=by_hash)
    component = OlciExampleGen("/data", pattern="{SPAN}/*.SEN3")
    assert component.exec_properties["input_base"] == "/data"
    assert split_by_product().split_config.partition_feature_name == features.PRODUCT


@pytest.mark.slow
def test_mask_gen_checks_its_arguments() -> None:
    # Deferred: TFX and TensorFlow take seconds to import; collecting this module skips them.
    from tfx.types import channel, standard_artifacts

    from components.mask_gen.component import MaskGen

    examples = channel.Channel(type=standard_artifacts.Examples)
    with pytest.raises(ValueError, match="coverage"):
        MaskGen(examples, coverage=(0.8, 0.2))
    with pytest.raises(ValueError, match="kinds"):
        MaskGen(examples, kinds={"clouds": 1.0})


@pytest.mark.slow
def test_a_gridded_scene_with_land_yields_its_gaps_as_real_cloud_shapes(tmp_path: Path) -> None:
    """Water without a value is a gridded scene's cloud: ExampleGen harvests it like WQSF's."""
    # Deferred: the executor imports TFX (seconds); collecting this module skips it.
    import apache_beam as beam

    from components.example_gen.executor import SHAPES, _ScenesToExamples
    from components.gridded import GriddedConfig

    chl = np.full((2, 32, 32), 0.5, np.float32)
    chl[0, 4:14, 2:20] = np.nan  # a cloud over water
    chl[:, :, 28:] = np.nan  # land: never a value, never a cloud
    land = np.zeros((2, 32, 32), np.int8)
    land[:, :, 28:] = 1
    path = tmp_path / "series.nc"
    xr.Dataset(
        {"chlor_a": (("time", "lat", "lon"), chl), "land": (("time", "lat", "lon"), land)},
        coords={"time": np.array(["2024-01-01", "2024-01-02"], "datetime64[ns]")},
    ).to_netcdf(path)
    gridded = GriddedConfig(variables=("chlor_a",), mask_variable="land")
    config = IngestConfig(kind="netcdf", bands=("chlor_a",), patch_size=16, min_valid=0.1,
                          gridded=gridded.to_dict())  # fmt: skip
    fn = _ScenesToExamples(config.to_json())
    fn.setup()
    for day, clouds in ((0, 2), (1, 0)):
        out = list(fn.process(SceneRef(str(path), day)))
        shapes = [o.value for o in out if isinstance(o, beam.pvalue.TaggedOutput)
                  and o.tag == SHAPES]  # fmt: skip
        assert len(shapes) == min(clouds, 1)
        if clouds:
            (name, library), cloud = shapes[0], np.isnan(chl[0]) & (land[0] == 0)
            assert name.startswith("series_") and len(library) == clouds
            np.testing.assert_array_equal(library.shapes[0], cloud[:16, :16])
            np.testing.assert_array_equal(library.shapes[1], cloud[:16, 16:])
