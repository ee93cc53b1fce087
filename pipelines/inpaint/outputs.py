"""Output products of the batch job, local or gs://: is one complete, remove a torn one, publish.

A product is complete when its manifest exists and every file it lists has the listed size and
MD5 (on gs://, the objects' own MD5, so nothing is downloaded). Local products are committed by
a rename (ProductWriter); on gs:// the files are uploaded create-only (generation precondition
0) with the manifest last, so a product without a manifest is torn and is redone.

Before a job reads any product, `check_output` makes sure the output can take its products.
"""

from __future__ import annotations

import shutil
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

from components.olci.format import MANIFEST
from components.olci.manifest import manifest_entries, verify_product
from components.olci.storage import (
    delete_object,
    download_bytes,
    gcs_bucket_exists,
    gcs_object,
    gcs_objects,
    is_gcs,
    split_gcs,
    upload_file,
)

# Room a product's output takes, as a multiple of its input's size: the product itself, its
# fill description (with σ), the quicklook and GeoTIFF, the blocks staged while it is filled.
OUTPUT_SIZE_FACTOR = 1.5


def output_problems(target: str, gcs_client: Any = None) -> list[str] | None:
    """None when there is no output at `target`; [] when it is complete; else what is wrong."""
    if not is_gcs(target):
        folder = Path(target)
        return verify_product(folder) if folder.exists() else None
    objects = gcs_objects(target, client=gcs_client)
    if not objects:
        return None
    if MANIFEST not in objects:
        return [f"{target}/{MANIFEST}: manifest missing"]
    try:
        entries = manifest_entries(download_bytes(objects[MANIFEST].url, client=gcs_client))
    except ET.ParseError as err:
        return [f"{target}/{MANIFEST}: manifest is not well-formed XML ({err})"]
    problems = []
    for name, size, md5 in entries:
        found = objects.get(name)
        if found is None:
            problems.append(f"{target}/{name}: listed in the manifest but missing")
        elif size is not None and found.size != size:
            problems.append(f"{target}/{name}: size {found.size} != manifest {size}")
        elif md5 is not None and found.md5 != md5:
            problems.append(f"{target}/{name}: MD5 differs from the manifest")
    return problems


def remove_output(target: str, gcs_client: Any = None) -> None:
    """Delete whatever is at `target` (a torn or replaced product)."""
    if not is_gcs(target):
        shutil.rmtree(target, ignore_errors=True)
        return
    for found in gcs_objects(target, client=gcs_client).values():
        delete_object(found.url, client=gcs_client)


def publish(folder: Path, target: str, gcs_client: Any) -> None:
    """Upload a committed local product to gs:// create-only, the manifest last.

    Raises:
        google.api_core.exceptions.PreconditionFailed: another writer created an object first.
    """
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    files.sort(key=lambda p: p.name == MANIFEST)
    for path in files:
        url = f"{target.rstrip('/')}/{path.relative_to(folder).as_posix()}"
        upload_file(path, url, generation=0, client=gcs_client)


def product_bytes(path: str, gcs_client: Any = None) -> int:
    """A product's size: the sum of its files' sizes (of a local zip, its members' unpacked)."""
    if is_gcs(path):
        sizes = [found.size for found in gcs_objects(path, client=gcs_client).values()]
        if sizes:
            return sum(sizes)
        archive = gcs_object(path, client=gcs_client)
        return archive.size if archive is not None else 0
    local = Path(path)
    if local.is_dir():
        return sum(f.stat().st_size for f in local.rglob("*") if f.is_file())
    if zipfile.is_zipfile(local):
        with zipfile.ZipFile(local) as archive:
            return sum(member.file_size for member in archive.infolist())
    return local.stat().st_size


def _size(n: float) -> str:
    units = ("B", "kB", "MB", "GB", "TB", "PB")
    step = 0
    while n >= 1000 and step < len(units) - 1:
        n, step = n / 1000, step + 1
    return f"{n:.1f} {units[step]}"


def check_output(output: str, first_product_bytes: int, gcs_client: Any = None) -> None:
    """Make sure `output` can take the job's products before any is read: a folder (created when
    missing) that this process can write, with room for the first product (estimated as
    OUTPUT_SIZE_FACTOR times its input's size) where it is written (a gs:// output's products
    are written in the local temporary folder first, then uploaded).

    Raises:
        ValueError: naming the output and what is wrong with it.
    """
    needed = int(first_product_bytes * OUTPUT_SIZE_FACTOR)
    if is_gcs(output):
        bucket_name, _ = split_gcs(output)
        if not gcs_bucket_exists(output, client=gcs_client):
            raise ValueError(f"--output {output}: the bucket {bucket_name} does not exist")
        _check_room(tempfile.gettempdir(), needed, f"--output {output}: the local temporary "
                                                   f"folder {tempfile.gettempdir()}")  # fmt: skip
        return
    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--output {output} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder, prefix=".s3inpaint-probe-"):
            pass
    except OSError as error:
        raise ValueError(f"--output {output} cannot be written: {error.strerror} "
                         f"({error.filename or output})") from None  # fmt: skip
    _check_room(folder, needed, f"--output {output}")


def _check_room(folder: str | Path, needed: int, what: str) -> None:
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise ValueError(f"{what} has {_size(free)} free; the first product needs about "
                         f"{_size(needed)} ({OUTPUT_SIZE_FACTOR} x its input's size)")  # fmt: skip
