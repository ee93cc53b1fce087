"""Finding and summarising a local pipeline run's artifacts."""

from __future__ import annotations

from pathlib import Path


def latest_artifact(pipeline_root: str | Path, component: str, output: str) -> Path:
    """The newest artifact folder `<root>/<component>/<output>/<execution id>`."""
    folder = Path(pipeline_root) / component / output
    runs = (
        [p for p in folder.iterdir() if p.is_dir() and p.name.isdigit()] if folder.is_dir() else []
    )
    if not runs:
        raise FileNotFoundError(f"{folder}: no artifact (has the pipeline run?)")
    return max(runs, key=lambda p: int(p.name))


def count_records(split_dir: Path) -> int:
    """Number of records in the gzipped TFRecord files of one split."""
    import tensorflow as tf

    files = sorted(str(p) for p in split_dir.glob("*.gz"))
    return sum(1 for _ in tf.data.TFRecordDataset(files, compression_type="GZIP"))
