"""`s3inpaint train` refuses inputs that cannot give a patch before the pipeline runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from components.example_gen.config import IngestConfig
from components.example_gen.scenes import scene_size
from components.gridded import GriddedConfig
from components.gridded.samples import write_geotiff_stack, write_netcdf_series
from pipelines.cli import main
from pipelines.config import PipelineConfig
from pipelines.preflight import InputError, check_inputs

TINY = (64, 80)  # conftest.TINY, the sample products' size


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, product: Path, product_zip: Path) -> Path:
    """Two spans of tiny (64 x 80) products: a folder in span 1, a zip in span 2."""
    base = tmp_path_factory.mktemp("archive")
    shutil.copytree(product, base / "span-1" / product.name)
    (base / "span-2").mkdir()
    shutil.copy(product_zip, base / "span-2" / product_zip.name)
    return base


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"input_base": "nowhere"}, "input_base {tmp}/nowhere: no such folder"),
        ({"input_pattern": "span-{SPAN}/*.nc"}, "input_pattern 'span-{SPAN}/*.nc' matches "
                                                "nothing under input_base {base}"),
        ({"ingest": {"patch_size": 72}}, "ingest.patch_size 72 is larger than every scene"),
    ],
)  # fmt: skip
def test_train_refuses_inputs_without_a_patch_before_running(
    tmp_path: Path, archive: Path, capsys, fields: dict, message: str
) -> None:
    config = {"pipeline_name": "p", "pipeline_root": "root", "input_base": str(archive),
              "input_pattern": "span-{SPAN}/*", **fields}  # fmt: skip
    path = tmp_path / "train.yaml"
    path.write_text("\n".join(f"{k}: {v}" for k, v in config.items()) + "\n")
    assert main(["train", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"s3inpaint train: {path}: " in err
    assert message.replace("{tmp}", str(tmp_path)).replace("{base}", str(archive)) in err, err
    assert not (tmp_path / "root").exists()  # nothing ran, not even the saved configuration


def test_patch_larger_than_every_scene_names_the_largest(archive: Path) -> None:
    config = PipelineConfig(
        pipeline_name="p", pipeline_root="/r", input_base=str(archive),
        input_pattern="span-{SPAN}/*", ingest=IngestConfig(patch_size=65),
    )  # fmt: skip
    with pytest.raises(InputError, match=rf"is {TINY[0]} x {TINY[1]}\)"):
        check_inputs(config)


def test_inputs_that_fit_pass(archive: Path) -> None:
    for pattern in ("span-{SPAN}/*", "span-{SPAN:1}/*.zip", "span-*/*.SEN3"):
        config = PipelineConfig(
            pipeline_name="p", pipeline_root="/r", input_base=str(archive),
            input_pattern=pattern, ingest=IngestConfig(patch_size=TINY[0]),
        )  # fmt: skip
        check_inputs(config)


def test_unreadable_inputs_are_named(tmp_path: Path) -> None:
    (tmp_path / "S3A_OL_2_WFR____broken.SEN3").mkdir()
    config = PipelineConfig(pipeline_name="p", pipeline_root="/r", input_base=str(tmp_path))
    with pytest.raises(InputError, match=r"can be read; the first: .*broken.SEN3.*xfdumanifest"):
        check_inputs(config)


def test_scene_size_reads_headers_local_and_on_gcs(
    gcs, upload_folder, product: Path, product_zip: Path
) -> None:
    olci = IngestConfig()
    assert scene_size(str(product), olci) == TINY
    assert scene_size(str(product_zip), olci) == TINY
    bucket = gcs.create_bucket("preflight")
    folder = upload_folder(gcs, "preflight", product, "olci")
    bucket.blob(f"olci/{product_zip.name}").upload_from_filename(str(product_zip))
    assert scene_size(folder, olci) == TINY
    assert scene_size(f"gs://preflight/olci/{product_zip.name}", olci) == TINY


def test_scene_size_of_gridded_inputs(tmp_path: Path) -> None:
    series = write_netcdf_series(tmp_path / "chl.nc", shape=(30, 40))
    gridded = IngestConfig(kind="netcdf", bands=("chlor_a",),
                           gridded=GriddedConfig(("chlor_a",)))  # fmt: skip
    assert scene_size(str(series), gridded) == (30, 40)
    stack = write_geotiff_stack(tmp_path / "rgb.tif", shape=(20, 24))
    assert scene_size(str(stack), IngestConfig(kind="geotiff", bands=("r", "g", "b"))) == (20, 24)
