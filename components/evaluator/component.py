"""SsimEvaluator: judge a trained model against the last blessed one and classical fills.

Inputs: MaskGen's `examples` (the eval split carries the fixed gap masks), the Trainer's
`model`, and optionally `baseline_model` (the latest blessed model, from a
LatestBlessedModelStrategy resolver). Every scorer fills the same examples under the same
masks: the candidate, the blessed model and the classical baselines (biharmonic, per-band
mean). Outputs: `evaluation` (metrics.json, report.html, panels/*.png) and `blessing`, a
ModelBlessing the standard Pusher accepts.
"""

from __future__ import annotations

from typing import ClassVar

from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import channel, component_spec, standard_artifacts

from components.evaluator.config import EvaluatorConfig
from components.evaluator.executor import (
    BASELINE_MODEL,
    BLESSING,
    CONFIG,
    EVALUATION,
    EXAMPLES,
    MODEL,
    Executor,
)


class SsimEvaluatorSpec(component_spec.ComponentSpec):
    PARAMETERS: ClassVar = {CONFIG: component_spec.ExecutionParameter(type=str)}
    INPUTS: ClassVar = {
        EXAMPLES: component_spec.ChannelParameter(type=standard_artifacts.Examples),
        MODEL: component_spec.ChannelParameter(type=standard_artifacts.Model),
        BASELINE_MODEL: component_spec.ChannelParameter(
            type=standard_artifacts.Model, optional=True
        ),
    }
    OUTPUTS: ClassVar = {
        EVALUATION: component_spec.ChannelParameter(type=standard_artifacts.ModelEvaluation),
        BLESSING: component_spec.ChannelParameter(type=standard_artifacts.ModelBlessing),
    }


class SsimEvaluator(base_component.BaseComponent):
    """See the module docstring."""

    SPEC_CLASS = SsimEvaluatorSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)

    def __init__(
        self,
        examples: channel.BaseChannel,
        model: channel.BaseChannel,
        baseline_model: channel.BaseChannel | None = None,
        config: EvaluatorConfig | None = None,
    ) -> None:
        """Build the component.

        Args:
            examples: MaskGen's masked examples.
            model: the Trainer's model.
            baseline_model: the latest blessed model (a resolver's output), if any.
            config: what to score and the blessing rules (default: EvaluatorConfig()).
        """
        spec = SsimEvaluatorSpec(
            config=(config or EvaluatorConfig()).to_json(),
            examples=examples,
            model=model,
            baseline_model=baseline_model,
            evaluation=channel.Channel(type=standard_artifacts.ModelEvaluation),
            blessing=channel.Channel(type=standard_artifacts.ModelBlessing),
        )
        super().__init__(spec=spec)
