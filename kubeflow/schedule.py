"""Recurring (cron) runs of a compiled pipeline on a Kubeflow Pipelines endpoint.

The request is the kfp Client's own (`V2beta1RecurringRun` of `kfp_server_api`), built here so
that `--dry-run` can write exactly what would be sent without a cluster.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

CRON_FIELDS = 6  # KFP's cron: second minute hour day-of-month month day-of-week


def normalise_cron(cron: str) -> str:
    """KFP's six-field cron; a five-field (crontab) expression gets second 0.

    Raises:
        ValueError: the expression has neither five nor six fields.
    """
    fields = cron.split()
    if len(fields) == CRON_FIELDS - 1:
        fields = ["0", *fields]
    if len(fields) != CRON_FIELDS:
        raise ValueError(f"cron {cron!r}: expected 5 (crontab) or 6 (KFP, seconds first) fields")
    return " ".join(fields)


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
    import kfp_server_api

    path = Path(spec_path)
    spec = yaml.safe_load(path.read_text())
    if not isinstance(spec, dict) or "root" not in spec or "deploymentSpec" not in spec:
        raise ValueError(f"{path}: not a compiled PipelineSpec (see s3inpaint kubeflow compile)")
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
        max_concurrency=str(max_concurrency),
        no_catchup=True,
    )


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
    import kfp_server_api

    body = kfp_server_api.ApiClient().sanitize_for_serialization(request)
    return json.dumps(body, indent=2, sort_keys=True)


def create_schedule(host: str, experiment: str, request: Any) -> Any:
    """Send `request` to the KFP endpoint at `host`, in `experiment` (created when missing)."""
    import kfp

    client = kfp.Client(host=host)
    try:
        experiment_id = client.get_experiment(experiment_name=experiment).experiment_id
    except ValueError:
        experiment_id = client.create_experiment(experiment).experiment_id
    request.experiment_id = experiment_id
    return client._recurring_run_api.create_recurring_run(body=request)
