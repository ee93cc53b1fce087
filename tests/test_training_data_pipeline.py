"""End to end on LocalDagRunner: ExampleGen, MaskGen, statistics, schema, Transform, Trainer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from components import features
from components.evaluator.config import EvaluatorConfig
from components.example_gen.config import IngestConfig
from components.gridded import GriddedConfig
from components.gridded.samples import write_netcdf_series
from components.olci.format import BAND_NAMES
from model.config import ModelConfig
from pipelines.cli import main
from pipelines.config import PipelineConfig
from pipelines.local_runner import run_local
from pipelines.outputs import latest_artifact

pytestmark = pytest.mark.slow


def read_examples(split_dir: Path) -> list:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    import tensorflow as tf

    files = sorted(str(p) for p in split_dir.glob("*.gz"))
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP")
    return [tf.train.Example.FromString(r.numpy()) for r in dataset]


def product_names(examples: list) -> set[str]:
    return {e.features.feature[features.PRODUCT].bytes_list.value[0].decode() for e in examples}


def test_latest_span_is_read_and_split_by_product(olci_run) -> None:
    root, corrupt, base, patch = olci_run.root, olci_run.corrupt, olci_run.base, olci_run.patch
    examples = latest_artifact(root, "OlciExampleGen", "examples")
    train = read_examples(examples / "Split-train")
    evaluation = read_examples(examples / "Split-eval")
    assert train and evaluation
    train_products, eval_products = product_names(train), product_names(evaluation)
    assert not train_products & eval_products
    span_2 = {p.name for p in (base / "span-2").iterdir()} - {corrupt.name}
    # Span 2 only (the latest), the corrupt product excluded; a product whose scene has no
    # patch clear enough contributes none.
    assert len(span_2) - 2 <= len(train_products | eval_products)
    assert train_products | eval_products <= span_2
    example = train[0].features.feature
    assert len(example[features.REFLECTANCE].float_list.value) == patch * patch * 16
    assert sum(example[features.VALID].int64_list.value) >= 0.99 * patch * patch


def test_corrupt_product_is_reported_and_the_run_goes_on(olci_run) -> None:
    root, corrupt = olci_run.root, olci_run.corrupt
    examples = latest_artifact(root, "OlciExampleGen", "examples")
    lines = (examples / "bad_products.jsonl").read_text().splitlines()
    (report,) = [json.loads(line) for line in lines]
    assert report["input"] == str(corrupt)
    assert "Oa07_reflectance.nc" in report["reason"]


def test_mask_library_and_fixed_masks(olci_run) -> None:
    root, patch = olci_run.root, olci_run.patch
    library = latest_artifact(root, "MaskGen", "mask_library")
    summary = json.loads((library / "summary.json").read_text())
    assert summary["real_shapes"] > 0 and summary["patch_size"] == patch
    assert (library / "masks.png").read_bytes()[:4] == b"\x89PNG"
    masked = latest_artifact(root, "MaskGen", "masked_examples")
    evaluation = read_examples(masked / "Split-eval")
    coverages, transplanted = [], 0
    for example in evaluation:
        f = example.features.feature
        gap = np.array(f[features.GAP].int64_list.value)
        assert gap.size == patch * patch
        assert f[features.GAP_COVERAGE].float_list.value[0] == pytest.approx(gap.mean())
        coverages.append(gap.mean())
        source = f[features.GAP_SOURCE].bytes_list.value[0].decode()
        if not source.startswith("synthetic:"):  # a real cloud of another product
            transplanted += 1
            assert source.split("|")[0] != f[features.PRODUCT].bytes_list.value[0].decode()
    assert transplanted > 0
    assert min(coverages) >= 0.05 and max(coverages) <= 0.75


def test_the_trainer_takes_the_mask_library_through_its_channel(olci_run) -> None:
    """ML Metadata records MaskGen's library as an input of the Trainer's execution, and the
    library is written once, in its own artifact."""
    root = olci_run.root
    library = latest_artifact(root, "MaskGen", "mask_library")
    assert (library / "masks.npz").is_file()
    masked = latest_artifact(root, "MaskGen", "masked_examples")
    assert sorted(p.name for p in masked.iterdir()) == ["Split-eval", "Split-train"]
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(root / "metadata.sqlite")
    store = metadata_store.MetadataStore(config)
    (model,) = store.get_artifacts_by_type("Model")
    (produced,) = [e for e in store.get_events_by_artifact_ids([model.id])
                   if e.type == metadata_store_pb2.Event.OUTPUT]  # fmt: skip
    inputs = {
        next(s.key for s in e.path.steps if s.HasField("key")): e.artifact_id
        for e in store.get_events_by_execution_ids([produced.execution_id])
        if e.type == metadata_store_pb2.Event.INPUT
    }
    (taken,) = store.get_artifacts_by_id([inputs["mask_library"]])
    assert Path(taken.uri) == library
    assert store.get_artifact_types_by_id([taken.type_id])[0].name == "s3inpaint.MaskLibrary"


def test_transform_statistics_are_per_band_over_valid_training_pixels(olci_run) -> None:
    # Deferred: loads TensorFlow and tf.Transform (seconds); collecting this module skips them.
    import tensorflow as tf
    import tensorflow_transform as tft

    root, patch = olci_run.root, olci_run.patch
    masked = latest_artifact(root, "MaskGen", "masked_examples")
    train = read_examples(masked / "Split-train")
    pixels = []
    for example in train:
        f = example.features.feature
        x = np.array(f[features.REFLECTANCE].float_list.value, np.float32).reshape(-1, 16)
        valid = np.array(f[features.VALID].int64_list.value) > 0
        pixels.append(x[valid])
    pixels = np.concatenate(pixels).astype(np.float64)

    output = tft.TFTransformOutput(str(latest_artifact(root, "Transform", "transform_graph")))
    raw = tf.constant([train[0].SerializeToString()])
    parsed = tf.io.parse_example(raw, output.raw_feature_spec())
    transformed = output.transform_features_layer()(parsed)
    np.testing.assert_allclose(transformed["band_mean"][0], pixels.mean(0), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(transformed["band_std"][0], pixels.std(0), rtol=1e-5, atol=1e-7)
    normalised = transformed[features.REFLECTANCE].numpy()[0]
    assert normalised.shape == (patch, patch, 16)
    assert transformed[features.GAP].shape[1:] == (patch, patch, 1)


def test_gridded_netcdf_series_trains_and_is_evaluated_end_to_end(tmp_path: Path) -> None:
    """A one-variable series trains with no band settings: the Trainer draws its grid and the
    evaluator its panels in a colour map, and leaves out the spectral angle. Chlorophyll is
    modelled in log10 (`ingest.transforms`): Transform's statistics are of log10 values, the
    model records the transform, the evaluator adds log10 errors, and fills are in mg m-3."""
    # Deferred: loads TensorFlow and tf.Transform (seconds); collecting this module skips them.
    import tensorflow as tf
    import tensorflow_transform as tft

    base = tmp_path / "l3"
    base.mkdir()
    # Scenes are split by a hash of their names: chl.nc's six days go 4 to train, 2 to eval.
    write_netcdf_series(base / "chl.nc", times=6, shape=(48, 64), gap_fraction=0.25)
    gridded = GriddedConfig(variables=("chlor_a",))
    root = tmp_path / "pipeline"
    config = PipelineConfig(
        pipeline_name="s3inpaint-l3",
        pipeline_root=str(root),
        metadata_path=str(root / "metadata.sqlite"),
        input_base=str(base),
        input_pattern="*.nc",
        ingest=IngestConfig(
            kind="netcdf",
            bands=("chlor_a",),
            patch_size=16,
            min_valid=0.9,
            gridded=gridded.to_dict(),
            transforms={"chlor_a": "log10"},
        ),
        mask_kinds={"fractal": 1.0, "boxes": 1.0},
        train_buckets=1,
        eval_buckets=1,
        model=ModelConfig(width=4, discriminator_width=4, batch_size=2, log_every=1),
        train_steps=2,
        warm_start=False,
        evaluator=EvaluatorConfig(must_beat=(), panels_per_bucket=1, synthetic_table=False),
    )
    run_local(config)
    examples = latest_artifact(root, "OlciExampleGen", "examples")
    evaluated = read_examples(examples / "Split-eval")
    everything = read_examples(examples / "Split-train") + evaluated
    assert len(product_names(everything)) >= 4 and evaluated
    first = everything[0].features.feature
    assert len(first[features.REFLECTANCE].float_list.value) == 16 * 16
    graph = latest_artifact(root, "Transform", "transform_graph")
    train = read_examples(latest_artifact(root, "MaskGen", "masked_examples") / "Split-train")
    pixels = np.concatenate([
        np.array(e.features.feature[features.REFLECTANCE].float_list.value)[
            np.array(e.features.feature[features.VALID].int64_list.value) > 0]
        for e in train
    ])  # fmt: skip
    logged = np.log10(np.maximum(pixels.astype(np.float32), 1e-4)).astype(np.float64)
    output = tft.TFTransformOutput(str(graph))
    parsed = tf.io.parse_example(tf.constant([train[0].SerializeToString()]),
                                 output.raw_feature_spec())  # fmt: skip
    transformed = output.transform_features_layer()(parsed)
    np.testing.assert_allclose(transformed["band_mean"][0], [logged.mean()], rtol=1e-4)
    np.testing.assert_allclose(transformed["band_std"][0], [logged.std()], rtol=1e-4)

    logs = latest_artifact(root, "Trainer", "model_run") / "logs"
    images = [
        value
        for events in logs.glob("events.out.tfevents.*")
        for event in tf.compat.v1.train.summary_iterator(str(events))
        for value in event.summary.value
        if value.tag.startswith("observed | gap | filled | truth")
    ]
    assert images, "the Trainer wrote no image grid"
    assert "chlor_a in viridis" in images[-1].metadata.summary_description
    width, height, *pngs = tf.make_ndarray(images[-1].tensor)
    assert (int(width), int(height), len(pngs)) == (4 * 16, 16, 2)  # the batch of 2 patches

    evaluation = latest_artifact(root, "SsimEvaluator", "evaluation")
    metrics = json.loads((evaluation / "metrics.json").read_text())
    for by_bucket in metrics["scores"].values():
        assert by_bucket["all"]["spectral_angle_deg"] is None
        assert by_bucket["all"]["gap_rmse"] is not None
    report = (evaluation / "report.html").read_text()
    assert "the data's units" in report and "reflectance units" not in report
    assert metrics["transformed"]["transforms"] == ["log10"]
    assert all(rmse[0] > 0 for rmse in metrics["transformed"]["gap_rmse"].values())
    assert "in log10 units" in report
    assert list((evaluation / "panels").glob("*.png"))

    # The model records the series' layout, so `s3inpaint inpaint` fills the series untold.
    model = latest_artifact(root, "Trainer", "model") / "Format-Serving"
    meta = json.loads((model / "s3inpaint_model.json").read_text())
    assert meta["band_names"] == ["chlor_a"] and meta["gridded"] == gridded.to_dict()
    assert meta["transforms"] == ["log10"] and "log_reflectance" not in meta
    out = tmp_path / "filled"
    argv = ["inpaint", "--model", str(model), "--input", str(base / "*.nc"), "--output", str(out),
            "--tile", "32", "--halo", "4"]  # fmt: skip
    assert main(argv) == 0
    with xr.open_dataset(base / "chl.nc") as before, xr.open_dataset(out / "chl.nc") as after:
        gap = before["chlor_a"].isnull().values
        assert np.isfinite(after["chlor_a"].values).all()
        # Filled in mg m-3 (10 ** the model's log10 values): positive, in the series' range.
        filled, known = after["chlor_a"].values[gap], before["chlor_a"].values[~gap]
        assert filled.min() > 0 and filled.max() < 10 * known.max()
        np.testing.assert_array_equal(after["filled"].values, gap.astype(np.int8))
        np.testing.assert_array_equal(after["chlor_a"].values[~gap], before["chlor_a"].values[~gap])
        assert after["chlor_a_uncertainty"].attrs["units"] == before["chlor_a"].attrs["units"]


def test_trainer_exports_a_serving_model(olci_run) -> None:
    # Deferred: loads TensorFlow (seconds); collecting this module skips it.
    from model.export import load_serving

    root = olci_run.root
    model_dir = latest_artifact(root, "Trainer", "model") / "Format-Serving"
    metadata = json.loads((model_dir / "s3inpaint_model.json").read_text())
    assert metadata["steps"] == 3 and metadata["kind"] == "cmunet"
    # What the batch job needs: the bands, their quantity (ρw for every collection) and patch size.
    assert metadata["band_names"] == list(BAND_NAMES)
    assert (metadata["quantity"], metadata["patch_size"]) == ("rho_w", olci_run.patch)
    assert set(metadata["eval"]) == {"l1_gap", "rmse_gap", "l1_observed", "within_1_sigma",
                                     "within_2_sigma", "z_std"}  # fmt: skip
    # Taken on the raw prediction: three steps move it off the observed pixels a little.
    assert 0 < metadata["eval"]["l1_observed"] < metadata["eval"]["l1_gap"]
    serve = load_serving(str(model_dir))
    rng = np.random.default_rng(0)
    tile = rng.uniform(0.0, 0.05, (2, 24, 32, 16)).astype(np.float32)
    gap = np.zeros((2, 24, 32, 1), np.float32)
    gap[:, 8:16, 8:24] = 1.0
    filled = serve(reflectance=tile, gap=gap)["filled"].numpy()
    observed = np.broadcast_to(gap == 0, tile.shape)
    np.testing.assert_array_equal(filled[observed], tile[observed])
    assert np.isfinite(filled).all()
    run_dir = latest_artifact(root, "Trainer", "model_run")
    assert sorted(p.name for p in (run_dir / "checkpoints").glob("ckpt-*.index")) == [
        "ckpt-2.index",
        "ckpt-3.index",
    ]
