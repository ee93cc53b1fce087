"""Finding and summarising a local pipeline run's artifacts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from components.features import METRICS_FILE, REPORT_FILE


def latest_artifact(pipeline_root: str | Path, component: str, output: str) -> Path:
    """The newest artifact folder `<root>/<component>/<output>/<execution id>`."""
    folder = Path(pipeline_root) / component / output
    runs = (
        [p for p in folder.iterdir() if p.is_dir() and p.name.isdigit()] if folder.is_dir() else []
    )
    if not runs:
        raise FileNotFoundError(f"{folder}: no artifact (has the pipeline run?)")
    return max(runs, key=lambda p: int(p.name))


@dataclass(frozen=True)
class TrainingOutcome:
    """What the last run of a pipeline concluded."""

    metrics: dict  # the SsimEvaluator's metrics.json
    report: Path  # its report.html
    blessed: bool
    pushed_to: str | None  # the pushed model version's folder, None when nothing was pushed


def training_outcome(pipeline_root: str | Path, metadata_path: str | Path) -> TrainingOutcome:
    """The latest evaluation, and whether (and where) the latest Pusher run pushed a model."""
    evaluation = latest_artifact(pipeline_root, "SsimEvaluator", "evaluation")
    metrics = json.loads((evaluation / METRICS_FILE).read_text())
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(metadata_path)
    store = metadata_store.MetadataStore(config)
    pushes = sorted(store.get_artifacts_by_type("PushedModel"), key=lambda a: a.id)
    pushed_to = None
    if pushes and pushes[-1].custom_properties["pushed"].int_value == 1:
        pushed_to = pushes[-1].custom_properties["pushed_destination"].string_value
    return TrainingOutcome(metrics, evaluation / REPORT_FILE, bool(metrics["blessed"]), pushed_to)
