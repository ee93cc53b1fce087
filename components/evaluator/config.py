"""The SsimEvaluator's configuration: what to score and when a candidate is blessed."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from components.masks.buckets import DEFAULT_EDGES

# Summary metrics a rule may name, and whether lower values are better.
LOWER_IS_BETTER = {
    "gap_rmse": True,
    "gap_mae": True,
    "gap_abs_bias": True,
    "spectral_angle_deg": True,
    "gap_ssim": False,
    "ssim": False,
    "gap_psnr": False,
    "psnr": False,
}
BASELINE_NAMES = ("biharmonic", "mean")


@dataclass(frozen=True)
class EvaluatorConfig:
    """How the SsimEvaluator scores models on the fixed evaluation masks and blesses one.

    A candidate is blessed when its primary metric beats every baseline in `must_beat` and,
    when a blessed model exists, beats it by `margin` (relative) while its in-gap SSIM drops by
    no more than `ssim_tolerance`. On a first run (no blessed model) only the baselines count.

    Attributes:
        primary: the metric that decides (see LOWER_IS_BETTER); in-gap RMSE by default.
        margin: relative improvement over the blessed model the primary metric must show
            (0.01: 1 % lower RMSE, or 1 % higher SSIM).
        ssim_tolerance: how far the candidate's in-gap SSIM may fall below the blessed model's.
        baselines: classical fills scored beside the models ("biharmonic", "mean").
        must_beat: baselines the candidate's primary metric must beat (a subset of baselines).
        split: the examples' split to score.
        max_examples: score at most this many examples (None: all).
        batch_size: examples per model call.
        panels_per_bucket: examples per coverage bucket drawn in the report.
        coverage_edges: the coverage buckets' inner edges (0.1, 0.3, 0.5, 0.7 -> 0-10 %, ...).
    """

    primary: str = "gap_rmse"
    margin: float = 0.01
    ssim_tolerance: float = 0.0
    baselines: tuple[str, ...] = BASELINE_NAMES
    must_beat: tuple[str, ...] = ("biharmonic",)
    split: str = "eval"
    max_examples: int | None = None
    batch_size: int = 16
    panels_per_bucket: int = 2
    coverage_edges: tuple[float, ...] = tuple(DEFAULT_EDGES)

    def __post_init__(self) -> None:
        if self.primary not in LOWER_IS_BETTER:
            raise ValueError(f"primary {self.primary!r} is not one of {sorted(LOWER_IS_BETTER)}")
        if self.margin < 0 or self.ssim_tolerance < 0:
            raise ValueError(
                f"margin {self.margin} and ssim_tolerance {self.ssim_tolerance} must be >= 0"
            )
        if unknown := set(self.baselines) - set(BASELINE_NAMES):
            raise ValueError(f"baselines {sorted(unknown)} are not among {BASELINE_NAMES}")
        if unscored := set(self.must_beat) - set(self.baselines):
            raise ValueError(f"must_beat {sorted(unscored)} are not in baselines {self.baselines}")
        if self.max_examples is not None and self.max_examples < 1:
            raise ValueError(f"max_examples {self.max_examples} must be positive")
        if self.batch_size < 1 or self.panels_per_bucket < 0:
            raise ValueError("batch_size must be positive and panels_per_bucket >= 0")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluatorConfig:
        """The inverse of `asdict` (unknown keys are an error)."""
        known = {f.name for f in fields(cls)}
        if unknown := set(data) - known:
            raise ValueError(f"unknown evaluator config keys {sorted(unknown)}")
        data = dict(data)
        for key in ("baselines", "must_beat", "coverage_edges"):
            if data.get(key) is not None:
                data[key] = tuple(data[key])
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> EvaluatorConfig:
        return cls.from_dict(json.loads(text))
