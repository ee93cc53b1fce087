"""Write sample scenes as OLCI L2 WFR products (folders, or zips of them)."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

from components.olci.writer import write_product
from components.sample.scene import sample_dataset


def write_sample_product(
    out_dir: str | os.PathLike[str],
    shape: tuple[int, int],
    seed: int,
    *,
    index: int = 0,
    collection: str = "003",
    cloud_fraction: float | None = None,
    as_zip: bool = False,
) -> Path:
    """Make the sample scene (`shape`, `seed`, `index`) and write it into `out_dir`.

    Returns:
        The `.SEN3` folder, or the `.SEN3.zip` holding it when `as_zip`.
    """
    ds = sample_dataset(shape, seed, collection=collection, index=index,
                        cloud_fraction=cloud_fraction)  # fmt: skip
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    folder = write_product(ds, out / ds.attrs["product_name"], overwrite=True)
    if not as_zip:
        return folder
    archive = folder.with_name(folder.name + ".zip")
    tmp = archive.with_name("." + archive.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for item in sorted(folder.iterdir()):
            zf.write(item, f"{folder.name}/{item.name}")
    tmp.replace(archive)
    shutil.rmtree(folder)
    return archive
