"""`GriddedConfig`: how to read scenes from a gridded time series, described as data.

The config travels as a TFX exec property, so it converts to and from a JSON-able dict; every
problem is reported naming the key and the offending value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from components.gridded.errors import GriddedConfigError

# Names the scene contract gives a meaning of its own; no band may take them.
RESERVED_NAMES = frozenset({"valid", "cloud", "latitude", "longitude"})


@dataclass(frozen=True)
class GriddedConfig:
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

    variables: tuple[str, ...]
    time_dim: str | None = "time"
    y_dim: str = "lat"
    x_dim: str = "lon"
    mask_variable: str | None = None
    band_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "variables", _names("variables", self.variables))
        if self.band_names is not None:
            object.__setattr__(self, "band_names", _names("band_names", self.band_names))
        for key in ("y_dim", "x_dim"):
            _check_name(key, getattr(self, key))
        for key in ("time_dim", "mask_variable"):
            if getattr(self, key) is not None:
                _check_name(key, getattr(self, key))
        dims = [d for d in (self.time_dim, self.y_dim, self.x_dim) if d is not None]
        if len(set(dims)) != len(dims):
            raise GriddedConfigError(
                f"time_dim, y_dim and x_dim must differ, got {self.time_dim!r}, "
                f"{self.y_dim!r}, {self.x_dim!r}"
            )
        if self.mask_variable in self.variables:
            raise GriddedConfigError(
                f"mask_variable {self.mask_variable!r} is also one of the variables"
            )

    def to_dict(self) -> dict[str, Any]:
        """The config as a JSON-able dict (tuples as lists)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GriddedConfig:
        """The config from `to_dict`'s form (lists or tuples); unknown keys are refused."""
        if not isinstance(data, Mapping):
            raise GriddedConfigError(f"expected a mapping, got {type(data).__name__}: {data!r}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise GriddedConfigError(
                f"unknown key(s) {', '.join(map(repr, unknown))}; known keys: {sorted(known)}"
            )
        if "variables" not in data:
            raise GriddedConfigError("missing key 'variables'")
        return cls(**dict(data))


def _check_name(key: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise GriddedConfigError(f"{key} must be a non-empty string, got {value!r}")
    return value


def _names(key: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise GriddedConfigError(f"{key} must be a list of names, got {value!r}")
    names = tuple(value)
    if not names:
        raise GriddedConfigError(f"{key} must name at least one band, got {value!r}")
    return check_band_names(key, names, GriddedConfigError)


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
