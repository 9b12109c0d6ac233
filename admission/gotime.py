"""Go's time package as kube-apiserver meets it: RFC 3339 timestamps read as time.Parse reads them,
printed as Time.String() prints them, and durations read as time.ParseDuration reads them.

Every reader of a timestamp (decoding, table ages, managedFields, protobuf, the CRD `date-time`
format and CEL) parses through `parse_rfc3339`, so that what one accepts the others accept too.
metav1.Time and MicroTime go through time.Parse's generic path, which is looser than the RFC
(a one-digit hour, a comma before the fraction, fraction digits where the layout has none), and a
refusal carries time.Parse's own words, which kube-apiserver returns in its 400s. The CRD
`date-time` format is kube-openapi's strfmt instead: two-digit fields, and `t`, `z` or a space
where the RFC writes `T` and `Z`.
"""
from __future__ import annotations

import datetime
import re

from admission.gofmt import Go, go_quote

# Go's time layouts as (name, elements); an element is a directive or a literal.
RFC3339 = ("2006-01-02T15:04:05Z07:00", ("2006", "-", "01", "-", "02", "T", "15", ":", "04", ":", "05", "Z07:00"))
RFC3339_MICRO = ("2006-01-02T15:04:05.000000Z07:00",
                 ("2006", "-", "01", "-", "02", "T", "15", ":", "04", ":", "05", ".000000", "Z07:00"))
DATE_TIME = ("date-time", ())
_FIELDS = {"01": ("month", 1, 12, True), "02": ("day", 1, 31, True), "15": ("hour", 0, 23, False),
           "04": ("minute", 0, 59, True), "05": ("second", 0, 59, True)}
# The form the server itself writes (and nearly every client sends): parsed without the walk below.
_CANONICAL = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{6}))?Z")
_STRFMT_DATE_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def parse_rfc3339(value: str, layout: tuple[str, tuple[str, ...]] = RFC3339) -> datetime.datetime:
    """The moment `value` names, with its UTC offset; ValueError with time.Parse's message when
    it does not parse. `layout` is RFC3339 (metav1.Time), RFC3339_MICRO (metav1.MicroTime) or
    DATE_TIME (the CRD format, which words its refusal in its own way)."""
    if not isinstance(value, str):
        raise TypeError(f"a time is a string, not {type(value).__name__}")
    if layout is DATE_TIME:
        return _parse_date_time(value)
    if len(value) == (20 if layout is RFC3339 else 27) and _CANONICAL.fullmatch(value):
        try:
            return datetime.datetime.fromisoformat(value)
        except ValueError:
            pass  # out of range: the walk words the refusal as Go does
    name, elements = layout
    rest = value
    fields = {"hour": 0, "minute": 0, "second": 0, "micro": 0, "offset": 0}

    def cannot(elem: str) -> ValueError:
        return ValueError(f"parsing time {go_quote(value)} as {go_quote(name)}: cannot parse {go_quote(rest)} as "
                          f"{go_quote(elem)}")

    for i, elem in enumerate(elements):
        if elem == "2006":
            if len(rest) < 4 or not rest[:4].isdigit():
                raise cannot(elem)
            fields["year"], rest = int(rest[:4]), rest[4:]
        elif elem in _FIELDS:
            label, lo, hi, fixed = _FIELDS[elem]
            digits = re.match(r"\d\d" if fixed else r"\d\d?", rest)
            if not digits:
                raise cannot(elem)
            number, rest = int(digits.group()), rest[digits.end():]
            if not lo <= number <= hi and label != "day":
                raise ValueError(f"parsing time {go_quote(value)}: {label} out of range")
            fields[label] = number
            fraction = re.match(r"[.,](\d+)", rest) if elem == "05" and ".000000" not in elements[i:] else None
            if fraction:
                fields["micro"], rest = int(fraction.group(1)[:6].ljust(6, "0")), rest[fraction.end():]
        elif elem == ".000000":
            if not re.match(r"[.,]\d{6}", rest):
                raise cannot(elem)
            fields["micro"], rest = int(rest[1:7]), rest[7:]
        elif elem == "Z07:00":
            offset = re.match(r"([+-])(\d\d):(\d\d)", rest)
            if rest[:1] == "Z":
                rest = rest[1:]
            elif not offset:
                raise cannot(elem)
            else:
                sign = -1 if offset.group(1) == "-" else 1
                fields["offset"], rest = sign * (int(offset.group(2)) * 60 + int(offset.group(3))), rest[6:]
        elif rest.startswith(elem):
            rest = rest[len(elem):]
        else:
            raise cannot(elem)
    if rest:
        raise ValueError(f"parsing time {go_quote(value)}: extra text: {go_quote(rest)}")
    try:
        moment = datetime.datetime(fields["year"], fields["month"], fields["day"], fields["hour"], fields["minute"],
                                   fields["second"], fields["micro"])
    except ValueError:
        raise ValueError(f"parsing time {go_quote(value)}: day out of range") from None
    return _at_offset(moment, fields["offset"])


def _at_offset(moment: datetime.datetime, minutes: int) -> datetime.datetime:
    """The wall-clock `moment` at a UTC offset; Go takes offsets up to 24:60, Python below 24:00,
    so a larger one is kept as the instant it names, in UTC."""
    offset = datetime.timedelta(minutes=minutes)
    if abs(offset) < datetime.timedelta(hours=24):
        return moment.replace(tzinfo=datetime.timezone(offset))
    return (moment - offset).replace(tzinfo=datetime.timezone.utc)


def _parse_date_time(value: str) -> datetime.datetime:
    if _STRFMT_DATE_TIME.fullmatch(value) is None:
        raise ValueError(f"{go_quote(value)} is not a valid date-time")
    normalized = value.replace("z", "Z").replace("t", "T").replace(" ", "T").replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(normalized)


def go_time(value: str | None) -> Go:
    """metav1.Time's String(), as kube prints a timestamp in a message; what is no time, as it is."""
    if not value:
        return Go("null")
    try:
        moment = parse_rfc3339(value).astimezone(datetime.timezone.utc)
    except (TypeError, ValueError):
        return Go(value)
    return Go(moment.strftime("%Y-%m-%d %H:%M:%S +0000 UTC"))


_DURATION = re.compile(r"[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def parse_duration(text: str) -> datetime.timedelta:
    """time.ParseDuration; ValueError when it does not parse."""
    if text == "0":
        return datetime.timedelta(0)
    if not _DURATION.fullmatch(text):
        raise ValueError(f"time: invalid duration {go_quote(text)}")
    parts = re.findall(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)", text)
    seconds = sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)
    return datetime.timedelta(seconds=-seconds if text.startswith("-") else seconds)
