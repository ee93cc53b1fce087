"""OlciExampleGen's configuration: what to read and how to cut it into patches."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from components.olci.format import BAND_NAMES, RHO_W

KINDS = ("olci", "netcdf", "geotiff")


@dataclass(frozen=True)
class IngestConfig:
    """How products or gridded files become patches.

    Attributes:
        kind: "olci" (L2 WFR products, folders or zips), "netcdf" (a gridded time series,
            one scene per time step) or "geotiff" (one scene per file).
        bands: the channels, in order: OLCI band names, NetCDF variables, or the names given to
            a GeoTIFF's bands (as many as it has).
        patch_size: patch side in pixels.
        stride: grid step between patches (default: patch_size).
        min_valid: smallest share of valid pixels for a patch to be kept.
        gridded: `components.gridded.GriddedConfig.to_dict()` for netcdf inputs.
        harvest_coverage: (min, max) cloud share of the windows harvested as real gap shapes
            (OLCI inputs, from their WQSF cloud flags).
    """

    kind: str = "olci"
    bands: tuple[str, ...] = BAND_NAMES
    patch_size: int = 128
    stride: int | None = None
    min_valid: float = 0.99
    gridded: dict[str, Any] = field(default_factory=dict)
    harvest_coverage: tuple[float, float] = (0.02, 0.9)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind {self.kind!r} is not one of {KINDS}")
        if not self.bands:
            raise ValueError("bands is empty")
        if self.kind == "olci" and (unknown := set(self.bands) - set(BAND_NAMES)):
            raise ValueError(f"bands {sorted(unknown)} are not OLCI L2 WFR bands {BAND_NAMES}")
        if self.patch_size < 2:
            raise ValueError(f"patch_size {self.patch_size} must be at least 2")
        if self.stride is not None and self.stride < 1:
            raise ValueError(f"stride {self.stride} must be positive")
        if not 0.0 <= self.min_valid <= 1.0:
            raise ValueError(f"min_valid {self.min_valid} is not in [0, 1]")
        low, high = self.harvest_coverage
        if not 0.0 <= low <= high <= 1.0:
            raise ValueError(
                f"harvest_coverage {self.harvest_coverage} is not 0 <= min <= max <= 1"
            )
        if self.kind == "netcdf" and not self.gridded:
            raise ValueError("kind 'netcdf' needs a gridded configuration (GriddedConfig)")

    @property
    def quantity(self) -> str | None:
        """The physical quantity of the patches: ρw for OLCI (of either collection), else None
        (a gridded input's own units)."""
        return RHO_W if self.kind == "olci" else None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> IngestConfig:
        data = json.loads(text)
        data["bands"] = tuple(data["bands"])
        data["harvest_coverage"] = tuple(data["harvest_coverage"])
        return cls(**data)
