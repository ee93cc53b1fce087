"""The compiled OlciExampleGen task, run as a KFP v2 launcher would run it, without a cluster.

Its executor input is built from the compiled spec (constants, and runtime parameters from the
run or the spec's defaults); then TFX's two container entrypoints named in the spec run in this
process with the spec's own arguments: the file-based driver (the `preCacheCheck` lifecycle
hook) resolves the span, and `kubeflow_v2_run_executor` runs our executor with its result.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from components import features
from components.sample.products import write_sample_product
from pipelines.config import PipelineConfig

pytestmark = pytest.mark.slow

CONFIG = """\
pipeline_name: s3inpaint-kfp
pipeline_root: gs://bucket/root
input_base: gs://bucket/olci
input_pattern: "m{SPAN:2}/*"
span_window: 2
ingest: {patch_size: 16, min_valid: 0.99}
train_buckets: 1
eval_buckets: 1
"""
TASK = "OlciExampleGen"
DRIVER = "tfx.orchestration.kubeflow.v2.file_based_example_gen.driver"
EXECUTOR = "tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> tuple[dict, Path]:
    """The compiled spec, and an archive of three monthly spans m01..m03 of two products."""
    # Deferred: compiling imports KFP and TFX (seconds); collecting this module skips them.
    from kubeflow.compile import KubeflowSettings, compile_pipeline

    folder = tmp_path_factory.mktemp("kfp")
    (folder / "train.yaml").write_text(CONFIG)
    config = PipelineConfig.load(folder / "train.yaml", model=None)
    path = compile_pipeline(config, KubeflowSettings("image:1"), folder / "pipeline.yaml")
    archive = tmp_path_factory.mktemp("archive")
    for span in (1, 2, 3):
        for seed in (61, 62):
            write_sample_product(archive / f"m{span:02d}", (64, 64), seed, index=30 * span,
                                 cloud_fraction=0.2)  # fmt: skip
    return yaml.safe_load(path.read_text()), archive


def _executor_input(spec: dict, parameters: dict[str, str], out: Path) -> dict:
    defaults = spec["root"]["inputDefinitions"]["parameters"]
    values = {}
    for name, source in spec["root"]["dag"]["tasks"][TASK]["inputs"]["parameters"].items():
        if "componentInputParameter" in source:
            key = source["componentInputParameter"]
            values[name] = parameters.get(key, defaults[key]["defaultValue"])
        else:
            values[name] = source["runtimeValue"]["constant"]
    artifacts = {}
    for name, output in spec["components"][TASK]["outputDefinitions"]["artifacts"].items():
        artifact = {"name": f"{TASK}-{name}", "uri": str(out / name), "metadata": {}}
        artifacts[name] = {"artifacts": [{**artifact, "type": output["artifactType"]}]}
    return {
        "inputs": {"parameterValues": values},
        "outputs": {"artifacts": artifacts, "outputFile": str(out / "executor_output.json")},
    }


def _launch(spec: dict, parameters: dict[str, str], out: Path) -> tuple[dict, dict]:
    """Run the task's driver, then its executor; return what each wrote to the output file."""
    # Deferred: TFX takes seconds to import; collecting this module skips it.
    from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_run_executor
    from tfx.orchestration.kubeflow.v2.file_based_example_gen import driver

    label = spec["components"][TASK]["executorLabel"]
    container = spec["deploymentSpec"]["executors"][label]["container"]
    invocation = json.dumps(_executor_input(spec, parameters, out))

    def args(argv: list[str]) -> list[str]:
        return [invocation if a == "{{$}}" else a for a in argv]

    hook = container["lifecycle"]["preCacheCheck"]
    assert hook["command"] == ["python", "-m", DRIVER]
    assert container["command"] == ["python", "-m", EXECUTOR]
    output_file = out / "executor_output.json"
    driver.main(driver._parse_flags(args(hook["args"])))
    resolved = json.loads(output_file.read_text())
    kubeflow_v2_run_executor.main(kubeflow_v2_run_executor._parse_flags(args(container["args"])))
    return resolved, json.loads(output_file.read_text())


def _products(examples: Path) -> set[str]:
    # Deferred: TensorFlow takes seconds to import; collecting this module skips it.
    import tensorflow as tf

    files = sorted(str(p) for p in examples.glob("Split-*/*.gz"))
    return {
        tf.train.Example.FromString(r.numpy()).features.feature[features.PRODUCT]
        .bytes_list.value[0].decode()
        for r in tf.data.TFRecordDataset(files, compression_type="GZIP")
    }  # fmt: skip


def _in_spans(archive: Path, *spans: int) -> set[str]:
    return {p.name for span in spans for p in (archive / f"m{span:02d}").iterdir()}


@pytest.mark.parametrize(
    ("range_config", "span", "spans"),
    [
        ("", 3, [2, 3]),  # the default: the latest span, and the one before
        ('{"static_range": {"start_span_number": 2, "end_span_number": 2}}', 2, [1, 2]),
    ],
)
def test_the_compiled_example_gen_runs_with_runtime_parameters(
    compiled, tmp_path: Path, range_config: str, span: int, spans: list[int]
) -> None:
    spec, archive = compiled
    parameters = {"input_base": str(archive)}  # instead of the spec's gs:// default
    if range_config:
        parameters["range_config"] = range_config
    resolved, output = _launch(spec, parameters, tmp_path)
    assert resolved["parameterValues"]["span"] == span  # the driver's, for the launcher
    (examples,) = output["artifacts"]["examples"]["artifacts"]
    assert json.loads(examples["metadata"]["s3inpaint_spans"]) == spans
    products = _products(tmp_path / "examples")  # a product may give no clear-enough patch
    assert products <= _in_spans(archive, *spans)
    assert all(products & _in_spans(archive, s) for s in spans)
