"""satpy's `olci_l2` reader opens the products s3inpaint writes and decodes them as we do.

An independent check of the writer: satpy knows nothing of s3inpaint. It also documents why our
reader takes WQSF bits from each file's `flag_masks`/`flag_meanings`: satpy hard-codes the
collection-003 bit positions, so on a product with another layout its flag masks go wrong.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import netCDF4
import numpy as np
from satpy import Scene
from satpy.readers.olci_nc import DEFAULT_WQSF_MASK_ITEMS, WQSF_FLAG_LIST

from components.olci import flags, open_product
from components.olci.format import WQSF_FILE, WQSF_VARIABLE

BANDS = ("Oa01", "Oa08", "Oa17")


@contextmanager
def warnings_as_errors() -> Iterator[None]:
    """Any warning but a library deprecation notice raises, so satpy must read us cleanly."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
            warnings.simplefilter("ignore", category)
        yield


def satpy_read(
    folder: Path, names: Sequence[str], mask_items: Sequence[str] | None = None
) -> tuple[Scene, dict[str, np.ndarray]]:
    """A satpy Scene over every file of `folder`, and the computed values of `names`."""
    files = sorted(str(path) for path in folder.iterdir())
    kwargs = {} if mask_items is None else {"mask_items": list(mask_items)}
    with warnings_as_errors():
        scene = Scene(filenames=files, reader="olci_l2", reader_kwargs=kwargs)
        scene.load(list(names))
        values = {name: scene[name].values for name in names}
    return scene, values


def file_flags(folder: Path) -> tuple[np.ndarray, dict[str, int]]:
    """The raw WQSF and its flag table, read with netCDF4 straight from the file."""
    with netCDF4.Dataset(folder / WQSF_FILE) as nc:
        var = nc.variables[WQSF_VARIABLE]
        var.set_auto_maskandscale(False)
        attrs = {key: var.getncattr(key) for key in var.ncattrs()}
        return var[:], flags.flag_table(attrs, str(folder / WQSF_FILE))


def satpy_bit(name: str) -> int:
    """The mask satpy uses for flag `name`, whatever the file says."""
    return 1 << WQSF_FLAG_LIST.index(name)


def test_bands_flags_and_geolocation_match_open_product(product: Path) -> None:
    scene, values = satpy_read(product, [*BANDS, "wqsf"])
    area = scene[BANDS[0]].attrs["area"]
    with open_product(product) as ds:
        for band in BANDS:
            assert values[band].dtype == np.float32
            np.testing.assert_array_equal(np.isnan(values[band]), np.isnan(ds[band].values))
            np.testing.assert_allclose(values[band], ds[band].values, rtol=1e-6)
        assert np.isnan(ds[BANDS[0]].values).any()
        np.testing.assert_array_equal(values["wqsf"], ds.wqsf.values)
        np.testing.assert_allclose(area.lats.values, ds.latitude.values, rtol=1e-6)
        np.testing.assert_allclose(area.lons.values, ds.longitude.values, rtol=1e-6)
        start = datetime.fromisoformat(ds.attrs["start_time"]).replace(tzinfo=None)
        stop = datetime.fromisoformat(ds.attrs["stop_time"]).replace(tzinfo=None)
        assert (scene.start_time, scene.end_time) == (start, stop)
        assert scene[BANDS[0]].attrs["platform_name"] == ds.attrs["platform"]


def test_mask_is_the_file_flag_table_for_collection_003(product: Path) -> None:
    _, values = satpy_read(product, ["mask"])
    wqsf, table = file_flags(product)
    expected = flags.any_set(wqsf, flags.combined_mask(table, DEFAULT_WQSF_MASK_ITEMS))
    assert expected.any() and not expected.all()
    np.testing.assert_array_equal(values["mask"], expected)


def test_satpy_cloud_mask_equals_ours_for_collection_003(product: Path) -> None:
    _, values = satpy_read(product, ["mask"], mask_items=flags.CLOUD_ANY)
    with open_product(product) as ds:
        np.testing.assert_array_equal(values["mask"], ds.cloud.values)


def test_satpy_fixed_bits_misread_collection_004_while_we_follow_the_file(
    product_004: Path,
) -> None:
    wqsf, table = file_flags(product_004)
    moved = [name for name in flags.CLOUD_ANY if satpy_bit(name) != table[name]]
    assert moved == ["CLOUD_AMBIGUOUS", "CLOUD_MARGIN"]

    _, values = satpy_read(product_004, ["mask"], mask_items=flags.CLOUD_ANY)
    in_file = flags.any_set(wqsf, flags.combined_mask(table, flags.CLOUD_ANY))
    with open_product(product_004) as ds:
        np.testing.assert_array_equal(ds.cloud.values, in_file)
        np.testing.assert_array_equal(ds.valid.values, flags.valid_mask(wqsf, table))
    # satpy reads CLOUD_AMBIGUOUS / CLOUD_MARGIN at their 003 bits, so it misses those clouds.
    missed = in_file & ~values["mask"]
    assert missed.any()
    ambiguous_or_margin = flags.combined_mask(table, ["CLOUD_AMBIGUOUS", "CLOUD_MARGIN"])
    assert flags.any_set(wqsf[missed], ambiguous_or_margin).all()


def test_satpy_bit_positions_are_the_003_layout() -> None:
    shared = [name for name in WQSF_FLAG_LIST if name in flags.WQSF_003]
    assert len(shared) == len(WQSF_FLAG_LIST) - 2  # satpy names the two spare bits Extra_1/2
    assert all(satpy_bit(name) == 1 << flags.WQSF_003.index(name) for name in shared)
