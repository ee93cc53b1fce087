"""Shared fixtures: tiny sample products and a real local GCS emulator server."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from gcp_storage_emulator.server import create_server

from pipelines.environment import use_keras_3

use_keras_3()  # before any test imports TensorFlow or tensorflow_transform

from components.example_gen.config import IngestConfig  # noqa: E402
from components.olci import storage  # noqa: E402
from components.sample.products import write_sample_product  # noqa: E402
from model.config import ModelConfig  # noqa: E402
from pipelines.config import PipelineConfig  # noqa: E402
from pipelines.local_runner import run_local  # noqa: E402

TINY = (64, 80)


@pytest.fixture(scope="session")
def products_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("products")


@pytest.fixture(scope="session")
def product(products_dir: Path) -> Path:
    """A tiny collection-003 product folder (treat as read-only)."""
    return write_sample_product(products_dir / "c003", TINY, seed=7, cloud_fraction=0.3)


@pytest.fixture(scope="session")
def product_004(products_dir: Path) -> Path:
    """The same scene as `product`, written as collection 004 (Rrs, other WQSF bits)."""
    return write_sample_product(
        products_dir / "c004", TINY, seed=7, collection="004", cloud_fraction=0.3
    )


@pytest.fixture(scope="session")
def product_zip(products_dir: Path) -> Path:
    return write_sample_product(products_dir / "zip", TINY, seed=7, cloud_fraction=0.3,
                                as_zip=True)  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def gcs() -> Iterator[object]:
    """A google.cloud.storage client talking to a gcp-storage-emulator server on 127.0.0.1."""
    port = _free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    previous = os.environ.get("STORAGE_EMULATOR_HOST")
    os.environ["STORAGE_EMULATOR_HOST"] = f"http://127.0.0.1:{port}"
    storage._gcs_client.cache_clear()  # the project's own client, now for the emulator
    try:
        yield storage.default_gcs_client()
    finally:
        storage._gcs_client.cache_clear()
        server.stop()
        if previous is None:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = previous


def _upload_folder(client, bucket: str, folder: Path, prefix: str) -> str:
    b = client.bucket(bucket)
    for item in sorted(folder.iterdir()):
        b.blob(f"{prefix}/{folder.name}/{item.name}").upload_from_filename(str(item))
    return f"gs://{bucket}/{prefix}/{folder.name}"


@pytest.fixture(scope="session")
def upload_folder():
    """upload_folder(client, bucket, folder, prefix) -> gs://bucket/prefix/<folder name>."""
    return _upload_folder


@dataclass(frozen=True)
class PipelineRun:
    """A finished local pipeline run on tiny products (see `olci_run`)."""

    root: Path  # the pipeline root
    base: Path  # the archive: span-1/ and span-2/ of products
    corrupt: Path  # a product of span 2 with a truncated band file
    patch: int  # patch size
    ingest: IngestConfig  # the run's ingest configuration, which its examples record


@pytest.fixture(scope="session")
def olci_run(tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    """The whole pipeline on LocalDagRunner over two spans of tiny products, run once."""
    base = tmp_path_factory.mktemp("archive")
    for span, seeds in ((1, (11,)), (2, (21, 22, 23, 24, 25, 26))):
        for seed in seeds:
            write_sample_product(base / f"span-{span}", (64, 64), seed, cloud_fraction=0.25)
    good = next((base / "span-2").iterdir())
    corrupt = base / "span-2" / good.name.replace("_MAR_", "_LN1_")
    shutil.copytree(good, corrupt)
    band = corrupt / "Oa07_reflectance.nc"
    band.write_bytes(band.read_bytes()[:2000])

    root = tmp_path_factory.mktemp("pipeline")
    patch = 16
    ingest = IngestConfig(patch_size=patch, min_valid=0.99)
    run_local(
        PipelineConfig(
            pipeline_name="s3inpaint-test",
            pipeline_root=str(root),
            metadata_path=str(root / "metadata.sqlite"),
            input_base=str(base),
            input_pattern="span-{SPAN}/*",
            ingest=ingest,
            eval_buckets=2,
            train_buckets=3,
            model=ModelConfig(
                width=4, discriminator_width=4, batch_size=4, checkpoint_every=2, log_every=1
            ),
            train_steps=3,
        )
    )
    return PipelineRun(root, base, corrupt, patch, ingest)
