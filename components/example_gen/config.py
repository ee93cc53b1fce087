"""OlciExampleGen's configuration: what to read and how to cut it into patches."""

from __future__ import annotations

from dataclasses import field
from typing import Annotated, Literal, get_args

from pydantic import Field, StrictInt, StrictStr

from components.configuration import Fraction, Positive, Section, check_range, section
from components.gridded.config import GriddedConfig
from components.olci.format import BAND_NAMES, RHO_W
from components.transforms import Transform, band_transforms

Kind = Literal["olci", "netcdf", "geotiff"]
KINDS = get_args(Kind)


@section
class IngestConfig(Section):
    """How products or gridded files become patches.

    Attributes:
        kind: "olci" (L2 WFR products, folders or zips), "netcdf" (a gridded time series,
            one scene per time step) or "geotiff" (one scene per file).
        bands: the channels, in order: OLCI band names, NetCDF variables, or the names given to
            a GeoTIFF's bands (as many as it has).
        patch_size: patch side in pixels.
        stride: grid step between patches (default: patch_size).
        min_valid: smallest share of valid pixels for a patch to be kept.
        gridded: which variables of a netcdf input are bands, along which dimensions (a
            `GriddedConfig`, or its mapping form); None for other kinds.
        harvest_coverage: (min, max) cloud share of the windows harvested as real gap shapes
            (OLCI inputs, from their WQSF cloud flags).
        temporal_window: k, the previous and next scenes of the same grid each patch carries
            as context (the same window of the k scenes before and the k after it, with their
            own gaps and time offsets; `components.example_gen.temporal`); 0 for none. Needs
            gridded inputs: OLCI swath products share no grid, so they refuse it.
        transforms: the transform of each band named ("log10" for log-normal variables such as
            chlorophyll, or "none"); bands not named are untransformed. Transform normalises
            each band in its transformed space, and the model records the transforms and
            applies them in its serving graph (`components.transforms`).
    """

    kind: Kind = "olci"
    bands: tuple[StrictStr, ...] = BAND_NAMES
    patch_size: Annotated[Positive, Field(ge=2)] = 128
    stride: Positive | None = None
    min_valid: Fraction = 0.99
    gridded: GriddedConfig | None = None
    harvest_coverage: tuple[Fraction, Fraction] = (0.02, 0.9)
    temporal_window: Annotated[StrictInt, Field(ge=0)] = 0
    transforms: dict[StrictStr, Transform] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.bands:
            raise ValueError("bands is empty")
        if self.kind == "olci" and (unknown := set(self.bands) - set(BAND_NAMES)):
            raise ValueError(f"bands {sorted(unknown)} are not OLCI L2 WFR bands {BAND_NAMES}")
        check_range("harvest_coverage", self.harvest_coverage)
        if unknown := [band for band in self.transforms if band not in self.bands]:
            raise ValueError(
                f"transforms name {unknown}, which are not among bands {list(self.bands)}"
            )
        if self.kind == "netcdf" and self.gridded is None:
            raise ValueError("kind 'netcdf' needs a gridded configuration (GriddedConfig)")
        if self.kind == "olci" and self.temporal_window:
            raise ValueError(
                f"temporal_window {self.temporal_window} needs gridded inputs (kind netcdf or "
                "geotiff): OLCI swath products (kind olci) share no grid, so no scene has a "
                "previous or next one at the same pixels"
            )

    @property
    def band_transforms(self) -> tuple[str, ...]:
        """Each band's transform, in the bands' order."""
        return band_transforms(self.bands, self.transforms)

    @property
    def layout(self) -> GriddedConfig | None:
        """The gridded layout the scenes are read with, for the batch job to read its inputs
        the same way: a NetCDF series' `gridded`; a GeoTIFF's bands named in order by `bands`
        (as `open_scene` names them); None for OLCI products."""
        if self.kind == "netcdf":
            return self.gridded
        if self.kind == "geotiff":
            return GriddedConfig(variables=self.bands, band_names=self.bands)
        return None

    @property
    def quantity(self) -> str | None:
        """The physical quantity of the patches: ρw for OLCI (of either collection), else None
        (a gridded input's own units)."""
        return RHO_W if self.kind == "olci" else None
