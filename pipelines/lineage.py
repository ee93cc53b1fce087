"""The models a pipeline trained, read from ML Metadata: what each was trained on, what it was
warm-started from, what it was compared with, and whether it was pushed.

This answers "why is this model in serving?" from the lineage TFX records: the Trainer
execution's inputs (examples, base model), the SsimEvaluator's blessing (current and baseline
model ids) and the Pusher's PushedModel.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from components.features import SPANS_PROPERTY


@dataclass(frozen=True)
class ModelRecord:
    """One trained model and its lineage."""

    model_id: int
    uri: str
    created: str  # ISO 8601, UTC
    examples_id: int | None  # the Examples it was trained on
    spans: tuple[int, ...]  # the spans its training examples were read from
    base_model_id: int | None  # the model it was warm-started from
    evaluated: bool
    blessed: bool
    baseline_model_id: int | None  # the blessed model it was compared with
    verdict: str  # the evaluator's reasons
    pushed_to: str | None  # the serving version folder, None when not pushed

    def to_dict(self) -> dict:
        return asdict(self)


def _store(metadata_path: str | Path):
    if not Path(metadata_path).is_file():
        raise FileNotFoundError(f"{metadata_path}: no ML Metadata (has the pipeline run?)")
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(metadata_path)
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return metadata_store.MetadataStore(config)


def _key(event) -> str:
    return next(step.key for step in event.path.steps if step.HasField("key"))


def model_history(metadata_path: str | Path) -> list[ModelRecord]:
    """Every model the Trainer produced, oldest first, with its lineage."""
    store = _store(metadata_path)
    Event = metadata_store_pb2.Event
    models = sorted(store.get_artifacts_by_type("Model"), key=lambda a: a.id)
    if not models:
        return []
    producer = {
        e.artifact_id: e.execution_id
        for e in store.get_events_by_artifact_ids([m.id for m in models])
        if e.type == Event.OUTPUT
    }
    inputs: dict[int, dict[str, int]] = {}
    for e in store.get_events_by_execution_ids(sorted(set(producer.values()))):
        if e.type == Event.INPUT:
            inputs.setdefault(e.execution_id, {})[_key(e)] = e.artifact_id
    examples_ids = {ids["examples"] for ids in inputs.values() if "examples" in ids}
    examples = {a.id: a for a in store.get_artifacts_by_id(sorted(examples_ids))}
    blessings = {
        b.custom_properties["current_model_id"].int_value: b
        for b in store.get_artifacts_by_type("ModelBlessing")
    }
    pushed = _pushes(store)

    records = []
    for model in models:
        trained_on = inputs.get(producer.get(model.id), {})
        example = examples.get(trained_on.get("examples"))
        spans: tuple[int, ...] = ()
        if example is not None:
            text = example.custom_properties[SPANS_PROPERTY].string_value
            spans = tuple(json.loads(text)) if text else (example.properties["span"].int_value,)
        blessing = blessings.get(model.id)
        props = blessing.custom_properties if blessing is not None else {}
        records.append(
            ModelRecord(
                model_id=model.id,
                uri=model.uri,
                created=datetime.datetime.fromtimestamp(
                    model.create_time_since_epoch / 1000, datetime.UTC
                ).isoformat(timespec="seconds"),
                examples_id=example.id if example is not None else None,
                spans=spans,
                base_model_id=trained_on.get("base_model"),
                evaluated=blessing is not None,
                blessed=bool(props["blessed"].int_value) if blessing is not None else False,
                baseline_model_id=(
                    props["baseline_model_id"].int_value if "baseline_model_id" in props else None
                ),
                verdict=props["blessing_message"].string_value if blessing is not None else "",
                pushed_to=pushed.get(model.id),
            )
        )
    return records


def _pushes(store) -> dict[int, str]:
    """Model id -> where the Pusher pushed it (pushed models only)."""
    Event = metadata_store_pb2.Event
    pushes = [
        p for p in store.get_artifacts_by_type("PushedModel")
        if p.custom_properties["pushed"].int_value == 1
    ]  # fmt: skip
    if not pushes:
        return {}
    execution = {
        e.artifact_id: e.execution_id
        for e in store.get_events_by_artifact_ids([p.id for p in pushes])
        if e.type == Event.OUTPUT
    }
    pushed_model = {
        e.execution_id: e.artifact_id
        for e in store.get_events_by_execution_ids(sorted(set(execution.values())))
        if e.type == Event.INPUT and _key(e) == "model"
    }
    return {
        pushed_model[execution[p.id]]: p.custom_properties["pushed_destination"].string_value
        for p in pushes
    }


def history_table(records: list[ModelRecord]) -> str:
    """The records as a plain-text table, one model per line."""
    rows = [("model", "created (UTC)", "spans", "warm start", "compared with", "verdict", "pushed")]
    for r in records:
        verdict = ("BLESSED" if r.blessed else "NOT BLESSED") if r.evaluated else "not evaluated"
        rows.append(
            (
                f"#{r.model_id}",
                r.created,
                ",".join(map(str, r.spans)) or "-",
                f"#{r.base_model_id}" if r.base_model_id is not None else "scratch",
                f"#{r.baseline_model_id}" if r.baseline_model_id is not None else "baselines",
                verdict,
                Path(r.pushed_to).name if r.pushed_to else "no",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows)
    return "\n".join(line.rstrip() for line in lines)
