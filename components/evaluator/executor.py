"""SsimEvaluator's executor: score, decide, write the report and a Pusher-ready ModelBlessing."""

from __future__ import annotations

import json
import logging
import os
import tempfile

import tensorflow as tf
from tfx.components.evaluator import constants
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import path_utils

from components.evaluator.blessing import Decision, decide
from components.evaluator.config import EvaluatorConfig
from components.evaluator.data import band_ranges, read_batches, with_masks
from components.evaluator.report import write_report
from components.evaluator.scoring import baseline_filler, evaluate, model_filler
from components.example_gen.config import IngestConfig
from components.features import INGEST_PROPERTY, METRICS_FILE, MODEL_DESCRIPTION
from components.masks.sampler import DEFAULT_KINDS, MaskSampler
from components.masks.synthetic import SYNTHETIC_KINDS

log = logging.getLogger(__name__)

EXAMPLES, MODEL, BASELINE_MODEL = "examples", "model", "baseline_model"
EVALUATION, BLESSING, CONFIG = "evaluation", "blessing", "config"
CANDIDATE, BLESSED = "candidate", "blessed"
SYNTHETIC_SEED = 0


def synthetic_sampler(size: int) -> MaskSampler:
    """The second table's masks: the training mix's synthetic kinds, at its coverage range."""
    return MaskSampler(size, kinds={kind: DEFAULT_KINDS[kind] for kind in SYNTHETIC_KINDS})


def _model_metadata(serving_dir: str) -> dict:
    """An exported model's s3inpaint_model.json ({} when it has none)."""
    path = os.path.join(serving_dir, MODEL_DESCRIPTION)
    if not tf.io.gfile.exists(path):
        return {}
    with tf.io.gfile.GFile(path) as f:
        return json.load(f)


def _picture_bands(metadata: dict) -> tuple[str, ...] | None:
    """The bands the model's pictures show (`ModelConfig.true_colour_bands`), None for the
    default; models from before bands were named recorded channel positions: the default."""
    chosen = metadata.get("config", {}).get("true_colour_bands")
    if chosen and all(isinstance(name, str) for name in chosen):
        return tuple(chosen)
    return None


def _copy_tree(local: str, uri: str) -> None:
    for folder, _, files in os.walk(local):
        target = os.path.join(uri, os.path.relpath(folder, local))
        tf.io.gfile.makedirs(target)
        for name in files:
            tf.io.gfile.copy(os.path.join(folder, name), os.path.join(target, name), True)


def _write_blessing(blessing, model, baseline, decision: Decision) -> None:
    name = constants.BLESSED_FILE_NAME if decision.blessed else constants.NOT_BLESSED_FILE_NAME
    with tf.io.gfile.GFile(os.path.join(blessing.uri, name), "w") as f:
        f.write(decision.message)
    value = constants.BLESSED_VALUE if decision.blessed else constants.NOT_BLESSED_VALUE
    blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_BLESSED_KEY, value)
    blessing.set_string_custom_property(
        constants.ARTIFACT_PROPERTY_CURRENT_MODEL_URI_KEY, model.uri
    )
    blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY, model.id)
    blessing.set_string_custom_property(
        constants.ARTIFACT_PROPERTY_BLESSING_MESSAGE_KEY, decision.message
    )
    if baseline is not None:
        blessing.set_string_custom_property(
            constants.ARTIFACT_PROPERTY_BASELINE_MODEL_URI_KEY, baseline.uri
        )
        blessing.set_int_custom_property(
            constants.ARTIFACT_PROPERTY_BASELINE_MODEL_ID_KEY, baseline.id
        )


class Executor(base_executor.BaseExecutor):
    """See components.evaluator.component."""

    def Do(self, input_dict, output_dict, exec_properties) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        config = EvaluatorConfig.from_json(exec_properties[CONFIG])
        examples = artifact_utils.get_single_instance(input_dict[EXAMPLES])
        model = artifact_utils.get_single_instance(input_dict[MODEL])
        baselines = input_dict.get(BASELINE_MODEL) or []
        baseline = baselines[0] if baselines else None
        evaluation = artifact_utils.get_single_instance(output_dict[EVALUATION])
        blessing = artifact_utils.get_single_instance(output_dict[BLESSING])

        ingest = IngestConfig.from_json(examples.get_string_custom_property(INGEST_PROPERTY))
        bands, window = len(ingest.bands), ingest.temporal_window
        pattern = os.path.join(
            artifact_utils.get_split_uri([examples], config.split), "*.gz"
        )  # fmt: skip

        def batches():
            return read_batches(
                pattern, ingest.patch_size, bands, config.batch_size, config.max_examples, window
            )

        try:
            data_range = band_ranges(batches(), bands)
        except ValueError as error:
            raise ValueError(
                f"{pattern}: {error}; does the {config.split} split hold any product's patches?"
            ) from error
        candidate_dir = path_utils.serving_model_path(model.uri)
        fillers = {CANDIDATE: model_filler(candidate_dir, window)}
        notes = []
        if baseline is not None and baseline.id != model.id:
            blessed_dir = path_utils.serving_model_path(baseline.uri)
            blessed = _model_metadata(blessed_dir)
            blessed_window = blessed.get("temporal_window", 0)
            if blessed.get("bands") != bands:
                notes.append(f"blessed model {baseline.uri} takes other bands: not compared")
            elif blessed_window not in (0, window):
                notes.append(f"blessed model {baseline.uri} reads {blessed_window} scenes each "
                             f"side, the examples {window}: not compared")  # fmt: skip
            else:
                fillers[BLESSED] = model_filler(blessed_dir, blessed_window)
        for name in config.baselines:
            fillers[name] = baseline_filler(name)

        scores = evaluate(batches(), fillers, data_range, config.coverage_edges,
                          config.panels_per_bucket, ingest.band_transforms)  # fmt: skip
        synthetic = None
        if config.synthetic_table:
            sampler = synthetic_sampler(ingest.patch_size)
            synthetic = evaluate(
                with_masks(batches(), sampler, SYNTHETIC_SEED),
                fillers,
                data_range,
                config.coverage_edges,
                panels_per_bucket=0,
            )
        decision = decide(
            scores.summary(CANDIDATE),
            {name: scores.summary(name) for name in config.baselines},
            scores.summary(BLESSED) if BLESSED in fillers else None,
            config,
        )
        decision = Decision(decision.blessed, (*notes, *decision.reasons))
        log.info("SsimEvaluator: %s (%s)", "BLESSED" if decision.blessed else "NOT BLESSED",
                 decision.message)  # fmt: skip

        metrics = {
            **scores.to_dict(),
            "synthetic_masks": synthetic.to_dict() if synthetic else None,
            "blessed": decision.blessed,
            "reasons": list(decision.reasons),
            "candidate": model.uri,
            "blessed_model": baseline.uri if BLESSED in fillers else None,
            "bands": list(ingest.bands),
            "config": json.loads(config.to_json()),
        }
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, METRICS_FILE), "w") as f:
                json.dump(metrics, f, indent=2)
            write_report(
                scores,
                decision,
                tuple(ingest.bands),
                tmp,
                title=f"s3inpaint evaluation of {model.uri}",
                synthetic=synthetic,
                true_colour_bands=_picture_bands(_model_metadata(candidate_dir)),
            )
            _copy_tree(tmp, evaluation.uri)
        _write_blessing(blessing, model, baseline if BLESSED in fillers else None, decision)
