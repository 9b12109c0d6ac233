"""The value formats kube-apiserver parses while it decodes and validates, with its parsers' own
messages: resource quantities (resource.ParseQuantity), base64 bytes (Go's base64.StdEncoding) and
CronJob schedules (robfig/cron's ParseStandard).
"""
from __future__ import annotations

import fractions
import re

from admission import cron
from admission.gofmt import go_float

QUANTITY_FORMAT_ERROR = ("quantities must match the regular expression "
                         "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def parse_quantity(text: str) -> fractions.Fraction:
    """resource.ParseQuantity's value; ValueError carries kube's message."""
    if not text:
        raise ValueError(QUANTITY_FORMAT_ERROR)
    m = re.fullmatch(r"([+-]?)([0-9]*)(?:\.([0-9]*))?([eEinumkKMGTP]*)([-+]?[0-9]*)", text)
    if m is None or not (m.group(2) or m.group(3) is not None):
        raise ValueError(QUANTITY_FORMAT_ERROR)
    sign, whole, frac, letters, exp_digits = m.groups()
    number = fractions.Fraction(int(whole or "0")) + (
        fractions.Fraction(int(frac), 10 ** len(frac)) if frac else 0)
    suffix = letters + exp_digits
    if suffix in _BINARY_SUFFIXES:
        number *= 2 ** _BINARY_SUFFIXES[suffix]
    elif suffix in _DECIMAL_SUFFIXES:
        number *= fractions.Fraction(10) ** _DECIMAL_SUFFIXES[suffix]
    elif letters in ("e", "E") and re.fullmatch("[-+]?[0-9]+", exp_digits):
        number *= fractions.Fraction(10) ** int(exp_digits)
    else:
        raise ValueError("unable to parse quantity's suffix")
    return -number if sign == "-" else number


def quantity_or_none(value) -> fractions.Fraction | None:
    try:
        return parse_quantity(quantity_text(value))
    except ValueError:
        return None


def quantity_text(value) -> str:
    """A quantity as the client wrote it: kube parses the JSON literal itself, and a number stands
    as a Go client sends it."""
    return go_float(value, "json") if isinstance(value, float) else str(value)


_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def base64_error(text: str) -> str | None:
    """Go's base64.StdEncoding error for `text`, or None when it decodes."""
    si, n = 0, len(text)
    while si < n:
        j = 0
        while j < 4:
            if si == n:
                if j == 0:
                    return None
                return f"illegal base64 data at input byte {si - j}"
            ch = text[si]
            si += 1
            if ch in _BASE64:
                j += 1
                continue
            if ch in "\r\n":
                continue
            if ch != "=":
                return f"illegal base64 data at input byte {si - 1}"
            if j in (0, 1):
                return f"illegal base64 data at input byte {si - 1}"
            if j == 2:
                while si < n and text[si] in "\r\n":
                    si += 1
                if si == n:
                    return f"illegal base64 data at input byte {n}"
                if text[si] != "=":
                    return f"illegal base64 data at input byte {si - 1}"
                si += 1
            while si < n and text[si] in "\r\n":
                si += 1
            return f"illegal base64 data at input byte {si}" if si < n else None
    return None


def cron_error(spec: str) -> str | None:
    """robfig/cron's ParseStandard error for a CronJob schedule, or None when it parses."""
    try:
        cron.parse(spec)
    except ValueError as e:
        return str(e)
    return None
