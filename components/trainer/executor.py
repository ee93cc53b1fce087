"""The Trainer's executor: TFX's GenericExecutor, handing the run_fn what its own inputs lack.

TFX's `FnArgs` carries the standard inputs only, so the mask library's URI (from the
`mask_library` channel) and the examples' ingest configuration (their `s3inpaint_ingest`
property, "" when they have none) are added to the run_fn's `custom_config`, under
`components.features.MASK_LIBRARY` and `INGEST_PROPERTY`.
"""

from __future__ import annotations

from typing import Any

from tfx import types
from tfx.components.trainer import executor as trainer_executor
from tfx.components.trainer import fn_args_utils
from tfx.types import artifact_utils, standard_component_specs

from components.features import INGEST_PROPERTY, MASK_LIBRARY


class Executor(trainer_executor.GenericExecutor):
    """See components.trainer.component."""

    def _GetFnArgs(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> fn_args_utils.FnArgs:
        fn_args = super()._GetFnArgs(input_dict, output_dict, exec_properties)
        examples = artifact_utils.get_single_instance(
            input_dict[standard_component_specs.EXAMPLES_KEY]
        )
        fn_args.custom_config = {
            **(fn_args.custom_config or {}),
            MASK_LIBRARY: artifact_utils.get_single_uri(input_dict[MASK_LIBRARY]),
            INGEST_PROPERTY: examples.get_string_custom_property(INGEST_PROPERTY),
        }
        return fn_args
