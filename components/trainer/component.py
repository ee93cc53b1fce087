"""Trainer: TFX's Trainer with one more input channel, MaskGen's `mask_library`.

TFX 1.16's Trainer takes a fixed set of inputs (examples, transform graph, schema, base model,
hyperparameters). This component's spec is TFX's `TrainerSpec` plus `mask_library`, so ML
Metadata records the library each model was trained with, beside its examples and base model;
its executor (TFX's GenericExecutor) gives the run_fn the library's URI and the examples' ingest
configuration in `custom_config`. The outputs are the Trainer's: `model` and `model_run`. The
class keeps TFX's name, so the component's id, and its artifacts' folders, are `Trainer`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from tfx.dsl.components.base import base_component, executor_spec
from tfx.orchestration import data_types
from tfx.proto import trainer_pb2
from tfx.types import channel, component_spec, standard_artifacts, standard_component_specs
from tfx.utils import json_utils

from components.artifacts import MaskLibraryArtifact
from components.features import MASK_LIBRARY
from components.trainer.executor import Executor


class TrainerSpec(standard_component_specs.TrainerSpec):
    INPUTS: ClassVar = {
        **standard_component_specs.TrainerSpec.INPUTS,
        MASK_LIBRARY: component_spec.ChannelParameter(type=MaskLibraryArtifact),
    }


class Trainer(base_component.BaseComponent):
    """See the module docstring."""

    SPEC_CLASS = TrainerSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(
        self,
        run_fn: str,
        examples: channel.BaseChannel,
        mask_library: channel.BaseChannel,
        transform_graph: channel.BaseChannel,
        schema: channel.BaseChannel,
        train_args: trainer_pb2.TrainArgs | data_types.RuntimeParameter,
        eval_args: trainer_pb2.EvalArgs,
        custom_config: dict[str, Any],
        base_model: channel.BaseChannel | None = None,
    ) -> None:
        """Build the component.

        Args:
            run_fn: the import path of the function that trains and exports the model.
            examples: the examples to train and evaluate on.
            mask_library: MaskGen's mask library, to draw training masks from.
            transform_graph: the Transform graph the examples go through.
            schema: the examples' schema.
            train_args: the training steps (a runtime parameter when compiled for Kubeflow).
            eval_args: the evaluation steps.
            custom_config: passed to the run_fn, with the mask library's URI and the examples'
                ingest configuration added.
            base_model: a model to warm-start from, if any.
        """
        spec = TrainerSpec(
            examples=examples,
            mask_library=mask_library,
            transform_graph=transform_graph,
            schema=schema,
            base_model=base_model,
            train_args=train_args,
            eval_args=eval_args,
            run_fn=run_fn,
            custom_config=json_utils.dumps(custom_config),
            model=channel.Channel(type=standard_artifacts.Model),
            model_run=channel.Channel(type=standard_artifacts.ModelRun),
        )
        super().__init__(spec=spec)
