"""Compile the training pipeline into a KFP v2 PipelineSpec YAML (Kubeflow Pipelines, Vertex).

The same `create_pipeline(config)` as local runs, compiled by TFX's KubeflowV2DagRunner with
the project's container image for every component, per-component resources (GPUs for the
Trainer) and the runtime parameters of `pipelines.pipeline.runtime_parameters`, whose defaults
are the configuration's values. The file is the PipelineSpec itself (`.yaml`, schema 2.1), which
the kfp Client and Vertex accept; TFX's default `pipeline.json` is a PipelineJob wrapper the kfp
Client rejects.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml
from kfp.pipeline_spec import pipeline_spec_pb2

from pipelines.config import PipelineConfig
from pipelines.environment import use_keras_3

TRAINER = "Trainer"
# Components that hold a model or many scenes in memory get more than the default. TFX's V2
# compiler ignores resources on a FileBasedExampleGen (OlciExampleGen): it gets the cluster's.
HEAVY = ("Trainer", "SsimEvaluator", "Transform")


@dataclass(frozen=True)
class KubeflowSettings:
    """Where and with what the compiled pipeline runs.

    Attributes:
        image: the container image built from kubeflow/Dockerfile (registry path and tag).
        trainer_gpus: GPUs for the Trainer (0: CPU only).
        gpu_type: the accelerator type, as KFP / Vertex name it.
        cpu, memory_gb: limits of every other component.
        heavy_cpu, heavy_memory_gb: limits of the Trainer, SsimEvaluator and Transform.
    """

    image: str
    trainer_gpus: int = 1
    gpu_type: str = "NVIDIA_TESLA_T4"
    cpu: float = 2.0
    memory_gb: float = 8.0
    heavy_cpu: float = 8.0
    heavy_memory_gb: float = 32.0

    def __post_init__(self) -> None:
        if not self.image:
            raise ValueError("image is empty: give the pushed container image")
        if self.trainer_gpus < 0 or min(self.cpu, self.memory_gb) <= 0:
            raise ValueError("trainer_gpus must be >= 0 and cpu, memory_gb positive")


def _resources(settings: KubeflowSettings, component_id: str):
    spec = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec.ResourceSpec
    heavy = component_id in HEAVY
    resources = spec(
        cpu_limit=settings.heavy_cpu if heavy else settings.cpu,
        memory_limit=settings.heavy_memory_gb if heavy else settings.memory_gb,
    )
    if component_id == TRAINER and settings.trainer_gpus:
        resources.accelerator.type = settings.gpu_type
        resources.accelerator.count = settings.trainer_gpus
    return resources


def compile_pipeline(
    config: PipelineConfig, settings: KubeflowSettings, output: str | os.PathLike[str]
) -> Path:
    """Write the PipelineSpec YAML of `config` for KFP v2 to `output` and return its path.

    Raises:
        ValueError: `output` does not end in .yaml / .yml, or the pipeline root is not gs://.
    """
    use_keras_3()
    # Deferred: TFX imports tensorflow_transform, which would pin Keras 2 unless use_keras_3
    # has run first.
    from tfx.orchestration.kubeflow.v2.kubeflow_v2_dag_runner import (
        KubeflowV2DagRunner,
        KubeflowV2DagRunnerConfig,
    )

    from pipelines.pipeline import create_pipeline, runtime_parameters

    path = Path(output)
    if path.suffix not in (".yaml", ".yml"):
        raise ValueError(f"{path}: the compiled spec must be .yaml (the kfp Client's format)")
    if not config.pipeline_root.startswith("gs://"):
        raise ValueError(f"pipeline_root {config.pipeline_root!r}: Kubeflow runs need gs://")
    pipeline = create_pipeline(config, local=False)
    for component in pipeline.components:
        if not component.id.endswith("resolver"):
            component.with_platform_config(_resources(settings, component.id))
    runner = KubeflowV2DagRunner(
        KubeflowV2DagRunnerConfig(
            display_name=config.pipeline_name,
            default_image=settings.image,
            use_pipeline_spec_2_1=True,  # the schema the kfp 2 SDK and backend use
        ),
        output_dir=str(path.parent),
        output_filename=path.name,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    runner.run(pipeline)
    # TFX leaves the root to the run's request; the spec's default makes the file self-contained.
    spec = yaml.safe_load(path.read_text())
    spec["defaultPipelineRoot"] = config.pipeline_root
    # TFX puts runtime parameters' defaults in a PipelineJob, not in the spec: a run that sets
    # none of them gets the configuration's values from here.
    declared = spec["root"]["inputDefinitions"]["parameters"]
    for name, parameter in runtime_parameters(config).items():
        declared[name].update(defaultValue=parameter.default, isOptional=True)
    path.write_text(f"# s3inpaint {config.pipeline_name}: KFP v2 PipelineSpec compiled by TFX\n"
                    + yaml.safe_dump(spec, sort_keys=True))  # fmt: skip
    return path
