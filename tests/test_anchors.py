"""The push-pull first guess and the anchored border of tiles that see almost nothing."""

from __future__ import annotations

import numpy as np

from components.inpaint.anchors import Anchors, known_pixels, push_pull, spread_to_anchored


def ramp(shape: tuple[int, int]) -> np.ndarray:
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    return np.stack([0.1 * rows + 0.05 * cols, 2.0 - 0.02 * rows], -1).astype(np.float32)


def test_push_pull_keeps_known_pixels_and_stays_between_them() -> None:
    field = ramp((37, 53))  # odd sides: the pyramid pads
    known = np.random.default_rng(0).random((37, 53)) < 0.2
    known[10:30, 10:40] = False
    guess = push_pull(np.where(known[..., None], field, np.nan), known)
    np.testing.assert_allclose(guess[known], field[known], rtol=1e-6)
    assert np.isfinite(guess).all()
    for band in range(2):
        seen = field[..., band][known]
        assert (
            seen.min() - 1e-5
            <= guess[..., band].min()
            <= guess[..., band].max()
            <= seen.max() + 1e-5
        )
    # Smooth, not flat: far better in the hole than the known mean.
    hole = ~known
    assert (
        np.abs(guess - field)[hole].mean() < 0.6 * np.abs(field[known].mean(0) - field)[hole].mean()
    )
    assert push_pull(field, np.zeros((37, 53), bool)) is None


def test_only_a_window_knowing_less_than_its_side_is_anchored_on_its_ring() -> None:
    field = ramp((32, 32))
    gap = np.ones((32, 32), bool)
    gap[:, :4] = False  # the scene knows its left edge
    anchors = Anchors(field, gap)
    inside = np.s_[8:24, 8:24]  # a window wholly inside the gap
    values, window_gap = field[inside].copy(), gap[inside].copy()
    assert anchors.anchor(values, window_gap, inside) == 4 * 15
    ring = np.ones((16, 16), bool)
    ring[1:-1, 1:-1] = False
    assert not window_gap[ring].any() and window_gap[~ring].all()
    guess = push_pull(field, known_pixels(field, gap))
    np.testing.assert_allclose(values[ring], guess[inside][ring], rtol=1e-6)
    np.testing.assert_allclose(anchors.guess(inside), guess[inside], rtol=1e-6)
    # A window that knows a column of 16 pixels is left as it is.
    values, window_gap = field[:16, 3:19].copy(), gap[:16, 3:19].copy()
    assert known_pixels(values, window_gap).sum() == 16
    assert anchors.anchor(values, window_gap, np.s_[:16, 3:19]) == 0
    np.testing.assert_array_equal(window_gap, gap[:16, 3:19])
    # Nothing known anywhere: nothing to anchor to.
    blind = Anchors(field, np.ones((32, 32), bool))
    assert blind.anchor(field[:16, :16].copy(), np.ones((16, 16), bool), inside) == 0


def test_anchored_pixels_take_the_mean_uncertainty_of_the_tiles_filled_pixels() -> None:
    spread = np.zeros((4, 4, 2), np.float32)
    filled = np.zeros((4, 4), bool)
    filled[1:3, 1:3] = True
    spread[filled] = [[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0]]
    anchored = np.zeros((4, 4), bool)
    anchored[0] = True
    spread_to_anchored(spread, anchored, filled)
    np.testing.assert_array_equal(spread[0], [[2.5, 25.0]] * 4)
    assert (spread[3] == 0).all()  # neither anchored nor filled: untouched
    spread_to_anchored(spread, anchored, np.zeros((4, 4), bool))
    assert np.isnan(spread[0]).all()  # nothing filled by the model: no uncertainty to give
