"""Every gs:// access the project makes itself, and products (folders or zips, local or gs://)
brought to a local `.SEN3` folder that can be read.

Local folders are read in place. Zips are extracted, and gs:// products downloaded, into a
temporary folder that the caller removes with `LocalProduct.cleanup()` (the reader ties it to the
dataset's `close()`).

The project's own object operations on gs:// (listing, reading, create-only uploads and the other
generation preconditions, deletes) go through google-cloud-storage here, and only here; each takes
an optional client (default: `default_gcs_client`). Objects are named by their gs:// URLs, and
their metadata comes back as `GcsObject`, so no caller handles the library's types.
"""

from __future__ import annotations

import base64
import fnmatch
import functools
import glob
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import google.auth.exceptions

from components.olci.errors import (
    MissingCredentialsError,
    NotAProductError,
    ProductNotFoundError,
    UnsafeArchiveError,
)

GS_PREFIX = "gs://"
_DOWNLOAD_THREADS = 8


@dataclass
class LocalProduct:
    """A product available as a local folder."""

    folder: Path
    source: str
    _cleanup: Callable[[], None] | None = field(default=None, repr=False)

    def cleanup(self) -> None:
        """Remove the temporary copy, if one was made; idempotent."""
        if self._cleanup is not None:
            self._cleanup()
            self._cleanup = None


def is_gcs(path: str | os.PathLike[str]) -> bool:
    return str(path).startswith(GS_PREFIX)


def split_gcs(url: str) -> tuple[str, str]:
    """`gs://bucket/key` -> (bucket, key), key without a trailing slash."""
    bucket, _, key = url[len(GS_PREFIX) :].partition("/")
    if not bucket:
        raise ProductNotFoundError(url, "gs:// URL has no bucket name")
    return bucket, key.rstrip("/")


NO_CREDENTIALS = (
    "no Google Cloud credentials: tried the key file named by GOOGLE_APPLICATION_CREDENTIALS, "
    "gcloud's application-default credentials and the Compute Engine metadata server ({why}); "
    "run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a "
    "service-account key file"
)


def default_gcs_client(url: str = GS_PREFIX) -> Any:
    """The google-cloud-storage client every gs:// access of the project goes through.

    It uses Google's application default credentials; with STORAGE_EMULATOR_HOST set (a local
    storage emulator, as in the tests) it is anonymous, as emulators expect.

    Raises:
        MissingCredentialsError: no credentials were found (`url`, the path being accessed,
            heads the message), rather than an anonymous client that fails later with "no
            such object" on every private bucket.
    """
    try:
        return _gcs_client()
    except google.auth.exceptions.DefaultCredentialsError as error:
        raise MissingCredentialsError(url, NO_CREDENTIALS.format(why=error)) from None


def require_credentials(*paths: str) -> None:
    """Raise `MissingCredentialsError` now if any of `paths` is on gs:// and there are no
    credentials: Beam's and TensorFlow's own gs:// file systems would go on anonymously and fail
    later, on the first private object."""
    for path in paths:
        if is_gcs(path):
            default_gcs_client(path)


@functools.lru_cache(maxsize=1)
def _gcs_client() -> Any:
    # Deferred: google-cloud-storage takes seconds to import and only gs:// paths need it.
    from google.cloud import storage

    if os.environ.get("STORAGE_EMULATOR_HOST"):  # read by google-cloud-storage itself, too
        return storage.Client.create_anonymous_client()
    return storage.Client()


def gcs_client(path: str) -> Any:
    """The storage client for `path` when it is gs://, else None."""
    return default_gcs_client(path) if is_gcs(path) else None


@dataclass(frozen=True)
class GcsObject:
    """What the project reads of a gs:// object's metadata."""

    url: str
    size: int
    md5: str | None  # hexadecimal; None for objects without one (composed objects)
    generation: int
    updated: float | None  # seconds since the epoch


def _object(bucket_name: str, blob: Any) -> GcsObject:
    return GcsObject(
        url=f"{GS_PREFIX}{bucket_name}/{blob.name}",
        size=blob.size,
        md5=base64.b64decode(blob.md5_hash).hex() if blob.md5_hash else None,
        generation=blob.generation,
        updated=blob.updated.timestamp() if blob.updated else None,
    )


def _bucket(url: str, client: Any) -> tuple[Any, str]:
    bucket_name, key = split_gcs(url)
    return (client or default_gcs_client(url)).bucket(bucket_name), key


def gcs_object(url: str, *, client: Any = None) -> GcsObject | None:
    """The object at `url`, None when there is none."""
    bucket, key = _bucket(url, client)
    blob = bucket.get_blob(key)
    return _object(bucket.name, blob) if blob is not None else None


def gcs_objects(url: str, *, client: Any = None) -> dict[str, GcsObject]:
    """The objects under the folder `url`, by their names relative to it."""
    bucket, key = _bucket(url, client)
    prefix = key + "/"
    return {b.name[len(prefix) :]: _object(bucket.name, b)
            for b in bucket.list_blobs(prefix=prefix)}  # fmt: skip


