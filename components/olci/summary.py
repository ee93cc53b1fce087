"""What a product holds, in numbers: size, time, bands, and the valid / cloud / land fractions."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import xarray as xr

from components.olci import flags
from components.olci.format import BAND_NAMES

BLOCK_ROWS = 1024  # flags are counted a block of rows at a time to bound memory


@dataclass(frozen=True)
class ProductSummary:
    """Key facts of one product; fractions are shares of all pixels of the scene.

    Water is what WQSF flags WATER or INLAND_WATER; the gap is water (not land) without a
    usable value, so a scene without water has no gap to fill.
    """

    product_name: str
    platform: str
    collection: str
    reflectance: str
    units: str
    start_time: str
    stop_time: str
    rows: int
    columns: int
    bands: tuple[str, ...]
    valid_fraction: float
    water_fraction: float
    cloud_fraction: float
    land_fraction: float
    gap_fraction: float
    latitude_range: tuple[float, float]
    longitude_range: tuple[float, float]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def text(self) -> str:
        lat, lon = self.latitude_range, self.longitude_range
        return "\n".join([
            f"product     {self.product_name}",
            f"platform    {self.platform}, collection {self.collection}",
            f"reflectance {self.reflectance} ({self.units})",
            f"time        {self.start_time} .. {self.stop_time}",
            f"size        {self.rows} rows x {self.columns} columns",
            f"bands       {' '.join(self.bands)} ({len(self.bands)})",
            f"water       {self.water_fraction:6.1%}  WATER / INLAND_WATER",
            f"valid       {self.valid_fraction:6.1%}  water with usable reflectance",
            f"gap         {self.gap_fraction:6.1%}  water to fill (cloudy or otherwise invalid)"
            if self.water_fraction else
            "gap           none  no water pixels: nothing to fill",
            f"cloud       {self.cloud_fraction:6.1%}  CLOUD / CLOUD_AMBIGUOUS / CLOUD_MARGIN",
            f"land        {self.land_fraction:6.1%}",
            f"latitude    {lat[0]:.3f} .. {lat[1]:.3f}",
            f"longitude   {lon[0]:.3f} .. {lon[1]:.3f}",
        ])  # fmt: skip


def summarise(ds: xr.Dataset) -> ProductSummary:
    """Count the flags of `ds` (as `open_product` returns it) block by block."""
    rows, cols = ds.sizes["y"], ds.sizes["x"]
    counts = dict.fromkeys(("valid", "water", "cloud", "land", "gap"), 0)
    table = flags.flag_table(ds["wqsf"].attrs, ds.attrs.get("product_name", "wqsf"))
    water_bits = flags.combined_mask(table, flags.VALID_ANY)
    lat_lo = lon_lo = np.inf
    lat_hi = lon_hi = -np.inf
    for start in range(0, rows, BLOCK_ROWS):
        window = slice(start, start + BLOCK_ROWS)
        block = ds[["valid", "cloud", "land", "wqsf"]].isel(y=window).load()
        valid, cloud, land = (block[k].values for k in ("valid", "cloud", "land"))
        water = flags.any_set(block["wqsf"].values, water_bits) & ~land
        counts["valid"] += int(valid.sum())
        counts["water"] += int(water.sum())
        counts["cloud"] += int(cloud.sum())
        counts["land"] += int(land.sum())
        counts["gap"] += int((water & ~valid).sum())
        lat = block["latitude"].values
        lon = block["longitude"].values
        lat_lo, lat_hi = min(lat_lo, np.nanmin(lat)), max(lat_hi, np.nanmax(lat))
        lon_lo, lon_hi = min(lon_lo, np.nanmin(lon)), max(lon_hi, np.nanmax(lon))
    total = rows * cols
    return ProductSummary(
        product_name=ds.attrs.get("product_name", ""),
        platform=ds.attrs.get("platform", ""),
        collection=ds.attrs.get("collection", ""),
        reflectance=ds.attrs.get("reflectance", ""),
        units=ds.attrs.get("units", ""),
        start_time=ds.attrs.get("start_time", ""),
        stop_time=ds.attrs.get("stop_time", ""),
        rows=rows,
        columns=cols,
        bands=tuple(b for b in BAND_NAMES if b in ds),
        valid_fraction=counts["valid"] / total,
        water_fraction=counts["water"] / total,
        cloud_fraction=counts["cloud"] / total,
        land_fraction=counts["land"] / total,
        gap_fraction=counts["gap"] / total,
        latitude_range=(float(lat_lo), float(lat_hi)),
        longitude_range=(float(lon_lo), float(lon_hi)),
    )
