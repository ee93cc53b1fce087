"""A DINEOF-style fill of a gridded series: iterative truncated-SVD reconstruction in time.

Beckers & Rixen (2003), Alvera-Azcárate et al. (2005): the series is a (time, space) matrix;
its missing entries start at the mean and are replaced, again and again, by a reconstruction
from the leading empirical orthogonal functions, until they settle. The number of EOFs is
chosen by cross-validation: a share of the observed entries is set aside, every rank is
judged by its error on them, and the best rank reconstructs the series with all its
observations. The benchmark's temporal baseline (`benchmarks/quality.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EofFill:
    """The filled series (the observations kept as they are), the number of EOFs chosen, and
    the cross-validation RMSE of every rank tried (standardised units)."""

    filled: np.ndarray
    rank: int
    cv_rmse: tuple[float, ...]


def _reconstruct(
    matrix: np.ndarray, known: np.ndarray, max_rank: int, iterations: int, tolerance: float
) -> list[np.ndarray]:
    """The reconstruction at every rank 1..max_rank, each continuing from the previous one."""
    current = np.where(known, matrix, 0.0)
    results = []
    for rank in range(1, max_rank + 1):
        for _ in range(iterations):
            # The leading left singular vectors from the (time x time) Gram matrix: the same
            # truncation as an SVD, about 30 times faster when space is much longer than time.
            _, vectors = np.linalg.eigh(current @ current.T)
            leading = vectors[:, -rank:]
            approx = leading @ (leading.T @ current)
            change = np.sqrt(np.mean((approx[~known] - current[~known]) ** 2))
            current = np.where(known, matrix, approx)
            if change < tolerance:
                break
        results.append(approx)
    return results


def eof_fill(
    values: np.ndarray,
    *,
    max_rank: int = 20,
    holdout: float = 0.03,
    iterations: int = 100,
    tolerance: float = 1e-4,
    seed: int = 0,
) -> EofFill:
    """Fill the NaN entries of a series by DINEOF (see the module docstring).

    Args:
        values: (T, ...) the series, NaN where unobserved; pixels never observed (land) stay
            NaN. Each trailing channel (the last axis when `values` has four) is standardised
            on its own.
        max_rank: the most EOFs tried (at most T - 1).
        holdout: the share of the observed entries set aside for choosing the rank.
        iterations: the most SVD iterations per rank.
        tolerance: stop a rank's iterations when the missing entries move less than this
            (RMSE, standardised units).
        seed: seeds the choice of the held-out entries.

    Raises:
        ValueError: fewer than three time steps, or nothing observed.
    """
    values = np.asarray(values, np.float64)
    if values.shape[0] < 3:
        raise ValueError(f"a series of {values.shape[0]} time steps has no EOFs to speak of")
    channels = values.reshape(values.shape[0], -1, values.shape[-1] if values.ndim == 4 else 1)
    observed = np.isfinite(channels)
    if not observed.any():
        raise ValueError("nothing is observed")
    mean = np.array([np.nanmean(channels[..., c]) for c in range(channels.shape[-1])])
    spread = np.array([np.nanstd(channels[..., c]) or 1.0 for c in range(channels.shape[-1])])
    matrix = ((channels - mean) / spread).reshape(values.shape[0], -1)
    known = observed.reshape(values.shape[0], -1)
    seen = known.any(axis=0)  # columns never observed carry no information
    matrix, known = np.nan_to_num(matrix[:, seen]), known[:, seen]
    max_rank = max(1, min(max_rank, matrix.shape[0] - 1))

    rng = np.random.default_rng(seed)
    rows, cols = np.nonzero(known)
    chosen = rng.random(rows.size) < holdout
    trial = known.copy()
    trial[rows[chosen], cols[chosen]] = False
    truth = matrix[rows[chosen], cols[chosen]]
    cv = [
        float(np.sqrt(np.mean((approx[rows[chosen], cols[chosen]] - truth) ** 2)))
        for approx in _reconstruct(matrix, trial, max_rank, iterations, tolerance)
    ]
    rank = int(np.argmin(cv)) + 1
    approx = _reconstruct(matrix, known, rank, iterations, tolerance)[-1]

    full = np.full((values.shape[0], seen.size), np.nan)
    full[:, seen] = approx
    reconstructed = (full.reshape(channels.shape) * spread + mean).reshape(values.shape)
    filled = np.where(np.isfinite(values), values, reconstructed)
    return EofFill(filled=filled.astype(np.float32), rank=rank, cv_rmse=tuple(cv))
