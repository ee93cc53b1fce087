"""MaskGen: merge harvested cloud shapes into a mask library; give every example a fixed mask.

Inputs: the Examples of OlciExampleGen. Outputs: `mask_library` (real shapes harvested from the
products' WQSF cloud flags, `masks.npz`, with `summary.json` and a `masks.png` preview) and
`masked_examples`: the same examples and splits, each with a seeded gap mask (`gap`) and its
coverage (`gap_coverage`) drawn by the coverage sampler, so every model is scored on the same
gaps. The Trainer takes the library as its `mask_library` input and draws fresh training masks
from it.
"""

from __future__ import annotations

import json
from typing import ClassVar

from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import channel, component_spec, standard_artifacts

from components.artifacts import MaskLibraryArtifact
from components.features import MASK_LIBRARY
from components.mask_gen.executor import (
    COVERAGE,
    EXAMPLES,
    KINDS,
    MASKED_EXAMPLES,
    SEED,
    Executor,
)
from components.masks import DEFAULT_KINDS
from components.masks.sampler import DEFAULT_COVERAGE


class MaskGenSpec(component_spec.ComponentSpec):
    PARAMETERS: ClassVar = {
        COVERAGE: component_spec.ExecutionParameter(type=str),
        KINDS: component_spec.ExecutionParameter(type=str),
        SEED: component_spec.ExecutionParameter(type=int),
    }
    INPUTS: ClassVar = {EXAMPLES: component_spec.ChannelParameter(type=standard_artifacts.Examples)}
    OUTPUTS: ClassVar = {
        MASK_LIBRARY: component_spec.ChannelParameter(type=MaskLibraryArtifact),
        MASKED_EXAMPLES: component_spec.ChannelParameter(type=standard_artifacts.Examples),
    }


class MaskGen(base_beam_component.BaseBeamComponent):
    """See the module docstring."""

    SPEC_CLASS = MaskGenSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)

    def __init__(
        self,
        examples: channel.BaseChannel,
        coverage: tuple[float, float] = DEFAULT_COVERAGE,
        kinds: dict[str, float] | None = None,
        seed: int = 0,
    ) -> None:
        """Build the component; arguments are checked here, when the pipeline is built.

        Args:
            examples: OlciExampleGen's examples.
            coverage: the fixed masks' coverage is drawn uniformly from this range.
            kinds: weights of the shape kinds: real, fractal, strokes, boxes.
            seed: the seed of every fixed mask (with each example's product, row and column).
        """
        low, high = coverage
        if not 0.0 < low <= high < 1.0:
            raise ValueError(f"coverage {coverage} is not 0 < min <= max < 1")
        kinds = dict(DEFAULT_KINDS if kinds is None else kinds)
        unknown = set(kinds) - set(DEFAULT_KINDS)
        if unknown or not kinds or min(kinds.values()) < 0 or sum(kinds.values()) <= 0:
            raise ValueError(f"kinds {kinds} must weigh some of {sorted(DEFAULT_KINDS)}")
        spec = MaskGenSpec(
            coverage=json.dumps([low, high]),
            kinds=json.dumps(kinds, sort_keys=True),
            seed=seed,
            examples=examples,
            mask_library=channel.Channel(type=MaskLibraryArtifact),
            masked_examples=channel.Channel(type=standard_artifacts.Examples),
        )
        super().__init__(spec=spec)
