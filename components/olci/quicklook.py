"""Quicklook PNGs: a true-colour picture of a product with its cloud mask."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.patches import Patch

from components.olci.format import TRUE_COLOUR

MAX_SIDE = 1200  # quicklooks are subsampled to at most this many pixels a side
LAND_RGB = np.array([0.62, 0.58, 0.50])
NODATA_RGB = np.array([0.0, 0.0, 0.0])
CLOUD_RGB = np.array([1.0, 1.0, 1.0])
RIM_RGB = np.array([0.80, 0.85, 0.95])


def subsample_step(rows: int, columns: int, max_side: int = MAX_SIDE) -> int:
    """The stride that brings the longer side to at most `max_side` pixels."""
    return max(1, -(-max(rows, columns) // max_side))


def true_colour(red: np.ndarray, green: np.ndarray, blue: np.ndarray) -> np.ndarray:
    """An (y, x, 3) RGB image in 0..1 from three reflectance bands.

    One stretch for all channels (the 99.5th percentile of the finite values), so the colour
    balance of the water is kept, with a display gamma of 2.2; NaN stays NaN.
    """
    rgb = np.stack([red, green, blue], axis=-1).astype(np.float32)
    finite = rgb[np.isfinite(rgb)]
    top = float(np.percentile(finite, 99.5)) if finite.size else 1.0
    top = top if top > 0 else 1.0
    scaled = np.clip(rgb / top, 0.0, 1.0)
    return scaled ** (1 / 2.2)


def compose(ds: xr.Dataset, step: int) -> np.ndarray:
    """The quicklook image of `ds` subsampled by `step`: water, land, clouds and no-data."""
    window = ds.isel(y=slice(None, None, step), x=slice(None, None, step))
    rgb = true_colour(*(window[b].values for b in TRUE_COLOUR))
    land = window["land"].values
    cloud = window["cloud"].values
    missing = ~np.isfinite(rgb).all(axis=-1)
    out = np.where(missing[..., None], NODATA_RGB, np.nan_to_num(rgb))
    out[land] = LAND_RGB
    # Thick cloud has no reflectance; rims (margin, ambiguous) keep a veiled view of the water.
    out[cloud & missing] = CLOUD_RGB
    rim = cloud & ~missing
    out[rim] = 0.4 * out[rim] + 0.6 * RIM_RGB
    return out


def scene_keys() -> list:
    """Legend entries of the quicklook's colours: cloud, cloud rim, land, no data."""
    return [
        Patch(color=CLOUD_RGB, label="cloud", ec="k", lw=0.3),
        Patch(color=RIM_RGB, label="cloud rim", ec="k", lw=0.3),
        Patch(color=LAND_RGB, label="land"),
        Patch(color=NODATA_RGB, label="no data"),
    ]


def write_quicklook(ds: xr.Dataset, path: str | os.PathLike[str], title: str = "") -> Path:
    """Write a PNG of `ds` in true colour (Oa08/Oa06/Oa04) with cloud, land and no-data keys."""
    # Deferred: pyplot comes after choosing the Agg backend, a process-wide setting made when
    # a picture is drawn, not when the module is imported.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    step = subsample_step(ds.sizes["y"], ds.sizes["x"])
    image = compose(ds, step)
    height, width = image.shape[:2]
    scale = 8.0 / max(height, width)
    fig, ax = plt.subplots(figsize=(max(width * scale, 4.0), height * scale + 1.0), dpi=150)
    ax.imshow(image, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title or ds.attrs.get("product_name", ""), fontsize=6)
    ax.legend(handles=scene_keys(), loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=4,
              fontsize=6, frameon=False)  # fmt: skip
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, bbox_inches="tight")
    plt.close(fig)
    return out
