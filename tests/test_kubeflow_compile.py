"""`s3inpaint kubeflow compile`: the training pipeline as a KFP v2 PipelineSpec YAML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from google.protobuf import json_format

from kubeflow import schedule
from kubeflow.cron import normalise_cron
from pipelines.cli import main
from pipelines.config import PipelineConfig

CONFIG = """\
pipeline_name: s3inpaint-prod
pipeline_root: gs://bucket/root
input_base: gs://bucket/olci
input_pattern: "{SPAN}/*.SEN3"
span_window: 3
serving_dir: gs://bucket/serving
train_steps: 500
"""
IMAGE = "europe-docker.pkg.dev/project/repo/s3inpaint:1"
# KFP v2 runs the latest-blessed-model resolver as two resolver tasks: blessings, then model.
RESOLVERS = {
    "latest_blessed_model_resolver-model-blessing-resolver",
    "latest_blessed_model_resolver-model-resolver",
}
COMPONENTS = {
    "OlciExampleGen", "MaskGen", "StatisticsGen", "SchemaGen", "Transform", "Trainer",
    "SsimEvaluator", "Pusher",
}  # fmt: skip


@pytest.fixture(scope="module")
def spec(tmp_path_factory) -> dict:
    # Deferred: the KFP pipeline spec takes seconds to import; collecting this module skips it.
    from kfp.pipeline_spec import pipeline_spec_pb2

    folder = tmp_path_factory.mktemp("kfp")
    (folder / "train.yaml").write_text(CONFIG)
    out = folder / "pipeline.yaml"
    args = ["kubeflow", "compile", "--config", str(folder / "train.yaml"), "--image", IMAGE,
            "--output", str(out), "--trainer-gpus", "2"]  # fmt: skip
    assert main(args) == 0
    data = yaml.safe_load(out.read_text())
    json_format.ParseDict(data, pipeline_spec_pb2.PipelineSpec())  # a valid PipelineSpec
    return data


def test_every_component_is_a_task_with_the_image(spec: dict) -> None:
    assert set(spec["root"]["dag"]["tasks"]) == COMPONENTS | RESOLVERS
    assert spec["defaultPipelineRoot"] == "gs://bucket/root"
    executors = spec["deploymentSpec"]["executors"]
    containers = {k: v["container"] for k, v in executors.items() if "container" in v}
    assert set(containers) == {f"{c}_executor" for c in COMPONENTS}
    assert {c["image"] for c in containers.values()} == {IMAGE}
    evaluator = containers["SsimEvaluator_executor"]
    assert "components.evaluator.executor.Executor" in evaluator["args"]


def test_trainer_gets_gpus_and_heavy_components_more_memory(spec: dict) -> None:
    executors = spec["deploymentSpec"]["executors"]
    trainer = executors["Trainer_executor"]["container"]["resources"]
    assert trainer["accelerator"] == {"count": "2", "type": "NVIDIA_TESLA_T4"}
    assert (
        trainer["memoryLimit"]
        > executors["Pusher_executor"]["container"]["resources"]["memoryLimit"]
    )
    assert "accelerator" not in executors["SsimEvaluator_executor"]["container"]["resources"]


def test_the_latest_blessed_model_resolver_is_compiled(spec: dict) -> None:
    resolvers = [v["resolver"] for v in spec["deploymentSpec"]["executors"].values()
                 if "resolver" in v]  # fmt: skip
    filters = " ".join(q["filter"] for r in resolvers for q in r["outputArtifactQueries"].values())
    assert "tfx.ModelBlessing" in filters and "blessed" in filters and "current_model_id" in filters
    tasks = spec["root"]["dag"]["tasks"]
    inputs = tasks["SsimEvaluator"]["inputs"]["artifacts"]
    assert inputs["baseline_model"]["taskOutputArtifact"]["producerTask"] == (
        "latest_blessed_model_resolver-model-resolver"
    )
    trainer = tasks["Trainer"]["inputs"]["artifacts"]  # warm start from the blessed model
    assert trainer["base_model"]["taskOutputArtifact"]["producerTask"] == (
        "latest_blessed_model_resolver-model-resolver"
    )


def test_the_trainer_takes_maskgens_library(spec: dict) -> None:
    tasks = spec["root"]["dag"]["tasks"]
    library = tasks["Trainer"]["inputs"]["artifacts"]["mask_library"]["taskOutputArtifact"]
    assert library == {"producerTask": "MaskGen", "outputArtifactKey": "mask_library"}
    trainer = spec["deploymentSpec"]["executors"]["Trainer_executor"]["container"]
    assert "components.trainer.executor.Executor" in trainer["args"]


def test_the_pusher_target_and_the_span_window_are_in_the_spec(spec: dict) -> None:
    assert spec["schemaVersion"] == "2.1.0"
    assert "gs://bucket/serving" in yaml.safe_dump(spec["root"]["dag"]["tasks"]["Pusher"])
    gen = spec["root"]["dag"]["tasks"]["OlciExampleGen"]["inputs"]["parameters"]
    custom = json.loads(gen["custom_config"]["runtimeValue"]["constant"])["custom_config"]
    window = json.loads(custom["value"])
    assert (window["pattern"], window["span_window"]) == ("{SPAN}/*.SEN3", 3)


def test_runtime_parameters_default_to_the_config_and_reach_their_tasks(spec: dict) -> None:
    declared = spec["root"]["inputDefinitions"]["parameters"]
    assert set(declared) == {"input_base", "range_config", "train_args"}
    assert all(p["parameterType"] == "STRING" and p["isOptional"] for p in declared.values())
    assert declared["input_base"]["defaultValue"] == "gs://bucket/olci"
    assert declared["range_config"]["defaultValue"] == ""  # the latest span
    assert json.loads(declared["train_args"]["defaultValue"]) == {"num_steps": 500}
    tasks = spec["root"]["dag"]["tasks"]
    for task, name in (("OlciExampleGen", "input_base"), ("OlciExampleGen", "range_config"),
                       ("Trainer", "train_args")):  # fmt: skip
        assert tasks[task]["inputs"]["parameters"][name] == {"componentInputParameter": name}
        assert spec["components"][task]["inputDefinitions"]["parameters"][name] == {
            "parameterType": "STRING"
        }


def test_local_pipelines_take_the_config_values_not_parameters() -> None:
    # Deferred: the pipeline's components import TFX (seconds); collecting this module skips it.
    from pipelines.pipeline import create_components

    config = PipelineConfig(pipeline_name="p", pipeline_root="/r", input_base="/in", model=None)
    (example_gen, *_) = create_components(config)
    assert example_gen.exec_properties["input_base"] == "/in"
    assert example_gen.exec_properties["range_config"] is None


def test_compile_refuses_a_local_root_or_a_json_output(tmp_path: Path, capsys) -> None:
    config = tmp_path / "train.yaml"
    config.write_text(CONFIG.replace("gs://bucket/root", "runs"))
    args = ["kubeflow", "compile", "--config", str(config), "--image", IMAGE]
    assert main([*args, "--output", str(tmp_path / "p.yaml")]) == 2
    assert "need gs://" in capsys.readouterr().err
    config.write_text(CONFIG)
    assert main([*args, "--output", str(tmp_path / "p.json")]) == 2
    assert "must be .yaml" in capsys.readouterr().err


def test_the_image_pins_keras_3_and_installs_the_lock() -> None:
    dockerfile = (Path(__file__).parents[1] / "kubeflow" / "Dockerfile").read_text()
    assert "TF_USE_LEGACY_KERAS=0" in dockerfile
    assert "-r requirements.lock" in dockerfile
    assert "--no-deps tfx==1.16.0 ml-pipelines-sdk==1.16.0" in dockerfile
    beam = next(
        line.split("==")[1]
        for line in (Path(__file__).parents[1] / "requirements.lock").read_text().splitlines()
        if line.startswith("apache-beam==")
    )
    assert f"beam_python3.11_sdk:{beam}" in dockerfile  # the worker boot matches the SDK


def test_schedule_dry_run_writes_a_well_formed_request(spec: dict, tmp_path: Path) -> None:
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(yaml.safe_dump(spec))
    out = tmp_path / "request.json"
    args = ["kubeflow", "schedule", "--pipeline", str(pipeline), "--cron", "0 3 1 * *",
            "--name", "monthly retrain", "--dry-run", str(out)]  # fmt: skip
    assert main(args) == 0
    request = json.loads(out.read_text())
    assert request["trigger"] == {"cron_schedule": {"cron": "0 0 3 1 * *"}}
    assert request["mode"] == "ENABLE" and request["display_name"] == "monthly retrain"
    assert request["runtime_config"]["pipeline_root"] == "gs://bucket/root"
    assert request["pipeline_spec"]["root"] == spec["root"]
    assert request["experiment_id"] == "s3inpaint" and request["no_catchup"] is True
    assert request["runtime_config"]["parameters"] == {}  # every run takes the defaults


def test_schedule_sets_runtime_parameters(spec: dict, tmp_path: Path, capsys) -> None:
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(yaml.safe_dump(spec))
    out = tmp_path / "request.json"
    base = ["kubeflow", "schedule", "--pipeline", str(pipeline), "--cron", "0 3 1 * *",
            "--name", "n", "--dry-run", str(out)]  # fmt: skip
    steps = '{"num_steps": 5000}'
    assert main([*base, "--param", f"train_args={steps}", "--param", "input_base=gs://b/x"]) == 0
    parameters = json.loads(out.read_text())["runtime_config"]["parameters"]
    assert parameters == {"train_args": steps, "input_base": "gs://b/x"}
    assert main([*base, "--param", "steps=5"]) == 2
    assert "no runtime parameter 'steps'" in capsys.readouterr().err


def test_schedule_sends_the_dry_run_body_through_the_public_client(
    spec: dict, tmp_path: Path
) -> None:
    # Deferred: the KFP client takes seconds to import; collecting this module skips it.
    import kfp

    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(yaml.safe_dump(spec))
    request = schedule.recurring_run_request(
        pipeline, name="n", cron="0 3 1 * *", experiment_id="e", parameters={"input_base": "x"}
    )

    class RecurringRunApi:  # stands in for the cluster: keeps the body the client sends
        def create_recurring_run(self, body):
            self.body = body
            return body

    client = object.__new__(kfp.Client)  # no endpoint: create_recurring_run needs only the API
    client._recurring_run_api = RecurringRunApi()
    client.create_recurring_run(**schedule.recurring_run_arguments(request, pipeline))
    sent = schedule.request_json(client._recurring_run_api.body)
    assert sent == schedule.request_json(request)


def test_schedule_rejects_bad_cron_and_non_specs(spec: dict, tmp_path: Path, capsys) -> None:
    assert normalise_cron("*/30 * * * * *") == "*/30 * * * * *"
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(yaml.safe_dump(spec))
    base = ["kubeflow", "schedule", "--name", "n", "--dry-run", str(tmp_path / "r.json")]
    assert main([*base, "--pipeline", str(pipeline), "--cron", "monthly"]) == 2
    assert "expected 5 (crontab) or 6" in capsys.readouterr().err
    other = tmp_path / "other.yaml"
    other.write_text("a: 1\n")
    assert main([*base, "--pipeline", str(other), "--cron", "0 3 1 * *"]) == 2
    assert "not a compiled PipelineSpec" in capsys.readouterr().err


def test_vertex_schedule_dry_run_writes_a_well_formed_schedule(spec: dict, tmp_path: Path) -> None:
    # Deferred: the Vertex AI client takes seconds to import; collecting this module skips it.
    from google.cloud import aiplatform_v1

    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(yaml.safe_dump(spec))
    out = tmp_path / "schedule.json"
    parent = "projects/ocean-colour/locations/europe-west4"
    args = ["kubeflow", "schedule", "--pipeline", str(pipeline), "--cron", "0 3 1 * *",
            "--name", "monthly", "--vertex", parent, "--param", "input_base=gs://b/x",
            "--dry-run", str(out)]  # fmt: skip
    assert main(args) == 0
    text = out.read_text()
    schedule = aiplatform_v1.Schedule.from_json(text)  # the API's own message
    assert (schedule.cron, schedule.display_name) == ("0 3 1 * *", "monthly")
    assert schedule.max_concurrent_run_count == 1 and not schedule.catch_up
    job = schedule.create_pipeline_job_request
    assert job.parent == parent
    assert job.pipeline_job.runtime_config.gcs_output_directory == "gs://bucket/root"
    assert dict(job.pipeline_job.runtime_config.parameter_values) == {"input_base": "gs://b/x"}
    body = json.loads(text)["createPipelineJobRequest"]["pipelineJob"]
    assert body["pipelineSpec"]["root"] == spec["root"]


def test_vertex_schedule_refuses_bad_parents_and_kfp_cron(
    spec: dict, tmp_path: Path, capsys
) -> None:
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(yaml.safe_dump(spec))
    base = ["kubeflow", "schedule", "--pipeline", str(pipeline), "--name", "n",
            "--dry-run", str(tmp_path / "s.json")]  # fmt: skip
    good = "projects/p/locations/us-central1"
    assert main([*base, "--cron", "0 3 1 * *", "--vertex", "p/us-central1"]) == 2
    assert "expected projects/PROJECT/locations/REGION" in capsys.readouterr().err
    assert main([*base, "--cron", "0 0 3 1 * *", "--vertex", good]) == 2
    assert "Vertex schedules take crontab's 5 fields" in capsys.readouterr().err
    assert main([*base[:-2], "--cron", "0 3 1 * *"]) == 2
    assert "give --host, --vertex or --dry-run" in capsys.readouterr().err
