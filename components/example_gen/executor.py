"""OlciExampleGen's executor: scenes -> patch tf.Examples, one Beam element per scene.

Beside the standard `Split-*` folders, the Examples artifact holds:

- `bad_products.jsonl`: one JSON line per input that could not be read (path and reason);
  always written, empty when all went well;
- `cloud_shapes/<product>.npz`: the real cloud shapes harvested from each OLCI product's WQSF
  cloud flags (a `components.masks.MaskLibrary`), which MaskGen merges into its mask library.

With a temporal window (`IngestConfig.temporal_window` k > 0, gridded inputs), the scenes'
times and grids are read from the inputs' headers, the scenes grouped by grid, and each scene
read with its k previous and k next scenes (`components.example_gen.temporal`): every patch
then carries the same window of them.

With a span window wider than one (`components.example_gen.spans`), the inputs are those of the
resolved span and the spans before it; the spans read are the artifact's `s3inpaint_spans`
custom property (a JSON list), and the artifact's `span` is the newest of them.
"""

from __future__ import annotations

import json
import logging
import os
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from google.protobuf import wrappers_pb2
from tfx.components.example_gen import utils as example_gen_utils
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils

from components.example_gen.config import IngestConfig
from components.example_gen.encoding import patch_example
from components.example_gen.patches import extract_patches
from components.example_gen.scenes import SceneRef, open_scene, scene_refs
from components.example_gen.spans import check_window, window_patterns
from components.example_gen.temporal import (
    SceneWindow,
    cut_neighbours,
    neighbour_arrays,
    scene_windows,
    timed_scene_refs,
)
from components.features import CLOUD_SHAPES, INGEST_PROPERTY, SPANS_PROPERTY
from components.masks import MaskLibrary, harvest_cloud_shapes
from components.olci.storage import list_products

log = logging.getLogger(__name__)

OUTPUT_URI_KEY = "_s3inpaint_examples_uri"
INPUTS_KEY = "_s3inpaint_inputs"
BAD_PRODUCTS = "bad_products.jsonl"
NAMESPACE = "OlciExampleGen"
FAILURES, SHAPES = "failures", "shapes"


def pack_config(
    config: IngestConfig, pattern: str = "*", span_window: int = 1
) -> example_gen_pb2.CustomConfig:
    """ExampleGen's `custom_config` proto: the IngestConfig, and the span window with the
    unresolved input pattern it is read from."""
    check_window(pattern, span_window)
    packed = {
        "ingest": json.loads(config.to_json()),
        "pattern": pattern,
        "span_window": span_window,
    }
    custom = example_gen_pb2.CustomConfig()
    custom.custom_config.Pack(wrappers_pb2.StringValue(value=json.dumps(packed, sort_keys=True)))
    return custom


def _unpack(exec_properties: dict[str, Any]) -> dict[str, Any]:
    custom = example_gen_pb2.CustomConfig()
    proto_utils.json_to_proto(exec_properties[standard_component_specs.CUSTOM_CONFIG_KEY], custom)
    text = wrappers_pb2.StringValue()
    custom.custom_config.Unpack(text)
    return json.loads(text.value)


def unpack_config(exec_properties: dict[str, Any]) -> IngestConfig:
    return IngestConfig.from_json(json.dumps(_unpack(exec_properties)["ingest"]))


def resolve_inputs(exec_properties: dict[str, Any], split_pattern: str) -> dict[int, list[str]]:
    """The inputs of each span read (only spans with inputs), given the driver's resolved
    pattern and span."""
    base = exec_properties[standard_component_specs.INPUT_BASE_KEY]
    packed = _unpack(exec_properties)
    span = int(exec_properties.get(example_gen_utils.SPAN_PROPERTY_NAME) or 0)
    if packed["span_window"] == 1:
        patterns = [(span, split_pattern)]
    else:
        patterns = window_patterns(packed["pattern"], span, packed["span_window"])
    found = {}
    for number, pattern in patterns:
        full = os.path.join(base, pattern)
        if inputs := list_products(full):
            found[number] = inputs
        log.info("%s: span %d: %d inputs match %s", NAMESPACE, number, len(inputs), full)
    return found


def _failure(ref: object, err: Exception) -> beam.pvalue.TaggedOutput:
    log.warning("%s: skipped: %s", ref, err)
    return beam.pvalue.TaggedOutput(
        FAILURES, {"input": str(ref), "error": type(err).__name__, "reason": str(err)}
    )


class _InputToScenes(beam.DoFn):
    """The scenes an input holds; an input that cannot be listed becomes a report line.

    With a temporal window, each scene comes as (grid, (scene, start time)), to be grouped
    into series.
    """

    def __init__(self, config_json: str) -> None:
        self._config_json = config_json
        self._bad = beam.metrics.Metrics.counter(NAMESPACE, "bad_products")

    def setup(self) -> None:
        self._config = IngestConfig.from_json(self._config_json)

    def process(self, path: str):
        try:
            if self._config.temporal_window:
                timed = timed_scene_refs(path, self._config)
                if untimed := [str(ref) for _, ref, start in timed if not start]:
                    raise ValueError(
                        f"{untimed[0]}: the scene states no time; temporal_window needs "
                        "every scene's time"
                    )
                refs = [(grid, (ref, start)) for grid, ref, start in timed]
            else:
                refs = scene_refs(path, self._config)
        except Exception as err:  # reported, never silently dropped
            self._bad.inc()
            yield _failure(path, err)
            return
        yield from refs


