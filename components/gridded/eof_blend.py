"""A model's fill of a gridded series blended with a DINEOF fill of the whole series.

The model fills each scene from a tile of it (and, with a temporal window, the same tiles of a
few scenes around it); DINEOF (`components.gridded.eof`) fills it from the covariance in time of
the whole series. Their errors are only weakly correlated (ρ ≈ 0.33 on the real daily
chlorophyll series of the quality benchmark), so a weighted mean is better than either. In each
band's transformed space (log10 for chlorophyll), the filled values are the model's and the EOF
fill's mean with one weight per band for the whole series, the inverse-variance weight of the
model's mean predicted variance over the series' filled pixels (`BlendWeight`) against the EOF
fill's cross-validated error. Weights made pixel by pixel from the model's σ, or scene by scene
from its mean, were measured worse on that series (where the model is unsure, deep in a gap,
the EOFs are too; and the model's σ is too small by about a third). Each value's σ is that of
the weighted mean of two independent estimates (the model's σ for the pixel, the EOFs' error),
a lower bound where the errors are correlated. Where DINEOF has no value (a pixel never
observed), the model's fill stays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from components.gridded.eof import eof_fill
from components.transforms import is_log10, to_transformed

# DINEOF with its temporal covariance filter (alpha 0.5 day^2, 3 steps), stopped at a 1e-2
# change: the strongest settings measured on the real daily chlorophyll series (in-gap RMSE
# 0.227 log10, against 0.304 without the filter, and 0.226 at DINEOF's default 1e-3, which took
# 160 times as long).
EOF_SETTINGS = {"filter_strength": 0.5, "filter_steps": 3, "tolerance": 1e-2}


@dataclass(frozen=True)
class SeriesEof:
    """A series' DINEOF fill in each band's transformed space, and its expected error.

    Attributes:
        filled: (T, H, W, bands) the series with its gaps filled (transformed; NaN where a
            pixel is never observed).
        error: (bands,) the cross-validated RMSE of a filled value (transformed).
        rank: the number of EOFs chosen.
    """

    filled: np.ndarray
    error: np.ndarray
    rank: int


def series_eof(values: np.ndarray, transforms: Sequence[str], times=None) -> SeriesEof:
    """DINEOF (`EOF_SETTINGS`) of (T, H, W, bands) `values` in the data's units, NaN where
    unknown (gaps, land), filled in each band's transformed space; `times` in days."""
    transformed = to_transformed(np.asarray(values, np.float64), transforms)
    transformed = np.where(np.isfinite(values), transformed, np.nan)
    result = eof_fill(transformed, times=times, **EOF_SETTINGS)
    return SeriesEof(result.filled, np.asarray(result.error), result.rank)


def _transformed(model: np.ndarray, model_sigma: np.ndarray,
                 transforms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The model's values and variance in each band's transformed space: σ of log10(x) is
    σ / (x ln 10) to first order, as the model's export converts it."""
    log10 = np.asarray(is_log10(transforms))
    model = np.asarray(model, np.float64)
    scale = np.where(log10, np.log(10.0) * np.maximum(model, 1e-30), 1.0)
    variance = (np.asarray(model_sigma, np.float64) / scale) ** 2
    return to_transformed(model, transforms), variance


class BlendWeight:
    """The model's mean predicted variance over the filled pixels the EOFs fill too, summed
    over as many scenes as are added, and the weight it gives the model's fill."""

    def __init__(self, bands: int) -> None:
        self._sum, self._count = np.zeros(bands), np.zeros(bands)

    def add(self, model: np.ndarray, model_sigma: np.ndarray, eof: np.ndarray,
            transforms: Sequence[str]) -> None:  # fmt: skip
        """Add a scene's (n, bands) filled values, their σ (data units) and its EOF fill."""
        _, variance = _transformed(model, model_sigma, transforms)
        usable = np.isfinite(eof) & np.isfinite(variance)
        self._sum += np.where(usable, variance, 0.0).sum(axis=0)
        self._count += usable.sum(axis=0)

    def weight(self, eof_error: np.ndarray) -> np.ndarray:
        """(bands,) the model's weight: the EOFs' error variance over the sum of the two."""
        eof_variance = np.asarray(eof_error, np.float64) ** 2
        model_variance = self._sum / np.maximum(self._count, 1)
        return eof_variance / np.maximum(model_variance + eof_variance, 1e-300)


def blend(
    model: np.ndarray,
    model_sigma: np.ndarray,
    eof: np.ndarray,
    eof_error: np.ndarray,
    transforms: Sequence[str],
    weight: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """A scene's blend of a model's fill and an EOF fill, and its σ (see the module docstring).

    Args:
        model, model_sigma: (n, bands) the model's filled values and σ at a scene's filled
            pixels, in the data's units.
        eof: (n, bands) the EOF fill of the same pixels, transformed (NaN: none).
        eof_error: (bands,) the EOF fill's error, transformed.
        transforms: each band's transform.
        weight: (bands,) the model's weight (`BlendWeight.weight` over the series' scenes).

    Returns:
        (values, sigma), (n, bands) float32 in the data's units.
    """
    log10 = np.asarray(is_log10(transforms))
    model = np.asarray(model, np.float64)
    mean, variance = _transformed(model, model_sigma, transforms)
    eof_variance = np.asarray(eof_error, np.float64) ** 2
    usable = np.isfinite(eof) & np.isfinite(variance)
    eof_part = np.where(usable, eof, 0.0)
    blended = np.where(usable, weight * mean + (1.0 - weight) * eof_part, mean)
    blended_variance = np.where(
        usable, weight**2 * variance + (1.0 - weight) ** 2 * eof_variance, variance
    )
    values = np.where(usable, np.where(log10, 10.0**blended, blended), model)
    sigma = np.sqrt(blended_variance) * np.where(log10, np.log(10.0) * values, 1.0)
    return values.astype(np.float32), sigma.astype(np.float32)
