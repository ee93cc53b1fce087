"""OlciExampleGen: a FileBasedExampleGen whose executor cuts products into patches.

Being a FileBasedExampleGen, it resolves `{SPAN}` / `{VERSION}` input patterns and range configs
like TFX's own ExampleGens, which is what scheduled retraining relies on; a span window reads the
resolved span and the ones before it (`components.example_gen.spans`).
"""

from __future__ import annotations

from tfx.components.example_gen.component import FileBasedExampleGen
from tfx.dsl.components.base import executor_spec
from tfx.orchestration import data_types
from tfx.proto import example_gen_pb2, range_config_pb2

from components import features
from components.example_gen.config import IngestConfig
from components.example_gen.executor import Executor, pack_config

TRAIN, EVAL = "train", "eval"


def split_by_product(train_buckets: int = 4, eval_buckets: int = 1) -> example_gen_pb2.Output:
    """Train/eval split by a hash of the product name, so no scene is in both splits."""
    if train_buckets < 1 or eval_buckets < 1:
        raise ValueError(f"hash buckets {train_buckets}/{eval_buckets} must be positive")
    return example_gen_pb2.Output(
        split_config=example_gen_pb2.SplitConfig(
            splits=[
                example_gen_pb2.SplitConfig.Split(name=TRAIN, hash_buckets=train_buckets),
                example_gen_pb2.SplitConfig.Split(name=EVAL, hash_buckets=eval_buckets),
            ],
            partition_feature_name=features.PRODUCT,
        )
    )


class OlciExampleGen(FileBasedExampleGen):
    """Products (or gridded scenes) under `input_base` -> patch tf.Examples, train and eval."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)

    def __init__(
        self,
        input_base: str | data_types.RuntimeParameter,
        pattern: str = "*",
        config: IngestConfig | None = None,
        output_config: example_gen_pb2.Output | None = None,
        range_config: range_config_pb2.RangeConfig | data_types.RuntimeParameter | None = None,
        span_window: int = 1,
    ) -> None:
        """Build the component; arguments are checked here, when the pipeline is built.

        Args:
            input_base: the folder (local or gs://) the pattern is relative to.
            pattern: a glob of inputs under `input_base`; may hold `{SPAN}` (e.g.
                "{SPAN}/*.SEN3") so each run reads the latest span, or the range given.
            config: what the inputs are and how to cut patches (default: OLCI, 128 px).
            output_config: output splits; must split by the product feature (default 4:1).
            range_config: the span to read (default: the latest); a static range of one span.
            span_window: how many spans to read, ending at the resolved one (1: that span only).
        """
        config = config or IngestConfig()
        output_config = output_config or split_by_product()
        split = output_config.split_config
        if split.splits and split.partition_feature_name != features.PRODUCT:
            raise ValueError(
                "output_config must split by the product feature "
                f"(partition_feature_name={features.PRODUCT!r}), or patches of one scene "
                "would leak across splits"
            )
        input_config = example_gen_pb2.Input(
            splits=[example_gen_pb2.Input.Split(name="single_split", pattern=pattern)]
        )
        super().__init__(
            input_base=input_base,
            input_config=input_config,
            output_config=output_config,
            custom_config=pack_config(config, pattern, span_window),
            range_config=range_config,
        )
