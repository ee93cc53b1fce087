"""Span windows: which spans of a `{SPAN}` or date pattern a run reads, and their inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.example_gen.config import IngestConfig
from components.example_gen.spans import check_window, fill_span, window_patterns
from pipelines.config import PipelineConfig


@pytest.mark.parametrize(
    "pattern",
    ["{SPAN}/*.SEN3", "span-{SPAN:3}/*", "{YYYY}/{MM}/{DD}/*.zip", "month={SPAN:2}/*.SEN3"],
)
@pytest.mark.parametrize("span", [0, 7, 19358])
def test_spans_are_filled_as_tfx_fills_them(pattern: str, span: int) -> None:
    # Deferred: loads TFX (seconds); collecting this module skips it.
    from tfx.components.example_gen import utils

    is_span, is_date = "{SPAN" in pattern, "{YYYY}" in pattern
    if is_span and ":" in pattern and len(str(span)) > int(pattern.split(":")[1][0]):
        with pytest.raises(ValueError, match="does not fit"):
            fill_span(pattern, span)
        return
    expected = utils.get_pattern_for_span_version(pattern, is_span, is_date, False, span, None)
    assert fill_span(pattern, span) == expected


def test_a_window_ends_at_the_resolved_span_and_starts_no_earlier_than_zero() -> None:
    assert window_patterns("m{SPAN:2}/*", 5, 3) == [(3, "m03/*"), (4, "m04/*"), (5, "m05/*")]
    assert window_patterns("{SPAN}/*", 1, 4) == [(0, "0/*"), (1, "1/*")]
    # 2024-02-28 .. 2024-03-01 (a leap year) as days since 1970-01-01
    days = window_patterns("{YYYY}{MM}{DD}/*", 19783, 3)
    assert [p for _, p in days] == ["20240228/*", "20240229/*", "20240301/*"]


@pytest.mark.parametrize(
    ("pattern", "window", "message"),
    [
        ("{SPAN}/*", 0, "must be at least 1"),
        ("*.SEN3", 2, "needs a {SPAN}"),
        ("{SPAN}/v{VERSION}/*", 2, "cannot be used with a {VERSION}"),
    ],
)
def test_windows_a_pattern_cannot_express_are_refused(pattern, window, message) -> None:
    with pytest.raises(ValueError, match=message):
        check_window(pattern, window)


def test_a_config_with_an_impossible_window_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text("pipeline_name: p\npipeline_root: r\ninput_base: b\nspan_window: 3\n")
    with pytest.raises(ValueError, match=r"train\.yaml: span_window 3 needs a \{SPAN\}"):
        PipelineConfig.load(path)


def test_the_executor_reads_each_span_of_the_window_that_has_inputs(tmp_path: Path) -> None:
    # Deferred: loads TFX (seconds); collecting this module skips it.
    from tfx.utils import proto_utils

    from components.example_gen.executor import pack_config, resolve_inputs

    for span in (1, 3, 4):  # span 2 had no products
        for name in ("a.SEN3", "b.SEN3"):
            (tmp_path / f"m{span:02d}" / name).mkdir(parents=True)
    props = {
        "input_base": str(tmp_path),
        "span": 4,
        "custom_config": proto_utils.proto_to_json(pack_config(IngestConfig(), "m{SPAN:2}/*", 3)),
    }
    found = resolve_inputs(props, "m04/*")
    assert sorted(found) == [3, 4]  # spans 2..4; 2 is empty
    assert found[3] == [str(tmp_path / "m03" / n) for n in ("a.SEN3", "b.SEN3")]
    one = {**props, "custom_config": proto_utils.proto_to_json(pack_config(IngestConfig()))}
    assert sorted(resolve_inputs(one, "m04/*")) == [4]  # the driver's pattern only
    packed = json.loads(json.loads(props["custom_config"])["custom_config"]["value"])
    assert packed["span_window"] == 3
