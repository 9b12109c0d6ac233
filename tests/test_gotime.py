"""The one RFC 3339 parser: metav1.Time and MicroTime as time.Parse reads them (decoding, table
ages, managedFields, protobuf), the CRD `date-time` format as kube-openapi's strfmt reads it, and
Time.String() and time.ParseDuration beside them."""
from __future__ import annotations

import datetime

import pytest

from admission.gotime import DATE_TIME, RFC3339_MICRO, go_time, parse_duration, parse_rfc3339

UTC = datetime.timezone.utc


@pytest.mark.parametrize("text,moment", [
    ("2024-05-01T10:20:30Z", datetime.datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC)),
    ("2024-05-01T12:20:30+02:00", datetime.datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC)),
    ("2024-05-01T10:20:30.5Z", datetime.datetime(2024, 5, 1, 10, 20, 30, 500000, tzinfo=UTC)),
    # time.Parse's generic path: nanoseconds cut to what Python keeps, a comma, a one-digit hour.
    ("2024-05-01T10:20:30.123456789Z", datetime.datetime(2024, 5, 1, 10, 20, 30, 123456, tzinfo=UTC)),
    ("2024-05-01T10:20:30,25Z", datetime.datetime(2024, 5, 1, 10, 20, 30, 250000, tzinfo=UTC)),
    ("2024-05-01T1:02:03Z", datetime.datetime(2024, 5, 1, 1, 2, 3, tzinfo=UTC)),
    # Go takes an offset of 24 hours; Python's timezone does not, so it is kept as the instant.
    ("2024-05-01T10:00:00+24:00", datetime.datetime(2024, 4, 30, 10, 0, 0, tzinfo=UTC)),
])
def test_metav1_time_parses_as_time_parse_does(text, moment):
    assert parse_rfc3339(text) == moment


def test_the_offset_is_kept():
    assert parse_rfc3339("2024-05-01T12:20:30-07:30").utcoffset() == -datetime.timedelta(hours=7, minutes=30)


def test_managed_fields_seconds_and_protobuf_deltas():
    assert parse_rfc3339("1970-01-01T00:00:10Z").timestamp() == 10


@pytest.mark.parametrize("text,message", [
    ("2024-05-01", 'parsing time "2024-05-01" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "T"'),
    ("2024-05-01T10:20:30", 'parsing time "2024-05-01T10:20:30" as "2006-01-02T15:04:05Z07:00": cannot parse "" '
                            'as "Z07:00"'),
    ("2024-05-01T10:20:30z", 'parsing time "2024-05-01T10:20:30z" as "2006-01-02T15:04:05Z07:00": cannot parse '
                             '"z" as "Z07:00"'),
    ("2024-13-01T00:00:00Z", 'parsing time "2024-13-01T00:00:00Z": month out of range'),
    ("2024-02-30T00:00:00Z", 'parsing time "2024-02-30T00:00:00Z": day out of range'),
    ("2024-05-01T10:20:30Zjunk", 'parsing time "2024-05-01T10:20:30Zjunk": extra text: "junk"'),
    ("yesterday", 'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"'),
])
def test_refusals_carry_time_parse_words(text, message):
    with pytest.raises(ValueError) as e:
        parse_rfc3339(text)
    assert str(e.value) == message


def test_micro_time_wants_six_fraction_digits():
    assert parse_rfc3339("2024-05-01T10:20:30.123456Z", RFC3339_MICRO).microsecond == 123456
    with pytest.raises(ValueError, match='cannot parse "Z" as ".000000"'):
        parse_rfc3339("2024-05-01T10:20:30Z", RFC3339_MICRO)


def test_a_time_is_a_string():
    with pytest.raises(TypeError):
        parse_rfc3339(1714558830)


@pytest.mark.parametrize("text", ["2024-05-01T10:20:30Z", "2024-05-01t10:20:30z", "2024-05-01 10:20:30+02:00",
                                  "2024-05-01T10:20:30.123Z"])
def test_crd_date_time_takes_strfmt_spellings(text):
    assert parse_rfc3339(text, DATE_TIME).tzinfo is not None


@pytest.mark.parametrize("text", ["2024-05-01T1:02:03Z", "2024-05-01", "2024-05-01T10:20:30", "2024-02-30T00:00:00Z"])
def test_crd_date_time_refuses(text):
    with pytest.raises(ValueError):
        parse_rfc3339(text, DATE_TIME)


def test_go_time_prints_time_string():
    assert go_time("2024-05-01T12:20:30+02:00") == "2024-05-01 10:20:30 +0000 UTC"
    assert go_time(None) == "null"
    assert go_time("soon") == "soon"


@pytest.mark.parametrize("text,seconds", [("1h30m", 5400), ("-1.5s", -1.5), ("0", 0), ("250ms", 0.25),
                                          ("1h1m1s1ms1us1ns", 3661.001001001)])
def test_parse_duration(text, seconds):
    assert parse_duration(text).total_seconds() == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["1d", "", "h", "1.h2"])
def test_parse_duration_refuses(text):
    with pytest.raises(ValueError):
        parse_duration(text)
