"""The blessing rules and the evaluator's configuration (pure functions, no models)."""

import json

import pytest

from components.evaluator.blessing import decide, metric
from components.evaluator.config import EvaluatorConfig


def summary(gap_rmse: float | None, gap_ssim: float | None = 0.8, gap_bias: float = 0.0) -> dict:
    return {"gap_rmse": gap_rmse, "gap_ssim": gap_ssim, "gap_bias": gap_bias, "ssim": 0.9}


BASELINES = {"biharmonic": summary(0.010, 0.70), "mean": summary(0.020, 0.50)}
RULES = EvaluatorConfig(margin=0.05)


def test_better_than_blessed_and_baselines_is_blessed():
    decision = decide(summary(0.008, 0.81), BASELINES, summary(0.009, 0.80), RULES)
    assert decision.blessed
    assert "beats biharmonic" in decision.message and "beats blessed" in decision.message


def test_worse_than_blessed_is_not_blessed():
    decision = decide(summary(0.0095, 0.85), BASELINES, summary(0.009, 0.80), RULES)
    assert not decision.blessed
    assert "does not beat blessed" in decision.message


def test_better_but_within_the_margin_is_not_blessed():
    # 0.0087 is 3.3 % below 0.009: better, but not by the 5 % margin.
    assert not decide(summary(0.0087, 0.81), BASELINES, summary(0.009, 0.80), RULES).blessed
    assert decide(summary(0.0085, 0.81), BASELINES, summary(0.009, 0.80), RULES).blessed


def test_gap_ssim_must_not_drop():
    decision = decide(summary(0.008, 0.75), BASELINES, summary(0.009, 0.80), RULES)
    assert not decision.blessed
    assert "gap_ssim 0.7500 drops below" in decision.message
    lenient = EvaluatorConfig(margin=0.05, ssim_tolerance=0.1)
    assert decide(summary(0.008, 0.75), BASELINES, summary(0.009, 0.80), lenient).blessed


def test_first_run_is_judged_against_the_baselines_only():
    beats = decide(summary(0.009), BASELINES, None, RULES)
    assert beats.blessed and "baselines only" in beats.message
    loses = decide(summary(0.011), BASELINES, None, RULES)
    assert not loses.blessed and "does not beat biharmonic" in loses.message
    # Only the baselines named in must_beat count.
    mean_only = EvaluatorConfig(must_beat=("mean",))
    assert decide(summary(0.011), BASELINES, None, mean_only).blessed
    assert decide(summary(0.011), BASELINES, None, EvaluatorConfig(must_beat=())).blessed


def test_higher_is_better_metrics_and_undefined_values():
    ssim_rules = EvaluatorConfig(primary="gap_ssim", margin=0.01)
    assert decide(summary(0.1, 0.82), BASELINES, summary(0.1, 0.80), ssim_rules).blessed
    assert not decide(summary(0.1, 0.805), BASELINES, summary(0.1, 0.80), ssim_rules).blessed
    undefined = decide(summary(None), BASELINES, None, RULES)
    assert not undefined.blessed and "undefined" in undefined.message
    assert metric(summary(0.1, gap_bias=-0.3), "gap_abs_bias") == 0.3


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"primary": "accuracy"}, "primary"),
        ({"margin": -0.1}, "margin"),
        ({"baselines": ("kriging",)}, "kriging"),
        ({"baselines": ("mean",), "must_beat": ("biharmonic",)}, "must_beat"),
        ({"max_examples": 0}, "max_examples"),
    ],
)
def test_config_rejects_bad_values(bad, message):
    with pytest.raises(ValueError, match=message):
        EvaluatorConfig(**bad)


def test_config_round_trips_through_json():
    config = EvaluatorConfig(margin=0.02, must_beat=("mean",), max_examples=10)
    assert EvaluatorConfig.from_json(config.to_json()) == config
    with pytest.raises(ValueError, match="unknown key 'typo'"):
        EvaluatorConfig.from_dict({**json.loads(config.to_json()), "typo": 1})
