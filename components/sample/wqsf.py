"""Packing a sample scene's boolean flags into a WQSF bit field of a given layout."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from components.olci.format import BAND_NAMES


def flag_bits(layout: tuple[str, ...]) -> dict[str, np.uint64]:
    """Flag name -> bit mask for a layout (the bit position is the name's index; "" is spare)."""
    return {name: np.uint64(1 << i) for i, name in enumerate(layout) if name}


def negative_flag(band: str) -> str:
    """The RWNEG flag of a band: "Oa05" -> "RWNEG_O5"."""
    if band not in BAND_NAMES:
        raise ValueError(f"{band!r} is not an OLCI L2 band")
    return f"RWNEG_O{int(band[2:])}"


def encode_flags(
    flags: Mapping[str, np.ndarray], layout: tuple[str, ...], shape: tuple[int, int]
) -> np.ndarray:
    """A uint64 WQSF array with each named boolean mask set at its layout's bit.

    Args:
        flags: flag name -> boolean array of `shape`.
        layout: the bit layout (e.g. `flags.WQSF_LAYOUTS["003"]`).
        shape: (rows, columns) of the scene.

    Raises:
        ValueError: a flag is not in the layout, or a mask has the wrong shape.
    """
    bits = flag_bits(layout)
    wqsf = np.zeros(shape, dtype=np.uint64)
    for name, mask in flags.items():
        if name not in bits:
            raise ValueError(f"flag {name!r} is not in the WQSF layout")
        if mask.shape != tuple(shape):
            raise ValueError(f"flag {name!r} has shape {mask.shape}, the scene {tuple(shape)}")
        np.bitwise_or(wqsf, bits[name], out=wqsf, where=mask)
    return wqsf


def set_flag(wqsf: np.ndarray, layout: tuple[str, ...], name: str, mask: np.ndarray) -> None:
    """Set flag `name` of `layout` in `wqsf` (in place) where `mask` is True."""
    bits = flag_bits(layout)
    if name not in bits:
        raise ValueError(f"flag {name!r} is not in the WQSF layout")
    np.bitwise_or(wqsf, bits[name], out=wqsf, where=mask)
