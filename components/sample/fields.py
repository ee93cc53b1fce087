"""Random spatial structure for sample scenes: power-law noise, resampling and stirring.

Ocean-colour fields are scale-free over a wide range (their spectra fall roughly as a power of
wavenumber) and mesoscale eddies draw them out into fronts and filaments. Here a power-law random
field supplies the multi-scale variance, and a few semi-Lagrangian steps through the velocity
field of random eddies, a jet and a smooth background supply the stirring. The flow is smooth, so
it is integrated on a coarse grid and only the final warp runs at full resolution.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.fft
from scipy import ndimage

# The side, in cells, of the coarse grid that smooth fields (flow, coastal influence) live on.
COARSE_SIDE = 192


def power_law_noise(
    shape: tuple[int, int],
    exponent: float,
    rng: np.random.Generator,
    *,
    outer_scale: float | None = None,
) -> np.ndarray:
    """A Gaussian random field whose isotropic power spectrum falls off as k**-exponent.

    Args:
        shape: (rows, columns) of the field.
        exponent: slope of the power spectrum. Near 2 the field is rough (a 1/f field in 2-D);
            3-4 gives smooth, cloud-like or mesoscale structure.
        rng: the random generator to draw from.
        outer_scale: size in pixels of the largest structures, beyond which the spectrum turns
            flat; the larger side of `shape` when not given.

    Returns:
        float32 array of `shape` with zero mean and unit standard deviation.
    """
    rows, columns = shape
    padded = (scipy.fft.next_fast_len(rows, real=True), scipy.fft.next_fast_len(columns, real=True))
    k_outer = 1.0 / float(outer_scale or max(shape))
    ky = scipy.fft.fftfreq(padded[0]).astype(np.float32)[:, None]
    kx = scipy.fft.rfftfreq(padded[1]).astype(np.float32)[None, :]
    amplitude = (ky * ky + kx * kx + np.float32(k_outer * k_outer)) ** np.float32(-exponent / 4)
    amplitude[0, 0] = 0.0
    spectrum = np.empty(amplitude.shape, dtype=np.complex64)
    spectrum.real = rng.standard_normal(amplitude.shape, dtype=np.float32) * amplitude
    spectrum.imag = rng.standard_normal(amplitude.shape, dtype=np.float32) * amplitude
    del amplitude
    field = np.ascontiguousarray(scipy.fft.irfft2(spectrum, s=padded)[:rows, :columns])
    return standardise(field)


def standardise(field: np.ndarray) -> np.ndarray:
    """`field` shifted and scaled in place to zero mean and unit standard deviation."""
    field -= np.float32(field.mean(dtype=np.float64))
    std = float(field.std(dtype=np.float64))
    if std > 0:
        field /= np.float32(std)
    return field


def top_share(field: np.ndarray, share: float) -> np.ndarray:
    """True on the `share` (0 to 1) of pixels where `field` is highest (ties may add a few)."""
    count = round(share * field.size)
    if count <= 0:
        return np.zeros(field.shape, dtype=bool)
    if count >= field.size:
        return np.ones(field.shape, dtype=bool)
    threshold = np.partition(field.ravel(), field.size - count)[field.size - count]
    return field >= threshold


def coarse_shape(shape: tuple[int, int], side: int = COARSE_SIDE) -> tuple[int, int]:
    """The shape of a grid whose longer side is at most `side` cells and keeps `shape`'s aspect."""
    factor = max(1, math.ceil(max(shape) / side))
    return math.ceil(shape[0] / factor), math.ceil(shape[1] / factor)


def cell_centres(coarse: int, fine: int) -> np.ndarray:
    """Positions, in fine pixels, of the centres of `coarse` cells spanning `fine` pixels."""
    return (np.arange(coarse) + 0.5) * (fine / coarse) - 0.5