def gcs_bucket_exists(url: str, *, client: Any = None) -> bool:
    """Whether the bucket of `url` exists."""
    bucket_name, _ = split_gcs(url)
    return (client or default_gcs_client(url)).lookup_bucket(bucket_name) is not None


def download_bytes(url: str, *, generation: int | None = None, client: Any = None) -> bytes:
    """The object at `url`; with `generation`, only that generation of it.

    Raises:
        google.api_core.exceptions.NotFound: no object at `url`.
        google.api_core.exceptions.PreconditionFailed: the object is another generation.
    """
    bucket, key = _bucket(url, client)
    return bucket.blob(key).download_as_bytes(if_generation_match=generation)


def upload_file(local: str | os.PathLike[str], url: str, *, generation: int = 0,
                client: Any = None) -> None:  # fmt: skip
    """Upload a local file as the object `url`: create-only (`generation` 0), or replacing
    exactly that generation of the object, a precondition GCS applies atomically.

    Raises:
        google.api_core.exceptions.PreconditionFailed: the object is not at `generation`
            (with 0: another writer created it first).
    """
    bucket, key = _bucket(url, client)
    bucket.blob(key).upload_from_filename(str(local), if_generation_match=generation)


def upload_bytes(data: bytes, url: str, *, generation: int, content_type: str,
                 client: Any = None) -> int:  # fmt: skip
    """Write `data` as the object `url` on the same precondition as `upload_file`; the new
    object's generation.

    Raises:
        google.api_core.exceptions.PreconditionFailed: the object is not at `generation`.
    """
    bucket, key = _bucket(url, client)
    blob = bucket.blob(key)
    blob.upload_from_string(data, content_type=content_type, if_generation_match=generation)
    return blob.generation


def delete_object(url: str, *, generation: int | None = None, client: Any = None) -> None:
    """Delete the object at `url`; with `generation`, only when it is that generation.

    Raises:
        google.api_core.exceptions.NotFound: no object at `url`.
        google.api_core.exceptions.PreconditionFailed: the object is another generation.
    """
    bucket, key = _bucket(url, client)
    bucket.blob(key).delete(if_generation_match=generation)


@contextmanager
def local_copy(path: str) -> Iterator[Path]:
    """`path` as a local file: itself, or a gs:// object downloaded to a temporary folder."""
    if not is_gcs(path):
        yield Path(path)
        return
    bucket, key = _bucket(path, None)
    with tempfile.TemporaryDirectory(prefix="s3inpaint-") as tmp:
        local = Path(tmp) / key.rsplit("/", 1)[-1]
        bucket.blob(key).download_to_filename(str(local))
        yield local


def list_products(pattern: str, *, gcs_client: Any = None) -> list[str]:
    """Products matching a glob, local or gs://, sorted.

    A match is a `.zip` file or a folder. On gs:// a folder product is a prefix, so an object
    matches when the pattern matches one of its parent prefixes (the folder itself).
    """
    if not is_gcs(pattern):
        return sorted(glob.glob(pattern))
    bucket_name, key_pattern = split_gcs(pattern)
    fixed = key_pattern.split("*")[0].split("?")[0].split("[")[0]
    client = gcs_client or default_gcs_client(pattern)
    found = set()
    for blob in client.bucket(bucket_name).list_blobs(prefix=fixed):
        parts = PurePosixPath(blob.name).parts
        for depth in range(1, len(parts) + 1):
            candidate = "/".join(parts[:depth])
            if fnmatch.fnmatchcase(candidate, key_pattern):
                found.add(f"{GS_PREFIX}{bucket_name}/{candidate}")
                break
    return sorted(found)


