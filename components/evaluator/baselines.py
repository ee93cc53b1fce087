"""Classical gap fills the models are judged against: `fill(reflectance, known) -> filled`.

Each takes (H, W, B) reflectance and the (H, W) pixels that are known, and returns float32
with the known pixels bit-exact (for float32 input) and every other pixel filled, NaN when
nothing is known.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from skimage.restoration import inpaint_biharmonic


def _copy(reflectance: np.ndarray, known: np.ndarray) -> np.ndarray:
    """A float32 copy of `reflectance`, after checking it against `known`."""
    reflectance, known = np.asarray(reflectance), np.asarray(known)
    if reflectance.ndim != 3 or known.dtype != bool or known.shape != reflectance.shape[:2]:
        raise ValueError(f"need (H, W, B) reflectance and (H, W) bool known, got "
                         f"{reflectance.shape} and {known.dtype} {known.shape}")  # fmt: skip
    return np.array(reflectance, dtype=np.float32)


def mean_fill(reflectance: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Each band's mean over the tile's known pixels."""
    filled = _copy(reflectance, known)
    bands = filled.shape[-1]
    mean = filled[known].mean(axis=0, dtype=np.float64) if known.any() else np.full(bands, np.nan)
    filled[~known] = mean.astype(np.float32)
    return filled


def biharmonic_fill(reflectance: np.ndarray, known: np.ndarray) -> np.ndarray:
    """scikit-image's biharmonic inpainting of every band (the smoothest continuation).

    Solved in float64. `inpaint_biharmonic` itself clips each band to its range over the
    known pixels (a biharmonic continuation overshoots beside steep edges), so a fill never
    leaves the range the tile observed.
    """
    filled = _copy(reflectance, known)
    if known.all():
        return filled
    if not known.any():
        filled[:] = np.nan
        return filled
    inpainted = inpaint_biharmonic(filled.astype(np.float64), ~known, channel_axis=-1)
    filled[~known] = inpainted[~known].astype(np.float32)
    return filled


BASELINES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "biharmonic": biharmonic_fill,
    "mean": mean_fill,
}
