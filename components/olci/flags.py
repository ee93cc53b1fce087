"""WQSF flags: decoded from each file's own `flag_masks` / `flag_meanings`, never a fixed table.

The layout tables below are what the sample generator writes. The reader never uses them: the
bits moved between processing baselines, so a file's attributes are the only truth.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from components.olci.errors import CorruptFileError

# Collection 003 layout (bit position = index; "" marks a spare bit).
WQSF_003: tuple[str, ...] = (
    "INVALID", "WATER", "LAND", "CLOUD", "SNOW_ICE", "INLAND_WATER", "TIDAL", "COSMETIC",
    "SUSPECT", "HISOLZEN", "SATURATED", "MEGLINT", "HIGHGLINT", "WHITECAPS", "ADJAC", "WV_FAIL",
    "PAR_FAIL", "AC_FAIL", "OC4ME_FAIL", "OCNN_FAIL", "", "KDM_FAIL", "", "CLOUD_AMBIGUOUS",
    "CLOUD_MARGIN", "BPAC_ON", "WHITE_SCATT", "LOWRW", "HIGHRW", "", "", "",
    "ANNOT_ANGSTROM", "ANNOT_AERO_B", "ANNOT_ABSO_D", "ANNOT_ACLIM", "ANNOT_ABSOA",
    "ANNOT_MIXR1", "ANNOT_DROUT", "ANNOT_TAU06", "RWNEG_O1", "RWNEG_O2", "RWNEG_O3", "RWNEG_O4",
    "RWNEG_O5", "RWNEG_O6", "RWNEG_O7", "RWNEG_O8", "RWNEG_O9", "RWNEG_O10", "RWNEG_O11",
    "RWNEG_O12", "RWNEG_O16", "RWNEG_O17", "RWNEG_O18", "RWNEG_O21",
)  # fmt: skip

# Collection 004 layout as the sample generator writes it: cloud flags regrouped in the low bits
# and the annotation bits moved up, so any reader that hard-codes the 003 positions decodes it
# wrongly. It stands in for the reprocessed baseline, whose table the reader also takes from the
# file's attributes.
WQSF_004: tuple[str, ...] = (
    "INVALID", "WATER", "LAND", "CLOUD", "CLOUD_AMBIGUOUS", "CLOUD_MARGIN", "SNOW_ICE",
    "INLAND_WATER", "TIDAL", "COSMETIC", "SUSPECT", "HISOLZEN", "SATURATED", "MEGLINT",
    "HIGHGLINT", "WHITECAPS", "ADJAC", "WV_FAIL", "PAR_FAIL", "AC_FAIL", "OC4ME_FAIL",
    "OCNN_FAIL", "KDM_FAIL", "BPAC_ON", "WHITE_SCATT", "LOWRW", "HIGHRW", "",
    "RWNEG_O1", "RWNEG_O2", "RWNEG_O3", "RWNEG_O4", "RWNEG_O5", "RWNEG_O6", "RWNEG_O7",
    "RWNEG_O8", "RWNEG_O9", "RWNEG_O10", "RWNEG_O11", "RWNEG_O12", "RWNEG_O16", "RWNEG_O17",
    "RWNEG_O18", "RWNEG_O21", "", "", "", "",
    "ANNOT_ANGSTROM", "ANNOT_AERO_B", "ANNOT_ABSO_D", "ANNOT_ACLIM", "ANNOT_ABSOA",
    "ANNOT_MIXR1", "ANNOT_DROUT", "ANNOT_TAU06",
)  # fmt: skip

WQSF_LAYOUTS: Mapping[str, tuple[str, ...]] = {"003": WQSF_003, "004": WQSF_004}

# The recommended reflectance mask: a pixel is valid when any of VALID_ANY is set and none of
# INVALID_ANY. Flags missing from a file's table are skipped.
VALID_ANY = ("WATER", "INLAND_WATER")
INVALID_ANY = (
    "CLOUD", "CLOUD_AMBIGUOUS", "CLOUD_MARGIN", "INVALID", "COSMETIC", "SATURATED", "SUSPECT",
    "HISOLZEN", "HIGHGLINT", "SNOW_ICE", "AC_FAIL", "WHITECAPS", "ADJAC",
    "RWNEG_O2", "RWNEG_O3", "RWNEG_O4", "RWNEG_O5", "RWNEG_O6", "RWNEG_O7", "RWNEG_O8",
)  # fmt: skip
LAND_ANY = ("LAND",)
CLOUD_ANY = ("CLOUD", "CLOUD_AMBIGUOUS", "CLOUD_MARGIN")


def layout_attributes(layout: tuple[str, ...]) -> dict[str, object]:
    """`flag_masks` (uint64) and `flag_meanings` attributes for a bit layout."""
    bits = [(i, name) for i, name in enumerate(layout) if name]
    return {
        "flag_masks": np.array([1 << i for i, _ in bits], dtype=np.uint64),
        "flag_meanings": " ".join(name for _, name in bits),
    }


def flag_table(attrs: Mapping[str, object], where: str) -> dict[str, int]:
    """Map flag name to mask from a variable's attributes.

    Args:
        attrs: the WQSF variable's attributes.
        where: the file they came from, for error messages.

    Raises:
        CorruptFileError: the attributes are missing or disagree in length.
    """
    if "flag_masks" not in attrs or "flag_meanings" not in attrs:
        raise CorruptFileError(where, "WQSF has no flag_masks / flag_meanings attributes")
    meanings = str(attrs["flag_meanings"]).split()
    masks = np.atleast_1d(np.asarray(attrs["flag_masks"])).astype(np.uint64)
    if len(meanings) != len(masks):
        raise CorruptFileError(
            where, f"WQSF has {len(masks)} flag_masks but {len(meanings)} flag_meanings"
        )
    return {name: int(mask) for name, mask in zip(meanings, masks, strict=True)}


def combined_mask(table: Mapping[str, int], names: Iterable[str]) -> np.uint64:
    """OR of the masks of `names` that the table has (absent flags are skipped)."""
    mask = 0
    for name in names:
        mask |= table.get(name, 0)
    return np.uint64(mask)


def any_set(wqsf: np.ndarray, mask: np.uint64) -> np.ndarray:
    """Boolean array: any bit of `mask` set in `wqsf`."""
    return (wqsf & mask) != 0


def valid_mask(wqsf: np.ndarray, table: Mapping[str, int]) -> np.ndarray:
    """The recommended reflectance mask (see VALID_ANY / INVALID_ANY)."""
    return any_set(wqsf, combined_mask(table, VALID_ANY)) & ~any_set(
        wqsf, combined_mask(table, INVALID_ANY)
    )
