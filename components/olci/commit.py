"""Atomic commits: a product folder or a file is assembled under a temporary name beside its
target and renamed into place, so a killed writer leaves a temporary (see
`remove_stale_temporaries`), never a torn output under the final name."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

from components.olci.storage import is_gcs

TEMP_MARK = ".tmp-"  # in the names of what is being written: .<target name>.tmp-<id>


def local_target(path: str | os.PathLike[str], overwrite: bool) -> Path:
    """`path` as a local target to write.

    Raises:
        ValueError: `path` is a gs:// URL.
        FileExistsError: `path` exists and `overwrite` is False.
    """
    if is_gcs(path):
        raise ValueError(f"{path}: products are written to local folders; copy the result to gs://")
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target}: exists (pass overwrite=True to replace it)")
    return target


def temp_name(target: Path) -> Path:
    """A fresh temporary name beside `target`."""
    return target.parent / f".{target.name}{TEMP_MARK}{uuid.uuid4().hex[:8]}"


def temp_folder(target: Path) -> Path:
    """A fresh temporary folder beside `target`, created."""
    tmp = temp_name(target)
    tmp.mkdir(parents=True)
    return tmp


def rename_into_place(tmp: Path, target: Path, overwrite: bool) -> None:
    """Rename `tmp` to `target`; an existing target is renamed aside first, then removed.

    Between the two renames a killed process leaves nothing at `target`, never a torn output.
    """
    if not target.exists():
        tmp.rename(target)
        return
    if not overwrite:
        raise FileExistsError(f"{target}: exists (pass overwrite=True to replace it)")
    old = temp_name(target)
    target.rename(old)
    tmp.rename(target)
    if old.is_dir():
        shutil.rmtree(old)
    else:
        old.unlink()


def remove_stale_temporaries(folder: str | os.PathLike[str], *, older_than: float) -> list[Path]:
    """Remove the temporary folders and files that killed writers left in `folder`; return them.

    A temporary is stale when neither it nor anything in it was modified for `older_than`
    seconds, so those of writers still at work are kept.
    """
    removed = []
    for item in sorted(Path(folder).glob(f".*{TEMP_MARK}*")):
        inside = list(item.iterdir()) if item.is_dir() else []
        newest = max(p.stat().st_mtime for p in [item, *inside])
        if time.time() - newest < older_than:
            continue
        if item.is_dir():
            shutil.rmtree(item)
        else:
            item.unlink()
        removed.append(item)
    return removed
