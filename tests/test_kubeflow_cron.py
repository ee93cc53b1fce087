"""Cron expressions checked as KFP's scheduler (robfig/cron v1) and Vertex AI read them."""

from __future__ import annotations

import pytest

from kubeflow.cron import check_crontab, normalise_cron


@pytest.mark.parametrize(
    ("cron", "six_fields"),
    [
        ("0 3 1 * *", "0 0 3 1 * *"),
        ("*/30 * * * * *", "*/30 * * * * *"),
        ("0 0 9 ? * 2-6", "0 0 9 ? * 2-6"),
        ("0 0,30 8-18/2 1,15 jan-MAR,Dec mon-fri", "0 0,30 8-18/2 1,15 jan-MAR,Dec mon-fri"),
        ("5/15 59 23 31 12 6", "5/15 59 23 31 12 6"),
        ("  0  3 1 *  * ", "0 0 3 1 * *"),
    ],
)
def test_kfp_cron_takes_robfig_fields(cron: str, six_fields: str) -> None:
    assert normalise_cron(cron) == six_fields


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("monthly", "expected 5 (crontab) or 6"),
        ("@monthly", "expected 5 (crontab) or 6"),
        ("0 0 0 3 1 * * 2030", "expected 5 (crontab) or 6"),
        ("60 * * * * *", "second '60': 60 is outside 0-59"),
        ("0 0 24 * * *", "hour '24': 24 is outside 0-23"),
        ("0 0 3 0 * *", "day-of-month '0': 0 is outside 1-31"),
        ("0 0 3 1 13 *", "month '13': 13 is outside 1-12"),
        ("0 0 3 * * 7", "day-of-week '7': 7 is outside 0-6"),
        ("0 0 3 L * *", "day-of-month 'L': 'L' is not a number"),
        ("0 0 3 * * MON#2", "day-of-week 'MON#2'"),
        ("0 0 3 * FOO *", "month 'FOO': 'FOO' is not a number or a name"),
        ("0 0 18-8 * * *", "hour '18-8': the range ends before it starts"),
        ("0 */0 * * * *", "minute '*/0': step '0' is not a positive number"),
        ("0 1/2/3 * * * *", "minute '1/2/3': step '2/3'"),
        ("0 1,,2 * * * *", "minute '': '' is not a number"),
        ("0 -1 * * * *", "minute '-1': '' is not a number"),
        ("0 1-2-3 * * * *", "minute '1-2-3': '2-3' is not a number"),
    ],
)
def test_kfp_cron_refuses_what_robfig_cannot_parse(cron: str, message: str) -> None:
    with pytest.raises(ValueError, match="cron '") as error:
        normalise_cron(cron)
    assert message in str(error.value)


@pytest.mark.parametrize(
    "cron", ["0 3 1 * *", "TZ=Europe/Paris 0 3 * * 7", "CRON_TZ=UTC */5 * * * sun"]
)
def test_vertex_cron_takes_crontab_fields(cron: str) -> None:
    check_crontab(cron)


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 0 3 1 * *", "Vertex schedules take crontab's 5 fields"),
        ("TZ=UTC", "Vertex schedules take crontab's 5 fields"),
        ("", "Vertex schedules take crontab's 5 fields"),
        ("0 3 1 * 8", "day-of-week '8': 8 is outside 0-7"),
        ("60 3 1 * *", "minute '60'"),
    ],
)
def test_vertex_cron_refuses_malformed_expressions(cron: str, message: str) -> None:
    with pytest.raises(ValueError, match="cron '") as error:
        check_crontab(cron)
    assert message in str(error.value)
