"""The training pipeline's configuration: one typed tree of frozen sections, validated once.

A configuration file (YAML or JSON) holds the same fields; nested `ingest` (with its
`gridded`), `model` (with its `weights`) and `evaluator` sections take the fields of their own
sections, and anything left out keeps its default. Every field is checked by pydantic
(`components.configuration`) when the tree is built, and a problem is reported with the file
and the field's dotted path. Relative paths in a file are relative to the file's folder.
"""

from __future__ import annotations

import os
from dataclasses import field
from pathlib import Path
from typing import Any

from pydantic import StrictBool, StrictFloat, StrictInt, StrictStr

from components.configuration import (
    ConfigError,
    OpenFraction,
    Positive,
    Section,
    check_range,
    parse,
    read_mapping,
    section,
)
from components.evaluator.config import EvaluatorConfig
from components.example_gen.config import IngestConfig
from components.example_gen.spans import check_window
from components.masks.sampler import DEFAULT_COVERAGE
from components.olci.format import BAND_NAMES
from components.pictures import check_picture_bands
from model.config import ModelConfig

SERVING_FOLDER, METADATA_FILE = "serving", "metadata.sqlite"
PATH_FIELDS = ("pipeline_root", "metadata_path", "input_base", "serving_dir")
# Fields that left the model section: the pipeline's own now set the training masks too.
MOVED_MODEL_FIELDS = ("mask_coverage", "mask_kinds")


def moved_log_reflectance(data: dict[str, Any]) -> str:
    """The message refusing a file's `log_reflectance`, naming the setting that replaced it and
    the value that does what the file's did."""
    ingest = data.get("ingest") if isinstance(data.get("ingest"), dict) else {}
    default = BAND_NAMES if ingest.get("kind", "olci") == "olci" else ["<band>"]
    bands = ingest.get("bands") or default
    same = "{" + ", ".join(f"{band}: log10" for band in bands) + "}"
    return (
        "log_reflectance has moved: set ingest.transforms, each band's transform, log10 or none "
        f"(e.g. {{chlor_a: log10}}); log_reflectance: true was ingest.transforms: {same}, and "
        "false is the default (leave it out)"
    )


@section
class PipelineConfig(Section):
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
        mask_coverage: the coverage range of every gap mask: MaskGen's fixed evaluation masks
            and the masks the Trainer draws for training (it reads both settings from MaskGen's
            mask library artifact).
        mask_kinds: weights of real, fractal, strokes and boxes shapes, for the same masks
            (None: MaskGen's default).
        mask_seed: the seed of every fixed mask.
        model: the network and its training (None: stop after Transform).
        train_steps: generator updates the Trainer makes.
        warm_start: start the Trainer from the latest blessed model's weights when its networks
            have this config's shapes (else, and on a first run, from scratch).
        evaluator: how models are scored and when one is blessed and pushed.
        serving_dir: where the Pusher puts blessed models, one numbered version per push
            (default: `<pipeline_root>/serving`).
        beam_args: Beam pipeline options for every Beam-based component.
    """

    pipeline_name: StrictStr
    pipeline_root: StrictStr
    input_base: StrictStr
    metadata_path: StrictStr = ""
    input_pattern: StrictStr = "*"
    span_window: StrictInt = 1
    ingest: IngestConfig = field(default_factory=IngestConfig)
    train_buckets: Positive = 4
    eval_buckets: Positive = 1
    mask_coverage: tuple[OpenFraction, OpenFraction] = DEFAULT_COVERAGE
    mask_kinds: dict[StrictStr, StrictFloat] | None = None
    mask_seed: StrictInt = 0
    model: ModelConfig | None = field(default_factory=ModelConfig)
    train_steps: Positive = 1000
    warm_start: StrictBool = True
    evaluator: EvaluatorConfig = field(default_factory=EvaluatorConfig)
    serving_dir: StrictStr = ""
    beam_args: tuple[StrictStr, ...] = (
        "--direct_running_mode=in_memory",
        "--direct_num_workers=1",
    )

    def __post_init__(self) -> None:
        root = self.pipeline_root
        if not self.metadata_path:
            object.__setattr__(self, "metadata_path", os.path.join(root, METADATA_FILE))
        if not self.serving_dir:
            object.__setattr__(self, "serving_dir", os.path.join(root, SERVING_FOLDER))
        check_window(self.input_pattern, self.span_window)
        check_range("mask_coverage", self.mask_coverage)
        if self.model is not None and self.model.true_colour_bands is not None:
            check_picture_bands(self.model.true_colour_bands, self.ingest.bands,
                                "model.true_colour_bands", "ingest.bands")  # fmt: skip
        if self.evaluator.primary == "spectral_angle_deg" and len(self.ingest.bands) < 2:
            raise ValueError(
                "evaluator.primary 'spectral_angle_deg' needs two or more bands; ingest.bands "
                f"is {list(self.ingest.bands)}"
            )

    @classmethod
    def load(cls, path: str | os.PathLike[str], **overrides: Any) -> PipelineConfig:
        """Read a YAML or JSON configuration file (relative paths are relative to its folder).

        Raises:
            ConfigError: the file is not YAML, not a mapping, or has unknown, missing or invalid
                fields (the message names the file and each field by its dotted path).
        """
        file = Path(path)
        try:
            data = {**read_mapping(file), **overrides}
            model = data.get("model")
            if "log_reflectance" in data:
                raise ConfigError(moved_log_reflectance(data))
            for key in MOVED_MODEL_FIELDS:
                if isinstance(model, dict) and key in model:
                    raise ConfigError(
                        f"model.{key} has moved: set the top-level {key}, which sets both "
                        "MaskGen's evaluation masks and the Trainer's training masks"
                    )
            for key in PATH_FIELDS:
                value = data.get(key)
                relative = isinstance(value, str) and value and "://" not in value
                if relative and not os.path.isabs(value):
                    data[key] = str((file.parent / value).resolve())
            return parse(cls, data)
        except ConfigError as error:
            raise ConfigError(f"{file}: {error}") from None
