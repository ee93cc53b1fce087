"""DINEOF (`components/gridded/eof.py`) on series of known low-rank structure plus noise."""

from __future__ import annotations

import numpy as np
import pytest

from components.gridded.eof import _cloud_holdout, _diffuse, eof_fill
from components.gridded.eof_blend import BlendWeight, blend

NOISE = 0.02


def low_rank_series(rank: int = 3, days: int = 40, shape=(20, 24), seed: int = 0,
                    smooth: bool = False):  # fmt: skip
    """`rank` spatial patterns (zero mean in space) with amplitudes of zero mean in time around
    an offset, so the anomaly is of rank `rank` exactly, plus noise; (truth, values) with a third
    of each day hidden in blocks (cloud-like), one day almost all hidden, one pixel seen twice
    and one (land) never. The amplitudes are random from day to day, or with `smooth` slow
    oscillations (periods of 12 days and more)."""
    rng = np.random.default_rng(seed)
    patterns = rng.normal(size=(rank, *shape))
    patterns -= patterns.mean(axis=(1, 2), keepdims=True)
    if smooth:
        periods, phases = rng.uniform(12, 40, rank), rng.uniform(0, 2 * np.pi, rank)
        waves = np.sin(2 * np.pi * np.arange(days)[:, np.newaxis] / periods + phases)
        amplitudes = waves * np.arange(rank, 0, -1)
    else:
        amplitudes = rng.normal(size=(days, rank)) * np.arange(rank, 0, -1)
    amplitudes -= amplitudes.mean(axis=0)
    truth = 1.5 + np.einsum("tr,ryx->tyx", amplitudes, patterns) / 4
    truth += NOISE * rng.normal(size=truth.shape)
    hidden = np.zeros(truth.shape, bool)
    for day in range(days):
        row, col = rng.integers(0, shape[0] - 8), rng.integers(0, shape[1] - 12)
        hidden[day, row : row + 10, col : col + 14] = True
    hidden[5] = rng.random(shape) > 0.03  # about 3 % seen: left out of the basis
    hidden[:, 0, 1] = True
    hidden[[7, 30], 0, 1] = False  # seen on two days: left out of the basis
    hidden[:, 0, 0] = True  # land
    values = np.where(hidden, np.nan, truth)
    return truth.astype(np.float32), values.astype(np.float32)


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


def test_a_low_rank_series_is_recovered_at_its_rank_to_the_noise() -> None:
    truth, values = low_rank_series()
    result = eof_fill(values, max_rank=8)
    # Three EOFs take the held-out error down to the noise; more only fit the noise.
    cv = result.cv_rmse
    assert cv[2] < 0.2 * cv[1] and cv[2] < 1.15 * min(cv) and result.rank in (3, 4)
    assert 5 not in result.basis_days and len(result.basis_days) == 39
    assert result.basis_pixels == 20 * 24 - 2
    missing = np.isnan(values)
    missing[:, 0, 0] = False
    # The gaps come back to about the noise (the truth's spread is about 0.5).
    assert rmse(result.filled[missing], truth[missing]) < 2 * NOISE
    np.testing.assert_array_equal(result.filled[~np.isnan(values)], values[~np.isnan(values)])
    assert np.isnan(result.filled[:, 0, 0]).all()


def test_days_and_pixels_off_the_basis_are_filled_from_it() -> None:
    truth, values = low_rank_series()
    result = eof_fill(values, max_rank=8)
    sparse_day = np.isnan(values[5])
    sparse_day[0, 0] = False
    assert rmse(result.filled[5][sparse_day], truth[5][sparse_day]) < 4 * NOISE
    assert rmse(result.filled[:, 0, 1], truth[:, 0, 1]) < 0.1 * truth.std()


def test_the_gaps_are_a_fixed_point_of_the_truncated_reconstruction() -> None:
    """DINEOF's defining property: the filled anomaly, truncated to its leading EOFs, gives the
    filled values back (up to the stopping tolerance), and at no other rank."""
    _, values = low_rank_series()
    result = eof_fill(values, max_rank=4, tolerance=1e-4)
    basis = np.array(result.basis_days)
    block = np.delete(result.filled[basis].reshape(len(basis), -1), [0, 1], axis=1)
    missing = np.isnan(np.delete(values[basis].reshape(len(basis), -1), [0, 1], axis=1))
    anomaly = block.astype(np.float64) - np.nanmean(values)
    u, s, vt = np.linalg.svd(anomaly, full_matrices=False)
    residual = []
    for rank in (result.rank - 1, result.rank, result.rank + 1):
        truncated = (u[:, :rank] * s[:rank]) @ vt[:rank]
        residual.append(rmse(truncated[missing], anomaly[missing]))
    assert residual[1] < 1e-3 < min(residual[0], residual[2])


def test_the_temporal_filter_and_the_pixel_mean_fill_too() -> None:
    truth, values = low_rank_series(smooth=True)
    missing = np.isnan(values)
    missing[:, 0, 0] = False
    plain = eof_fill(values, max_rank=6)
    filtered = eof_fill(values, max_rank=6, filter_strength=0.2, filter_steps=3)
    assert rmse(filtered.filled[missing], truth[missing]) < 0.25 * truth.std()
    assert not np.allclose(filtered.filled, plain.filled, atol=1e-4, equal_nan=True)
    # A pixel's mean over its observed days is biased by the days it missed, so the anomaly is
    # no longer of rank 3 and its fill is rougher, though far better than no fill.
    truth, values = low_rank_series()
    pixel = eof_fill(values, max_rank=8, centre="pixel")
    assert rmse(pixel.filled[missing], truth[missing]) < 0.15 * truth.std()