def materialise(
    path: str | os.PathLike[str], *, gcs_client: Any = None, workdir: str | None = None
) -> LocalProduct:
    """A local folder holding the product at `path`.

    Args:
        path: a `.SEN3` folder or a `.zip`, local or `gs://bucket/...`.
        gcs_client: a google.cloud.storage.Client for gs:// paths (default: `default_gcs_client`).
        workdir: where temporary copies go (default: the system temporary folder).

    Raises:
        ProductNotFoundError: nothing exists at `path`.
        NotAProductError: `path` is a file that is not a zip.
        UnsafeArchiveError: a zip member would land outside the extraction folder.
    """
    source = str(path)
    if is_gcs(source):
        return _from_gcs(source, gcs_client or default_gcs_client(source), workdir)
    local = Path(source)
    if local.is_dir():
        return LocalProduct(local, source)
    if not local.exists():
        raise ProductNotFoundError(source, "no such file or folder")
    if not zipfile.is_zipfile(local):
        raise NotAProductError(source, "not a .SEN3 folder or a .zip of one")
    tmp = Path(tempfile.mkdtemp(prefix="s3inpaint-", dir=workdir))
    try:
        folder = extract_zip(local, tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return LocalProduct(folder, source, functools.partial(shutil.rmtree, tmp, True))


def read_product_file(path: str, name: str, *, gcs_client: Any = None) -> bytes:
    """The bytes of file `name` of the product at `path` (a folder or a zip, local or gs://),
    read without fetching or extracting the rest of the product.

    Raises:
        ProductNotFoundError: `path` does not exist, or the product has no file `name`.
        NotAProductError: `path` is a file that is not a zip.
    """
    if is_gcs(path):
        bucket_name, key = split_gcs(path)
        bucket = (gcs_client or default_gcs_client(path)).bucket(bucket_name)
        if not key.endswith(".zip"):
            blob = bucket.get_blob(f"{key}/{name}")
            if blob is None:
                raise ProductNotFoundError(path, f"no {name}")
            return blob.download_as_bytes()
        archive = bucket.get_blob(key)
        if archive is None:
            raise ProductNotFoundError(path, "no such object")
        with archive.open("rb") as f:  # ranged reads: the directory, then one member
            return _zip_member(f, path, name)
    local = Path(path)
    if local.is_dir():
        if not (local / name).is_file():
            raise ProductNotFoundError(path, f"no {name}")
        return (local / name).read_bytes()
    if not local.exists():
        raise ProductNotFoundError(path, "no such file or folder")
    if not zipfile.is_zipfile(local):
        raise NotAProductError(path, "not a .SEN3 folder or a .zip of one")
    with open(local, "rb") as f:
        return _zip_member(f, path, name)


def _zip_member(f: Any, path: str, name: str) -> bytes:
    with zipfile.ZipFile(f) as archive:
        members = [m for m in archive.namelist() if PurePosixPath(m).name == name]
        if not members:
            raise ProductNotFoundError(path, f"no {name} in the zip")
        return archive.read(min(members, key=len))


def extract_zip(archive: Path, dest: Path) -> Path:
    """Extract `archive` into `dest` safely and return the product folder inside it.

    Every member is checked before anything is written: absolute names, `..` components and
    symbolic links are refused, so a hostile zip cannot write outside `dest`.
    """
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        for info in members:
            _check_member(archive, info)
        bad = zf.testzip()
        if bad is not None:
            raise NotAProductError(archive, f"zip member {bad!r} is corrupt (CRC mismatch)")
        zf.extractall(dest)
    tops = {PurePosixPath(m.filename).parts[0] for m in members if m.filename.strip("/")}
    if len(tops) == 1:
        top = dest / tops.pop()
        if top.is_dir():
            return top
    # Files at the top level of the zip: name the folder after the archive.
    name = archive.name.removesuffix(".zip")
    folder = dest / (name if name.endswith(".SEN3") else name + ".SEN3")
    folder.mkdir()
    for item in list(dest.iterdir()):
        if item != folder:
            item.rename(folder / item.name)
    return folder


def _check_member(archive: Path, info: zipfile.ZipInfo) -> None:
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or (parts and ":" in parts[0]) or ".." in parts:
        raise UnsafeArchiveError(archive, f"zip member {name!r} escapes the target folder")
    mode = info.external_attr >> 16
    if (mode & 0o170000) == 0o120000:
        raise UnsafeArchiveError(archive, f"zip member {name!r} is a symbolic link")


def _from_gcs(url: str, client: Any, workdir: str | None) -> LocalProduct:
    bucket_name, key = split_gcs(url)
    bucket = client.bucket(bucket_name)
    tmp = Path(tempfile.mkdtemp(prefix="s3inpaint-", dir=workdir))
    cleanup = functools.partial(shutil.rmtree, tmp, True)
    try:
        folder = _download(url, bucket, key, tmp)
    except BaseException:
        cleanup()
        raise
    return LocalProduct(folder, url, cleanup)


def _download(url: str, bucket: Any, key: str, tmp: Path) -> Path:
    # Deferred: google-api-core takes a second to import and only gs:// paths need it.
    from google.api_core.exceptions import NotFound

    blobs = [b for b in bucket.list_blobs(prefix=key + "/") if not b.name.endswith("/")]
    if blobs:
        folder = tmp / PurePosixPath(key).name
        targets = []
        for blob in blobs:
            relative = PurePosixPath(blob.name[len(key) + 1 :])
            if ".." in relative.parts:
                raise UnsafeArchiveError(url, f"object {blob.name!r} escapes the product folder")
            target = folder.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            targets.append((blob, target))
        with ThreadPoolExecutor(_DOWNLOAD_THREADS) as pool:
            list(pool.map(lambda bt: bt[0].download_to_filename(str(bt[1])), targets))
        return folder
    blob = bucket.blob(key)
    archive = tmp / PurePosixPath(key).name
    try:
        blob.download_to_filename(str(archive))
    except NotFound:
        archive.unlink(missing_ok=True)
        raise ProductNotFoundError(url, "no such object or folder in the bucket") from None
    if not zipfile.is_zipfile(archive):
        raise NotAProductError(url, "not a .SEN3 folder or a .zip of one")
    extracted = tmp / "extracted"
    extracted.mkdir()
    folder = extract_zip(archive, extracted)
    archive.unlink()
    return folder
