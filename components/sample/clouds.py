"""Clouds for sample scenes: thick cores, thin-cloud rims and cloud margins with real shapes.

A continuous cloudiness field is thresholded at the quantile that gives the requested cloud
fraction. The field mixes a real cloud mask shipped with the package (Sentinel-2 masks from
eo-learn, a Landsat-8 mask from 38-Cloud; see data/ATTRIBUTION.md), stretched over the scene,
with fractal noise: a steep power-law field for synthetic cloud systems and a rough one for
ragged edges. The cloudy area is then split from the outside in, as IdePix flags it: a
CLOUD_MARGIN ring a few pixels wide, a CLOUD_AMBIGUOUS rim of thin cloud of varying width inside
it, and the thick CLOUD core. Cloud specks too small to hold a core are thin cloud throughout.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
from scipy import ndimage

from components.sample.fields import power_law_noise, resample, standardise, top_share

MASK_FILE = "cloud_masks.npz"
MASK_SETS = ("eolearn", "cloud38")

# Rim widths in pixels at 300 m.
MARGIN_WIDTH = (2.0, 4.0)
AMBIGUOUS_WIDTH = (1.0, 6.0)


@dataclass(frozen=True)
class CloudMasks:
    """The cloud flags of a scene and how thick the cloud is where values stay.

    Attributes:
        cloud: thick cloud (CLOUD), where the water is not seen at all.
        ambiguous: thin cloud or haze (CLOUD_AMBIGUOUS) around and between thick cloud.
        margin: the ring around all cloud (CLOUD_MARGIN).
        haze: float32 thickness, 0 to 1, of the thin cloud over `ambiguous` and `margin` pixels
            (0 elsewhere), which scales how much it brightens the reflectance there.
    """

    cloud: np.ndarray
    ambiguous: np.ndarray
    margin: np.ndarray
    haze: np.ndarray

    @property
    def any(self) -> np.ndarray:
        """Pixels with any cloud flag."""
        return self.cloud | self.ambiguous | self.margin


def load_real_masks() -> tuple[np.ndarray, ...]:
    """The real cloud masks shipped with the package, as 2-D boolean arrays (True = cloud)."""
    source = resources.files("components.sample").joinpath("data", MASK_FILE)
    with source.open("rb") as file, np.load(file) as archive:
        masks = []
        for name in MASK_SETS:
            width = int(archive[f"{name}_width"])
            unpacked = np.unpackbits(archive[name], axis=-1, count=width).astype(bool)
            masks.extend(unpacked)
    return tuple(masks)


def real_cloud_field(
    shape: tuple[int, int], masks: tuple[np.ndarray, ...], rng: np.random.Generator
) -> np.ndarray:
    """One real mask, turned and flipped at random, cropped to the scene's aspect and stretched.

    Returns:
        float32 field of `shape`, zero mean and unit variance, high where the mask is cloudy.
    """
    mask = masks[int(rng.integers(len(masks)))]
    mask = np.rot90(mask, k=int(rng.integers(4)))
    if rng.random() < 0.5:
        mask = mask[:, ::-1]
    aspect = shape[0] / shape[1]
    height = min(mask.shape[0], mask.shape[1] * aspect)
    crop = rng.uniform(0.6, 1.0)
    crop_rows = max(2, round(height * crop))
    crop_columns = max(2, min(mask.shape[1], round(crop_rows / aspect)))
    top = int(rng.integers(0, mask.shape[0] - crop_rows + 1))
    left = int(rng.integers(0, mask.shape[1] - crop_columns + 1))
    window = mask[top : top + crop_rows, left : left + crop_columns].astype(np.float32)
    smooth = ndimage.gaussian_filter(window, sigma=0.7, mode="nearest")
    return standardise(resample(smooth, shape))


def synthetic_cloud_field(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A fractal cloud field: power-law noise with a steep spectrum (slope 3.2-4.2)."""
    exponent = rng.uniform(3.2, 4.2)
    return power_law_noise(shape, exponent, rng, outer_scale=rng.uniform(0.3, 1.0) * max(shape))


def cloud_masks(
    shape: tuple[int, int],
    rng: np.random.Generator,
    *,
    fraction: float,
    real_masks: tuple[np.ndarray, ...] = (),
) -> CloudMasks:
    """Cloud, thin-cloud and margin flags covering `fraction` of the scene in all.

    Args:
        shape: (rows, columns) of the scene.
        rng: the random generator to draw from.
        fraction: share of the scene under any cloud flag (CLOUD, CLOUD_AMBIGUOUS or
            CLOUD_MARGIN), 0 to 1; met to within one pixel unless the field has ties.
        real_masks: real cloud masks to draw shapes from (see `load_real_masks`); about a third
            of scenes use synthetic shapes only, and all do when none are given.

    Returns:
        The three flags and the thin-cloud thickness.

    Raises:
        ValueError: `fraction` is outside [0, 1].
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"cloud fraction {fraction} is not in [0, 1]")
    field = synthetic_cloud_field(shape, rng)
    if real_masks and rng.random() < 0.7:
        weight = rng.uniform(0.5, 0.85)
        field *= np.float32(1.0 - weight)
        field += np.float32(weight) * real_cloud_field(shape, real_masks, rng)
    field += np.float32(0.12) * power_law_noise(shape, 2.6, rng, outer_scale=min(shape) / 4)
    cloudy = top_share(field, fraction)
    del field
    margin_width = rng.uniform(*MARGIN_WIDTH)
    rim_width = AMBIGUOUS_WIDTH[0] + (AMBIGUOUS_WIDTH[1] - AMBIGUOUS_WIDTH[0]) * _unit_field(
        shape, rng
    )
    if not cloudy.any():
        empty = np.zeros(shape, dtype=bool)
        return CloudMasks(empty, empty.copy(), empty.copy(), np.zeros(shape, dtype=np.float32))
    depth = _depth(cloudy)
    cloud = cloudy & (depth > margin_width + rim_width)
    ambiguous = cloudy & (depth > margin_width) & ~cloud
    margin = cloudy & (depth <= margin_width)
    # Margin pixels must border cloud; specks with no thicker cloud inside are thin cloud.
    cores = cloud | ambiguous
    if cores.any():
        near_core = ndimage.distance_transform_edt(~cores) <= margin_width + 2.0
    else:
        near_core = np.zeros(shape, dtype=bool)
    speck = margin & ~near_core
    ambiguous |= speck
    margin &= near_core
    haze = np.where(
        ambiguous | margin,
        np.clip(depth / (margin_width + rim_width), 0.15, 1.0),
        0.0,
    ).astype(np.float32)
    return CloudMasks(cloud=cloud, ambiguous=ambiguous, margin=margin, haze=haze)


def _unit_field(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A smooth random field between 0 and 1."""
    noise = power_law_noise(shape, 4.0, rng, outer_scale=min(shape) / 3)
    return (0.5 + 0.5 * np.tanh(noise)).astype(np.float32)


def _depth(cloudy: np.ndarray) -> np.ndarray:
    """Distance in pixels from each cloudy pixel to the nearest clear one (0 where clear).

    A fully cloudy scene has no clear pixel; its depth is then measured from the scene edge.
    """
    if cloudy.all():
        padded = np.pad(cloudy, 1, constant_values=False)
        return ndimage.distance_transform_edt(padded)[1:-1, 1:-1].astype(np.float32)
    return ndimage.distance_transform_edt(cloudy).astype(np.float32)


def default_cloud_fraction(rng: np.random.Generator) -> float:
    """A cloud fraction for a scene that was not given one: uniform between 0.1 and 0.7."""
    return float(rng.uniform(0.1, 0.7))
