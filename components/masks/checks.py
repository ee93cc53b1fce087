"""Argument checks shared by the mask modules; each raises ValueError naming the value."""

from __future__ import annotations

import math
import operator

import numpy as np


def check_coverage(coverage: float, name: str = "coverage") -> float:
    """`coverage` as a float, checked to lie in [0, 1]."""
    value = float(coverage)
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise ValueError(f"{name} must be in [0, 1], got {coverage}")
    return value


def check_positive(name: str, value: int) -> int:
    """`value` as an int, checked to be at least 1."""
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if number < 1:
        raise ValueError(f"{name} must be at least 1, got {number}")
    return number


def check_shape(shape: tuple[int, int]) -> tuple[int, int]:
    """`shape` as (rows, columns), checked to be two integers of at least 1."""
    if not isinstance(shape, tuple | list) or len(shape) != 2:
        raise ValueError(f"shape must be (rows, columns), got {shape!r}")
    return check_positive("rows", shape[0]), check_positive("columns", shape[1])


def check_finite(name: str, value: float) -> float:
    """`value` as a float, checked to be finite and not negative."""
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return number


def check_bool_array(name: str, value: object, ndim: int) -> np.ndarray:
    """`value`, checked to be a boolean numpy array of `ndim` dimensions."""
    if not isinstance(value, np.ndarray):
        raise ValueError(f"{name} must be a {ndim}-D boolean array, got {type(value).__name__}")
    if value.ndim != ndim or value.dtype != bool:
        raise ValueError(
            f"{name} must be a {ndim}-D boolean array, got shape {value.shape} and dtype "
            f"{value.dtype}"
        )
    return value
