"""Run the training pipeline locally: LocalDagRunner, SQLite ML Metadata, Beam DirectRunner."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pipelines.config import PipelineConfig
from pipelines.environment import use_keras_3
from pipelines.preflight import check_inputs
from pipelines.progress import component_progress

CONFIG_FOLDER = "configs"


def run_local(config: PipelineConfig, progress: bool = False) -> None:
    """Run `config`'s pipeline to completion, saving the resolved configuration of the run.

    The configuration goes to `<pipeline_root>/configs/<UTC time>.json`. With `progress`, a line
    is printed (to stderr) as each component starts and finishes.

    Raises:
        pipelines.preflight.InputError: the inputs cannot give a single patch (checked before
            anything runs).
    """
    check_inputs(config)
    use_keras_3()
    # Deferred: TFX imports tensorflow_transform, which would pin Keras 2 unless use_keras_3
    # has run first.
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner

    from pipelines.pipeline import create_pipeline

    saved = Path(config.pipeline_root) / CONFIG_FOLDER
    saved.mkdir(parents=True, exist_ok=True)
    (saved / f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}.json").write_text(config.to_json())
    pipeline = create_pipeline(config)
    if not progress:
        LocalDagRunner().run(pipeline)
        return
    with component_progress([c.id for c in pipeline.components]):
        LocalDagRunner().run(pipeline)
