"""WQSF decoding from the file's own table, and product names."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from components.olci import flags
from components.olci.errors import CorruptFileError
from components.olci.format import ProductName, quantity_from_units


def bits(layout: tuple[str, ...], *names: str) -> np.uint64:
    return np.uint64(sum(1 << layout.index(n) for n in names))


@pytest.mark.parametrize("collection", ["003", "004"])
def test_valid_mask_follows_the_table(collection: str) -> None:
    layout = flags.WQSF_LAYOUTS[collection]
    table = flags.flag_table(flags.layout_attributes(layout), "wqsf.nc")
    pixels = np.array([
        bits(layout, "WATER"),
        bits(layout, "INLAND_WATER"),
        bits(layout, "WATER", "CLOUD"),
        bits(layout, "WATER", "CLOUD_MARGIN"),
        bits(layout, "WATER", "CLOUD_AMBIGUOUS"),
        bits(layout, "WATER", "RWNEG_O5"),
        bits(layout, "WATER", "RWNEG_O1"),  # Oa01 negativity is not in the recommended mask
        bits(layout, "WATER", "HIGHGLINT"),
        bits(layout, "WATER", "MEGLINT"),  # corrected glint stays valid
        bits(layout, "LAND"),
        bits(layout, "WATER", "ANNOT_TAU06"),
    ], dtype=np.uint64)  # fmt: skip
    expected = [True, True, False, False, False, False, True, False, True, False, True]
    np.testing.assert_array_equal(flags.valid_mask(pixels, table), expected)


def test_tables_put_flags_at_different_bits() -> None:
    t3 = flags.flag_table(flags.layout_attributes(flags.WQSF_003), "a")
    t4 = flags.flag_table(flags.layout_attributes(flags.WQSF_004), "b")
    assert t3["CLOUD_MARGIN"] == 1 << 24 and t4["CLOUD_MARGIN"] != t3["CLOUD_MARGIN"]
    assert t3.keys() == t4.keys()


def test_absent_flags_are_skipped() -> None:
    table = {"WATER": 1, "CLOUD": 2}
    pixels = np.array([1, 3, 0], dtype=np.uint64)
    np.testing.assert_array_equal(flags.valid_mask(pixels, table), [True, False, False])


def test_broken_flag_tables_are_errors() -> None:
    with pytest.raises(CorruptFileError, match=r"wqsf\.nc: WQSF has no flag_masks"):
        flags.flag_table({"flag_meanings": "A B"}, "wqsf.nc")
    with pytest.raises(CorruptFileError, match="2 flag_masks but 3 flag_meanings"):
        flags.flag_table({"flag_masks": np.array([1, 2]), "flag_meanings": "A B C"}, "wqsf.nc")


def test_product_name_round_trip() -> None:
    name = (
        "S3B_OL_2_WFR____20230615T101015_20230615T101315_20230616T223016_"
        "0180_100_065_2160_MAR_O_NT_003.SEN3"
    )
    parsed = ProductName.parse(name)
    assert parsed.start == datetime(2023, 6, 15, 10, 10, 15)
    assert parsed.platform == "Sentinel-3B" and parsed.collection == "003"
    assert parsed.folder_name() == name
    assert ProductName.parse(name + ".zip") == parsed
    assert ProductName.parse("holiday_photos") is None


@pytest.mark.parametrize(
    ("units", "quantity"), [("sr-1", "Rrs"), ("sr^-1", "Rrs"), ("dl", "rho_w"), ("K", None)]
)
def test_quantity_from_units(units: str, quantity: str | None) -> None:
    assert quantity_from_units(units) == quantity
