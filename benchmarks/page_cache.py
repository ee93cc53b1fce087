"""Warming the page cache before a benchmark, so no measured run pays for the first disk read."""

from __future__ import annotations

from pathlib import Path


def warm_page_cache(folder: Path) -> None:
    """Read every file under `folder` once."""
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as f:
                while f.read(1 << 24):
                    continue
