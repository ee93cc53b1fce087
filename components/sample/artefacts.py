"""What the sensor and the ground processor add to the water signal of a sample scene.

Sun glint in a strip along the track, thin-cloud brightening, sensor noise and a spatially
correlated atmospheric-correction residual (which drives dark red and near-infrared water
slightly negative, as in real L2 products), sparse invalid pixels and dropped line segments, and
small patches where the atmospheric correction failed.
"""

from __future__ import annotations

import math

import numpy as np

from components.sample.fields import coarse_shape, power_law_noise, resample
from components.sample.geometry import SWATH_COLUMNS

# Sun-glint reflectance above which MEGLINT (corrected) and HIGHGLINT (not correctable) are set.
GLINT_MEDIUM = 0.005
GLINT_HIGH = 0.03
# Share of the glint left in the reflectance after correction, and the extra share of the glint
# above GLINT_HIGH, which the correction cannot handle.
GLINT_RESIDUAL = 0.05
GLINT_RESIDUAL_EXCESS = 0.25


def solar_declination(day_of_year: int) -> float:
    """Approximate solar declination in degrees (sine fit, within about 1 degree)."""
    return 23.44 * math.sin(2 * math.pi * (day_of_year - 80) / 365.25)


def sun_glint(
    shape: tuple[int, int],
    rng: np.random.Generator,
    *,
    latitude: float,
    day_of_year: int,
    first_column: int,
) -> np.ndarray:
    """Sun-glint reflectance (before correction) over the scene; zero in most scenes.

    OLCI's camera tilt keeps the specular point in the eastern part of the swath, so glint is a
    strip along the track there, likelier and stronger where the sun is high (the scene's
    latitude near the subsolar latitude), and modulated by the wind's roughening of the sea.

    Args:
        shape: (rows, columns) of the scene.
        rng: the random generator to draw from.
        latitude: the scene's latitude, degrees north.
        day_of_year: 1 to 366.
        first_column: the swath column of the scene's column 0.

    Returns:
        float32 glint reflectance of `shape`.
    """
    likelihood = max(0.0, 1.0 - abs(latitude - solar_declination(day_of_year)) / 35.0)
    if rng.random() >= 0.8 * likelihood:
        return np.zeros(shape, dtype=np.float32)
    centre = rng.uniform(0.6, 0.85) * SWATH_COLUMNS
    width = rng.uniform(250.0, 500.0)
    peak = rng.uniform(0.01, 0.1) * likelihood
    columns = np.arange(first_column, first_column + shape[1], dtype=np.float64)
    profile = (peak * np.exp(-0.5 * ((columns - centre) / width) ** 2)).astype(np.float32)
    wind = power_law_noise(coarse_shape(shape), 3.5, rng)
    roughness = resample(np.float32(1.0) + np.float32(0.3) * np.tanh(wind), shape)
    roughness *= profile[None, :]
    return roughness


def glint_residual(glint: np.ndarray) -> np.ndarray:
    """Glint left in ρw after correction: a small share, growing fast above GLINT_HIGH."""
    residual = np.maximum(glint - np.float32(GLINT_HIGH), np.float32(0.0))
    residual *= np.float32(GLINT_RESIDUAL_EXCESS)
    residual += np.float32(GLINT_RESIDUAL) * glint
    return residual


def thin_cloud_spectrum(wavelengths_nm: tuple[float, ...], exponent: float) -> np.ndarray:
    """Spectral shape of thin-cloud and haze brightening, 1 at 560 nm: (λ/560)^-exponent.

    Exponents near 0 are white cloud, near 1 bluish haze; either flattens the water spectrum.
    """
    return (np.asarray(wavelengths_nm) / 560.0) ** -exponent


def noise_sigma(wavelength_nm: float) -> float:
    """Standard deviation of pixel noise in ρw at a band: 5e-4 in the blue, 3e-4 in the NIR."""
    return 0.0003 * (wavelength_nm / 560.0) ** -1.0 + 0.0001


def correction_residual_amplitude(wavelength_nm: float) -> float:
    """Standard deviation in ρw of the atmospheric-correction residual: 3e-4 at 865 nm.

    It follows an aerosol-like spectral slope (Angstrom exponent 1), so it is largest in the blue.
    """
    return 0.0003 * (wavelength_nm / 865.0) ** -1.0


def correction_residual(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Spatial pattern (zero mean, unit variance) of the atmospheric-correction residual.

    Aerosol errors vary smoothly over tens of kilometres, hence a steep spectrum.
    """
    return power_law_noise(shape, 3.5, rng, outer_scale=min(shape) / 2)


def invalid_pixels(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Sparse invalid pixels (up to 2 in 10 000) and, in a quarter of scenes, a dropped line."""
    invalid = np.zeros(shape, dtype=bool)
    size = shape[0] * shape[1]
    count = int(rng.binomial(size, rng.uniform(0.0, 2e-4)))
    invalid.ravel()[rng.integers(0, size, count)] = True
    if rng.random() < 0.25:
        row = int(rng.integers(shape[0]))
        length = max(1, int(rng.uniform(0.05, 0.4) * shape[1]))
        start = int(rng.integers(0, shape[1] - length + 1))
        rows = int(rng.integers(1, 3))
        invalid[row : row + rows, start : start + length] = True
    return invalid


def correction_failures(water: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Small patches (1-4 px radius) of failed atmospheric correction, about one per 200 000 px."""
    failed = np.zeros(water.shape, dtype=bool)
    rows, columns = water.shape
    for _ in range(min(int(rng.poisson(water.size / 200_000)), 500)):
        radius = rng.uniform(1.0, 4.0)
        centre = (rng.uniform(0, rows), rng.uniform(0, columns))
        top, left = max(0, int(centre[0] - radius)), max(0, int(centre[1] - radius))
        bottom = min(rows, int(centre[0] + radius) + 1)
        right = min(columns, int(centre[1] + radius) + 1)
        window_rows = np.arange(top, bottom)[:, None] + 0.5 - centre[0]
        window_columns = np.arange(left, right)[None, :] + 0.5 - centre[1]
        failed[top:bottom, left:right] |= window_rows**2 + window_columns**2 <= radius**2
    return failed & water
