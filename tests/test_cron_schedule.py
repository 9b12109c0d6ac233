"""CronJob schedules: robfig/cron's parse errors and the times a schedule names."""
import datetime as dt
import zoneinfo

import pytest

from admission import cron
from admission.validation.formats import cron_error

UTC = dt.timezone.utc


def at(*args, tz=UTC):
    return dt.datetime(*args, tzinfo=tz)


@pytest.mark.parametrize("spec,after,expected", [
    ("*/1 * * * *", at(2026, 1, 1, 10, 0, 30), at(2026, 1, 1, 10, 1)),
    ("*/15 * * * *", at(2026, 1, 1, 10, 0), at(2026, 1, 1, 10, 15)),
    ("5-10/5 * * * *", at(2026, 1, 1, 10, 6), at(2026, 1, 1, 10, 10)),
    ("0 3 * * *", at(2026, 1, 1, 3, 0), at(2026, 1, 2, 3, 0)),
    ("0 0 * * MON", at(2026, 1, 1), at(2026, 1, 5)),                 # 2026-01-01 is a Thursday
    ("0 0 1 jan-mar *", at(2026, 3, 2), at(2027, 1, 1)),
    ("@hourly", at(2026, 1, 1, 10, 59, 59), at(2026, 1, 1, 11, 0)),
    ("@weekly", at(2026, 1, 1), at(2026, 1, 4)),
    ("@yearly", at(2026, 1, 1), at(2027, 1, 1)),
    ("0 0 13 * 5", at(2026, 1, 1), at(2026, 1, 2)),                   # day of month OR day of week
    ("0 0 13 * *", at(2026, 1, 1), at(2026, 1, 13)),
    ("0 0 29 2 *", at(2026, 1, 1), at(2028, 2, 29)),
    ("@every 90s", at(2026, 1, 1, 0, 0, 0, 500), at(2026, 1, 1, 0, 1, 30)),
])
def test_next_time(spec, after, expected):
    assert cron.parse(spec).next(after) == expected


def test_next_time_in_a_zone_and_across_daylight_saving():
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    nine = cron.parse("0 9 * * *").next(at(2026, 1, 1, 12, tz=UTC).astimezone(berlin))
    assert nine.astimezone(UTC) == at(2026, 1, 2, 8)
    # 02:30 does not exist on 2026-03-29 in Berlin; the next one is a day later.
    assert cron.parse("30 2 * * *").next(at(2026, 3, 28, 3, tz=berlin)) == at(2026, 3, 30, 2, 30, tz=berlin)


def test_a_date_that_never_comes():
    assert cron.parse("0 0 30 2 *").next(at(2026, 1, 1)) is None


@pytest.mark.parametrize("spec,message", [
    ("", "empty spec string"),
    ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
    ("@fortnightly", "unrecognized descriptor: @fortnightly"),
    ("60 * * * *", "end of range (60) above maximum (59): 60"),
    ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
    ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
    ("*/0 * * * *", "step of range should be a positive number: */0"),
    ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
    ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
    ("@every x", 'failed to parse duration @every x: time: invalid duration "x"'),
])
def test_parse_errors_are_robfigs(spec, message):
    assert cron_error(spec) == message
