"""Scene times: decoded time values and time text to ISO 8601 UTC and to product-name stamps."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import numpy as np

ISO = "%Y-%m-%dT%H:%M:%SZ"
STAMP = "%Y%m%dT%H%M%S"
TIFF_DATETIME = "%Y:%m:%d %H:%M:%S"


def as_datetime(value: Any) -> Any:
    """A decoded time (numpy datetime64, cftime or datetime) as an object with `strftime`.

    Raises:
        TypeError: `value` is not a point in time (e.g. a number xarray could not decode).
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise TypeError("time is NaT (a fill value)")
        return value.astype("datetime64[us]").item()
    if hasattr(value, "strftime") and hasattr(value, "calendar"):  # cftime.datetime
        return value
    if isinstance(value, dt.datetime):
        return utc(value)
    raise TypeError(f"{value!r} is not a date and time")


def utc(moment: dt.datetime) -> dt.datetime:
    """`moment` in UTC; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def parse_text(text: str) -> dt.datetime:
    """An ISO 8601 text (any offset; none means UTC) or a TIFF "YYYY:MM:DD HH:MM:SS" as UTC.

    Raises:
        ValueError: the text is neither.
    """
    text = text.strip()
    with contextlib.suppress(ValueError):
        return dt.datetime.strptime(text, TIFF_DATETIME)
    try:
        return utc(dt.datetime.fromisoformat(text))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date and time") from None