class _ScenesToExamples(beam.DoFn):
    """Reads one scene and emits its patch examples; a failure becomes a report line."""

    def __init__(self, config_json: str) -> None:
        self._config_json = config_json
        self._products = beam.metrics.Metrics.counter(NAMESPACE, "scenes")
        self._bad = beam.metrics.Metrics.counter(NAMESPACE, "bad_products")
        self._patches = beam.metrics.Metrics.counter(NAMESPACE, "patches")
        self._shapes = beam.metrics.Metrics.counter(NAMESPACE, "cloud_shapes")

    def setup(self) -> None:
        self._config = IngestConfig.from_json(self._config_json)

    def process(self, element: SceneRef | SceneWindow):
        config = self._config
        ref = element.centre if isinstance(element, SceneWindow) else element
        try:
            with ExitStack() as stack:
                scene = stack.enter_context(open_scene(ref, config))
                patches = extract_patches(
                    scene, config.bands, config.patch_size,
                    stride=config.stride, min_valid=config.min_valid,
                )  # fmt: skip
                if isinstance(element, SceneWindow):
                    patches = self._with_neighbours(patches, element, scene, stack)
                # Buffered, so a scene that fails half-way contributes no patches at all.
                examples = [patch_example(p) for p in patches]
                shapes = None
                if "cloud" in scene:
                    low, high = config.harvest_coverage
                    harvested = harvest_cloud_shapes(
                        scene["cloud"].values, config.patch_size,
                        min_coverage=low, max_coverage=high,
                    )  # fmt: skip
                    name = scene.attrs["product_name"]
                    library = MaskLibrary.from_harvest(name, harvested, size=config.patch_size)
                    shapes = (name, library)
        except Exception as err:  # every input ends as examples or as a reported failure
            self._bad.inc()
            yield _failure(ref, err)
            return
        self._products.inc()
        self._patches.inc(len(examples))
        if shapes is not None and len(shapes[1]):
            self._shapes.inc(len(shapes[1]))
            yield beam.pvalue.TaggedOutput(SHAPES, shapes)
        yield from examples

    def _with_neighbours(self, patches, window: SceneWindow, scene, stack: ExitStack):
        """`patches`, each with the same window of the scene's neighbours in time."""
        neighbours = [
            None if ref is None else stack.enter_context(open_scene(ref, self._config))
            for ref in window.neighbours
        ]
        shape = (scene.sizes["y"], scene.sizes["x"])
        values, valid = neighbour_arrays(neighbours, self._config.bands, shape)
        size = self._config.patch_size
        for patch in patches:
            context = cut_neighbours(values, valid, window.offsets, patch.row, patch.column, size)
            yield replace(patch, neighbours=context)


def _windows(item: tuple[str, list], k: int) -> list[SceneWindow]:
    """The windows of one grid's scenes, from (grid, [(scene, start time), ...])."""
    return scene_windows(item[1], k)


def _write_shapes(item: tuple[str, Any], folder: str) -> str:
    name, library = item
    path = FileSystems.join(folder, f"{name}.npz")
    with FileSystems.create(path) as f:
        f.write(library.to_bytes())
    return path


@beam.ptransform_fn
@beam.typehints.with_input_types(beam.Pipeline)
def _InputToExamples(
    pipeline: beam.Pipeline, exec_properties: dict[str, Any], split_pattern: str
) -> beam.PCollection:
    config = unpack_config(exec_properties)
    inputs = exec_properties[INPUTS_KEY]
    out_uri = exec_properties[OUTPUT_URI_KEY]
    scenes = (
        pipeline
        | "Inputs" >> beam.Create(inputs)
        | "Scenes"
        >> beam.ParDo(_InputToScenes(config.to_json())).with_outputs(FAILURES, main="scenes")
    )
    centres = scenes.scenes
    if config.temporal_window:
        centres = (
            centres
            | "GroupByGrid" >> beam.GroupByKey()
            | "Windows" >> beam.FlatMap(_windows, config.temporal_window)
        )
    results = (
        centres
        | "Reshuffle" >> beam.Reshuffle()
        | "Patches"
        >> beam.ParDo(_ScenesToExamples(config.to_json())).with_outputs(
            FAILURES, SHAPES, main="examples"
        )
    )
    _ = (
        (scenes[FAILURES], results[FAILURES])
        | "AllFailures" >> beam.Flatten()
        | "FailureLines" >> beam.Map(json.dumps, sort_keys=True)
        | "WriteFailures"
        >> beam.io.WriteToText(
            os.path.join(out_uri, BAD_PRODUCTS), shard_name_template="", num_shards=1
        )
    )
    _ = results[SHAPES] | "WriteShapes" >> beam.Map(
        _write_shapes, os.path.join(out_uri, CLOUD_SHAPES)
    )
    return results.examples


class Executor(BaseExampleGenExecutor):
    """Cuts products or gridded scenes into patch tf.Examples (see the module docstring)."""

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        return _InputToExamples

    def Do(self, input_dict, output_dict, exec_properties) -> None:
        examples = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.EXAMPLES_KEY]
        )
        input_config = example_gen_pb2.Input()
        proto_utils.json_to_proto(
            exec_properties[standard_component_specs.INPUT_CONFIG_KEY], input_config
        )
        (split,) = input_config.splits
        spans = resolve_inputs(exec_properties, split.pattern)
        inputs = sorted(path for paths in spans.values() for path in paths)
        exec_properties = {**exec_properties, OUTPUT_URI_KEY: examples.uri, INPUTS_KEY: inputs}
        config = unpack_config(exec_properties)
        examples.set_string_custom_property(INGEST_PROPERTY, config.to_json())
        examples.set_string_custom_property(SPANS_PROPERTY, json.dumps(sorted(spans)))
        super().Do(input_dict, output_dict, exec_properties)