def resample(field: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear resampling of a 2-D field onto `shape`, pixel centres aligned (float32 copy)."""
    source = field.astype(np.float32, copy=False)
    result = _resample_axis(_resample_axis(source, shape[0], 0), shape[1], 1)
    return result.copy() if result is source or result is field else result


def _resample_axis(field: np.ndarray, size: int, axis: int) -> np.ndarray:
    length = field.shape[axis]
    if length == size:
        return field
    position = np.clip((np.arange(size) + 0.5) * (length / size) - 0.5, 0, length - 1)
    lower = np.floor(position).astype(np.intp)
    upper = np.minimum(lower + 1, length - 1)
    weight = (position - lower).astype(np.float32)
    if axis == 0:
        weight = weight[:, None]
    below = np.take(field, lower, axis=axis)
    result = np.take(field, upper, axis=axis)
    result -= below
    result *= weight
    result += below
    return result


def block_mean(field: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Mean of `field` over the cells of a coarser grid of `shape` (edge cells padded), float32."""
    factor_rows = math.ceil(field.shape[0] / shape[0])
    factor_columns = math.ceil(field.shape[1] / shape[1])
    pad = (shape[0] * factor_rows - field.shape[0], shape[1] * factor_columns - field.shape[1])
    padded = np.pad(field, ((0, pad[0]), (0, pad[1])), mode="edge")
    blocks = padded.reshape(shape[0], factor_rows, shape[1], factor_columns)
    return blocks.mean(axis=(1, 3), dtype=np.float32)


@dataclass(frozen=True)
class Flow:
    """Where the water at each pixel came from: backward displacements on a coarse grid.

    Attributes:
        shape: (rows, columns) of the full-resolution scene.
        rows: row displacement, in full-resolution pixels, on the coarse grid.
        columns: column displacement, in full-resolution pixels, on the coarse grid.
    """

    shape: tuple[int, int]
    rows: np.ndarray
    columns: np.ndarray


def eddy_streamfunction(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A streamfunction of random eddies, a meandering jet and smooth background flow.

    Eddy radii are 6-20 % of the scene's shorter side, but never more than 100 km (330 pixels at
    300 m), the upper end of mesoscale eddies at mid-latitudes.

    Args:
        shape: (rows, columns) of the full-resolution scene.
        rng: the random generator to draw from.

    Returns:
        float32 streamfunction on the coarse grid of `shape` (see `coarse_shape`), in units of
        full-resolution pixels squared per unit time.
    """
    coarse = coarse_shape(shape)
    rows = cell_centres(coarse[0], shape[0])[:, None]
    columns = cell_centres(coarse[1], shape[1])[None, :]
    side = min(shape)
    radius_range = (max(2.0, 0.06 * side), max(3.0, min(0.2 * side, 330.0)))
    mean_radius = sum(radius_range) / 2
    n_eddies = int(np.clip(shape[0] * shape[1] * 0.1 / (math.pi * mean_radius**2), 2, 60))
    psi = np.zeros(coarse, dtype=np.float64)
    for _ in range(n_eddies):
        radius = rng.uniform(*radius_range)
        centre_row = rng.uniform(-0.1, 1.1) * shape[0]
        centre_column = rng.uniform(-0.1, 1.1) * shape[1]
        strength = rng.choice((-1.0, 1.0)) * radius * rng.uniform(0.5, 1.0)
        distance2 = (rows - centre_row) ** 2 + (columns - centre_column) ** 2
        psi += strength * np.exp(-distance2 / (2 * radius**2))
    if rng.random() < 0.6:
        # A jet (a front between two water masses) meandering across the scene.
        angle = rng.uniform(0, math.pi)
        across = (rows - shape[0] / 2) * math.cos(angle) - (columns - shape[1] / 2) * math.sin(
            angle
        )
        along = (rows - shape[0] / 2) * math.sin(angle) + (columns - shape[1] / 2) * math.cos(angle)
        width = rng.uniform(0.03, 0.08) * side
        meander = 0.1 * side * np.sin(2 * math.pi * along / (rng.uniform(0.3, 0.8) * side))
        offset = rng.uniform(-0.3, 0.3) * side
        psi += rng.uniform(0.5, 1.5) * width * np.tanh((across - offset - meander) / width)
    background = power_law_noise(coarse, 5.0, rng, outer_scale=max(coarse) / 2)
    psi += 0.2 * mean_radius * background
    return psi.astype(np.float32)


def eddy_flow(
    shape: tuple[int, int],
    rng: np.random.Generator,
    *,
    stir_length: float | None = None,
    steps: int = 16,
) -> Flow:
    """Back-trajectories through a random eddy field (see `eddy_streamfunction`).

    Args:
        shape: (rows, columns) of the full-resolution scene.
        rng: the random generator to draw from.
        stir_length: how far, in pixels, the fastest water travels; 15-35 % of the scene's
            shorter side when not given, which turns the strongest eddies a third of a turn or so.
        steps: midpoint (second-order) integration steps.

    Returns:
        The displacement from each coarse cell back to where its water came from.
    """
    psi = eddy_streamfunction(shape, rng).astype(np.float64)
    coarse = psi.shape
    row_centres = cell_centres(coarse[0], shape[0])
    column_centres = cell_centres(coarse[1], shape[1])
    if coarse[0] < 2 or coarse[1] < 2:
        zero = np.zeros(coarse, dtype=np.float32)
        return Flow(shape, zero, zero.copy())
    dpsi_drow, dpsi_dcolumn = np.gradient(psi, row_centres, column_centres)
    velocity_row, velocity_column = dpsi_dcolumn, -dpsi_drow  # divergence-free
    speed = float(np.sqrt(velocity_row**2 + velocity_column**2).max())
    if stir_length is None:
        stir_length = rng.uniform(0.15, 0.35) * min(shape)
    dt = stir_length / (steps * speed) if speed > 0 else 0.0
    scale = (coarse[0] / shape[0], coarse[1] / shape[1])

    def velocity(row: np.ndarray, column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        at = [(row + 0.5) * scale[0] - 0.5, (column + 0.5) * scale[1] - 0.5]
        return (
            ndimage.map_coordinates(velocity_row, at, order=1, mode="nearest"),
            ndimage.map_coordinates(velocity_column, at, order=1, mode="nearest"),
        )

    start_row, start_column = np.meshgrid(row_centres, column_centres, indexing="ij")
    row, column = start_row.copy(), start_column.copy()
    for _ in range(steps):
        v_row, v_column = velocity(row, column)
        v_row, v_column = velocity(row - 0.5 * dt * v_row, column - 0.5 * dt * v_column)
        row -= dt * v_row
        column -= dt * v_column
    return Flow(
        shape, (row - start_row).astype(np.float32), (column - start_column).astype(np.float32)
    )


def advect(fields: Sequence[np.ndarray], flow: Flow) -> list[np.ndarray]:
    """Carry full-resolution fields along `flow` (semi-Lagrangian, bilinear).

    Args:
        fields: 2-D float32 arrays of `flow.shape`.
        flow: the back-trajectories, from `eddy_flow`.

    Returns:
        The advected fields, float32, in the same order.
    """
    for field in fields:
        if field.shape != flow.shape:
            raise ValueError(f"field of shape {field.shape} does not match flow {flow.shape}")
    rows = resample(flow.rows, flow.shape)
    rows += np.arange(flow.shape[0], dtype=np.float32)[:, None]
    columns = resample(flow.columns, flow.shape)
    columns += np.arange(flow.shape[1], dtype=np.float32)[None, :]
    return [
        ndimage.map_coordinates(field, [rows, columns], output=np.float32, order=1, mode="mirror")
        for field in fields
    ]
