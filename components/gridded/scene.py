"""Build a scene as the patch extractor expects it, whatever file it was read from.

A scene is an xarray Dataset on dims ("y", "x"): one float32 variable per band (NaN at gaps), a
boolean `valid` (every band finite and not masked), float32 `latitude`/`longitude` coords when
the file locates its pixels, and attributes `product_name` and `start_time`. A scene whose land
is known (`masked`) also has a boolean `cloud`: the pixels that could be observed and are not,
its real gaps, which ExampleGen harvests as gap shapes like an OLCI product's cloud flags.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

DIMS = ("y", "x")


def make_scene(
    bands: Mapping[str, np.ndarray],
    *,
    product_name: str,
    start_time: str,
    band_attrs: Mapping[str, Mapping[str, Any]] | None = None,
    masked: np.ndarray | None = None,
    latitude: np.ndarray | None = None,
    longitude: np.ndarray | None = None,
) -> xr.Dataset:
    """A scene from 2-D band arrays of one shape, in band order.

    Args:
        bands: name -> (rows, columns) array; cast to float32.
        product_name: the scene's unique, stable name.
        start_time: ISO 8601 UTC ("YYYY-MM-DDTHH:MM:SSZ"), or "" when the file has no time.
        band_attrs: name -> attributes (units, long_name...) for that band.
        masked: boolean (rows, columns), True where a pixel may never be valid (land); with
            it, the scene's `cloud` is every other pixel without a value.
        latitude: 2-D latitude of each pixel centre, or None.
        longitude: 2-D longitude of each pixel centre, or None.
    """
    variables: dict[str, xr.Variable] = {}
    valid: np.ndarray | None = None
    for name, values in bands.items():
        data = np.asarray(values, dtype=np.float32)
        variables[name] = xr.Variable(DIMS, data, dict((band_attrs or {}).get(name, {})))
        finite = np.isfinite(data)
        valid = finite if valid is None else valid & finite
    if valid is None:
        raise ValueError(f"{product_name}: a scene needs at least one band")
    if masked is not None:
        masked = np.asarray(masked, dtype=bool)
        valid = valid & ~masked
    variables["valid"] = xr.Variable(
        DIMS, valid, {"long_name": "every band finite and the pixel not masked"}
    )
    if masked is not None:
        variables["cloud"] = xr.Variable(
            DIMS, ~valid & ~masked, {"long_name": "not masked, yet some band has no value"}
        )
    coords = {}
    for name, values, units in (
        ("latitude", latitude, "degrees_north"),
        ("longitude", longitude, "degrees_east"),
    ):
        if values is not None:
            attrs = {"standard_name": name, "units": units}
            coords[name] = xr.Variable(DIMS, np.asarray(values, dtype=np.float32), attrs)
    return xr.Dataset(
        variables, coords=coords, attrs={"product_name": product_name, "start_time": start_time}
    )
