"""MaskGen's executor: merge the harvested shapes, write the library, add a fixed mask to every
example of every split."""

from __future__ import annotations

import json
import logging
import os

import apache_beam as beam
import numpy as np
import tensorflow as tf
from apache_beam.io.filesystems import FileSystems
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils

from components import features
from components.example_gen.config import IngestConfig
from components.example_gen.encoding import example_key
from components.features import (
    CLOUD_SHAPES,
    INGEST_PROPERTY,
    MASK_LIBRARY,
    MASK_LIBRARY_FILE,
    MASK_LIBRARY_SUMMARY,
    SPANS_PROPERTY,
)
from components.mask_gen.preview import write_preview
from components.masks import MaskLibrary, MaskSampler

log = logging.getLogger(__name__)

EXAMPLES, MASKED_EXAMPLES = "examples", "masked_examples"
COVERAGE, KINDS, SEED = "coverage", "kinds", "seed"
PREVIEW_FILE = "masks.png"
NAMESPACE = "MaskGen"


def read_harvested(examples_uri: str, size: int) -> MaskLibrary:
    """The MaskLibrary of every product's harvested cloud shapes under an Examples artifact."""
    pattern = FileSystems.join(examples_uri, CLOUD_SHAPES, "*.npz")
    libraries = [MaskLibrary.empty(size)]
    for match in FileSystems.match([pattern])[0].metadata_list:
        with FileSystems.open(match.path) as f:
            libraries.append(MaskLibrary.from_bytes(f.read()))
    return MaskLibrary.merge(libraries)


class _AddFixedMask(beam.DoFn):
    """Adds the fixed mask (`gap`, `gap_coverage`, `gap_source`) to a serialized example, seeded
    by its identity: a real cloud of another scene laid over it as it is (the transplant
    protocol), or, when the library holds none, a mask drawn like a training mask."""

    def __init__(self, sampler_args: dict, library_bytes: bytes, seed: int) -> None:
        self._sampler_args = sampler_args
        self._library_bytes = library_bytes
        self._seed = seed
        self._counters = {
            kind: beam.metrics.Metrics.counter(NAMESPACE, f"{kind}_masks")
            for kind in ("transplanted", "synthetic")
        }

    def setup(self) -> None:
        library = MaskLibrary.from_bytes(self._library_bytes)
        self._sampler = MaskSampler(library=library, **self._sampler_args)

    def process(self, record: bytes):
        example = tf.train.Example.FromString(record)
        feature = example.features.feature
        key = example_key(example)
        product = feature[features.PRODUCT].bytes_list.value[0].decode()
        transplanted = self._sampler.transplanted_mask(key, self._seed, product)
        if transplanted is not None:
            mask, source = transplanted
            self._counters["transplanted"].inc()
        else:
            drawn = self._sampler.fixed_mask(key, self._seed)
            mask, source = drawn.mask, f"synthetic:{drawn.kind}"
            self._counters["synthetic"].inc()
        feature[features.GAP].int64_list.value.extend(mask.reshape(-1).astype(np.int64))
        feature[features.GAP_COVERAGE].float_list.value.append(float(mask.mean()))
        feature[features.GAP_SOURCE].bytes_list.value.append(source.encode())
        yield example.SerializeToString()


class Executor(base_beam_executor.BaseBeamExecutor):
    """See components.mask_gen.component."""

    def Do(self, input_dict, output_dict, exec_properties) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        examples = artifact_utils.get_single_instance(input_dict[EXAMPLES])
        library_artifact = artifact_utils.get_single_instance(output_dict[MASK_LIBRARY])
        masked = artifact_utils.get_single_instance(output_dict[MASKED_EXAMPLES])
        ingest_json = examples.get_string_custom_property(INGEST_PROPERTY)
        size = IngestConfig.from_json(ingest_json).patch_size
        low, high = json.loads(exec_properties[COVERAGE])
        sampler_args = {
            "size": size,
            "coverage": (low, high),
            "kinds": json.loads(exec_properties[KINDS]),
        }
        seed = int(exec_properties[SEED])

        library = read_harvested(examples.uri, size)
        library_bytes = library.to_bytes()
        with FileSystems.create(FileSystems.join(library_artifact.uri, MASK_LIBRARY_FILE)) as f:
            f.write(library_bytes)
        sampler = MaskSampler(library=library, **sampler_args)
        summary = {
            "real_shapes": len(library),
            "products": len({s.split("|")[0] for s in library.sources}),
            "patch_size": size,
            "coverage": [low, high],
            "kinds": sampler_args["kinds"],
            "seed": seed,
        }
        with FileSystems.create(FileSystems.join(library_artifact.uri, MASK_LIBRARY_SUMMARY)) as f:
            f.write(json.dumps(summary, indent=2).encode())
        write_preview(library, sampler, seed, os.path.join(library_artifact.uri, PREVIEW_FILE))
        log.info("MaskGen: %d real shapes from %d products", len(library), summary["products"])

        masked.split_names = examples.split_names
        # TFX's ExampleGen driver records the span as a custom property, not the property.
        span = (
            examples.get_int_custom_property("span")
            if examples.has_custom_property("span")
            else examples.span
        )
        masked.span = span
        masked.version = examples.version
        masked.set_string_custom_property(INGEST_PROPERTY, ingest_json)
        masked.set_string_custom_property(
            SPANS_PROPERTY, examples.get_string_custom_property(SPANS_PROPERTY)
        )
        examples_utils.set_payload_format(masked, example_gen_pb2.FORMAT_TF_EXAMPLE)
        examples_utils.set_file_format(masked, "tfrecords_gzip")
        with self._make_beam_pipeline() as pipeline:
            for split in artifact_utils.decode_split_names(examples.split_names):
                source = artifact_utils.get_split_uri([examples], split)
                target = artifact_utils.get_split_uri([masked], split)
                _ = (
                    pipeline
                    | f"Read[{split}]" >> beam.io.ReadFromTFRecord(os.path.join(source, "*"))
                    | f"Mask[{split}]"
                    >> beam.ParDo(_AddFixedMask(sampler_args, library_bytes, seed))
                    | f"Write[{split}]"
                    >> beam.io.WriteToTFRecord(
                        os.path.join(target, "data_tfrecord"), file_name_suffix=".gz"
                    )
                )
