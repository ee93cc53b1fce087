"""The SsimEvaluator's configuration: what to score and when a candidate is blessed."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, StrictBool, StrictFloat, StrictInt, StrictStr

from components.configuration import Positive, Section, section
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
Baseline = Literal["biharmonic", "mean"]
BASELINE_NAMES = get_args(Baseline)


@section
class EvaluatorConfig(Section):
    """How the SsimEvaluator scores models on the fixed evaluation masks and blesses one.

    The deciding masks are MaskGen's fixed masks: real clouds of other scenes laid over each
    example's observed pixels (the transplant protocol), synthetic ones only where no other
    scene's cloud fits.

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
        synthetic_table: also score every model and baseline under synthetic masks (fractal,
            strokes, boxes; drawn per example, repeatably) as a second table that does not
            decide; the deciding masks are MaskGen's (real clouds of other scenes).
    """

    primary: StrictStr = "gap_rmse"
    margin: Annotated[StrictFloat, Field(ge=0.0)] = 0.01
    ssim_tolerance: Annotated[StrictFloat, Field(ge=0.0)] = 0.0
    baselines: tuple[Baseline, ...] = BASELINE_NAMES
    must_beat: tuple[Baseline, ...] = ("biharmonic",)
    split: StrictStr = "eval"
    max_examples: Positive | None = None
    batch_size: Positive = 16
    panels_per_bucket: Annotated[StrictInt, Field(ge=0)] = 2
    coverage_edges: tuple[StrictFloat, ...] = tuple(DEFAULT_EDGES)
    synthetic_table: StrictBool = True

    def __post_init__(self) -> None:
        if self.primary not in LOWER_IS_BETTER:
            raise ValueError(f"primary {self.primary!r} is not one of {sorted(LOWER_IS_BETTER)}")
        if unscored := set(self.must_beat) - set(self.baselines):
            raise ValueError(f"must_beat {sorted(unscored)} are not in baselines {self.baselines}")
