"""Exceptions raised for gridded inputs (NetCDF time series, GeoTIFF stacks) and their config.

Like `components.olci.errors`, every file error is a `ProductError` whose message starts with the
offending path, so a job that reads OLCI products and gridded files reports both the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

from components.configuration import ConfigError
from components.olci.errors import (
    InconsistentProductError,
    NotAProductError,
    ProductError,
    ProductNotFoundError,
)


class GriddedError(ProductError):
    """A gridded file cannot be read as scenes; the message names the path."""


class GriddedFileNotFoundError(GriddedError, ProductNotFoundError):
    """Nothing exists at the path."""


class UnsupportedPathError(GriddedError):
    """The path is of a kind the gridded readers do not open (a gs:// URL)."""


class WrongFormatError(GriddedError, NotAProductError):
    """The path exists but is not a NetCDF file (or, for `open_geotiff`, not a GeoTIFF)."""


class MissingVariableError(GriddedError):
    """A configured variable is absent from the file; the message lists those present."""


class MissingDimensionError(GriddedError):
    """A configured dimension (time, y or x) is absent from the file."""


class ShapeMismatchError(GriddedError, InconsistentProductError):
    """A variable does not lie on the scene grid: other dimensions or another shape."""


class SceneTimeError(GriddedError):
    """A scene's time cannot be read: no time coordinate, undecodable, unparsable or repeated."""


class BandNamesError(GriddedError):
    """The band names given for a GeoTIFF do not match its bands."""


class GriddedConfigError(ConfigError):
    """A `GriddedConfig` (or its dict form) is invalid; the message names the key and value."""


def local_file(path: str | os.PathLike[str], kind: str) -> Path:
    """`path` as an existing local file, or the specific error for what it is instead.

    Args:
        path: the file the caller was given.
        kind: what the file should be, for messages ("a GeoTIFF", "a NetCDF file").
    """
    source = str(path)
    if source.startswith("gs://"):
        raise UnsupportedPathError(
            source, "gs:// URLs are not read by the gridded readers; copy the file locally"
        )
    local = Path(source)
    if not local.exists():
        raise GriddedFileNotFoundError(source, "no such file")
    if not local.is_file():
        raise WrongFormatError(source, f"is a folder, not {kind}")
    return local
