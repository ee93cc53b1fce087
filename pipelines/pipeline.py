"""`create_pipeline`: the TFX training pipeline, the same for local and Kubeflow runs.

ExampleGen -> MaskGen -> StatisticsGen -> SchemaGen -> Transform -> Trainer (warm-started from
the latest blessed model, found by a resolver) -> SsimEvaluator (against that model) -> Pusher.
Statistics, schema and Transform see MaskGen's examples, so the fixed gap masks are part of the
schema; the Trainer also takes MaskGen's mask library, to draw training masks from.

Compiled for Kubeflow, three settings become runtime parameters that a run (or a schedule) can
set without recompiling, each defaulting to the configuration's value:

- `input_base`: the archive the input pattern is relative to;
- `range_config`: a RangeConfig as JSON, to read a chosen span instead of the latest, e.g.
  `{"static_range": {"start_span_number": 3, "end_span_number": 3}}` ("": the latest);
- `train_args`: the Trainer's TrainArgs as JSON, e.g. `{"num_steps": 5000}`.
"""

from __future__ import annotations

import json

from tfx.components.pusher.component import Pusher
from tfx.components.schema_gen.component import SchemaGen
from tfx.components.statistics_gen.component import StatisticsGen
from tfx.components.transform.component import Transform
from tfx.dsl.components.common.resolver import Resolver
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
    LatestBlessedModelStrategy,
)
from tfx.orchestration import data_types, metadata, pipeline
from tfx.proto import pusher_pb2, trainer_pb2
from tfx.types import channel, standard_artifacts

from components.evaluator.component import SsimEvaluator
from components.example_gen.component import EVAL, OlciExampleGen, split_by_product
from components.features import MASK_LIBRARY
from components.mask_gen.component import MaskGen
from components.trainer.component import Trainer
from pipelines.config import PipelineConfig

PREPROCESSING_FN = "components.transform.preprocessing.preprocessing_fn"
RUN_FN = "model.trainer.run_fn"


def runtime_parameters(config: PipelineConfig) -> dict[str, data_types.RuntimeParameter]:
    """The pipeline's runtime parameters (see the module docstring), named by their key;
    `train_args` only when there is a model to train."""
    parameters = {
        "input_base": data_types.RuntimeParameter(
            name="input_base", ptype=str, default=config.input_base
        ),
        "range_config": data_types.RuntimeParameter(name="range_config", ptype=str, default=""),
    }
    if config.model is not None:
        parameters["train_args"] = data_types.RuntimeParameter(
            name="train_args", ptype=str, default=json.dumps({"num_steps": config.train_steps})
        )
    return parameters


def create_components(config: PipelineConfig, *, parameters: bool = False) -> list:
    """The pipeline's components, in order; with `parameters`, some settings are runtime
    parameters (for Kubeflow; LocalDagRunner runs take the configuration's values)."""
    params = runtime_parameters(config) if parameters else {}
    example_gen = OlciExampleGen(
        input_base=params.get("input_base", config.input_base),
        pattern=config.input_pattern,
        config=config.ingest,
        output_config=split_by_product(config.train_buckets, config.eval_buckets),
        range_config=params.get("range_config"),
        span_window=config.span_window,
    )
    mask_gen = MaskGen(
        examples=example_gen.outputs["examples"],
        coverage=config.mask_coverage,
        kinds=config.mask_kinds,
        seed=config.mask_seed,
    )
    examples = mask_gen.outputs["masked_examples"]
    statistics_gen = StatisticsGen(examples=examples)
    # The schema describes the training data; an eval split (which may be small) cannot
    # deprecate features.
    schema_gen = SchemaGen(statistics=statistics_gen.outputs["statistics"], exclude_splits=[EVAL])
    transform = Transform(
        examples=examples,
        schema=schema_gen.outputs["schema"],
        preprocessing_fn=PREPROCESSING_FN,
        custom_config={"transforms": list(config.ingest.band_transforms)},
        materialize=False,
    )
    components = [example_gen, mask_gen, statistics_gen, schema_gen, transform]
    if config.model is None:
        return components
    latest_blessed = Resolver(
        strategy_class=LatestBlessedModelStrategy,
        model=channel.Channel(type=standard_artifacts.Model),
        model_blessing=channel.Channel(type=standard_artifacts.ModelBlessing),
    ).with_id("latest_blessed_model_resolver")
    trainer = Trainer(
        run_fn=RUN_FN,
        examples=examples,  # transformed on the fly by the Transform graph
        mask_library=mask_gen.outputs[MASK_LIBRARY],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=params.get("train_args", trainer_pb2.TrainArgs(num_steps=config.train_steps)),
        eval_args=trainer_pb2.EvalArgs(num_steps=None),
        custom_config={"model": config.model.to_dict()},
        # Warm start from the latest blessed model (nothing on a first run).
        base_model=latest_blessed.outputs["model"] if config.warm_start else None,
    )
    evaluator = SsimEvaluator(
        examples=examples,
        model=trainer.outputs["model"],
        baseline_model=latest_blessed.outputs["model"],
        config=config.evaluator,
    )
    pusher = Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=pusher_pb2.PushDestination(
            filesystem=pusher_pb2.PushDestination.Filesystem(base_directory=config.serving_dir)
        ),
    )
    return [*components, latest_blessed, trainer, evaluator, pusher]


def create_pipeline(config: PipelineConfig, *, local: bool = True) -> pipeline.Pipeline:
    """The TFX pipeline for `config`: with SQLite ML Metadata when `local`, else with runtime
    parameters (for Kubeflow, whose ML Metadata is the cluster's)."""
    return pipeline.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=config.pipeline_root,
        components=create_components(config, parameters=not local),
        metadata_connection_config=(
            metadata.sqlite_metadata_connection_config(config.metadata_path) if local else None
        ),
        beam_pipeline_args=list(config.beam_args),
        enable_cache=False,
    )
