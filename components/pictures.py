"""What pictures of patches show: true colour from three named bands, or one band in a colour map.

One rule for every picture of patches (the Trainer's TensorBoard grid, the evaluator's report
panels): the bands `ModelConfig.true_colour_bands` names when it is set (three: red, green,
blue; one: that band alone); otherwise OLCI's true-colour bands (Oa08, Oa06, Oa04) when the data
has all three, else its first band. Three bands make a true-colour composite (one stretch from 0
to the truth's 99.5th percentile for all three, display gamma 2.2); one band is drawn in a
colour map between the truth's 0.5th and 99.5th percentiles, in the data's own units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from components.olci.format import TRUE_COLOUR

COLOUR_MAP = "viridis"
GAMMA = 2.2
PERCENTILES = (0.5, 99.5)
FIELD = "model.true_colour_bands"


def picture_bands(
    band_names: Sequence[str], chosen: Sequence[str] | None = None, field: str = FIELD
) -> tuple[int, ...]:
    """The positions in `band_names` of the bands a picture shows: three (R, G, B) or one.

    Args:
        band_names: the data's bands, in channel order.
        chosen: the configured bands (three for true colour, one for a colour map), or None
            for the default: OLCI's true-colour bands when all are present, else the first band.
        field: the configuration field `chosen` came from, named in errors.

    Raises:
        ValueError: `chosen` is not one or three names, or names a band the data lacks (the
            message names `field` and the bands available).
    """
    names = list(band_names)
    if not names:
        raise ValueError("a picture needs at least one band; the data has none")
    if chosen is None:
        if all(b in names for b in TRUE_COLOUR):
            return tuple(names.index(b) for b in TRUE_COLOUR)
        return (0,)
    check_picture_bands(chosen, names, field)
    return tuple(names.index(b) for b in chosen)


def check_band_count(chosen: Sequence[str], field: str = FIELD) -> None:
    """Refuse `chosen` unless it names three bands (true colour) or one (a colour map)."""
    if len(chosen) not in (1, 3):
        raise ValueError(
            f"{field} must name three bands (red, green, blue) or one (a colour map), "
            f"got {list(chosen)}"
        )


def check_picture_bands(
    chosen: Sequence[str],
    band_names: Sequence[str],
    field: str = FIELD,
    available: str = "the data's bands",
) -> None:
    """Refuse `chosen` unless it is one or three of `band_names` (see `picture_bands`); errors
    name `field` and, as `available`, where `band_names` came from."""
    check_band_count(chosen, field)
    if missing := [b for b in chosen if b not in band_names]:
        raise ValueError(f"{field} names {missing}, not among {available} {list(band_names)}")


@dataclass(frozen=True)
class Picture:
    """How values become colours: which channels, and the value range shown.

    Attributes:
        bands: channel positions, three (R, G, B) or one (colour map).
        low, high: the values shown darkest and brightest (true colour: 0 and the white point).
    """

    bands: tuple[int, ...]
    low: float
    high: float

    @classmethod
    def of(cls, truth: np.ndarray, bands: Sequence[int]) -> Picture:
        """The picture of `bands`, stretched to the finite values of `truth` (..., channels)."""
        bands = tuple(int(b) for b in bands)
        values = np.asarray(truth, dtype=np.float64)[..., list(bands)]
        finite = values[np.isfinite(values)]
        if len(bands) == 3:
            top = float(np.percentile(finite, PERCENTILES[1])) if finite.size else 1.0
            return cls(bands, 0.0, top if top > 0 else 1.0)
        if not finite.size:
            return cls(bands, 0.0, 1.0)
        low, high = (float(v) for v in np.percentile(finite, PERCENTILES))
        return cls(bands, low, high if high > low else low + 1.0)

    @property
    def colour_map(self) -> bool:
        """Whether one band is drawn in `COLOUR_MAP` (else three in true colour)."""
        return len(self.bands) == 1

    def render(self, x: np.ndarray) -> np.ndarray:
        """(..., 3) RGB in 0..1 of (..., channels) values; NaN is black."""
        values = np.asarray(x, dtype=np.float64)[..., list(self.bands)]
        scaled = np.clip((values - self.low) / (self.high - self.low), 0.0, 1.0)
        if not self.colour_map:
            return np.nan_to_num(scaled ** (1 / GAMMA)).astype(np.float32)
        import matplotlib  # deferred: only pictures need it

        table = matplotlib.colormaps[COLOUR_MAP](np.linspace(0.0, 1.0, 256))[:, :3]
        finite = np.isfinite(scaled[..., 0])
        index = np.round(np.where(finite, scaled[..., 0], 0.0) * 255).astype(int)
        return np.where(finite[..., None], table[index], 0.0).astype(np.float32)

    def describe(self, band_names: Sequence[str]) -> str:
        """In words: the bands and the range shown, e.g. "chlor_a in viridis, -1.2 to 0.8"."""
        names = [band_names[b] for b in self.bands]
        if self.colour_map:
            return f"{names[0]} in {COLOUR_MAP}, {self.low:.3g} to {self.high:.3g}"
        return f"{', '.join(names)} as red, green, blue; white at {self.high:.3g}"
