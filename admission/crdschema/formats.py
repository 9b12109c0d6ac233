"""The string formats kube-openapi validates in a CRD's schema (StripUnsupportedFormatsPostProcess
keeps these and strips every other), and what a formatted string stands for in CEL: bytes, a
duration, a timestamp.
"""
from __future__ import annotations

import base64
import datetime
import ipaddress
import re
import urllib.parse
from collections.abc import Callable

from admission.gotime import DATE_TIME, parse_duration, parse_rfc3339
from admission.validation.formats import base64_error
from admission.validation.names import is_ip

_WORD_DURATION = re.compile(r"\s*(\d+)\s*(ns|us|µs|ms|s|m|h|d|w|nanoseconds?|microseconds?|milliseconds?|seconds?|sec|"
                            r"minutes?|mins?|hours?|hrs?|days?|weeks?|wks?)\s*")


def _duration(text: str) -> datetime.timedelta | None:
    try:
        return parse_duration(text)
    except ValueError:
        return None


def _is_duration(text: str) -> bool:
    """strfmt's duration: Go's, or a number of units like "3 days"."""
    return _duration(text) is not None or bool(text.strip()) and _WORD_DURATION.sub("", text) == ""


def _date_time(text: str) -> datetime.datetime | None:
    try:
        return parse_rfc3339(text, DATE_TIME)
    except ValueError:
        return None


def _is_date(text: str) -> bool:
    try:
        return re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) is not None and bool(datetime.date.fromisoformat(text))
    except ValueError:
        return False


def _is_base64(text: str) -> bool:
    return base64_error(text) is None


def _is_cidr(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return "/" in text


def _is_uri(text: str) -> bool:
    """url.ParseRequestURI: an absolute URI or an absolute path."""
    parsed = urllib.parse.urlparse(text)
    return bool(parsed.scheme) or text.startswith("/")


def _is_isbn(text: str, lengths: tuple[int, ...]) -> bool:
    digits = re.sub(r"[\s-]", "", text)
    return (len(digits) in lengths and re.fullmatch(r"\d{9}[\dX]|\d{13}", digits) is not None)


def _matcher(pattern: str, flags: int = 0) -> Callable[[str], bool]:
    compiled = re.compile(pattern, flags)
    return lambda text: compiled.fullmatch(text) is not None


def _uuid(version: str = "[0-9a-f]", variant: str = "[0-9a-f]") -> Callable[[str], bool]:
    return _matcher(f"[0-9a-f]{{8}}-?[0-9a-f]{{4}}-?{version}[0-9a-f]{{3}}-?{variant}[0-9a-f]{{3}}-?[0-9a-f]{{12}}",
                    re.IGNORECASE)


# The formats kube validates (StripUnsupportedFormatsPostProcess strips every other, int32 and
# int64 among them), keyed by the name without dashes as go-openapi normalizes it.
FORMATS: dict[str, Callable[[str], bool]] = {
    "bsonobjectid": _matcher(r"[0-9a-fA-F]{24}"),
    "uri": _is_uri,
    "email": _matcher(r"[^@\s]+@[^@\s]+"),
    "hostname": _matcher(r"(?=.{1,255}$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
                         r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?"),
    "ipv4": lambda text: is_ip(text, 4),
    "ipv6": lambda text: is_ip(text, 6),
    "cidr": _is_cidr,
    "mac": _matcher(r"[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}([:-][0-9a-fA-F]{2}){0,2}"),
    "uuid": _uuid(),
    "uuid3": _uuid("3"),
    "uuid4": _uuid("4", "[89ab]"),
    "uuid5": _uuid("5", "[89ab]"),
    "isbn": lambda text: _is_isbn(text, (10, 13)),
    "isbn10": lambda text: _is_isbn(text, (10,)),
    "isbn13": lambda text: _is_isbn(text, (13,)),
    "creditcard": lambda text: re.fullmatch(r"4\d{12}(\d{3})?|5[1-5]\d{14}|6(011|5\d\d)\d{12}|3[47]\d{13}|"
                                            r"3(0[0-5]|[68]\d)\d{11}|(2131|1800|35\d{3})\d{11}",
                                            re.sub(r"\D", "", text)) is not None,
    "ssn": _matcher(r"\d{3}[- ]?\d{2}[- ]?\d{4}"),
    "hexcolor": _matcher(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})"),
    "rgbcolor": _matcher(r"rgb\(\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*\)"),
    "byte": _is_base64,
    "password": lambda text: True,
    "date": _is_date,
    "duration": _is_duration,
    "datetime": lambda text: _date_time(text) is not None,
}


def format_of(s: dict) -> str:
    fmt = s.get("format") or ""
    return fmt if isinstance(fmt, str) and fmt.replace("-", "") in FORMATS else ""


def formatted_value(value: str, fmt: str):
    """What a string of the format stands for in CEL (bytes, a duration, a timestamp); the string
    itself when it has no such format or does not parse."""
    if fmt == "byte" and _is_base64(value):
        return base64.b64decode(value)
    if fmt == "duration" and _duration(value) is not None:
        return _duration(value)
    if fmt in ("date-time", "datetime"):
        return _date_time(value) or value
    if fmt == "date" and _is_date(value):
        return datetime.datetime.fromisoformat(value).replace(tzinfo=datetime.timezone.utc)
    return value
