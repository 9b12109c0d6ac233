"""The formats of names, labels and the like, with kube's messages
(k8s.io/apimachinery/pkg/util/validation): DNS labels and subdomains, qualified names, label values,
config keys, ports, percents, environment variable and HTTP header names, IP addresses.

Each check returns the complaints kube makes of a value, [] when it has none: clients and people
match on those words, so they are kube's to the letter.
"""
from __future__ import annotations

import random

import ipaddress
import re

_DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = _DNS1123_LABEL + "(\\." + _DNS1123_LABEL + ")*"
_DNS1035_LABEL = "[a-z]([-a-z0-9]*[a-z0-9])?"
_QUALIFIED_NAME = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE = "(" + _QUALIFIED_NAME + ")?"
_CONFIG_KEY = "[-._a-zA-Z0-9]+"
_PERCENT = "[0-9]+%"
_WILDCARD_SUBDOMAIN = "\\*\\." + _DNS1123_SUBDOMAIN
_HTTP_HEADER_NAME = "[-A-Za-z0-9]+"
_QUALIFIED_NAME_MSG = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                       "with an alphanumeric character")


def _matches(fmt: str, value: str) -> bool:
    return re.fullmatch(fmt, value) is not None


def _max_len(n: int) -> str:
    return f"must be no more than {n} characters"


def _byte_len(value: str) -> int:
    """Go's len() of a string: its length in UTF-8 bytes, which kube's length limits count."""
    return len(value.encode("utf-8", "surrogatepass"))


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    # kube builds this by appending "'x', " per example, hence the double space before " or ".
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    shown = "".join((" or " if i else "") + f"'{e}', " for i, e in enumerate(examples))
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def range_error(lo: int, hi: int) -> str:
    return f"must be between {lo} and {hi}, inclusive"


def _format_errors(value: str, limit: int, fmt: str, msg: str, *examples: str) -> list[str]:
    """The shape of most kube format checks: a length bound, then a regular expression."""
    errs = [_max_len(limit)] if _byte_len(value) > limit else []
    if not _matches(fmt, value):
        errs.append(_regex_error(msg, fmt, *examples))
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    return _format_errors(value, 253, _DNS1123_SUBDOMAIN,
                          "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
                          "or '.', and must start and end with an alphanumeric character", "example.com")


def is_dns1123_label(value: str) -> list[str]:
    errs = _format_errors(value, 63, _DNS1123_LABEL,
                          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
                          "must start and end with an alphanumeric character", "my-name", "123-abc")
    if errs and not _matches(_DNS1123_LABEL, value) and _matches(_DNS1123_SUBDOMAIN, value):
        # A valid subdomain that is no label can only be wrong by its dots; kube says so.
        errs[-1] = "must not contain dots"
    return errs


def is_dns1035_label(value: str) -> list[str]:
    return _format_errors(value, 63, _DNS1035_LABEL,
                          "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
                          "alphabetic character, and end with an alphanumeric character", "my-name", "abc-123")


def is_wildcard_dns1123_subdomain(value: str) -> list[str]:
    return _format_errors(value, 253, _WILDCARD_SUBDOMAIN,
                          "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, "
                          "which must consist of lower case alphanumeric characters, '-' or '.' and end with an "
                          "alphanumeric character", "*.example.com")


def is_qualified_name(value: str) -> list[str]:
    """Label keys, annotation keys, finalizers: an optional DNS subdomain prefix and a name."""
    parts = value.split("/")
    if len(parts) > 2:
        return ["a qualified name " + _regex_error(_QUALIFIED_NAME_MSG, _QUALIFIED_NAME, "MyName", "my.name", "123-abc")
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    errs = []
    name = parts[-1]
    if len(parts) == 2:
        if not parts[0]:
            errs.append("prefix part must be non-empty")
        else:
            errs += ["prefix part " + m for m in is_dns1123_subdomain(parts[0])]
    if not name:
        errs.append("name part must be non-empty")
    elif _byte_len(name) > 63:
        errs.append("name part " + _max_len(63))
    if not _matches(_QUALIFIED_NAME, name):
        errs.append("name part " + _regex_error(_QUALIFIED_NAME_MSG, _QUALIFIED_NAME, "MyName", "my.name", "123-abc"))
    return errs


def is_label_value(value: str) -> list[str]:
    return _format_errors(value, 63, _LABEL_VALUE,
                          "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
                          "'.', and must start and end with an alphanumeric character", "MyValue", "my_value", "12345")


def is_config_map_key(value: str) -> list[str]:
    errs = _format_errors(value, 253, _CONFIG_KEY, "a valid config key must consist of alphanumeric characters, "
                          "'-', '_' or '.'", "key.name", "KEY_NAME", "key-name")
    if value in (".", ".."):
        errs.append(f"must not be '{value}'")
    elif value.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def is_path_segment_name(value: str) -> list[str]:
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{bad}'" for bad in ("/", "%") if bad in value]


def is_valid_port_num(port: int) -> list[str]:
    return [] if 1 <= port <= 65535 else [range_error(1, 65535)]


def is_valid_port_name(port: str) -> list[str]:
    errs = [_max_len(15)] if len(port) > 15 else []
    if not re.fullmatch("[-a-z0-9]+", port):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", port):
        errs.append("must contain at least one letter (a-z)")
    if "--" in port:
        errs.append("must not contain consecutive hyphens")
    if port[:1] == "-" or port[-1:] == "-":
        errs.append("must not begin or end with a hyphen")
    return errs


def is_valid_percent(value: str) -> list[str]:
    if _matches(_PERCENT, value):
        return []
    return [_regex_error("a valid percent string must be a numeric string followed by an ending '%'",
                         _PERCENT, "1%", "93%")]


def is_env_var_name(value: str) -> list[str]:
    # RelaxedEnvironmentVariableValidation is on by default in 1.33.
    errs = ["environment variable name must be non-empty"] if not value else []
    if any(not (" " <= ch <= "~") or ch == "=" for ch in value):
        errs.append("a valid environment variable name must consist only of printable ASCII characters other than '='")
    return errs


def is_http_header_name(value: str) -> list[str]:
    if _matches(_HTTP_HEADER_NAME, value):
        return []
    return [_regex_error("a valid HTTP header must consist of alphanumeric characters or '-'", _HTTP_HEADER_NAME,
                         "X-Header-Name")]


def is_ip(value: str, version: int | None = None) -> bool:
    """Whether `value` is an IP address, of that version (4 or 6) when one is given."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return version is None or address.version == version


# The alphabet of kube's names.SimpleNameGenerator: no vowels (no words), no look-alike digits.
GENERATE_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def random_suffix(length: int = 5) -> str:
    return "".join(random.choices(GENERATE_NAME_ALPHABET, k=length))
