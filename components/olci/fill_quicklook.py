"""Fill quicklooks: a product before and after gap filling, and the filled pixels, side by side."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from components.olci.format import TRUE_COLOUR
from components.olci.quicklook import compose, scene_keys, subsample_step

FILLED_RGB = np.array([1.0, 0.2, 0.6])
WATER_GREY = np.array([0.35, 0.35, 0.35])
LAND_GREY = np.array([0.75, 0.75, 0.75])
PANEL_INCHES = 4.0  # width of one panel before matplotlib trims the margins
_VARIABLES = [*TRUE_COLOUR, "land", "cloud"]  # what `compose` reads


def fill_panels(
    before: xr.Dataset, after: xr.Dataset, filled: xr.DataArray | np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three (y, x, 3) RGB panels of a fill quicklook, subsampled like the product quicklook.

    Only every `subsample_step`-th row and column of each product is read.

    Args:
        before: the product with its gaps, in `open_product`'s layout.
        after: the gap-filled product, same scene.
        filled: boolean (y, x) mask of the pixels the fill wrote.

    Returns:
        (before, after, mask): both products in true colour with their clouds, land and
        no-data keyed as in the quicklook (one stretch for both, so their colours compare; a
        filled pixel is shown as water in `after` whatever its cloud flag), and the filled
        pixels highlighted over grey land and water.

    Raises:
        ValueError: the products or the mask differ in shape.
    """
    shape = (before.sizes["y"], before.sizes["x"])
    if (after.sizes["y"], after.sizes["x"]) != shape:
        raise ValueError(f"after has shape {(after.sizes['y'], after.sizes['x'])}, before {shape}")
    if np.shape(filled) != shape:
        raise ValueError(f"filled mask has shape {np.shape(filled)}, the scene {shape}")
    step = subsample_step(*shape)
    was = _window(before, step)
    now = _window(after, step)
    mask = _strided(filled, step).astype(bool)
    now["cloud"] = now["cloud"] & ~mask
    # Composed as one image so `true_colour` stretches both panels alike.
    both = compose(xr.concat([was, now], dim="x"), step=1)
    width = mask.shape[1]
    mask_rgb = np.where(was["land"].values[..., None], LAND_GREY, WATER_GREY)
    mask_rgb[mask] = FILLED_RGB
    return both[:, :width], both[:, width:], mask_rgb


def write_fill_quicklook(
    before: xr.Dataset,
    after: xr.Dataset,
    filled: xr.DataArray | np.ndarray,
    path: str | os.PathLike[str],
    title: str = "",
) -> Path:
    """Write a PNG of `fill_panels` at `path`: before, after and the filled mask.

    Args:
        before: the product with its gaps, in `open_product`'s layout.
        after: the gap-filled product, same scene.
        filled: boolean (y, x) mask of the pixels the fill wrote.
        path: a local PNG path; its folder is made if missing.
        title: the figure's title; the after product's name when empty.

    Returns:
        The path written.

    Raises:
        ValueError: the products or the mask differ in shape.
    """
    panels = fill_panels(before, after, filled)
    height, width = panels[0].shape[:2]
    panel_height = PANEL_INCHES * height / width
    fig = Figure(figsize=(3 * PANEL_INCHES, panel_height + 0.8), dpi=150, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3)
    for ax, image, name in zip(axes, panels, ("before", "after", "filled"), strict=True):
        ax.imshow(image, interpolation="nearest")
        ax.set_axis_off()
        ax.set_title(name, fontsize=7)
    fig.suptitle(title or after.attrs.get("product_name", ""), fontsize=6)
    mask_keys = [
        Patch(color=FILLED_RGB, label="filled"),
        Patch(color=WATER_GREY, label="water"),
        Patch(color=LAND_GREY, label="land"),
    ]
    for ax, keys in ((axes[0], scene_keys()), (axes[2], mask_keys)):
        ax.legend(handles=keys, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(keys),
                  fontsize=6, frameon=False)  # fmt: skip
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, bbox_inches="tight")
    return out


def _window(ds: xr.Dataset, step: int) -> xr.Dataset:
    """What `compose` reads of `ds`, every `step`-th row and column, loaded."""
    window = ds[_VARIABLES].reset_coords(drop=True)
    return window.isel(y=slice(None, None, step), x=slice(None, None, step)).load()


def _strided(array: xr.DataArray | np.ndarray, step: int) -> np.ndarray:
    if isinstance(array, xr.DataArray):
        array = array.transpose("y", "x")
        return array.isel(y=slice(None, None, step), x=slice(None, None, step)).values
    return np.asarray(array[::step, ::step])
