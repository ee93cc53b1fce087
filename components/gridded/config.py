"""`GriddedConfig`: how to read scenes from a gridded time series, described as data.

The config travels inside `IngestConfig` (a TFX exec property) and in a model's description as
its JSON-able dict (`Section.to_dict`), read back by pydantic; every problem is reported naming
the key and the offending value, as a `GriddedConfigError` from `from_dict`, `from_json` and
`load`.
"""

from __future__ import annotations

from pydantic import StrictStr

from components.configuration import Name, Section, section
from components.gridded.errors import GriddedConfigError

# Names the scene contract gives a meaning of its own; no band may take them.
RESERVED_NAMES = frozenset({"valid", "cloud", "latitude", "longitude"})


@section
class GriddedConfig(Section):
    """Which variables of a gridded file are the bands of a scene, and along which dimensions.

    Attributes:
        variables: NetCDF variables read as bands, in order (e.g. ("chlor_a",) or
            ("Rrs_443", "Rrs_490")); they become the scene's data variables under these names.
        time_dim: the dimension that counts scenes; None for a file that is a single scene
            (e.g. a NASA L3m file), whose time comes from the `time_coverage_start` attribute.
        y_dim: the dimension renamed to `y` (rows).
        x_dim: the dimension renamed to `x` (columns).
        mask_variable: a variable, on (y, x) or (time, y, x), that is nonzero where pixels must
            never count as valid (land, ice); its fill values mask nothing. None for no mask.
        band_names: names for the bands of a GeoTIFF, in band order; None for the file's band
            descriptions (or b1..bN).
    """

    variables: tuple[StrictStr, ...]
    time_dim: Name | None = "time"
    y_dim: Name = "lat"
    x_dim: Name = "lon"
    mask_variable: Name | None = None
    band_names: tuple[StrictStr, ...] | None = None

    config_error = GriddedConfigError

    def __post_init__(self) -> None:
        if not self.variables:
            raise ValueError("variables must name at least one band, got []")
        check_band_names("variables", self.variables)
        if self.band_names is not None:
            check_band_names("band_names", self.band_names)
        dims = [d for d in (self.time_dim, self.y_dim, self.x_dim) if d is not None]
        if len(set(dims)) != len(dims):
            raise ValueError(
                f"time_dim, y_dim and x_dim must differ, got {self.time_dim!r}, "
                f"{self.y_dim!r}, {self.x_dim!r}"
            )
        if self.mask_variable in self.variables:
            raise ValueError(f"mask_variable {self.mask_variable!r} is also one of the variables")


def check_band_names(
    key: str, names: tuple[object, ...], error: type[Exception] = ValueError
) -> tuple[str, ...]:
    """`names` if they are non-empty strings, distinct and not reserved; else raise `error`."""
    for name in names:
        if not isinstance(name, str) or not name:
            raise error(f"{key}: every name must be a non-empty string, got {name!r}")
        if name in RESERVED_NAMES:
            raise error(f"{key}: {name!r} is reserved by the scene contract")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise error(f"{key}: names repeat: {', '.join(map(repr, duplicates))}")
    return tuple(str(n) for n in names)
