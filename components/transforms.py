"""Per-band transforms: the space each band is normalised, modelled and filled in.

A band's transform is "none" (its own values) or "log10" (log10 of them, for log-normal
variables such as chlorophyll). The ingest configuration names them (`IngestConfig.transforms`);
Transform computes each band's statistics in its transformed space, and the exported model
records them per band in its description (`transforms`) and applies them in its serving graph,
so callers always pass and get back values in the data's own units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, get_args

import numpy as np

Transform = Literal["none", "log10"]
TRANSFORMS: tuple[str, ...] = get_args(Transform)
NONE, LOG10 = TRANSFORMS
# Values below this are clamped before a log10 (atmospheric correction leaves small negative
# reflectances in the red and near-infrared; a fill may undershoot 0).
LOG_FLOOR = 1e-4


def band_transforms(bands: Sequence[str], transforms: Mapping[str, str]) -> tuple[str, ...]:
    """Each band's transform, in the bands' order ("none" for a band not named)."""
    return tuple(transforms.get(band, NONE) for band in bands)


def is_log10(transforms: Sequence[str]) -> tuple[bool, ...]:
    """Per band, whether it is log10-transformed."""
    return tuple(t == LOG10 for t in transforms)


def to_transformed(values: np.ndarray, transforms: Sequence[str]) -> np.ndarray:
    """(..., bands) values in the data's units -> each band's transformed space (numpy)."""
    log10 = np.asarray(is_log10(transforms))
    if not log10.any():
        return values
    return np.where(log10, np.log10(np.maximum(values, LOG_FLOOR)), values)
