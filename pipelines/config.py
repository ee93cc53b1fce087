"""The training pipeline's configuration: one frozen dataclass with documented defaults.

A configuration file (YAML or JSON) holds the same fields; nested `ingest`, `model` and
`evaluator` sections take the fields of their own dataclasses, and anything left out keeps its
default. Relative paths in a file are relative to the file's folder.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from components.evaluator.config import EvaluatorConfig
from components.example_gen.config import IngestConfig
from components.example_gen.spans import check_window
from model.config import ModelConfig

SERVING_FOLDER, METADATA_FILE = "serving", "metadata.sqlite"
PATH_FIELDS = ("pipeline_root", "metadata_path", "input_base", "serving_dir")


@dataclass(frozen=True)
class PipelineConfig:
    """Everything `create_pipeline` needs; saved with every run.

    Attributes:
        pipeline_name: the name runs are recorded under in ML Metadata.
        pipeline_root: where artifacts go (local folder; gs:// on Kubeflow).
        input_base: the folder the input pattern is relative to.
        metadata_path: the SQLite ML Metadata file of local runs (default:
            `<pipeline_root>/metadata.sqlite`).
        input_pattern: a glob under input_base; `{SPAN}` (or `{YYYY}{MM}{DD}`) reads the latest
            span, e.g. "{SPAN}/*.SEN3" with one folder of products per month.
        span_window: how many spans each run reads: the latest and the ones before it (a
            rolling window; spans without products are skipped).
        ingest: what the inputs are and how to cut patches.
        train_buckets, eval_buckets: the train/eval split by product, as hash buckets (4:1).
        mask_coverage: the fixed evaluation masks' coverage range.
        mask_kinds: weights of real, fractal, strokes and boxes shapes (None: MaskGen's default).
        mask_seed: the seed of every fixed mask.
        log_reflectance: normalise log10(reflectance) instead of reflectance.
        model: the network and its training (None: stop after Transform).
        train_steps: generator updates the Trainer makes.
        warm_start: start the Trainer from the latest blessed model's weights when its networks
            have this config's shapes (else, and on a first run, from scratch).
        evaluator: how models are scored and when one is blessed and pushed.
        serving_dir: where the Pusher puts blessed models, one numbered version per push
            (default: `<pipeline_root>/serving`).
        beam_args: Beam pipeline options for every Beam-based component.
    """

    pipeline_name: str
    pipeline_root: str
    input_base: str
    metadata_path: str = ""
    input_pattern: str = "*"
    span_window: int = 1
    ingest: IngestConfig = field(default_factory=IngestConfig)
    train_buckets: int = 4
    eval_buckets: int = 1
    mask_coverage: tuple[float, float] = (0.1, 0.7)
    mask_kinds: dict[str, float] | None = None
    mask_seed: int = 0
    log_reflectance: bool = False
    model: ModelConfig | None = field(default_factory=ModelConfig)
    train_steps: int = 1000
    warm_start: bool = True
    evaluator: EvaluatorConfig = field(default_factory=EvaluatorConfig)
    serving_dir: str = ""
    beam_args: tuple[str, ...] = ("--direct_running_mode=in_memory", "--direct_num_workers=1")

    def __post_init__(self) -> None:
        root = self.pipeline_root
        if not self.metadata_path:
            object.__setattr__(self, "metadata_path", os.path.join(root, METADATA_FILE))
        if not self.serving_dir:
            object.__setattr__(self, "serving_dir", os.path.join(root, SERVING_FOLDER))
        check_window(self.input_pattern, self.span_window)
        if self.train_steps < 1:
            raise ValueError(f"train_steps {self.train_steps} must be positive")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineConfig:
        """The inverse of `asdict`; unknown keys are an error, missing ones take defaults."""
        known = {f.name for f in fields(cls)}
        if unknown := set(data) - known:
            raise ValueError(f"unknown pipeline config keys {sorted(unknown)}")
        data = dict(data)
        if isinstance(data.get("ingest"), dict):
            data["ingest"] = IngestConfig.from_json(
                json.dumps({**asdict(IngestConfig()), **data["ingest"]})
            )
        if isinstance(data.get("model"), dict):
            data["model"] = ModelConfig.from_dict(data["model"])
        if isinstance(data.get("evaluator"), dict):
            data["evaluator"] = EvaluatorConfig.from_dict(data["evaluator"])
        for key in ("mask_coverage", "beam_args"):
            if data.get(key) is not None:
                data[key] = tuple(data[key])
        return cls(**data)

    @classmethod
    def load(cls, path: str | os.PathLike[str], **overrides: Any) -> PipelineConfig:
        """Read a YAML or JSON configuration file (relative paths are relative to its folder).

        Raises:
            ValueError: the file is not a mapping, or has unknown or invalid fields (the message
                names the file).
        """
        import yaml

        file = Path(path)
        try:
            data = yaml.safe_load(file.read_text())
            if not isinstance(data, dict):
                raise ValueError("it is not a mapping of configuration fields")
            data = {**data, **overrides}
            for key in PATH_FIELDS:
                value = data.get(key)
                if value and "://" not in value and not os.path.isabs(value):
                    data[key] = str((file.parent / value).resolve())
            return cls.from_dict(data)
        except (ValueError, TypeError, yaml.YAMLError) as error:
            raise ValueError(f"{file}: {error}") from error
