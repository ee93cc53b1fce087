"""Recurring (cron) runs of a compiled pipeline: on a Kubeflow Pipelines endpoint, or as a
Vertex AI Pipelines schedule.

The requests are the services' own types (`V2beta1RecurringRun` of `kfp_server_api`; Vertex's
`aiplatform_v1.Schedule`), built here so that `--dry-run` can write exactly what would be sent
without a cluster or a project. A KFP request is sent with the public
`kfp.Client.create_recurring_run`, given the request's settings and the spec's file; it builds
the same body (a test checks it). Cron expressions are checked field by field
(`kubeflow/cron.py`).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import kfp_server_api
import yaml

from kubeflow.cron import check_crontab, normalise_cron

VERTEX_PARENT = re.compile(r"projects/[^/]+/locations/(?P<location>[a-z0-9-]+)")


def recurring_run_request(
    spec_path: str | os.PathLike[str],
    *,
    name: str,
    cron: str,
    experiment_id: str,
    pipeline_root: str | None = None,
    parameters: dict[str, str] | None = None,
    max_concurrency: int = 1,
) -> Any:
    """The V2beta1RecurringRun that creates a cron schedule of the compiled pipeline.

    Args:
        parameters: values of the spec's runtime parameters for every run (the others keep the
            spec's defaults); given as text, converted to the parameter's declared type.

    Raises:
        ValueError: the spec file is not a PipelineSpec, the cron expression is malformed, or a
            parameter is not one of the spec's or not of its type.
    """
    path, spec = _load_spec(spec_path)
    root = pipeline_root or spec.get("defaultPipelineRoot")
    return kfp_server_api.V2beta1RecurringRun(
        display_name=name,
        experiment_id=experiment_id,
        mode=kfp_server_api.RecurringRunMode.ENABLE,
        pipeline_spec=spec,
        runtime_config=kfp_server_api.V2beta1RuntimeConfig(
            pipeline_root=root, parameters=_parameter_values(path, spec, parameters or {})
        ),
        trigger=kfp_server_api.V2beta1Trigger(
            cron_schedule=kfp_server_api.V2beta1CronSchedule(cron=normalise_cron(cron))
        ),
        max_concurrency=max_concurrency,
        no_catchup=True,
    )


def _load_spec(spec_path: str | os.PathLike[str]) -> tuple[Path, dict]:
    path = Path(spec_path)
    spec = yaml.safe_load(path.read_text())
    if not isinstance(spec, dict) or "root" not in spec or "deploymentSpec" not in spec:
        raise ValueError(f"{path}: not a compiled PipelineSpec (see s3inpaint kubeflow compile)")
    return path, spec


def vertex_schedule_request(
    spec_path: str | os.PathLike[str],
    *,
    name: str,
    cron: str,
    parent: str,
    pipeline_root: str | None = None,
    parameters: dict[str, str] | None = None,
    max_concurrency: int = 1,
) -> Any:
    """The Vertex AI `Schedule` that runs the compiled pipeline on a cron, in `parent`
    ("projects/PROJECT/locations/REGION").

    Raises:
        ValueError: the spec file is not a PipelineSpec, the parent is malformed, the cron
            expression is not crontab's five fields (Vertex's form; a "TZ=..." prefix is
            allowed), or a parameter is not one of the spec's or not of its type.
    """
    # Deferred: the Vertex AI client takes seconds to import and only Vertex schedules need it.
    from google.cloud import aiplatform_v1

    path, spec = _load_spec(spec_path)
    if not VERTEX_PARENT.fullmatch(parent):
        raise ValueError(f"--vertex {parent!r}: expected projects/PROJECT/locations/REGION")
    check_crontab(cron)
    job = aiplatform_v1.PipelineJob(
        display_name=name,
        pipeline_spec=spec,
        runtime_config=aiplatform_v1.PipelineJob.RuntimeConfig(
            gcs_output_directory=pipeline_root or spec.get("defaultPipelineRoot"),
            parameter_values=_parameter_values(path, spec, parameters or {}),
        ),
    )
    return aiplatform_v1.Schedule(
        display_name=name,
        cron=cron,
        max_concurrent_run_count=max_concurrency,
        catch_up=False,
        create_pipeline_job_request=aiplatform_v1.CreatePipelineJobRequest(
            parent=parent, pipeline_job=job
        ),
    )


def vertex_request_json(request: Any) -> str:
    """The Vertex schedule as the JSON body the Vertex API receives."""
    body = json.loads(type(request).to_json(request, including_default_value_fields=False))
    return json.dumps(body, indent=2, sort_keys=True)


def create_vertex_schedule(request: Any) -> Any:
    """Create the schedule with Vertex AI (application default credentials)."""
    # Deferred: the Vertex AI client takes seconds to import and only Vertex schedules need it.
    from google.cloud import aiplatform_v1

    parent = request.create_pipeline_job_request.parent
    location = VERTEX_PARENT.fullmatch(parent).group("location")
    client = aiplatform_v1.ScheduleServiceClient(
        client_options={"api_endpoint": f"{location}-aiplatform.googleapis.com"}
    )
    return client.create_schedule(parent=parent, schedule=request)


_CONVERT = {"STRING": str, "NUMBER_INTEGER": int, "NUMBER_DOUBLE": float}


def _parameter_values(path: Path, spec: dict, values: dict[str, str]) -> dict[str, Any]:
    declared = spec["root"].get("inputDefinitions", {}).get("parameters", {})
    out = {}
    for name, text in values.items():
        if name not in declared:
            raise ValueError(f"{path}: no runtime parameter {name!r} (it has {sorted(declared)})")
        kind = declared[name].get("parameterType", "STRING")
        try:
            out[name] = _CONVERT[kind](text)
        except (KeyError, ValueError) as error:
            raise ValueError(f"{path}: parameter {name}={text!r} is not a {kind}") from error
    return out


def request_json(request: Any) -> str:
    """The request as the JSON body the KFP API receives."""
    body = kfp_server_api.ApiClient().sanitize_for_serialization(request)
    return json.dumps(body, indent=2, sort_keys=True)


def recurring_run_arguments(request: Any, spec_path: str | os.PathLike[str]) -> dict[str, Any]:
    """The arguments of `kfp.Client.create_recurring_run` that send `request`, the body
    `recurring_run_request` built from the compiled spec at `spec_path` (the client reads the
    spec from the file again)."""
    return {
        "experiment_id": request.experiment_id,
        "job_name": request.display_name,
        "cron_expression": request.trigger.cron_schedule.cron,
        "max_concurrency": request.max_concurrency,
        "no_catchup": request.no_catchup,
        "params": request.runtime_config.parameters,
        "pipeline_package_path": os.fspath(spec_path),
        "pipeline_root": request.runtime_config.pipeline_root,
        "enabled": request.mode == kfp_server_api.RecurringRunMode.ENABLE,
    }


def create_schedule(
    host: str, experiment: str, request: Any, spec_path: str | os.PathLike[str]
) -> Any:
    """Send `request` (built from the spec at `spec_path`) to the KFP endpoint at `host`, in
    `experiment` (created when missing)."""
    # Deferred: the KFP client takes seconds to import and a dry run does not need it.
    import kfp

    client = kfp.Client(host=host)
    try:
        experiment_id = client.get_experiment(experiment_name=experiment).experiment_id
    except ValueError:
        experiment_id = client.create_experiment(experiment).experiment_id
    request.experiment_id = experiment_id
    return client.create_recurring_run(**recurring_run_arguments(request, spec_path))
