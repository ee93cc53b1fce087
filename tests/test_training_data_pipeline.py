"""End to end on LocalDagRunner: ExampleGen, MaskGen, StatisticsGen, SchemaGen, Transform."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from components import features
from components.example_gen.config import IngestConfig
from components.sample.products import write_sample_product
from pipelines.config import PipelineConfig
from pipelines.outputs import latest_artifact

pytestmark = pytest.mark.slow

PATCH = 16
SPAN_1_SEEDS = (11,)
SPAN_2_SEEDS = (21, 22, 23, 24, 25, 26)


def read_examples(split_dir: Path) -> list:
    import tensorflow as tf

    files = sorted(str(p) for p in split_dir.glob("*.gz"))
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP")
    return [tf.train.Example.FromString(r.numpy()) for r in dataset]


def product_names(examples: list) -> set[str]:
    return {e.features.feature[features.PRODUCT].bytes_list.value[0].decode() for e in examples}


@pytest.fixture(scope="module")
def olci_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    from pipelines.local_runner import run_local

    base = tmp_path_factory.mktemp("archive")
    for span, seeds in ((1, SPAN_1_SEEDS), (2, SPAN_2_SEEDS)):
        for seed in seeds:
            write_sample_product(base / f"span-{span}", (64, 64), seed, cloud_fraction=0.25)
    # A corrupt product in the latest span: a band file cut in half.
    good = next((base / "span-2").iterdir())
    corrupt = base / "span-2" / good.name.replace("_MAR_", "_LN1_")
    shutil.copytree(good, corrupt)
    band = corrupt / "Oa07_reflectance.nc"
    band.write_bytes(band.read_bytes()[:2000])

    root = tmp_path_factory.mktemp("pipeline")
    config = PipelineConfig(
        pipeline_name="s3inpaint-test",
        pipeline_root=str(root),
        metadata_path=str(root / "metadata.sqlite"),
        input_base=str(base),
        input_pattern="span-{SPAN}/*",
        ingest=IngestConfig(patch_size=PATCH, min_valid=0.99),
        eval_buckets=2,
        train_buckets=3,
    )
    run_local(config)
    return root, corrupt, base


def test_latest_span_is_read_and_split_by_product(olci_run) -> None:
    root, corrupt, base = olci_run
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
    assert len(example[features.REFLECTANCE].float_list.value) == PATCH * PATCH * 16
    assert sum(example[features.VALID].int64_list.value) >= 0.99 * PATCH * PATCH


def test_corrupt_product_is_reported_and_the_run_goes_on(olci_run) -> None:
    root, corrupt, _ = olci_run
    examples = latest_artifact(root, "OlciExampleGen", "examples")
    lines = (examples / "bad_products.jsonl").read_text().splitlines()
    (report,) = [json.loads(line) for line in lines]
    assert report["input"] == str(corrupt)
    assert "Oa07_reflectance.nc" in report["reason"]


def test_mask_library_and_fixed_masks(olci_run) -> None:
    root, _, _ = olci_run
    library = latest_artifact(root, "MaskGen", "mask_library")
    summary = json.loads((library / "summary.json").read_text())
    assert summary["real_shapes"] > 0 and summary["patch_size"] == PATCH
    assert (library / "masks.png").read_bytes()[:4] == b"\x89PNG"
    masked = latest_artifact(root, "MaskGen", "masked_examples")
    evaluation = read_examples(masked / "Split-eval")
    coverages = []
    for example in evaluation:
        f = example.features.feature
        gap = np.array(f[features.GAP].int64_list.value)
        assert gap.size == PATCH * PATCH
        assert f[features.GAP_COVERAGE].float_list.value[0] == pytest.approx(gap.mean())
        coverages.append(gap.mean())
    assert min(coverages) >= 0.05 and max(coverages) <= 0.75


def test_transform_statistics_are_per_band_over_valid_training_pixels(olci_run) -> None:
    import tensorflow as tf
    import tensorflow_transform as tft

    root, _, _ = olci_run
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
    assert normalised.shape == (PATCH, PATCH, 16)
    assert transformed[features.GAP].shape[1:] == (PATCH, PATCH, 1)


def test_gridded_netcdf_series_ingests_end_to_end(tmp_path: Path) -> None:
    from components.gridded import GriddedConfig
    from components.gridded.samples import write_netcdf_series
    from pipelines.local_runner import run_local

    base = tmp_path / "l3"
    base.mkdir()
    write_netcdf_series(base / "chl_2023.nc", times=6, shape=(48, 64), gap_fraction=0.25)
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
        ),
        mask_kinds={"fractal": 1.0, "boxes": 1.0},
        train_buckets=1,
        eval_buckets=1,
    )
    run_local(config)
    examples = latest_artifact(root, "OlciExampleGen", "examples")
    everything = read_examples(examples / "Split-train") + read_examples(examples / "Split-eval")
    assert len(product_names(everything)) >= 4
    first = everything[0].features.feature
    assert len(first[features.REFLECTANCE].float_list.value) == 16 * 16
    assert (latest_artifact(root, "Transform", "transform_graph") / "transform_fn").is_dir()
