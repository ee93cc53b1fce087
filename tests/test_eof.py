"""The DINEOF-style fill of a gridded series (`components/gridded/eof.py`)."""

from __future__ import annotations

import numpy as np
import pytest

from components.gridded.eof import eof_fill


def low_rank_series(rank: int = 2, days: int = 30, shape=(12, 16), seed: int = 0):
    """A series made of `rank` spatial patterns with random amplitudes in time, plus a little
    noise, and a third of it hidden."""
    rng = np.random.default_rng(seed)
    patterns = rng.normal(size=(rank, *shape))
    amplitudes = rng.normal(size=(days, rank)) * np.arange(rank, 0, -1)
    truth = np.einsum("tr,ryx->tyx", amplitudes, patterns) + 0.01 * rng.normal(size=(days, *shape))
    values = np.where(rng.random(truth.shape) < 0.33, np.nan, truth)
    return truth.astype(np.float32), values.astype(np.float32)


def test_a_low_rank_series_is_recovered_at_its_rank() -> None:
    """Two patterns, and the series' mean (removed as one constant, DINEOF's way) is a third."""
    truth, values = low_rank_series()
    result = eof_fill(values, max_rank=6)
    assert result.rank == 3 and len(result.cv_rmse) == 6
    missing = np.isnan(values)
    error = result.filled[missing] - truth[missing]
    assert np.sqrt(np.mean(error**2)) < 0.05 * truth.std()
    np.testing.assert_array_equal(result.filled[~missing], values[~missing])


def test_bands_are_standardised_apart_and_never_observed_pixels_stay_nan() -> None:
    truth, values = low_rank_series()
    stacked = np.stack([values, 1000.0 * values + 5.0], axis=-1)
    stacked[:, 0, 0] = np.nan  # land: never observed
    result = eof_fill(stacked, max_rank=4)
    assert result.filled.shape == stacked.shape
    assert np.isnan(result.filled[:, 0, 0]).all()
    missing = np.isnan(stacked[..., 0])
    missing[:, 0, 0] = False
    scaled = result.filled[..., 1][missing]
    np.testing.assert_allclose((scaled - 5.0) / 1000.0, truth[missing], atol=0.1 * truth.std())


def test_too_short_or_empty_series_are_refused() -> None:
    with pytest.raises(ValueError, match="2 time steps"):
        eof_fill(np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="nothing is observed"):
        eof_fill(np.full((5, 4, 4), np.nan))
