"""The training pipeline's configuration: one frozen dataclass with documented defaults."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from components.example_gen.config import IngestConfig
from model.config import ModelConfig


@dataclass(frozen=True)
class PipelineConfig:
    """Everything `create_pipeline` needs; saved with every run.

    Attributes:
        pipeline_name: the name runs are recorded under in ML Metadata.
        pipeline_root: where artifacts go (local folder; gs:// on Kubeflow).
        metadata_path: the SQLite ML Metadata file (local runs).
        input_base: the folder the input pattern is relative to.
        input_pattern: a glob under input_base; `{SPAN}` reads the latest span.
        ingest: what the inputs are and how to cut patches.
        train_buckets, eval_buckets: the train/eval split by product, as hash buckets (4:1).
        mask_coverage: the fixed evaluation masks' coverage range.
        mask_kinds: weights of real, fractal, strokes and boxes shapes (None: MaskGen's default).
        mask_seed: the seed of every fixed mask.
        log_reflectance: normalise log10(reflectance) instead of reflectance.
        model: the network and its training (None: stop after Transform).
        train_steps: generator updates the Trainer makes.
        beam_args: Beam pipeline options for every Beam-based component.
    """

    pipeline_name: str
    pipeline_root: str
    metadata_path: str
    input_base: str
    input_pattern: str = "*"
    ingest: IngestConfig = field(default_factory=IngestConfig)
    train_buckets: int = 4
    eval_buckets: int = 1
    mask_coverage: tuple[float, float] = (0.1, 0.7)
    mask_kinds: dict[str, float] | None = None
    mask_seed: int = 0
    log_reflectance: bool = False
    model: ModelConfig | None = field(default_factory=ModelConfig)
    train_steps: int = 1000
    beam_args: tuple[str, ...] = ("--direct_running_mode=in_memory", "--direct_num_workers=1")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)
