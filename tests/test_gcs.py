"""gs:// products against a real gcp-storage-emulator server (no mocks)."""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from components.olci import open_product


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
