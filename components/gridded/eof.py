"""DINEOF: the gaps of a gridded series filled from its empirical orthogonal functions.

Beckers & Rixen (2003), Alvera-Azcárate et al. (2005). The series is a (time, space) matrix of
anomalies (the overall mean removed, DINEOF's way, or each pixel's temporal mean); its missing
entries start at 0 anomaly and are replaced, again and again, by the truncated SVD
reconstruction at rank k, until they settle (the change of the missing entries, as an RMS over
the observations' spread, below `tolerance`, DINEOF's `toliter`). The ranks are tried in turn,
each continuing from the previous one's solution, and each judged by its error on held-out
observations: clouds of other days laid over the clearest days (the cross-validation points of
DINEOF's `dineof_cvp`), so the rank is judged on gaps shaped like the ones to fill. The best
rank then reconstructs the series again with the held-out observations put back.

Days with too little of the water observed (DINEOF's guidance: under 5 %) and pixels observed on
too few days carry almost nothing but noise into the EOFs; they are left out of the basis and
filled afterwards from it, by regularised least squares of their observations on the EOFs (the
amplitudes' prior variance is the basis' own, the noise the cross-validation error). Pixels never
observed (land) stay NaN.

An option filters the temporal covariance matrix with a few steps of diffusion in time before
its EOFs are taken (Alvera-Azcárate et al. 2009, DINEOF's `alpha` and `numit`), which favours
EOFs that change smoothly from day to day.

The SVD is that of the smaller Gram matrix (time x time for a long grid), whose leading
eigenvectors give the same truncation as an SVD of the matrix for a fraction of its cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Centre = Literal["overall", "pixel"]


@dataclass(frozen=True)
class EofFill:
    """What DINEOF made of a series.

    Attributes:
        filled: the series with its gaps filled, observations as they were, NaN where a pixel
            is never observed.
        rank: the number of EOFs chosen by cross-validation.
        cv_rmse: the cross-validation RMSE of every rank tried, in units of the observations'
            spread (each channel standardised).
        iterations: the iterations each rank took to settle (the last entry: the final
            reconstruction).
        basis_days: the time indices whose days made the EOFs.
        basis_pixels: how many pixels made the EOFs.
        error: per channel, the chosen rank's cross-validation RMSE in the values' own units
            (the expected error of a filled value).
    """

    filled: np.ndarray
    rank: int
    cv_rmse: tuple[float, ...]
    iterations: tuple[int, ...]
    basis_days: tuple[int, ...]
    basis_pixels: int
    error: tuple[float, ...] = ()


def _diffuse(matrix: np.ndarray, times: np.ndarray, strength: float, steps: int) -> np.ndarray:
    """`steps` explicit diffusion steps in time along the rows of `matrix` (T on the last
    axis), with no flux through the ends (DINEOF's `dindiff`, for uneven time steps)."""
    edges = np.concatenate([[1.5 * times[0] - 0.5 * times[1]], (times[1:] + times[:-1]) / 2,
                            [1.5 * times[-1] - 0.5 * times[-2]]])  # fmt: skip
    out = matrix.copy()
    for _ in range(steps):
        flux = np.zeros((*out.shape[:-1], out.shape[-1] + 1))
        flux[..., 1:-1] = strength * np.diff(out, axis=-1) / np.diff(times)
        out = out + np.diff(flux, axis=-1) / np.diff(edges)
    return out


@dataclass(frozen=True)
class _Eofs:
    """Truncated SVDs of a (time, space) matrix, optionally of its temporally filtered
    covariance (`strength` 0: none).

    Filtering the covariance C = M M^T on both sides by the diffusion operator D gives
    D M M^T D^T, whose EOFs are the left singular vectors of D M; DINEOF reconstructs from them
    as sum_j v_j s_j u_j^T, with s_j the filtered singular value and u_j = M^T v_j normalised.
    """

    times: np.ndarray
    strength: float
    steps: int

    def leading(self, matrix: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray]:
        """The `rank` leading temporal EOFs (T, rank), orthonormal, and their singular values,
        from the eigenvectors of the smaller Gram matrix."""
        filtered = matrix
        if self.strength:
            filtered = _diffuse(matrix.T, self.times, self.strength, self.steps).T
        if filtered.shape[0] <= filtered.shape[1]:
            variance, eofs = np.linalg.eigh((filtered @ filtered.T).astype(np.float64))
            singular = np.sqrt(np.maximum(variance[::-1][:rank], 0.0))
            return eofs[:, ::-1][:, :rank].astype(matrix.dtype), singular
        variance, spatial = np.linalg.eigh((filtered.T @ filtered).astype(np.float64))
        singular = np.sqrt(np.maximum(variance[::-1][:rank], 0.0))
        eofs = filtered @ spatial[:, ::-1][:, :rank].astype(matrix.dtype)
        return eofs / np.maximum(singular, np.finfo(np.float32).tiny).astype(matrix.dtype), singular

    def reconstruct(self, matrix: np.ndarray, rank: int) -> np.ndarray:
        """The rank-`rank` reconstruction of `matrix`."""
        eofs, singular = self.leading(matrix, rank)
        spatial = eofs.T @ matrix
        if self.strength:
            norm = np.maximum(np.linalg.norm(spatial, axis=1), np.finfo(np.float32).tiny)
            spatial *= (singular / norm).astype(matrix.dtype)[:, np.newaxis]
        return eofs @ spatial


def _settle(matrix: np.ndarray, missing: np.ndarray, rank: int, eofs: _Eofs, tolerance: float,
            iterations: int) -> int:  # fmt: skip
    """Replace the `missing` entries of `matrix` (in place) by its rank-`rank` reconstruction
    until they move less than `tolerance` (RMS, the observations' spread being 1); the number
    of iterations taken."""
    where = missing.astype(matrix.dtype)
    count = max(int(missing.sum()), 1)
    for done in range(1, iterations + 1):
        change = eofs.reconstruct(matrix, rank)
        change -= matrix
        change *= where
        matrix += change
        if np.sqrt(np.vdot(change, change) / count) < tolerance:
            return done
    return iterations


def _cloud_holdout(known: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Held-out observations shaped like real gaps: the clearest days in turn, each under the
    gaps of a random other day, until `share` of the observations are held out (T, N) bool."""
    held = np.zeros_like(known)
    wanted = share * known.sum()
    for day in np.argsort(-known.sum(axis=1), kind="stable"):
        if held.sum() >= wanted:
            break
        others = np.delete(np.arange(len(known)), day)
        held[day] = known[day] & ~known[rng.choice(others)]
    return held


def _regress(basis: np.ndarray, prior: np.ndarray, noise: float, values: np.ndarray,
             known: np.ndarray) -> np.ndarray:  # fmt: skip
    """Coefficients on `basis` (K, M) of each row of `values` (R, M) from its `known` entries,
    by least squares with a Gaussian prior of variance `prior` (K,) and noise variance `noise`:
    (R, K); a row with nothing known gets 0."""
    out = np.zeros((len(values), len(basis)))
    for row, (seen, have) in enumerate(zip(values, known, strict=True)):
        if have.any():
            design = basis[:, have]
            normal = design @ design.T + np.diag(noise / prior)
            out[row] = np.linalg.solve(normal, design @ seen[have])
    return out


def eof_fill(
    values: np.ndarray,
    *,
    max_rank: int = 40,
    centre: Centre = "overall",
    min_day_coverage: float = 0.05,
    min_pixel_days: int = 3,
    holdout: float = 0.03,
    tolerance: float = 1e-3,
    iterations: int = 300,
    filter_strength: float = 0.0,
    filter_steps: int = 3,
    times: np.ndarray | None = None,
    seed: int = 0,
) -> EofFill:
    """Fill the NaN entries of a series by DINEOF (see the module docstring).

    Args:
        values: (T, ...) the series, NaN where unobserved (in the space to fill in: log10 for
            chlorophyll). Each channel (the last axis when `values` has four) is standardised
            on its own, as DINEOF's multivariate mode does.
        max_rank: the most EOFs tried (DINEOF's `nev`); the ranks stop early after three
            rising cross-validation errors in a row, as DINEOF's do.
        centre: the mean removed before the EOFs: "overall", one per channel (DINEOF's), or
            "pixel", each pixel's temporal mean.
        min_day_coverage: days with less than this share of the ever-observed pixels observed
            are left out of the EOF basis and filled from it afterwards.
        min_pixel_days: pixels observed on fewer of the basis days are likewise left out.
        holdout: the share of the basis observations held out, as other days' clouds, to choose
            the rank.
        tolerance: a rank has settled when its missing entries move less than this (RMS in
            units of the observations' spread; DINEOF's `toliter`).
        iterations: the most iterations per rank (DINEOF's `nitemax`).
        filter_strength: the temporal covariance filter's strength in days squared (DINEOF's
            `alpha`, at most half the shortest time step squared; 0: no filter).
        filter_steps: its number of diffusion steps (DINEOF's `numit`).
        times: (T,) the days' times in days, for the filter (default: 0, 1, 2, ...).
        seed: seeds the choice of the held-out clouds.

    Raises:
        ValueError: fewer than three days or pixels in the basis, nothing observed, or a filter
            strength the diffusion cannot take.
    """
    values = np.asarray(values, np.float64)
    days = values.shape[0]
    if days < 3:
        raise ValueError(f"a series of {days} time steps has no EOFs to speak of")
    channels = values.reshape(days, -1, values.shape[-1] if values.ndim == 4 else 1)
    observed = np.isfinite(channels)
    if not observed.any():
        raise ValueError("nothing is observed")
    times = np.arange(days, dtype=np.float64) if times is None else np.asarray(times, float)
    if filter_strength > np.min(np.diff(times)) ** 2 / 2:
        raise ValueError(f"filter_strength {filter_strength} exceeds half the shortest time step "
                         "squared: the diffusion would be unstable")  # fmt: skip

    counts = observed.sum(axis=0, keepdims=True)
    sums = np.where(observed, channels, 0.0).sum(axis=0, keepdims=True)
    if centre == "overall":
        counts, sums = counts.sum(axis=1, keepdims=True), sums.sum(axis=1, keepdims=True)
    mean = sums / np.maximum(counts, 1)
    anomaly = channels - mean
    spread = np.array([np.nanstd(anomaly[..., c]) or 1.0 for c in range(channels.shape[-1])])
    matrix = (anomaly / spread).reshape(days, -1)
    known = observed.reshape(days, -1)
    seen = known.any(axis=0)
    coverage = known[:, seen].mean(axis=1)
    rows = coverage >= min_day_coverage
    cols = seen & (known[rows].sum(axis=0) >= min_pixel_days)
    if rows.sum() < 3 or cols.sum() < 3:
        raise ValueError(f"{rows.sum()} days and {cols.sum()} pixels are observed enough to "
                         "make EOFs of; at least three of each are needed")  # fmt: skip

    # The iterations work in float32: half the memory traffic, and the data's own precision.
    core = matrix[np.ix_(rows, cols)].astype(np.float32)
    core_known = known[np.ix_(rows, cols)]
    modes = _Eofs(times[rows], filter_strength, filter_steps)
    max_rank = max(1, min(max_rank, core.shape[0] - 1, core.shape[1] - 1))
    held = _cloud_holdout(core_known, holdout, np.random.default_rng(seed))
    trial = np.where(core_known & ~held, core, np.float32(0.0))
    cv, taken, best = [], [], trial
    for rank in range(1, max_rank + 1):
        taken.append(_settle(trial, ~core_known | held, rank, modes, tolerance, iterations))
        cv.append(float(np.sqrt(np.mean((trial[held] - core[held]) ** 2))))
        if cv[-1] <= min(cv):
            best = trial.copy()
        if rank > 3 and cv[-1] > cv[-2] > cv[-3] > cv[-4]:
            break
    chosen = int(np.argmin(cv)) + 1
    current = np.where(core_known, core, best)
    taken.append(_settle(current, ~core_known, chosen, modes, tolerance, iterations))

    # Off the basis: a day's amplitudes, and a pixel's loadings, by regularised least squares,
    # with the prior variances the basis' own (orthonormal temporal EOFs: 1 / days per EOF).
    eofs, _ = modes.leading(current, chosen)
    loadings = eofs.T @ current
    noise = min(cv) ** 2
    day_prior = np.full(chosen, 1 / rows.sum())
    pixel_prior = np.mean(loadings**2, axis=1)
    others, loose = ~rows, seen & ~cols
    amplitudes = np.zeros((days, chosen))
    amplitudes[rows] = eofs
    sparse_days = matrix[np.ix_(others, cols)], known[np.ix_(others, cols)]
    amplitudes[others] = _regress(loadings, day_prior, noise, *sparse_days)
    reconstructed = np.full(matrix.shape, np.nan)
    reconstructed[:, cols] = amplitudes @ loadings
    reconstructed[np.ix_(rows, cols)] = current
    sparse_pixels = matrix[:, loose].T, known[:, loose].T
    loadings_off = _regress(amplitudes.T, pixel_prior, noise, *sparse_pixels)
    reconstructed[:, loose] = amplitudes @ loadings_off.T

    full = reconstructed.reshape(channels.shape) * spread + mean
    filled = np.where(np.isfinite(values), values, full.reshape(values.shape))
    return EofFill(filled=filled.astype(np.float32), rank=chosen, cv_rmse=tuple(cv),
                   iterations=tuple(taken), basis_days=tuple(int(d) for d in np.nonzero(rows)[0]),
                   basis_pixels=int(cols.sum()),
                   error=tuple(float(min(cv) * s) for s in spread))  # fmt: skip
