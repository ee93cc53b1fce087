"""GeoTIFF export and fill quicklooks, on the tiny sample product."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr
from PIL import Image
from rasterio.crs import CRS
from rasterio.vrt import WarpedVRT

from components.olci import fill_quicklook, geotiff
from components.olci.fill_quicklook import FILLED_RGB, fill_panels, write_fill_quicklook
from components.olci.format import BAND_NAMES
from components.olci.geotiff import gcp_positions, write_geotiff
from components.olci.quicklook import CLOUD_RGB
from components.olci.reader import open_product

RGB = ["Oa08", "Oa06", "Oa04"]


@pytest.fixture
def scene(product: Path):
    ds = open_product(product)
    yield ds
    ds.close()


def gap_filled(ds: xr.Dataset) -> tuple[xr.Dataset, np.ndarray]:
    """`ds` loaded, with every water pixel that has no Oa08 set to a constant, and that mask."""
    filled = np.isnan(ds["Oa08"].values) & ~ds["land"].values
    after = ds.load().copy()
    for name in BAND_NAMES:
        after[name] = after[name].where(~filled, np.float32(0.01))
    return after, filled


def test_gcp_positions_end_on_the_last_pixel():
    assert gcp_positions(64, 16).tolist() == [0, 16, 32, 48, 63]
    assert gcp_positions(65, 16).tolist() == [0, 16, 32, 48, 64]
    assert gcp_positions(1, 64).tolist() == [0]


def test_geotiff_holds_the_bands(scene, tmp_path, monkeypatch):
    monkeypatch.setattr(geotiff, "BLOCK_ROWS", 24)  # several blocks, the last one short
    out = write_geotiff(scene, tmp_path / "scene.tif", RGB)
    assert out == tmp_path / "scene.tif"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene.tif"]
    with rasterio.open(out) as src:
        assert src.count == 3
        assert src.descriptions == tuple(RGB)
        assert src.dtypes == ("float32",) * 3
        assert np.isnan(src.nodata)
        assert src.profile["tiled"] and src.compression.value == "DEFLATE"
        assert src.interleaving.value == "BAND"
        assert src.tags(1)["wavelength"] == str(scene["Oa08"].attrs["wavelength"])
        for index, name in enumerate(RGB, start=1):
            expected = scene[name].values
            assert np.isnan(expected).any()
            np.testing.assert_array_equal(src.read(index), expected)


def test_geotiff_gcps_are_the_products_geolocation(scene, tmp_path):
    out = write_geotiff(scene, tmp_path / "scene.tif", ["Oa01"], gcp_spacing=16)
    lat, lon = scene["latitude"].values, scene["longitude"].values
    with rasterio.open(out) as src:
        gcps, crs = src.gcps
    assert crs == CRS.from_epsg(4326)
    assert len(gcps) == len(gcp_positions(64, 16)) * len(gcp_positions(80, 16))
    positions = {(int(g.row - 0.5), int(g.col - 0.5)) for g in gcps}
    assert {(63, 79), (0, 79), (63, 0), (16, 32)} <= positions
    for gcp in gcps:
        row, col = int(gcp.row - 0.5), int(gcp.col - 0.5)
        assert (gcp.row, gcp.col) == (row + 0.5, col + 0.5)
        assert gcp.y == float(lat[row, col])
        assert gcp.x == float(lon[row, col])


def test_geotiff_warps_onto_the_products_footprint(scene, tmp_path):
    out = write_geotiff(scene, tmp_path / "scene.tif", ["Oa01"], gcp_spacing=16)
    lat, lon = scene["latitude"].values, scene["longitude"].values
    with rasterio.open(out) as src, WarpedVRT(src, crs="EPSG:4326") as vrt:
        west, south, east, north = vrt.bounds
        pixel = max(vrt.res)
    # The warped bounds are those of the pixel footprints: the centres plus up to a pixel.
    assert lon.min() - 2 * pixel < west < lon.min() and lon.max() < east < lon.max() + 2 * pixel
    assert lat.min() - 2 * pixel < south < lat.min() and lat.max() < north < lat.max() + 2 * pixel


def test_geotiff_filled_band(scene, tmp_path):
    out = write_geotiff(scene, tmp_path / "scene.tif", ["Oa04"], filled=scene["cloud"])
    with rasterio.open(out) as src:
        assert src.descriptions == ("Oa04", "filled")
        np.testing.assert_array_equal(src.read(2), scene["cloud"].values.astype(np.float32))


@pytest.mark.parametrize("band", ["Oa99", "valid"])
def test_geotiff_unknown_band(scene, tmp_path, band):
    with pytest.raises(ValueError, match=rf"'{band}'.*Oa01, Oa02"):
        write_geotiff(scene, tmp_path / "scene.tif", ["Oa01", band])
    assert not any(tmp_path.iterdir())


def test_geotiff_refuses_gcs(scene):
    with pytest.raises(ValueError, match=r"gs://bucket/scene\.tif.*copy"):
        write_geotiff(scene, "gs://bucket/scene.tif", RGB)


def test_geotiff_failure_leaves_no_file(scene, tmp_path, monkeypatch):
    read_rows = geotiff._rows
    seen = []

    def failing(array, start, stop):
        if array.name in RGB:
            seen.extend(p.name for p in tmp_path.iterdir())
            raise OSError("read failed")
        return read_rows(array, start, stop)

    monkeypatch.setattr(geotiff, "_rows", failing)
    with pytest.raises(OSError, match="read failed"):
        write_geotiff(scene, tmp_path / "scene.tif", RGB)
    assert len(seen) == 1 and seen[0].startswith(".scene.tif.tmp-")
    assert not any(tmp_path.iterdir())


def test_fill_panels(scene):
    after, filled = gap_filled(scene)
    assert filled.any()
    before_rgb, after_rgb, mask_rgb = fill_panels(scene, after, filled)
    assert before_rgb.shape == after_rgb.shape == mask_rgb.shape == (64, 80, 3)
    thick = filled & scene["cloud"].values
    np.testing.assert_array_equal(before_rgb[thick], np.broadcast_to(CLOUD_RGB, (thick.sum(), 3)))
    assert not np.isclose(after_rgb[filled], CLOUD_RGB).all(axis=-1).any()
    np.testing.assert_array_equal(mask_rgb[filled], np.broadcast_to(FILLED_RGB, (filled.sum(), 3)))
    assert not np.isclose(mask_rgb[~filled], FILLED_RGB).all(axis=-1).any()


def test_fill_panels_read_strided(scene, monkeypatch):
    after, filled = gap_filled(scene)
    monkeypatch.setattr(fill_quicklook, "subsample_step", lambda rows, columns: 3)
    panels = fill_panels(scene, after, xr.DataArray(filled, dims=("y", "x")))
    assert {p.shape for p in panels} == {(22, 27, 3)}
    np.testing.assert_array_equal(panels[2][filled[::3, ::3]][:1], FILLED_RGB[None])


def test_fill_panels_check_shapes(scene):
    after, filled = gap_filled(scene)
    with pytest.raises(ValueError, match="filled mask has shape"):
        fill_panels(scene, after, filled[:-1])
    with pytest.raises(ValueError, match="after has shape"):
        fill_panels(scene, after.isel(x=slice(1, None)), filled)


def test_fill_quicklook_png(scene, product, tmp_path):
    after, filled = gap_filled(scene)
    first = write_fill_quicklook(scene, after, filled, tmp_path / "a" / "fill.png", title="t")
    # Lazy products on both sides, another mask.
    with open_product(product) as again:
        second = write_fill_quicklook(scene, again, again["cloud"], tmp_path / "fill2.png")
    images = [np.asarray(Image.open(p).convert("RGB")) for p in (first, second)]
    height, width = images[0].shape[:2]
    assert width > 2 * height
    mask_panels = [image[:, 2 * width // 3 :] for image in images]
    assert mask_panels[0].shape == mask_panels[1].shape
    assert not np.array_equal(*mask_panels)
