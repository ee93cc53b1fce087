"""Rolling span windows: the spans of a `{SPAN}` or date input pattern that one run reads.

TFX's file-based driver resolves one span: the latest one matching the pattern (or the one a
static `RangeConfig` names), and hands the executor the pattern with that span filled in. A
window of N spans is that span and the N-1 before it, read from the original pattern. The KFP v2
compiler has no span-range resolver, so the window lives here, in the ExampleGen, and works the
same on every orchestrator.

Spans are numbers: `{SPAN}` / `{SPAN:width}` patterns number them directly, and `{YYYY}{MM}{DD}`
patterns number days since 1970-01-01 (so a window of 30 is 30 days). A span of the window with
no inputs is skipped (a month without products), and the spans actually read are recorded.
"""

from __future__ import annotations

import datetime
import re

# TFX's pattern specs (tfx.components.example_gen.utils, which imports all of TFX's components).
SPAN_SPEC = re.compile(r"{SPAN(?::(?P<width>\d+))?}")
VERSION_SPEC = re.compile(r"{VERSION(?::\d+)?}")
DATE_SPECS = ("{YYYY}", "{MM}", "{DD}")
EPOCH = datetime.date(1970, 1, 1)


def has_span_spec(pattern: str) -> bool:
    return SPAN_SPEC.search(pattern) is not None


def has_date_spec(pattern: str) -> bool:
    return all(spec in pattern for spec in DATE_SPECS)


def any_span(pattern: str) -> str:
    """The pattern as a glob matching the inputs of every span and version."""
    pattern = VERSION_SPEC.sub("*", SPAN_SPEC.sub("*", pattern))
    for spec in DATE_SPECS:
        pattern = pattern.replace(spec, "*")
    return pattern


def fill_span(pattern: str, span: int) -> str:
    """The pattern with span `span` in its span spec (zero-padded to `{SPAN:width}`) or in its
    date specs (the day `span` days after 1970-01-01)."""
    if has_span_spec(pattern):

        def number(match: re.Match) -> str:
            width = match.group("width")
            text = str(span)
            if width and len(text) > int(width):
                raise ValueError(f"span {span} does not fit {match.group(0)} in {pattern!r}")
            return text.zfill(int(width or 0))

        return SPAN_SPEC.sub(number, pattern)
    day = EPOCH + datetime.timedelta(days=span)
    values = (f"{day.year:04d}", f"{day.month:02d}", f"{day.day:02d}")
    for spec, value in zip(DATE_SPECS, values, strict=True):
        pattern = pattern.replace(spec, value)
    return pattern


def check_window(pattern: str, span_window: int) -> None:
    """Refuse a window the pattern cannot express.

    Raises:
        ValueError: the window is not positive, or is wider than one span for a pattern without
            a span or date spec, or with a `{VERSION}` spec (each span's versions would be
            resolved differently).
    """
    if span_window < 1:
        raise ValueError(f"span_window {span_window} must be at least 1")
    if span_window == 1:
        return
    if not (has_span_spec(pattern) or has_date_spec(pattern)):
        raise ValueError(
            f"span_window {span_window} needs a {{SPAN}} or {{YYYY}}{{MM}}{{DD}} input pattern, "
            f"got {pattern!r}"
        )
    if VERSION_SPEC.search(pattern):
        raise ValueError(
            f"span_window {span_window} cannot be used with a {{VERSION}} pattern ({pattern!r})"
        )


def window_patterns(pattern: str, latest: int, span_window: int) -> list[tuple[int, str]]:
    """(span, pattern with that span filled in) for the window ending at span `latest`, oldest
    first."""
    check_window(pattern, span_window)
    first = max(0, latest - span_window + 1)
    return [(span, fill_span(pattern, span)) for span in range(first, latest + 1)]
