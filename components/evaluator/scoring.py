"""Score models and classical baselines on the same evaluation examples and fixed masks."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from components.evaluator.baselines import BASELINES
from components.evaluator.data import EvalBatch, mask_origins
from components.evaluator.metrics import ErrorSums, Tally, score
from components.features import (
    INPUT_GAP,
    INPUT_REFLECTANCE,
    OUTPUT_FILLED,
    OUTPUT_SIGMA,
)
from components.masks.buckets import coverage_bucket, coverage_bucket_labels
from components.transforms import is_log10, to_transformed
from model.export import load_serving
from model.signature import neighbour_inputs

log = logging.getLogger(__name__)

# Fills a batch: (n, size, size, bands) reflectance, observed pixels as given, and the fill's
# predicted standard deviation of its error (same shape) when it has one, else None.
Filler = Callable[[EvalBatch], tuple[np.ndarray, np.ndarray | None]]
OVERALL = "all"


def model_filler(serving_dir: str, window: int = 0) -> Filler:
    """A Filler around an exported model's serving signature (raw reflectance in and out; its
    sigma when the model has an uncertainty head); a model with a temporal `window` is also
    given each example's neighbours in time, which the fixed gap never hides."""
    serve = load_serving(serving_dir)

    def fill(batch: EvalBatch) -> tuple[np.ndarray, np.ndarray | None]:
        inputs = {
            INPUT_REFLECTANCE: tf.constant(batch.observed),
            INPUT_GAP: tf.constant(batch.gap[..., np.newaxis].astype(np.float32)),
        }
        if window:
            if batch.neighbours is None or batch.neighbours.shape[1] != 2 * window:
                raise ValueError(f"{serving_dir}: the model reads {window} scenes each side; "
                                 "the evaluation examples carry no such window")  # fmt: skip
            context = neighbour_inputs(batch.neighbours, batch.neighbour_offset)
            inputs.update({name: tf.constant(value) for name, value in context.items()})
        outputs = serve(**inputs)
        sigma = outputs.get(OUTPUT_SIGMA)
        return outputs[OUTPUT_FILLED].numpy(), None if sigma is None else sigma.numpy()

    return fill


def baseline_filler(name: str) -> Filler:
    """A Filler around a classical fill of `components.evaluator.baselines`, tile by tile."""
    fill_tile = BASELINES[name]

    def fill(batch: EvalBatch) -> tuple[np.ndarray, None]:
        known = batch.valid & ~batch.gap
        observed = batch.observed
        return np.stack([fill_tile(observed[i], known[i]) for i in range(len(known))]), None

    return fill


@dataclass
class Panel:
    """One example kept for the report's pictures."""

    key: str
    coverage: float
    truth: np.ndarray
    valid: np.ndarray
    gap: np.ndarray
    filled: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Scores:
    """Every scorer's tallies by coverage bucket (and OVERALL), and the report's examples;
    with log10 bands among `transforms`, every scorer's gap errors over all examples in the
    bands' transformed space (`transformed`)."""

    buckets: tuple[str, ...]
    data_range: np.ndarray
    tallies: dict[str, dict[str, Tally]]
    panels: dict[str, list[Panel]]
    masks: dict[str, int]
    transforms: tuple[str, ...] = ()
    transformed: dict[str, ErrorSums] = field(default_factory=dict)

    def summary(self, name: str, bucket: str = OVERALL) -> dict:
        return self.tallies[name][bucket].summary()

    def transformed_summary(self) -> dict | None:
        """Each scorer's gap RMSE per band in the bands' transformed space (None for an
        untransformed band, whose RMSE is the data's units' own); None without log10 bands."""
        log10 = is_log10(self.transforms)
        if not any(log10):
            return None
        rmse = {name: sums.per_band()["rmse"] for name, sums in self.transformed.items()}
        return {
            "transforms": list(self.transforms),
            "gap_rmse": {
                name: [v if logged else None for v, logged in zip(values, log10, strict=True)]
                for name, values in rmse.items()
            },
        }

    def to_dict(self) -> dict:
        """The metrics as JSON-ready data: per scorer, overall and per bucket, and (for log10
        bands) gap RMSEs in the transformed space."""
        return {
            "buckets": list(self.buckets),
            "masks": dict(self.masks),
            "data_range": [float(v) for v in self.data_range],
            "scores": {
                name: {bucket: tally.summary() for bucket, tally in by_bucket.items()}
                for name, by_bucket in self.tallies.items()
            },
            "transformed": self.transformed_summary(),
        }


def evaluate(
    batches: Iterable[EvalBatch],
    fillers: dict[str, Filler],
    data_range: np.ndarray,
    edges: tuple[float, ...],
    panels_per_bucket: int = 2,
    transforms: tuple[str, ...] = (),
) -> Scores:
    """Fill every batch with every filler and tally the metrics by the masks' coverage bucket.

    Examples are bucketed by their mask's coverage, so small masks cannot inflate the scores of
    large ones; `Scores.masks` counts where the masks came from. Metrics are in the data's
    units; with log10 bands among `transforms` (each band's, `components.transforms`), the gap
    errors are also summed in the transformed space, truth and fill alike clamped at its floor.
    """
    labels = coverage_bucket_labels(edges)
    bands = len(data_range)
    tallies = {
        name: {b: Tally.empty(bands) for b in (*labels, OVERALL)} for name in fillers
    }  # fmt: skip
    panels: dict[str, list[Panel]] = {label: [] for label in labels}
    logged = any(is_log10(transforms))
    transformed = {name: ErrorSums.empty(bands) for name in fillers} if logged else {}
    ones = np.ones(bands)  # ErrorSums' range-scaled sum is not reported in this space
    sources: list[str] = []
    for batch in batches:
        sources.extend(batch.sources)
        outputs = {name: fill(batch) for name, fill in fillers.items()}
        for i, key in enumerate(batch.keys):
            bucket = coverage_bucket(float(np.clip(batch.coverage[i], 0.0, 1.0)), edges)
            for name, (filled, sigma) in outputs.items():
                tally = score(batch.truth[i], filled[i], batch.valid[i], batch.gap[i], data_range,
                              None if sigma is None else sigma[i])  # fmt: skip
                tallies[name][bucket] = tallies[name][bucket].add(tally)
                tallies[name][OVERALL] = tallies[name][OVERALL].add(tally)
                if logged:
                    in_gap = batch.gap[i] & batch.valid[i]
                    error = to_transformed(filled[i], transforms) - to_transformed(
                        batch.truth[i], transforms
                    )
                    transformed[name] = transformed[name].add(ErrorSums.of(error[in_gap], ones))
            if len(panels[bucket]) < panels_per_bucket:
                panels[bucket].append(Panel(
                    key, float(batch.coverage[i]), batch.truth[i], batch.valid[i], batch.gap[i],
                    {name: filled[i] for name, (filled, _) in outputs.items()},
                ))  # fmt: skip
        log.info("scored %d examples with %s", len(sources), ", ".join(fillers))
    if not sources:
        raise ValueError("no evaluation examples to score")
    return Scores(tuple(labels), np.asarray(data_range), tallies, panels, mask_origins(sources),
                  tuple(transforms), transformed)  # fmt: skip
