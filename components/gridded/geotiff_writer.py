"""Write the fill of a GeoTIFF scene: a copy of it with its gaps filled, and sidecar rasters.

The filled file keeps the source's bands, data type, nodata value, CRS, transform, block layout,
compression, band descriptions, units, scale/offset and tags (dataset and band); a band is
written only where it was missing (masked, or NaN), in its stored type (packed with its
scale/offset, rounded and clipped for integers, never onto the nodata value), so its observed
values stay bit-exact.

The flag and the uncertainty go to sidecar GeoTIFFs on the same grid, because a GeoTIFF has one
data type and one nodata value for all its bands: a bit flag or a float standard deviation added
to an integer or nodata-coded stack would take the stack's type and nodata, and tools that read
the stack by band position would see other bands. Beside `<stem>.tif`:

- `<stem>.filled.tif`: one unsigned band `filled`, one bit per filled band (tags `flag_masks`
  and `flag_meanings` "<band>_filled ...", as the NetCDF series' `filled` flag): a bit is set
  where that band was missing and now holds the model's fill;
- `<stem>.uncertainty.tif` (when the model gives one): float32 bands `<band>_uncertainty`, the
  fill's standard deviation in the band's units at its filled pixels, NaN (the nodata) elsewhere.

Every file is written as `.<name>.tmp-<id>` beside its target and renamed into place, the
sidecars first: a filled file under its name has its sidecars complete beside it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio

from components.gridded.geotiff import DRIVER, geotiff_band_names
from components.gridded.series_writer import FLAG, uncertainty_name
from components.olci.commit import temp_name

log = logging.getLogger(__name__)

FLAG_SUFFIX = ".filled.tif"
UNCERTAINTY_SUFFIX = ".uncertainty.tif"
FLAG_TYPES = (np.uint8, np.uint16, np.uint32)
HISTORY_TAG = "history"


def sidecars(target: Path, *, uncertainty: bool) -> list[Path]:
    """The sidecar files written beside the filled GeoTIFF `target`: its flag, its uncertainty."""
    stem = target.name.rsplit(".", 1)[0]
    suffixes = [FLAG_SUFFIX] + [UNCERTAINTY_SUFFIX] * uncertainty
    return [target.with_name(stem + suffix) for suffix in suffixes]


def write_filled_geotiff(source: Path, target: Path, bands: Sequence[str], mask: np.ndarray,
                         values: np.ndarray, *, band_names: Sequence[str] | None,
                         uncertainty: bool, history: str) -> int:  # fmt: skip
    """Write the fill of the GeoTIFF `source` as `target` and its sidecars (all local); return
    how many pixels had a band filled.

    Args:
        source: the GeoTIFF that was filled.
        target: the filled GeoTIFF to write (its folder must exist); replaced if it exists.
        bands: the filled bands, by the names `open_geotiff(source, band_names)` gives them, in
            the order of `values`.
        mask: (rows, columns) bool, the pixels the fill covers.
        values: (mask.sum(), channels) float32: the bands in `bands` order, then (with
            `uncertainty`) their standard deviations.
        band_names: the names given to the file's bands in band order, or None (see
            `open_geotiff`).
        uncertainty: write the uncertainty sidecar too.
        history: the `history` tag of the sidecars.
    """
    names = geotiff_band_names(source, band_names)
    full = np.full((*mask.shape, values.shape[-1]), np.nan, np.float32)
    full[mask] = values
    with rasterio.open(source) as src:
        profile, raw, keep = src.profile, src.read(), src.read_masks() != 0
        tags, band_tags = src.tags(), [src.tags(i) for i in range(1, src.count + 1)]
        descriptions, units = src.descriptions, src.units
        scales, offsets = src.scales, src.offsets
    flag_type = next(t for t in FLAG_TYPES if len(bands) <= 8 * np.dtype(t).itemsize)
    flags = np.zeros(mask.shape, flag_type)
    sigmas = np.full((len(bands), *mask.shape), np.nan, np.float32)
    for i, name in enumerate(bands):
        b = names.index(name)
        stored = raw[b]
        gap = ~keep[b] | (~np.isfinite(stored) if stored.dtype.kind == "f" else False)
        fill = full[..., i]
        todo = mask & gap & np.isfinite(fill)
        stored[todo] = encode(fill[todo], stored.dtype, scales[b], offsets[b], profile["nodata"])
        flags[todo] |= flag_type(1 << i)
        if uncertainty:
            sigmas[i][todo] = full[..., len(bands) + i][todo]
    grid = {"driver": DRIVER, "width": profile["width"], "height": profile["height"],
            "crs": profile["crs"], "transform": profile["transform"],
            "compress": "deflate"}  # fmt: skip
    outputs = [target, *sidecars(target, uncertainty=uncertainty)]
    temporaries = [temp_name(path) for path in outputs]
    try:
        with rasterio.open(temporaries[0], "w", **profile) as dst:
            dst.write(raw)
            dst.update_tags(**tags)
            for b in range(len(names)):
                dst.update_tags(b + 1, **band_tags[b])
                if descriptions[b]:
                    dst.set_band_description(b + 1, descriptions[b])
            dst.units = units
            dst.scales, dst.offsets = scales, offsets
        bits = " ".join(str(1 << i) for i in range(len(bands)))
        with rasterio.open(temporaries[1], "w", count=1, dtype=flag_type, **grid) as dst:
            dst.write(flags, 1)
            dst.set_band_description(1, FLAG)
            dst.update_tags(1, flag_masks=bits, flag_values=bits,
                            flag_meanings=" ".join(f"{b}_filled" for b in bands))  # fmt: skip
            dst.update_tags(**{HISTORY_TAG: history})
        if uncertainty:
            with rasterio.open(temporaries[2], "w", count=len(bands), dtype="float32",
                               nodata=np.nan, **grid) as dst:  # fmt: skip
                dst.write(sigmas)
                for i, name in enumerate(bands):
                    dst.set_band_description(i + 1, uncertainty_name(name))
                dst.units = [units[names.index(name)] or "" for name in bands]
                dst.update_tags(**{HISTORY_TAG: history})
        for temporary, path in [*zip(temporaries, outputs, strict=True)][::-1]:
            os.replace(temporary, path)  # the sidecars, then the filled file
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
    return int(np.count_nonzero(flags))


def encode(values: np.ndarray, dtype: np.dtype, scale: float, offset: float,
           nodata: Any) -> np.ndarray:  # fmt: skip
    """Physical `values` in a band's stored type: packed with its scale and offset, rounded and
    clipped to the type's range for integers, and moved off the nodata value."""
    packed = (values.astype(np.float64) - offset) / scale
    if dtype.kind not in "iu":
        packed = packed.astype(dtype)
        if nodata is not None and not np.isnan(nodata):
            packed[packed == nodata] = np.nextafter(dtype.type(nodata), dtype.type(np.inf))
        return packed
    low, high = float(np.iinfo(dtype).min), float(np.iinfo(dtype).max)
    packed = np.rint(packed)
    clipped = int(np.count_nonzero((packed < low) | (packed > high)))
    if clipped:
        log.warning("%d filled values clipped to what the band's %s can hold", clipped, dtype)
    packed = np.clip(packed, low, high)
    if nodata is not None and not np.isnan(nodata):
        packed[packed == nodata] += 1 if nodata < high else -1
    return packed.astype(dtype)
