"""Metrics (against scikit-image and hand-worked values) and the classical baseline fills."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.ndimage import binary_dilation
from skimage.metrics import structural_similarity

from components.evaluator.baselines import BASELINES, biharmonic_fill, mean_fill
from components.evaluator.blessing import Decision
from components.evaluator.metrics import Tally, calibration, gap_ssim, score, ssim, ssim_map


def random_pair(rng: np.random.Generator, shape=(32, 40, 3)) -> tuple[np.ndarray, np.ndarray]:
    truth = rng.uniform(0.0, 1.0, shape)
    return truth, truth + rng.normal(0.0, 0.2, shape)


def structured_pair(rng: np.random.Generator, shape=(32, 40, 3)) -> tuple[np.ndarray, np.ndarray]:
    """Smooth waves, a step and a flat patch per band, and a noisy, shifted copy."""
    y, x = np.mgrid[: shape[0], : shape[1]]
    bands = [np.sin(x / (3 + b)) * np.cos(y / 5) + (x > shape[1] // 2) for b in range(shape[2])]
    truth = np.stack(bands, axis=-1)
    truth[:8, :8] = 0.5
    pred = np.roll(truth, 1, axis=1) + rng.normal(0.0, 0.05, shape)
    return truth, pred


def blob(shape: tuple[int, int], fraction: float) -> np.ndarray:
    """A disk in the middle of `shape` covering about `fraction` of it."""
    y, x = np.mgrid[: shape[0], : shape[1]]
    radius = math.sqrt(fraction * shape[0] * shape[1] / math.pi)
    return (y - shape[0] / 2 + 0.5) ** 2 + (x - shape[1] / 2 + 0.5) ** 2 < radius**2


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


@pytest.mark.parametrize("make_pair", [random_pair, structured_pair])
def test_ssim_matches_skimage_with_one_data_range(rng, make_pair):
    truth, pred = make_pair(rng)
    expected, full = structural_similarity(truth, pred, data_range=2.0, channel_axis=-1, full=True)
    data_range = np.full(3, 2.0)
    np.testing.assert_allclose(ssim_map(truth, pred, data_range), full.mean(axis=-1), atol=1e-12)
    assert ssim(truth, pred, data_range) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("make_pair", [random_pair, structured_pair])
def test_ssim_averages_bands_with_their_own_data_range(rng, make_pair):
    truth, pred = make_pair(rng)
    data_range = np.array([1.0, 2.5, 4.0])
    per_band = [
        structural_similarity(truth[..., b], pred[..., b], data_range=data_range[b], full=True)
        for b in range(3)
    ]
    expected_map = np.mean([full for _, full in per_band], axis=0)
    np.testing.assert_allclose(ssim_map(truth, pred, data_range), expected_map, atol=1e-12)
    expected = np.mean([mssim for mssim, _ in per_band])
    assert ssim(truth, pred, data_range) == pytest.approx(expected, abs=1e-12)


def test_ssim_with_another_window(rng):
    truth, pred = structured_pair(rng)
    expected = structural_similarity(truth, pred, win_size=5, data_range=2.0, channel_axis=-1)
    assert ssim(truth, pred, np.full(3, 2.0), win_size=5) == pytest.approx(expected, abs=1e-12)


def test_gap_ssim_averages_skimage_map_over_the_gap(rng):
    truth, pred = structured_pair(rng)
    gap = blob(truth.shape[:2], 0.3)
    _, full = structural_similarity(truth, pred, data_range=2.0, channel_axis=-1, full=True)
    expected = full.mean(axis=-1)[gap].mean()
    assert gap_ssim(truth, pred, np.full(3, 2.0), gap) == pytest.approx(expected, abs=1e-12)
    assert math.isnan(gap_ssim(truth, pred, np.full(3, 2.0), np.zeros_like(gap)))


@pytest.mark.parametrize("win_size", [1, 4, 41])
def test_ssim_rejects_bad_windows(rng, win_size):
    truth, pred = random_pair(rng)
    with pytest.raises(ValueError, match="win_size"):
        ssim_map(truth, pred, np.ones(3), win_size=win_size)


def test_ssim_rejects_bad_data_range(rng):
    truth, pred = random_pair(rng)
    with pytest.raises(ValueError, match="data_range"):
        ssim_map(truth, pred, np.ones(2))
    with pytest.raises(ValueError, match="data_range"):
        ssim_map(truth, pred, np.array([1.0, 0.0, 1.0]))


def hand_worked_example() -> tuple[np.ndarray, ...]:
    """A 2x2x2 block of scored pixels inside an 8x8 tile whose other pixels are invalid junk.

    Pixels (row-major): 0 and 1 are gap, 2 and 3 observed. Errors (pred - truth):
    gap (-1, 1) and (1, 1), angles 90 and 0 degrees; observed (0, 0) and (0.4, 0).
    """
    truth = np.full((8, 8, 2), 1e6)
    pred = np.full((8, 8, 2), -1e6)
    truth[:2, :2] = [[[1.0, 0.0], [1.0, 1.0]], [[0.5, 0.5], [0.2, 0.4]]]
    pred[:2, :2] = [[[0.0, 1.0], [2.0, 2.0]], [[0.5, 0.5], [0.6, 0.4]]]
    valid = np.zeros((8, 8), bool)
    valid[:2, :2] = True
    gap = np.zeros((8, 8), bool)
    gap[0] = True  # the invalid rest of the row is no gap pixel
    return truth, pred, valid, gap


def test_errors_and_angle_by_hand():
    truth, pred, valid, gap = hand_worked_example()
    summary = score(truth, pred, valid, gap, np.array([2.0, 4.0])).summary()
    assert summary["examples"] == 1
    assert summary["gap_rmse"] == pytest.approx(1.0)
    assert summary["gap_mae"] == pytest.approx(1.0)
    assert summary["gap_bias"] == pytest.approx(0.5)
    assert summary["observed_rmse"] == pytest.approx(0.2)
    assert summary["observed_mae"] == pytest.approx(0.1)
    assert summary["observed_bias"] == pytest.approx(0.1)
    assert summary["spectral_angle_deg"] == pytest.approx(45.0)
    per_band = summary["per_band"]
    assert per_band["gap_rmse"] == pytest.approx([1.0, 1.0])
    assert per_band["gap_mae"] == pytest.approx([1.0, 1.0])
    assert per_band["gap_bias"] == pytest.approx([0.0, 1.0])
    assert per_band["observed_rmse"] == pytest.approx([math.sqrt(0.08), 0.0])
    assert per_band["observed_mae"] == pytest.approx([0.2, 0.0])
    assert per_band["observed_bias"] == pytest.approx([0.2, 0.0])
    # Errors over the ranges (2, 4): gap (-0.5, 0.25), (0.5, 0.25); observed (0.2, 0).
    assert summary["gap_psnr"] == pytest.approx(-10 * math.log10(0.625 / 4))
    assert summary["psnr"] == pytest.approx(-10 * math.log10(0.665 / 8))


def test_invalid_pixels_are_never_scored(rng):
    truth, pred, valid, gap = hand_worked_example()
    data_range = np.array([2.0, 4.0])
    reference = score(truth, pred, valid, gap, data_range).summary()
    junk = rng.normal(0.0, 1e3, truth.shape)
    junk[4:, 4:] = np.nan
    invalid = ~valid[..., np.newaxis]
    changed = score(
        np.where(invalid, junk, truth), np.where(invalid, -junk, pred), valid, gap, data_range
    )
    assert changed.summary() == reference


def test_ssim_sees_invalid_pixels_as_the_valid_truth_mean(rng):
    truth, pred = structured_pair(rng)
    valid = ~blob(truth.shape[:2], 0.2)
    fill = truth[valid].mean(axis=0)
    tally = score(np.where(valid[..., None], truth, np.nan), pred, valid, valid, np.ones(3))
    filled_pred = np.where(valid[..., None], pred, fill)
    filled_truth = np.where(valid[..., None], truth, fill)
    assert tally.summary()["ssim"] == pytest.approx(ssim(filled_truth, filled_pred, np.ones(3)))


def test_score_ssims_match_the_functions(rng):
    truth, pred = structured_pair(rng)
    gap = blob(truth.shape[:2], 0.4)
    summary = score(truth, pred, np.ones_like(gap), gap, np.full(3, 2.0)).summary()
    assert summary["ssim"] == pytest.approx(ssim(truth, pred, np.full(3, 2.0)))
    assert summary["gap_ssim"] == pytest.approx(gap_ssim(truth, pred, np.full(3, 2.0), gap))


def test_spectral_angle_skips_zero_spectra():
    truth = np.ones((8, 8, 3))
    pred = np.ones((8, 8, 3))
    pred[0, 0] = [1.0, 0.0, 0.0]  # cos = 1 / sqrt(3)
    pred[0, 1] = 0.0
    truth[0, 2] = 0.0
    gap = np.zeros((8, 8), bool)
    gap[0, :4] = True
    tally = score(truth, pred, np.ones_like(gap), gap, np.ones(3))
    assert tally.angle_pixels == 2
    expected = math.degrees(math.acos(1 / math.sqrt(3))) / 2
    assert tally.summary()["spectral_angle_deg"] == pytest.approx(expected)


def test_spectral_angle_is_left_out_with_one_band(rng):
    # log10 chlorophyll changes sign: one-number "spectra" are 0° or 180° apart, which says
    # nothing about the fill; with one band the column is None (shown as "–").
    truth = rng.normal(0.0, 0.5, (16, 16, 1))
    gap = blob(truth.shape[:2], 0.3)
    tally = score(truth, -truth, np.ones_like(gap), gap, np.ones(1))
    assert tally.summary()["spectral_angle_deg"] is None
    assert tally.add(tally).summary()["spectral_angle_deg"] is None
    assert tally.summary()["gap_rmse"] > 0


def test_psnr_of_a_known_mse():
    truth = np.zeros((8, 8, 2))
    gap = blob((8, 8), 0.5)
    summary = score(truth, truth + 0.1, np.ones_like(gap), gap, np.ones(2)).summary()
    assert summary["psnr"] == pytest.approx(20.0)
    assert summary["gap_psnr"] == pytest.approx(20.0)
    perfect = score(truth, truth, np.ones_like(gap), gap, np.ones(2)).summary()
    assert perfect["psnr"] is None and perfect["gap_rmse"] == 0.0


def test_tallies_pool_like_the_concatenated_pixels(rng):
    (truth_a, pred_a), (truth_b, pred_b) = random_pair(rng), structured_pair(rng)
    gap_a, gap_b = blob((32, 40), 0.1), blob((32, 40), 0.6)
    valid_a, valid_b = rng.uniform(size=(32, 40)) < 0.9, np.ones((32, 40), bool)
    data_range = np.full(3, 2.0)
    a = score(truth_a, pred_a, valid_a, gap_a, data_range)
    b = score(truth_b, pred_b, valid_b, gap_b, data_range)
    summary = Tally.empty(3).add(a).add(b).summary()
    errors = np.concatenate([
        (pred_a - truth_a)[gap_a & valid_a], (pred_b - truth_b)[gap_b & valid_b]
    ])  # fmt: skip
    assert summary["examples"] == 2
    assert summary["gap_rmse"] == pytest.approx(np.sqrt(np.mean(errors**2)))
    assert summary["gap_bias"] == pytest.approx(np.mean(errors))
    assert summary["per_band"]["gap_mae"] == pytest.approx(np.abs(errors).mean(axis=0))
    mean_ssim = (a.summary()["ssim"] + b.summary()["ssim"]) / 2
    assert summary["ssim"] == pytest.approx(mean_ssim)


def test_calibration_of_a_field_with_known_noise_pools_by_bucket(rng):
    """Errors drawn with the sigma a fill claims are calibrated (68 %, 95 %, z std 1); a fill
    claiming half its real spread is not; tallies pool like the concatenated z."""
    shape = (64, 64, 2)
    truth = rng.normal(size=shape)
    sigma = rng.uniform(0.5, 2.0, shape)
    pred = truth + rng.normal(size=shape) * sigma
    gaps = blob(shape[:2], 0.3), blob(shape[:2], 0.6)
    valid = np.ones(shape[:2], bool)
    tallies = [score(truth, pred, valid, gap, np.ones(2), sigma) for gap in gaps]
    pooled = tallies[0].add(tallies[1]).summary()
    assert pooled["within_1_sigma"] == pytest.approx(0.683, abs=0.03)
    assert pooled["within_2_sigma"] == pytest.approx(0.954, abs=0.02)
    assert pooled["z_std"] == pytest.approx(1.0, abs=0.05)
    z = np.concatenate([((pred - truth) / sigma)[gap] for gap in gaps])
    expected = calibration(z)
    assert {name: pooled[name] for name in expected} == pytest.approx(expected)
    overconfident = score(truth, pred, valid, gaps[1], np.ones(2), sigma / 2).summary()
    assert overconfident["within_1_sigma"] < 0.45 and overconfident["z_std"] > 1.8
    without = score(truth, pred, valid, gaps[1], np.ones(2)).summary()
    assert without["within_1_sigma"] is None and without["z_std"] is None
    json.dumps(without, allow_nan=False)


def test_gap_ssim_counts_only_examples_with_a_gap(rng):
    truth, pred = structured_pair(rng)
    gap = blob(truth.shape[:2], 0.3)
    with_gap = score(truth, pred, np.ones_like(gap), gap, np.ones(3))
    without = score(truth, pred, np.ones_like(gap), np.zeros_like(gap), np.ones(3))
    summary = with_gap.add(without).summary()
    assert summary["gap_ssim"] == pytest.approx(with_gap.summary()["gap_ssim"])
    assert without.summary()["gap_rmse"] is None


def test_summaries_are_strict_json(rng):
    truth, pred = random_pair(rng)
    gap = blob(truth.shape[:2], 0.3)
    empty = Tally.empty(3).summary()
    assert empty["examples"] == 0 and empty["ssim"] is None and empty["psnr"] is None
    assert empty["per_band"]["gap_rmse"] == [None, None, None]
    no_valid = score(truth, pred, np.zeros_like(gap), gap, np.ones(3)).summary()
    assert no_valid["examples"] == 1 and no_valid["ssim"] is None
    for summary in (empty, no_valid, score(truth, pred, ~gap, gap, np.ones(3)).summary()):
        json.dumps(summary, allow_nan=False)


def test_tallies_of_other_bands_do_not_add():
    with pytest.raises(ValueError, match="bands"):
        Tally.empty(3).add(Tally.empty(2))


def test_score_rejects_bad_masks(rng):
    truth, pred = random_pair(rng)
    with pytest.raises(ValueError, match="valid"):
        score(truth, pred, np.ones((32, 40)), np.ones((32, 40), bool), np.ones(3))
    with pytest.raises(ValueError, match="gap"):
        score(truth, pred, np.ones((32, 40), bool), np.ones((40, 32), bool), np.ones(3))


def reflectance_with_gap(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    known = ~blob((24, 24), 0.4)
    reflectance = rng.uniform(0.0, 0.2, (24, 24, 4)).astype(np.float32)
    reflectance[~known] = np.nan
    return reflectance, known


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_baselines_keep_known_pixels_and_fill_the_rest(rng, name):
    reflectance, known = reflectance_with_gap(rng)
    filled = BASELINES[name](reflectance, known)
    assert filled.dtype == np.float32 and filled.shape == reflectance.shape
    assert np.array_equal(filled[known], reflectance[known])
    assert np.isfinite(filled[~known]).all()


def test_mean_fill_uses_the_known_mean(rng):
    reflectance, known = reflectance_with_gap(rng)
    filled = mean_fill(reflectance, known)
    expected = reflectance[known].astype(np.float64).mean(axis=0).astype(np.float32)
    np.testing.assert_array_equal(filled[~known], np.broadcast_to(expected, filled[~known].shape))


def test_biharmonic_fill_continues_a_linear_ramp():
    y, x = np.mgrid[:32, :32]
    ramp = np.stack([0.1 + 0.002 * x + 0.001 * y, 0.3 - 0.004 * y, 0.05 + 0.003 * x], axis=-1)
    reflectance = ramp.astype(np.float32)
    known = ~blob((32, 32), 0.3)
    filled = biharmonic_fill(np.where(known[..., None], reflectance, np.nan), known)
    np.testing.assert_allclose(filled[~known], ramp[~known], atol=1e-6, rtol=0)


def test_biharmonic_fill_stays_within_each_bands_known_range():
    # A bright rim around the gap in band 0, a dark one in band 1: the biharmonic continuation
    # of the rim's slopes would rise above 1 and fall below 0.2 inside; it is clipped there.
    gap = blob((32, 32), 0.2)
    rim = binary_dilation(gap, iterations=2) & ~gap
    values = np.stack([np.where(rim, 1.0, 0.0), np.where(rim, 0.2, 0.5)], axis=-1)
    filled = biharmonic_fill(np.where(gap[..., None], np.nan, values).astype(np.float32), ~gap)
    assert filled[gap][:, 0].max() == 1.0 and filled[gap][:, 1].min() == np.float32(0.2)
    assert filled[gap][:, 0].min() >= 0.0 and filled[gap][:, 1].max() <= 0.5


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_baselines_with_all_or_nothing_known(rng, name):
    reflectance, _ = reflectance_with_gap(rng)
    reflectance = np.nan_to_num(reflectance)
    everything = BASELINES[name](reflectance, np.ones((24, 24), bool))
    assert np.array_equal(everything, reflectance) and everything is not reflectance
    nothing = BASELINES[name](reflectance, np.zeros((24, 24), bool))
    assert nothing.dtype == np.float32 and np.isnan(nothing).all()


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_baselines_reject_mismatched_masks(rng, name):
    reflectance, known = reflectance_with_gap(rng)
    with pytest.raises(ValueError, match="known"):
        BASELINES[name](reflectance, known[:-1])


@pytest.mark.slow  # the scoring module loads TensorFlow (for models' serving signatures)
def test_log10_bands_are_also_scored_in_their_transformed_space(rng, tmp_path):
    """Chlorophyll (log10) beside SST: metrics in the data's units, and chlorophyll's gap RMSE
    in log10 units too (a fill 10 % high everywhere is log10(1.1) off); SST has none there."""
    # Deferred: these modules import TensorFlow, seconds that collecting this module skips.
    from components.evaluator.data import EvalBatch
    from components.evaluator.report import write_report
    from components.evaluator.scoring import evaluate

    shape = (2, 16, 16)
    truth = np.stack([10 ** rng.normal(-0.5, 0.4, shape), rng.uniform(10, 25, shape)], -1)
    gap = np.broadcast_to(blob(shape[1:], 0.3), shape)
    batch = EvalBatch(truth.astype(np.float32), np.ones(shape, bool), gap, np.full(2, 0.3),
                      ("a|0|0", "a|0|16"), ("", ""))  # fmt: skip

    def high(b: EvalBatch) -> tuple[np.ndarray, None]:
        return np.where(b.gap[..., None], b.truth * [1.1, 1.0] + [0.0, 0.5], b.truth), None

    scores = evaluate([batch], {"high": high}, np.array([1.0, 15.0]), (0.5,),
                      transforms=("log10", "none"))  # fmt: skip
    metrics = scores.to_dict()
    chl, sst = metrics["transformed"]["gap_rmse"]["high"]
    assert chl == pytest.approx(math.log10(1.1), rel=1e-5) and sst is None
    physical = metrics["scores"]["high"]["all"]["per_band"]["gap_rmse"]
    expected = np.sqrt(np.mean((0.1 * truth[..., 0][gap]) ** 2))
    assert physical == pytest.approx([expected, 0.5], rel=1e-5)
    report = write_report(scores, Decision(True, ()), ("chlor_a", "sst"), tmp_path, "t")
    assert "Gap RMSE by band, in log10 units" in report.read_text()
    plain = evaluate([batch], {"high": high}, np.array([1.0, 15.0]), (0.5,)).to_dict()
    assert plain["transformed"] is None