def test_the_diffusion_smooths_and_conserves_over_uneven_times() -> None:
    times = np.array([0.0, 1.0, 2.0, 4.0, 5.0, 7.0])
    cell = np.diff(np.concatenate([[-0.5], (times[1:] + times[:-1]) / 2, [8.0]]))
    spike = np.zeros((2, 6))
    spike[:, 2] = 1.0
    smoothed = _diffuse(spike, times, 0.3, 5)
    np.testing.assert_allclose((smoothed * cell).sum(axis=1), (spike * cell).sum(axis=1))
    assert smoothed[0, 2] < 0.7 and (smoothed[0, [1, 3]] > 0.1).all()
    np.testing.assert_allclose(_diffuse(np.ones((1, 6)), times, 0.3, 5), 1.0)


def test_held_out_observations_are_other_days_gaps_over_the_clearest_days() -> None:
    rng = np.random.default_rng(1)
    known = rng.random((30, 200)) < rng.random((30, 1))
    held = _cloud_holdout(known, 0.05, rng)
    assert not (held & ~known).any()
    assert held.sum() >= 0.05 * known.sum()
    clearest = np.argsort(-known.sum(axis=1), kind="stable")
    used = np.nonzero(held.any(axis=1))[0]
    assert set(used) <= set(clearest[: len(used) + 1])
    for day in used:
        others = [known[day] & ~known[o] for o in range(30) if o != day]
        assert any(np.array_equal(held[day], gaps) for gaps in others)


def test_bands_are_standardised_apart() -> None:
    truth, values = low_rank_series()
    stacked = np.stack([values, 1000.0 * values + 5.0], axis=-1)
    result = eof_fill(stacked, max_rank=8)
    assert result.filled.shape == stacked.shape
    missing = np.isnan(values)
    missing[:, 0, 0] = False
    scaled = (result.filled[..., 1][missing] - 5.0) / 1000.0
    assert rmse(scaled, truth[missing]) < 3 * NOISE


def test_unusable_series_and_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="2 time steps"):
        eof_fill(np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="nothing is observed"):
        eof_fill(np.full((5, 4, 4), np.nan))
    sparse = np.full((10, 20, 20), np.nan)
    sparse[:, 0, 0] = 1.0
    with pytest.raises(ValueError, match="0 days"):
        eof_fill(sparse)
    with pytest.raises(ValueError, match="unstable"):
        eof_fill(np.zeros((5, 4, 4)), filter_strength=0.6)


def test_the_blend_weight_is_the_models_mean_variance_against_the_eof_error() -> None:
    weight = BlendWeight(1)
    # Two scenes; a pixel the EOFs do not fill does not count.
    weight.add(np.ones((2, 1)), np.array([[0.1], [0.3]]), np.array([[2.0], [np.nan]]), ("none",))
    weight.add(np.ones((1, 1)), np.array([[0.2]]), np.array([[2.0]]), ("none",))
    expected = 0.01 / ((0.01 + 0.04) / 2 + 0.01)
    np.testing.assert_allclose(weight.weight(np.array([0.1])), [expected])


def test_blend_is_the_weighted_mean_and_keeps_the_model_where_the_eofs_have_nothing() -> None:
    model = np.array([[1.0], [1.0], [1.0]])
    sigma = np.array([[0.1], [0.2], [0.1]])
    eof = np.array([[2.0], [2.0], [np.nan]])
    values, spread = blend(model, sigma, eof, np.array([0.1]), ("none",), np.array([0.25]))
    np.testing.assert_allclose(values[:, 0], [1.75, 1.75, 1.0], rtol=1e-6)
    expected = np.sqrt(0.25**2 * np.array([0.01, 0.04]) + 0.75**2 * 0.01)
    np.testing.assert_allclose(spread[:, 0], [*expected, 0.1], rtol=1e-5)


def test_blend_works_in_log10_for_a_log10_band() -> None:
    """A log10 band is blended in log10: the model's σ converted as the export converts it."""
    model, eof = np.array([[1.0, 1.0]]), np.array([[2.0, 2.0]])  # log10 10^2 = 100
    sigma = np.array([[np.log(10.0) * 0.1, 0.1]])  # 0.1 in log10 units for the first band
    weight = BlendWeight(2)
    weight.add(model, sigma, eof, ("log10", "none"))
    np.testing.assert_allclose(weight.weight(np.array([0.1, 0.1])), [0.5, 0.5])
    values, spread = blend(model, sigma, eof, np.array([0.1, 0.1]), ("log10", "none"),
                           np.array([0.5, 0.5]))  # fmt: skip
    np.testing.assert_allclose(values[0], [10.0**1.0, 1.5], rtol=1e-5)
    np.testing.assert_allclose(spread[0, 0], np.log(10.0) * 10.0 * 0.1 / np.sqrt(2), rtol=1e-5)
