"""Cron expressions checked field by field, as the schedulers parse them, before anything is sent.

KFP's ScheduledWorkflow controller parses a recurring run's cron with robfig/cron v1
(`cron.Parse`): six fields, seconds first — second minute hour day-of-month month day-of-week
(0-6, Sunday 0). Each field is a comma-separated list of items; an item is `*` or `?` (every
value), a value, or a range `low-high`, optionally followed by `/step` (`value/step` runs from
the value to the field's maximum). Months may be named JAN-DEC and weekdays SUN-SAT, in any case.
An expression the controller cannot parse never runs, so it is refused here instead, naming the
field and the item. Descriptors (`@monthly`, `@every 1h`) are not accepted: write the fields.

Vertex AI schedules take crontab's five fields (minute first; Sunday is 0 or 7) with the same
items, optionally after a `TZ=...` or `CRON_TZ=...` time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER = re.compile(r"[0-9]+")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
TIME_ZONE_PREFIXES = ("TZ=", "CRON_TZ=")


@dataclass(frozen=True)
class CronField:
    """One field of a cron expression: its values run from `low` to `high`; `names[i]`, when
    given, stands for `low + i`."""

    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()

    def value(self, text: str) -> int:
        """The number `text` stands for, in range."""
        if text.upper() in self.names:
            number = self.low + self.names.index(text.upper())
        elif _NUMBER.fullmatch(text):
            number = int(text)
        else:
            raise ValueError(f"{text!r} is not a number{' or a name' if self.names else ''}")
        if not self.low <= number <= self.high:
            raise ValueError(f"{number} is outside {self.low}-{self.high}")
        return number

    def check(self, text: str) -> None:
        """Raise ValueError naming the first item of `text` this field does not accept."""
        for item in text.split(","):
            try:
                self._check_item(item)
            except ValueError as error:
                raise ValueError(f"{self.name} {item!r}: {error}") from None

    def _check_item(self, item: str) -> None:
        span, slash, step = item.partition("/")
        if slash and not (_NUMBER.fullmatch(step) and int(step) > 0):
            raise ValueError(f"step {step!r} is not a positive number")
        if span in ("*", "?"):
            return
        low, dash, high = span.partition("-")
        start = self.value(low)
        if dash and self.value(high) < start:
            raise ValueError("the range ends before it starts")


SECOND = CronField("second", 0, 59)
MINUTE = CronField("minute", 0, 59)
HOUR = CronField("hour", 0, 23)
DAY_OF_MONTH = CronField("day-of-month", 1, 31)
MONTH = CronField("month", 1, 12, _MONTHS)
KFP_FIELDS = (SECOND, MINUTE, HOUR, DAY_OF_MONTH, MONTH, CronField("day-of-week", 0, 6, _WEEKDAYS))
CRONTAB_FIELDS = (MINUTE, HOUR, DAY_OF_MONTH, MONTH, CronField("day-of-week", 0, 7, _WEEKDAYS))


def _check_fields(cron: str, fields: list[str], kinds: tuple[CronField, ...]) -> None:
    for text, kind in zip(fields, kinds, strict=True):
        try:
            kind.check(text)
        except ValueError as error:
            raise ValueError(f"cron {cron!r}: {error}") from None


def normalise_cron(cron: str) -> str:
    """KFP's six-field cron for `cron`, checked; a five-field (crontab) expression gets second 0.

    Raises:
        ValueError: the expression has neither five nor six fields, or a field is malformed.
    """
    fields = cron.split()
    if len(fields) == len(KFP_FIELDS) - 1:
        fields = ["0", *fields]
    if len(fields) != len(KFP_FIELDS):
        raise ValueError(f"cron {cron!r}: expected 5 (crontab) or 6 (KFP, seconds first) fields")
    _check_fields(cron, fields, KFP_FIELDS)
    return " ".join(fields)


def check_crontab(cron: str) -> None:
    """Check a Vertex AI schedule's cron: crontab's five fields after an optional time zone.

    Raises:
        ValueError: the expression does not have five fields, or a field is malformed.
    """
    fields = cron.split()
    if fields and fields[0].startswith(TIME_ZONE_PREFIXES):
        fields = fields[1:]
    if len(fields) != len(CRONTAB_FIELDS):
        raise ValueError(f"cron {cron!r}: Vertex schedules take crontab's 5 fields")
    _check_fields(cron, fields, CRONTAB_FIELDS)
