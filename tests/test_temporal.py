"""Temporal context (`ingest.temporal_window`): neighbour windows, leakage, the signature."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from temporal_models import temporal_unet

from components import features
from components.configuration import ConfigError
from components.evaluator.config import EvaluatorConfig
from components.example_gen.config import IngestConfig
from components.example_gen.scenes import SceneRef
from components.example_gen.temporal import (
    cut_neighbours,
    neighbour_arrays,
    scene_windows,
    timed_scene_refs,
)
from components.features import MODEL_DESCRIPTION
from components.gridded import GriddedConfig, open_scene
from components.gridded.samples import write_netcdf_series
from model.config import ModelConfig
from pipelines.config import PipelineConfig
from pipelines.local_runner import run_local
from pipelines.outputs import latest_artifact

DAYS = ("2023-06-01T12:00:00Z", "2023-06-02T12:00:00Z", "2023-06-04T12:00:00Z",
        "2023-06-05T12:00:00Z")  # fmt: skip


def refs(count: int = 4) -> list[tuple[SceneRef, str]]:
    return [(SceneRef("s.nc", i), DAYS[i]) for i in range(count)]


def test_windows_at_the_series_ends_have_empty_neighbours() -> None:
    windows = {w.centre.index: w for w in scene_windows(reversed(refs()), 2)}
    first, second, last = windows[0], windows[1], windows[3]
    assert first.neighbours == (None, None, SceneRef("s.nc", 1), SceneRef("s.nc", 2))
    assert first.offsets == (0.0, 0.0, 1.0, 3.0)
    assert second.neighbours == (None, SceneRef("s.nc", 0), SceneRef("s.nc", 2),
                                 SceneRef("s.nc", 3))  # fmt: skip
    assert second.offsets == (0.0, -1.0, 2.0, 3.0)
    assert last.neighbours == (SceneRef("s.nc", 1), SceneRef("s.nc", 2), None, None)
    assert last.offsets == (-3.0, -1.0, 0.0, 0.0)


def test_a_scene_at_the_centres_own_time_is_never_its_neighbour() -> None:
    """Another file of the same day (or the centre read twice) would hand over its truth."""
    twin = (SceneRef("copy.nc", 0), DAYS[1])
    windows = {str(w.centre): w for w in scene_windows([*refs(3), twin], 1)}
    centre = windows[str(SceneRef("s.nc", 1))]
    assert centre.neighbours == (SceneRef("s.nc", 0), SceneRef("s.nc", 2))
    assert windows["copy.nc"].neighbours == centre.neighbours


def test_windows_need_a_time_and_a_positive_window() -> None:
    with pytest.raises(ValueError, match="states no time"):
        scene_windows([(SceneRef("a.tif"), "")], 1)
    with pytest.raises(ValueError, match="at least 1"):
        scene_windows(refs(), 0)


def grid_scene(values: np.ndarray, name: str) -> xr.Dataset:
    ds = xr.Dataset({"chl": (("y", "x"), values.astype(np.float32))},
                    attrs={"product_name": name, "start_time": ""})  # fmt: skip
    ds["valid"] = (("y", "x"), np.isfinite(values))
    return ds


def test_neighbour_windows_keep_their_own_gaps_and_missing_ones_are_empty() -> None:
    before = np.arange(64, dtype=np.float32).reshape(8, 8)
    before[2:4, 2:4] = np.nan  # the neighbour's own cloud
    values, valid = neighbour_arrays([grid_scene(before, "b"), None], ["chl"], (8, 8))
    window = cut_neighbours(values, valid, (-1.0, 0.0), 1, 2, 4)
    assert window.values.shape == (2, 4, 4, 1) and window.valid.shape == (2, 4, 4)
    np.testing.assert_array_equal(window.valid[0], np.isfinite(before[1:5, 2:6]))
    np.testing.assert_array_equal(window.values[0, ..., 0], np.nan_to_num(before[1:5, 2:6]))
    assert not window.valid[1].any() and not window.values[1].any()
    np.testing.assert_array_equal(window.offsets, [-1.0, 0.0])
    with pytest.raises(ValueError, match="not the centre's grid"):
        neighbour_arrays([grid_scene(before[:6], "b")], ["chl"], (8, 8))


def test_temporal_window_is_refused_for_olci_products() -> None:
    with pytest.raises(ValueError, match="needs gridded inputs"):
        IngestConfig(temporal_window=1)
    with pytest.raises(ConfigError, match=r"ingest: temporal_window 2 needs gridded inputs"):
        PipelineConfig.from_dict({"pipeline_name": "p", "pipeline_root": "r",
                                  "input_base": "b", "ingest": {"temporal_window": 2}})  # fmt: skip
    with pytest.raises(ConfigError, match="temporal_window"):
        ingest = {"kind": "geotiff", "temporal_window": -1}
        PipelineConfig.from_dict({"pipeline_name": "p", "pipeline_root": "r",
                                  "input_base": "b", "ingest": ingest})  # fmt: skip
    gridded = IngestConfig(kind="netcdf", bands=("chl",), temporal_window=1,
                           gridded=GriddedConfig(variables=("chl",)))  # fmt: skip
    assert IngestConfig.from_json(gridded.to_json()).temporal_window == 1


def test_examples_carry_their_neighbours_not_the_centre(tmp_path: Path) -> None:
    """ExampleGen's scene step on a tiny series: each patch's neighbour channels are the
    neighbouring days' own values at the same pixels, oldest first; the first day's previous
    neighbour is empty; nothing of the centre day is in them."""
    # Deferred: loads TFX, Beam and TensorFlow (seconds); collecting this module skips them.
    import tensorflow as tf

    from components.example_gen.executor import _ScenesToExamples

    path = write_netcdf_series(tmp_path / "chl.nc", times=3, shape=(16, 16), gap_fraction=0.2)
    gridded = GriddedConfig(variables=("chlor_a",))
    config = IngestConfig(kind="netcdf", bands=("chlor_a",), patch_size=8, min_valid=0.5,
                          temporal_window=1, gridded=gridded)  # fmt: skip
    timed = timed_scene_refs(str(path), config)
    assert len({grid for grid, _, _ in timed}) == 1
    windows = scene_windows([(ref, start) for _, ref, start in timed], 1)
    scenes = [open_scene(path, config.gridded, i) for i in range(3)]
    fn = _ScenesToExamples(config.to_json())
    fn.setup()
    for window in windows:
        examples = [e for e in fn.process(window) if isinstance(e, tf.train.Example)]
        assert examples
        centre = window.centre.index
        for example in examples:
            f = example.features.feature
            row = f[features.ROW].int64_list.value[0]
            column = f[features.COLUMN].int64_list.value[0]
            values = np.array(f[features.NEIGHBOURS].float_list.value).reshape(2, 8, 8)
            valid = np.array(f[features.NEIGHBOUR_VALID].int64_list.value).reshape(2, 8, 8)
            offsets = list(f[features.NEIGHBOUR_OFFSET].float_list.value)
            for slot, day in enumerate((centre - 1, centre + 1)):
                if not 0 <= day < 3:
                    assert not valid[slot].any() and not values[slot].any()
                    assert offsets[slot] == 0.0
                    continue
                truth = scenes[day]["chlor_a"].values[row : row + 8, column : column + 8]
                np.testing.assert_array_equal(valid[slot], np.isfinite(truth))
                np.testing.assert_allclose(values[slot], np.nan_to_num(truth))
                assert offsets[slot] == day - centre
            own = scenes[centre]["chlor_a"].values[row : row + 8, column : column + 8]
            for slot in range(2):
                both = (valid[slot] > 0) & np.isfinite(own)
                assert not np.isclose(values[slot][both], own[both]).any()


SIZE, WINDOW = 16, 1


def tiles(seed: int = 0) -> dict[str, np.ndarray]:
    """A chlorophyll tile with a gap, and its previous (own cloud) and missing next scene."""
    rng = np.random.default_rng(seed)
    tile = rng.uniform(0.2, 3.0, (2, SIZE, SIZE, 1)).astype(np.float32)
    gap = np.zeros((2, SIZE, SIZE, 1), np.float32)
    gap[:, 4:12, 3:10] = 1.0
    neighbours = rng.uniform(0.2, 3.0, (2, 2, SIZE, SIZE, 1)).astype(np.float32)
    neighbour_gap = np.zeros((2, 2, SIZE, SIZE, 1), np.float32)
    neighbour_gap[:, 0, 8:, :] = 1.0  # the previous day's own cloud
    neighbours[:, 1] = np.nan  # the series ends: no next day
    offsets = np.array([[-1.0, 0.0], [-2.0, 0.0]], np.float32)
    return {"reflectance": tile, "gap": gap, "neighbours": neighbours,
            "neighbour_gap": neighbour_gap, "neighbour_offset": offsets}  # fmt: skip


@pytest.mark.slow
def test_temporal_signature_round_trip(tmp_path: Path) -> None:
    """The exported signature takes the neighbour tiles, their gaps and offsets; records the
    window; passes observed pixels through; an untrained model is the classical fill; gaps of
    a neighbour (NaN or flagged) are never read, and the tile's truth under its gap is never
    read either."""
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import tensorflow as tf

    from model.classical import classical_fill
    from model.export import export_model, load_serving

    mean, std = np.array([0.0], np.float32), np.array([0.3], np.float32)
    data = tiles()
    untrained = str(tmp_path / "untrained")
    export_model(untrained, temporal_unet(False), None, mean, std, ("log10",), {"kind": "unet"})
    meta = json.loads((Path(untrained) / MODEL_DESCRIPTION).read_text())
    assert meta["temporal_window"] == WINDOW
    assert meta["inputs"] == ["reflectance", "gap", "neighbours", "neighbour_gap",
                              "neighbour_offset"]  # fmt: skip
    serve = load_serving(untrained)
    filled = serve(**{k: tf.constant(v) for k, v in data.items()})["filled"].numpy()
    observed = np.broadcast_to(data["gap"] == 0, filled.shape)
    np.testing.assert_array_equal(filled[observed], data["reflectance"][observed])
    z = (np.log10(data["reflectance"]) - mean) / std * (1 - data["gap"])
    base = 10 ** (classical_fill(z, 1 - data["gap"], 50).numpy() * std + mean)
    # float32 conjugate gradients, run here eagerly and there as the SavedModel's graph
    np.testing.assert_allclose(filled[~observed], base[~observed], rtol=1e-4)

    trained = str(tmp_path / "trained")
    export_model(trained, temporal_unet(True), None, mean, std, ("log10",), {"kind": "unet"})
    serve = load_serving(trained)

    def fill(**changes) -> np.ndarray:
        inputs = {**data, **changes}
        return serve(**{k: tf.constant(v) for k, v in inputs.items()})["filled"].numpy()

    reference = fill()
    assert not np.allclose(reference[~observed], base[~observed], rtol=1e-3)
    hidden = data["reflectance"].copy()
    hidden[data["gap"] > 0] = 99.0  # the truth under the tile's gap: never read
    np.testing.assert_array_equal(fill(reflectance=hidden), reference)
    clouded = data["neighbours"].copy()
    clouded[data["neighbour_gap"][..., 0] > 0] = 42.0  # under the neighbour's own cloud
    np.testing.assert_array_equal(fill(neighbours=clouded), reference)
    ended = data["neighbours"].copy()
    ended[:, 1] = 1.0  # a missing neighbour flagged as all gap instead of all NaN
    flagged = data["neighbour_gap"].copy()
    flagged[:, 1] = 1.0
    np.testing.assert_array_equal(fill(neighbours=ended, neighbour_gap=flagged), reference)
    seen = data["neighbours"].copy()
    seen[:, 0, :8] *= 2.0  # the neighbour's observed pixels: read
    assert not np.allclose(fill(neighbours=seen)[~observed], reference[~observed])


@pytest.mark.slow
def test_training_inputs_hide_the_tile_under_its_gap_and_nothing_else() -> None:
    """In training, the generator's inputs are the same whatever the tile's truth under the
    gap; the neighbours enter as they are, with their own gaps."""
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import tensorflow as tf

    from model.gan import context_input, generator_inputs, model_inputs

    rng = np.random.default_rng(1)
    batch = {
        "reflectance": rng.normal(size=(2, SIZE, SIZE, 1)).astype(np.float32),
        "valid": np.ones((2, SIZE, SIZE, 1), np.float32),
        "gap": (rng.random((2, SIZE, SIZE, 1)) < 0.4).astype(np.float32),
        features.NEIGHBOURS: rng.normal(size=(2, 2, SIZE, SIZE, 1)).astype(np.float32),
        features.NEIGHBOUR_VALID: (rng.random((2, 2, SIZE, SIZE, 1)) < 0.7).astype(np.float32),
        features.NEIGHBOUR_OFFSET: np.array([[-1.0, 1.0], [-1.0, 0.0]], np.float32),
    }
    batch[features.NEIGHBOURS] *= batch[features.NEIGHBOUR_VALID]

    def inputs(data) -> list[np.ndarray]:
        tensors = {k: tf.constant(v) for k, v in data.items()}
        _, gap_input, fill, invalid = model_inputs(tensors)
        return [t.numpy() for t in generator_inputs(gap_input, fill, invalid,
                                                     context_input(tensors))]  # fmt: skip

    reference = inputs(batch)
    assert reference[3].shape == (2, SIZE, SIZE, 2 * (1 + 2))
    values = np.moveaxis(batch[features.NEIGHBOURS][..., 0], 1, -1)
    np.testing.assert_array_equal(reference[3][..., :2], values)
    changed = {**batch, "reflectance": np.where(batch["gap"] > 0, 7.0, batch["reflectance"])}
    for before, after in zip(reference, inputs(changed), strict=True):
        np.testing.assert_array_equal(before, after)


@pytest.mark.slow
def test_a_temporal_model_trains_and_is_evaluated_end_to_end(tmp_path: Path) -> None:
    """temporal_window 1 on a tiny NetCDF series through the whole pipeline: the examples
    carry their neighbours, the Trainer builds a model that reads them and records its
    window, and the SsimEvaluator scores it with them next to the spatial baselines."""
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import tensorflow as tf

    base = tmp_path / "l3"
    write_netcdf_series(base / "chl.nc", times=6, shape=(32, 32), gap_fraction=0.25)
    root = tmp_path / "pipeline"
    config = PipelineConfig(
        pipeline_name="s3inpaint-temporal",
        pipeline_root=str(root),
        input_base=str(base),
        input_pattern="*.nc",
        ingest=IngestConfig(kind="netcdf", bands=("chlor_a",), patch_size=16, min_valid=0.7,
                            temporal_window=1, gridded=GriddedConfig(variables=("chlor_a",)),
                            transforms={"chlor_a": "log10"}),
        mask_kinds={"fractal": 1.0, "boxes": 1.0},
        train_buckets=1,
        eval_buckets=1,
        model=ModelConfig(kind="unet", width=4, batch_size=2, log_every=1,
                          classical_iterations=20),
        train_steps=2,
        warm_start=False,
        evaluator=EvaluatorConfig(must_beat=(), panels_per_bucket=1, synthetic_table=False),
    )  # fmt: skip
    run_local(config)
    examples = latest_artifact(root, "MaskGen", "masked_examples")
    files = sorted(str(p) for p in examples.glob("Split-*/*.gz"))
    records = tf.data.TFRecordDataset(files, compression_type="GZIP")
    parsed = [tf.train.Example.FromString(r.numpy()).features.feature for r in records]
    assert parsed and all(len(f[features.NEIGHBOUR_OFFSET].float_list.value) == 2 for f in parsed)
    offsets = {tuple(f[features.NEIGHBOUR_OFFSET].float_list.value) for f in parsed}
    assert {(0.0, 1.0), (-1.0, 1.0), (-1.0, 0.0)} <= offsets  # first, middle and last days

    model = latest_artifact(root, "Trainer", "model") / "Format-Serving"
    meta = json.loads((model / "s3inpaint_model.json").read_text())
    assert meta["temporal_window"] == 1 and "neighbours" in meta["inputs"]
    evaluation = latest_artifact(root, "SsimEvaluator", "evaluation")
    metrics = json.loads((evaluation / "metrics.json").read_text())
    assert {"candidate", "biharmonic", "mean"} <= set(metrics["scores"])
    assert metrics["scores"]["candidate"]["all"]["gap_rmse"] is not None
