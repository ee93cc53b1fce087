"""The classical fill in the graph, the transplant protocol, whole-scene fills and the quality
benchmark's small mode."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from skimage.restoration import inpaint_biharmonic

from components.evaluator.transplant import (
    hidden_pixels,
    hidden_share,
    pick_cloud_sources,
    tile_to,
)
from components.gridded import GriddedConfig, open_scene, scene_count
from components.inpaint.scene_fill import fill_scene

ROOT = Path(__file__).resolve().parents[1]


def smooth_field(shape: tuple[int, int], bands: int = 2, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]] / max(shape)
    phases = rng.uniform(0, np.pi, (bands, 2))
    return np.stack([np.sin(3 * xx + a) * np.cos(2 * yy + b) for a, b in phases], -1).astype(
        np.float32
    )


@pytest.mark.slow  # TensorFlow
def test_classical_fill_solves_scikit_images_biharmonic_system() -> None:
    """Run to convergence, the in-graph fill is scikit-image's biharmonic solution, edges
    included; known pixels come back bit for bit and unknown values (NaN) are ignored."""
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    from model.classical import classical_fill

    field = smooth_field((20, 24))
    rng = np.random.default_rng(1)
    unknown = rng.random((20, 24)) < 0.35
    unknown[:, :3] = True  # a gap along the edge: the mirrored stencil matters there
    values = np.where(unknown[..., None], np.nan, field)
    known = (~unknown).astype(np.float32)[None, ..., None]
    filled = classical_fill(values[None], known, iterations=1000).numpy()[0]
    expected = inpaint_biharmonic(np.where(unknown[..., None], 0.0, field).astype(np.float64),
                                  unknown, channel_axis=-1)  # fmt: skip
    np.testing.assert_allclose(filled, expected, atol=1e-3)  # float32 conjugate gradients
    np.testing.assert_array_equal(filled[~unknown], field[~unknown])
    # Early stopping (the model's default) is already far closer than the push-pull start.
    rough = classical_fill(values[None], known, iterations=0).numpy()[0]
    some = classical_fill(values[None], known, iterations=60).numpy()[0]
    assert np.abs(some - expected).max() < 0.5 * np.abs(rough - expected).max()


@pytest.mark.slow  # TensorFlow
def test_the_cascade_starts_wide_gaps_from_the_coarser_grids() -> None:
    """A wide gap in a 96-pixel tile: with the same iterations on every grid, the cascade ends
    far closer to the biharmonic solution than the full grid alone does; where shapes are unknown
    (a SavedModel's signature) the grids are chosen in the graph and the fill is the same."""
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import tensorflow as tf

    from model.classical import biharmonic_cg, classical_fill, push_pull

    field = smooth_field((96, 96), bands=1)
    unknown = np.zeros((96, 96), bool)
    unknown[20:76, 14:80] = True
    known = (~unknown).astype(np.float32)[None, ..., None]
    expected = inpaint_biharmonic(np.where(unknown[..., None], 0.0, field).astype(np.float64),
                                  unknown, channel_axis=-1)  # fmt: skip
    cascade = classical_fill(field[None], known, iterations=80).numpy()[0]
    single = biharmonic_cg(field[None], known, push_pull(field[None], known), 80).numpy()[0]

    def rms(fill: np.ndarray) -> float:
        return float(np.sqrt(np.mean((fill - expected)[unknown] ** 2)))

    assert rms(cascade) < 0.3 * rms(single)  # measured: 0.08x
    dynamic = tf.function(lambda v, k: classical_fill(v, k, 40),
                          input_signature=[tf.TensorSpec([None, None, None, 1]),
                                           tf.TensorSpec([None, None, None, 1])])  # fmt: skip
    for side in (96, 24):  # three grids; one (too small to halve)
        eager = classical_fill(field[None, :side, :side], known[:, :side, :side], 40).numpy()
        graph = dynamic(field[None, :side, :side], known[:, :side, :side]).numpy()
        np.testing.assert_allclose(graph, eager, atol=1e-5)


@pytest.mark.slow  # TensorFlow
def test_classical_fill_of_an_image_without_known_pixels_is_finite() -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    from model.classical import classical_fill

    values = np.full((1, 8, 8, 1), np.nan, np.float32)
    filled = classical_fill(values, np.zeros((1, 8, 8, 1), np.float32), 10).numpy()
    np.testing.assert_array_equal(filled, 0.0)


def test_hidden_pixels_are_observed_water_under_the_cloud() -> None:
    observed = np.array([[1, 1, 0], [1, 1, 1]], bool)
    cloud = np.array([[1, 0, 1], [1, 1, 0]], bool)
    water = np.array([[1, 1, 1], [0, 1, 1]], bool)
    np.testing.assert_array_equal(hidden_pixels(observed, cloud, water),
                                  [[1, 0, 0], [0, 1, 0]])  # fmt: skip
    assert hidden_share(observed, cloud) == pytest.approx(3 / 5)
    assert hidden_share(np.zeros_like(observed), cloud) == 0.0
    with pytest.raises(ValueError, match="shapes differ"):
        hidden_pixels(observed, cloud[:1], water)


def test_cloud_sources_hide_a_share_in_range_and_skip_excluded_scenes() -> None:
    observed = np.ones((5, 10, 10), bool)
    clouds = np.zeros((5, 10, 10), bool)
    for s, rows in enumerate((0, 1, 3, 5, 9)):
        clouds[s, :rows] = True  # scene s hides rows / 10 of any clear scene
    sources = pick_cloud_sources(observed, clouds, targets=(0, 4), share=(0.2, 0.6),
                                 exclude=(3,), seed=1)  # fmt: skip
    assert sources == [2, 2]
    with pytest.raises(ValueError, match="scene 4"):
        pick_cloud_sources(observed, clouds, targets=(4,), share=(0.95, 1.0))


def test_tile_to_repeats_a_small_cloud_over_a_larger_grid() -> None:
    mask = np.array([[1, 0, 0], [0, 0, 1]], bool)
    laid = tile_to(mask, (3, 7), offset=(1, 2))
    assert laid.shape == (3, 7)
    np.testing.assert_array_equal(laid[0], np.tile(mask, (1, 4))[1, 2:9])
    np.testing.assert_array_equal(laid[1], np.tile(mask, (1, 4))[0, 2:9])


def test_fill_scene_blends_tile_fills_into_the_gap_only() -> None:
    values = smooth_field((40, 52), bands=3)
    to_fill = np.zeros((40, 52), bool)
    to_fill[10:20, 30:45] = True
    values[to_fill] = np.nan
    values[0, 0] = np.nan  # unknown but not to fill: stays NaN
    calls = []

    def constant(tiles: np.ndarray, gaps: np.ndarray) -> np.ndarray:
        calls.append(len(tiles))
        assert tiles.shape[1:] == (16, 16, 3) and gaps.any(axis=(1, 2)).all()
        return np.where(gaps[..., None], 7.0, tiles).astype(np.float32)

    filled = fill_scene(values, to_fill, constant, tile=16, halo=2, batch_size=2)
    np.testing.assert_array_equal(filled[to_fill], 7.0)
    keep = ~to_fill
    np.testing.assert_array_equal(filled[keep], values[keep])  # NaN at (0, 0) included
    assert sum(calls) < 12 and max(calls) <= 2  # only the tiles holding a gap, two at a time
    with pytest.raises(ValueError, match="need"):
        fill_scene(values, to_fill[:5], constant, 16, 2)


def test_fill_scene_continues_the_field_into_tiles_inside_a_wide_gap() -> None:
    """Tiles that know nothing get their border from a push-pull fill of the scene: a gap four
    tiles wide is filled as a continuation of the field, not left empty or flat."""
    truth = smooth_field((48, 96), bands=1)
    to_fill = np.zeros((48, 96), bool)
    to_fill[:, 20:76] = True
    values = np.where(to_fill[..., None], np.nan, truth)

    def biharmonic(tiles: np.ndarray, gaps: np.ndarray) -> np.ndarray:
        known = ~gaps & np.isfinite(tiles).all(axis=-1)
        fills = [inpaint_biharmonic(np.where(k[..., None], t, 0.0), ~k, channel_axis=-1)
                 if k.any() else np.full_like(t, np.nan)
                 for t, k in zip(tiles, known, strict=True)]  # fmt: skip
        return np.stack(fills).astype(np.float32)

    filled = fill_scene(values, to_fill, biharmonic, tile=16, halo=2)
    assert np.isfinite(filled[to_fill]).all()
    error = np.sqrt(np.mean((filled[to_fill] - truth[to_fill]) ** 2))
    flat = np.sqrt(np.mean((values[~to_fill].mean() - truth[to_fill]) ** 2))
    assert error < 0.7 * flat
    middle = filled[:, 40:56, 0]  # a tile's width from the gap's edges on both sides
    assert np.ptp(middle) > 0.2 * np.ptp(truth[:, 40:56, 0])


def test_fill_scene_anchors_on_the_scenes_own_bands_not_its_context() -> None:
    """Context channels (a temporal model's neighbours, here never observed) neither decide
    what is known nor get anchored; the uncertainty past the own bands is spread to the
    anchored pixels."""
    truth = smooth_field((48, 96), bands=1)
    to_fill = np.zeros((48, 96), bool)
    to_fill[:, 20:76] = True
    values = np.concatenate([np.where(to_fill[..., None], np.nan, truth),
                             np.full((48, 96, 1), np.nan, np.float32)], axis=-1)  # fmt: skip

    def mean_and_spread(tiles: np.ndarray, gaps: np.ndarray) -> np.ndarray:
        assert np.isnan(tiles[..., 1]).all()  # the context as given
        known = ~gaps & np.isfinite(tiles[..., 0])
        level = np.array([t[k, 0].mean() if k.any() else np.nan
                          for t, k in zip(tiles, known, strict=True)])  # fmt: skip
        fill = np.where(gaps, level[:, None, None], tiles[..., 0])
        return np.stack([fill, np.where(gaps, 0.5, 0.0)], axis=-1).astype(np.float32)

    filled = fill_scene(values, to_fill, mean_and_spread, tile=16, halo=2, channels=2,
                        context=1)  # fmt: skip
    assert np.isfinite(filled[to_fill]).all()
    np.testing.assert_allclose(filled[to_fill][:, 1], 0.5)


def _benchmark():
    """benchmarks/quality.py as a module (benchmarks are scripts, not a package)."""
    if "quality_benchmark" not in sys.modules:
        path = ROOT / "benchmarks" / "quality.py"
        spec = importlib.util.spec_from_file_location("quality_benchmark", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["quality_benchmark"] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules["quality_benchmark"]


@pytest.mark.slow  # TensorFlow
def test_quality_benchmark_small_mode(tmp_path: Path) -> None:
    quality = _benchmark()
    out = tmp_path / "quality.json"
    code = quality.main(["--cases", "sample", "--targets", "2", "--tile", "16",
                         "--workdir", str(tmp_path), "--output", str(out)])  # fmt: skip
    assert code == 0
    (result,) = json.loads(out.read_text())["results"]
    assert result["case"] == "sample" and result["hidden_pixels"] > 100
    scores = result["scores"]
    assert set(scores) == {"mean", "biharmonic", "classical", "eof"}  # a series: EOFs too
    assert scores["biharmonic"]["ratio"] == 1.0
    for s in scores.values():
        assert np.isfinite([s["rmse"], s["mae"], s["bias"]]).all() and s["rmse_by_coverage"]
    # The smooth sample field: the biharmonic fills beat the band mean.
    assert scores["classical"]["rmse"] < scores["mean"]["rmse"]


def test_quality_benchmark_training_series_has_no_hidden_pixel(tmp_path: Path) -> None:
    quality = _benchmark()
    case = quality.sample_case(2, 0, tmp_path)
    path = quality.write_training_series(case, tmp_path / "train" / "series.nc")
    config = GriddedConfig(variables=case.bands, mask_variable="land")
    assert scene_count(path, config) == len(case.values)
    for target, hidden in zip(case.targets, case.hidden, strict=True):
        scene = open_scene(path, config, target)
        chl = scene["chlor_a"].values
        assert hidden.any() and not np.isfinite(chl[hidden]).any()
        seen = np.isfinite(case.values[target, ..., 0]) & ~hidden
        np.testing.assert_allclose(np.log10(chl[seen]), case.values[target, ..., 0][seen],
                                   rtol=1e-5)  # fmt: skip
