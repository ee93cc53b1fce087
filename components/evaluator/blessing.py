"""The blessing rules: a pure decision over metric summaries, so tests need no models."""

from __future__ import annotations

import math
from dataclasses import dataclass

from components.evaluator.config import LOWER_IS_BETTER, EvaluatorConfig


@dataclass(frozen=True)
class Decision:
    """Whether the candidate is blessed, and every comparison that led there."""

    blessed: bool
    reasons: tuple[str, ...]

    @property
    def message(self) -> str:
        return "; ".join(self.reasons)


def metric(summary: dict, name: str) -> float:
    """A summary's value of `name` (NaN when undefined); gap_abs_bias is |gap_bias|."""
    value = summary.get("gap_bias" if name == "gap_abs_bias" else name)
    if value is None:
        return math.nan
    return abs(float(value)) if name == "gap_abs_bias" else float(value)


def _better(candidate: float, reference: float, lower: bool, margin: float = 0.0) -> bool:
    """Whether `candidate` beats `reference` by the relative `margin` (NaN never wins)."""
    if math.isnan(candidate) or math.isnan(reference):
        return math.isnan(reference) and not math.isnan(candidate)
    if lower:
        return candidate < reference * (1.0 - margin) or (reference == 0 and candidate == 0)
    return candidate > reference * (1.0 + margin) if reference > 0 else candidate > reference


def decide(
    candidate: dict,
    baselines: dict[str, dict],
    blessed: dict | None,
    config: EvaluatorConfig,
) -> Decision:
    """Apply the rules of `EvaluatorConfig` to overall metric summaries.

    Args:
        candidate: the candidate model's summary (`Tally.summary()` over every example).
        baselines: each scored baseline's summary, by name.
        blessed: the last blessed model's summary, or None on a first run (or when it could
            not be scored).
        config: the rules.
    """
    name, lower = config.primary, LOWER_IS_BETTER[config.primary]
    mine = metric(candidate, name)
    ok, reasons = True, []
    if math.isnan(mine):
        return Decision(False, (f"candidate {name} is undefined (no scored gap pixels?)",))
    for baseline in config.must_beat:
        theirs = metric(baselines[baseline], name)
        won = _better(mine, theirs, lower)
        ok &= won
        reasons.append(f"{name} {mine:.6g} {'beats' if won else 'does not beat'} "
                       f"{baseline} {theirs:.6g}")  # fmt: skip
    if not config.must_beat:
        reasons.append("must_beat is empty: no baseline has to be beaten")
    if blessed is None:
        reasons.append("no blessed model: judged against the baselines only")
        return Decision(ok, tuple(reasons))
    theirs = metric(blessed, name)
    won = _better(mine, theirs, lower, config.margin)
    ok &= won
    reasons.append(f"{name} {mine:.6g} {'beats' if won else 'does not beat'} blessed "
                   f"{theirs:.6g} by the {config.margin:.1%} margin")  # fmt: skip
    if name != "gap_ssim":
        mine_ssim, their_ssim = metric(candidate, "gap_ssim"), metric(blessed, "gap_ssim")
        held = not mine_ssim < their_ssim - config.ssim_tolerance
        ok &= held
        reasons.append(f"gap_ssim {mine_ssim:.4f} {'holds' if held else 'drops below'} blessed "
                       f"{their_ssim:.4f} (tolerance {config.ssim_tolerance:g})")  # fmt: skip
    return Decision(ok, tuple(reasons))
