"""Output products of the batch job, local or gs://: is one complete, remove a torn one, publish.

A product is complete when its manifest exists and every file it lists has the listed size and
MD5 (on gs://, the objects' own MD5, so nothing is downloaded). Local products are committed by
a rename (ProductWriter); on gs:// the files are uploaded create-only (generation precondition
0) with the manifest last, so a product without a manifest is torn and is redone.
"""

from __future__ import annotations

import base64
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from components.olci.format import MANIFEST
from components.olci.manifest import manifest_entries, verify_product
from components.olci.storage import is_gcs, split_gcs


def _blobs(target: str, client: Any) -> dict[str, Any]:
    bucket, key = split_gcs(target)
    prefix = key.rstrip("/") + "/"
    return {b.name[len(prefix) :]: b for b in client.bucket(bucket).list_blobs(prefix=prefix)}


def output_problems(target: str, gcs_client: Any = None) -> list[str] | None:
    """None when there is no output at `target`; [] when it is complete; else what is wrong."""
    if not is_gcs(target):
        folder = Path(target)
        return verify_product(folder) if folder.exists() else None
    blobs = _blobs(target, gcs_client)
    if not blobs:
        return None
    if MANIFEST not in blobs:
        return [f"{target}/{MANIFEST}: manifest missing"]
    try:
        entries = manifest_entries(blobs[MANIFEST].download_as_bytes())
    except ET.ParseError as err:
        return [f"{target}/{MANIFEST}: manifest is not well-formed XML ({err})"]
    problems = []
    for name, size, md5 in entries:
        blob = blobs.get(name)
        if blob is None:
            problems.append(f"{target}/{name}: listed in the manifest but missing")
        elif size is not None and blob.size != size:
            problems.append(f"{target}/{name}: size {blob.size} != manifest {size}")
        elif md5 is not None and base64.b64decode(blob.md5_hash).hex() != md5:
            problems.append(f"{target}/{name}: MD5 differs from the manifest")
    return problems


def remove_output(target: str, gcs_client: Any = None) -> None:
    """Delete whatever is at `target` (a torn or replaced product)."""
    if not is_gcs(target):
        shutil.rmtree(target, ignore_errors=True)
        return
    for blob in _blobs(target, gcs_client).values():
        blob.delete()


def publish(folder: Path, target: str, gcs_client: Any) -> None:
    """Upload a committed local product to gs:// create-only, the manifest last.

    Raises:
        google.api_core.exceptions.PreconditionFailed: another writer created an object first.
    """
    bucket_name, key = split_gcs(target)
    bucket = gcs_client.bucket(bucket_name)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    files.sort(key=lambda p: p.name == MANIFEST)
    for path in files:
        name = f"{key.rstrip('/')}/{path.relative_to(folder).as_posix()}"
        bucket.blob(name).upload_from_filename(str(path), if_generation_match=0)
