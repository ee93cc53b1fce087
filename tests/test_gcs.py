"""gs:// products against a real gcp-storage-emulator server (no mocks)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import xarray as xr

from components.olci import open_product, storage
from components.olci.errors import MissingCredentialsError
from pipelines.cli import main


def test_folder_on_gcs_reads_like_local(gcs, upload_folder, product: Path) -> None:
    gcs.create_bucket("archive-folder")
    url = upload_folder(gcs, "archive-folder", product, "olci/2023")
    with open_product(url, gcs_client=gcs) as remote, open_product(product) as local:
        assert remote.encoding["source"] == url
        xr.testing.assert_identical(remote.load(), local.load())
        copy = Path(remote.encoding["source_folder"])
        assert copy.is_dir()
    assert not copy.exists()


def test_zip_on_gcs_reads_like_local(gcs, product: Path, product_zip: Path) -> None:
    bucket = gcs.create_bucket("archive-zip")
    bucket.blob(f"olci/{product_zip.name}").upload_from_filename(str(product_zip))
    url = f"gs://archive-zip/olci/{product_zip.name}"
    with open_product(url, gcs_client=gcs) as remote, open_product(product) as local:
        xr.testing.assert_identical(remote.load(), local.load())


@pytest.fixture
def no_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No Google Cloud credentials anywhere google-auth looks, and no emulator."""
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))  # no gcloud ADC file
    monkeypatch.setenv("NO_GCE_CHECK", "True")  # not on Compute Engine: no metadata server
    storage._gcs_client.cache_clear()
    yield
    storage._gcs_client.cache_clear()


def test_missing_credentials_are_named_not_anonymous(no_credentials, capsys) -> None:
    with pytest.raises(MissingCredentialsError, match="no Google Cloud credentials: tried"):
        storage.default_gcs_client()
    url = "gs://private-archive/olci/*.SEN3"
    with pytest.raises(MissingCredentialsError) as caught:
        storage.list_products(url)
    assert str(caught.value).startswith(f"{url}: no Google Cloud credentials")
    assert "GOOGLE_APPLICATION_CREDENTIALS" in str(caught.value)
    product = "gs://private-archive/olci/S3A_OL_2_WFR____x.SEN3"
    assert main(["info", product]) == 1
    assert f"error: {product}: no Google Cloud credentials" in capsys.readouterr().err


def test_a_missing_key_file_is_named(no_credentials, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "key.json"))
    with pytest.raises(MissingCredentialsError, match=r"key\.json"):
        storage.default_gcs_client("gs://b/p.SEN3")


def test_commands_stop_before_any_work_without_credentials(
    no_credentials, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "filled"
    args = ["--model", "gs://b/serving/1", "--input", "gs://b/olci/*.SEN3", "--output", str(out)]
    assert main(["inpaint", *args]) == 2
    assert "s3inpaint inpaint: gs://b/olci/*.SEN3: no Google Cloud credentials" in (
        capsys.readouterr().err
    )
    assert not out.exists()
    config = tmp_path / "train.yaml"
    config.write_text("pipeline_name: p\npipeline_root: root\ninput_base: gs://b/olci\n")
    assert main(["train", "--config", str(config)]) == 2
    assert f"{config}: gs://b/olci: no Google Cloud credentials" in capsys.readouterr().err
    assert not (tmp_path / "root").exists()


def test_object_operations_name_objects_by_url(gcs, tmp_path: Path) -> None:
    gcs.create_bucket("objects")
    assert storage.gcs_bucket_exists("gs://objects/out", client=gcs)
    assert not storage.gcs_bucket_exists("gs://no-such-bucket/out", client=gcs)
    assert storage.gcs_object("gs://objects/out/a.nc", client=gcs) is None
    local = tmp_path / "a.nc"
    local.write_bytes(b"abc")
    storage.upload_file(local, "gs://objects/out/a.nc", generation=0, client=gcs)
    generation = storage.upload_bytes(b"{}", "gs://objects/out/sub/b.json", generation=0,
                                      content_type="application/json", client=gcs)  # fmt: skip
    found = storage.gcs_objects("gs://objects/out", client=gcs)
    assert sorted(found) == ["a.nc", "sub/b.json"]
    assert found["a.nc"].url == "gs://objects/out/a.nc"
    assert (found["a.nc"].size, found["a.nc"].md5) == (3, hashlib.md5(b"abc").hexdigest())
    assert storage.gcs_object("gs://objects/out/sub/b.json", client=gcs).generation == generation
    assert storage.download_bytes("gs://objects/out/sub/b.json", client=gcs) == b"{}"
    with storage.local_copy("gs://objects/out/a.nc") as copy:
        assert copy.name == "a.nc" and copy.read_bytes() == b"abc"
    assert not copy.exists()
    storage.delete_object("gs://objects/out/a.nc", client=gcs)
    assert sorted(storage.gcs_objects("gs://objects/out", client=gcs)) == ["sub/b.json"]
