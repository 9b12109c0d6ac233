"""Validation of built-in objects, in kube-apiserver's own words.

Three checks, each answering what kube-apiserver answers at the same point of a request:
- `decode_errors`: what decoding the body into the Go type rejects (400 BadRequest);
- `unknown_fields`: what strict field validation reports (`fieldValidation=Strict|Warn`);
- `validate`: the per-kind validation (422 Invalid), as StatusCauses.
The schemas drive the generic parts (JSON types, unknown and required fields). The rules kube writes
by hand per kind are tables and small functions below, with kube's messages: clients and people
match on those words, so they are kube's to the letter wherever we know them.
"""
from __future__ import annotations

import datetime
import fractions
import functools
import ipaddress
import re
import zoneinfo
from collections.abc import Callable, Iterator

from admission.schemas import INT_OR_STRING, QUANTITY, Schemas

RBAC = "rbac.authorization.k8s.io"
META_V1 = "io.k8s.apimachinery.pkg.apis.meta.v1."
TIME = META_V1 + "Time"
MICRO_TIME = META_V1 + "MicroTime"

# --- formats and their messages (k8s.io/apimachinery/pkg/util/validation) ----------------------

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
_MAX_INT32 = 2**31 - 1
_NONNEGATIVE = "must be greater than or equal to 0"
_IMMUTABLE = "field is immutable"
_ANNOTATIONS_LIMIT = 256 * 1024
_MAX_SECRET_SIZE = 1024 * 1024


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


def _range_error(lo: int, hi: int) -> str:
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
    return [] if 1 <= port <= 65535 else [_range_error(1, 65535)]


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


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


# --- how Go prints values in messages (fmt %v, %q, %#v) ------------------------------------------

class _Go(str):
    """Text already printed as Go prints the value (a String method or %#v): shown as is."""


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
               '"': '\\"', "\\": "\\\\"}


def go_quote(text: str) -> str:
    """Go's %q."""
    out = []
    for ch in text:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def _go_float(value: float) -> str:
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def _go_value(value) -> str:
    """How a field.Error prints its bad value: simple types plainly, strings quoted, the rest %#v."""
    if isinstance(value, _Go):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return _go_string_map(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return _go_string_list(value)
    return _go_interface(value)


def _go_interface(value) -> str:
    """%#v of decoded JSON held as interface{}: what kube shows for values we hold untyped."""
    if value is None:
        return "interface {}(nil)"
    if isinstance(value, dict):
        return "map[string]interface {}{" + ", ".join(
            f"{go_quote(k)}:{_go_interface(v)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, list):
        return "[]interface {}{" + ", ".join(_go_interface(v) for v in value) + "}"
    return _go_value(value)


def _go_string_map(value: dict | None) -> _Go:
    if value is None:
        return _Go("map[string]string(nil)")
    return _Go("map[string]string{" + ", ".join(f"{go_quote(k)}:{go_quote(str(v))}"
                                                for k, v in sorted(value.items())) + "}")


def _go_string_list(value: list | None) -> _Go:
    if value is None:
        return _Go("[]string(nil)")
    return _Go("[]string{" + ", ".join(go_quote(str(v)) for v in value) + "}")


def _go_label_selector(selector: dict | None) -> _Go:
    if selector is None:
        return _Go("null")
    exprs = selector.get("matchExpressions")
    rendered = "[]v1.LabelSelectorRequirement(nil)" if exprs is None else (
        "[]v1.LabelSelectorRequirement{" + ", ".join(
            f"v1.LabelSelectorRequirement{{Key:{go_quote(e.get('key') or '')}, "
            f"Operator:{go_quote(e.get('operator') or '')}, Values:{_go_string_list(e.get('values'))}}}"
            for e in exprs) + "}")
    return _Go(f"v1.LabelSelector{{MatchLabels:{_go_string_map(selector.get('matchLabels'))}, "
               f"MatchExpressions:{rendered}}}")


def _go_role_ref(ref: dict | None) -> _Go:
    ref = ref or {}
    return _Go(f"rbac.RoleRef{{APIGroup:{go_quote(ref.get('apiGroup') or '')}, Kind:{go_quote(ref.get('kind') or '')}, "
               f"Name:{go_quote(ref.get('name') or '')}}}")


def _go_service_port_key(port: dict) -> _Go:
    return _Go(f"core.ServicePort{{Name:\"\", Protocol:{go_quote(port.get('protocol') or '')}, "
               f"AppProtocol:(*string)(nil), Port:{port.get('port') or 0}, "
               "TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}")


def _go_strategy(type_name: str, rolling_name: str, strategy: dict) -> _Go:
    """An apps update strategy as %#v prints it; kube names the whole strategy when its type is wrong."""
    rolling = strategy.get("rollingUpdate")
    rendered = f"(*apps.{rolling_name})(nil)" if rolling is None else _go_interface(rolling)
    return _Go(f"apps.{type_name}{{Type:{go_quote(strategy.get('type') or '')}, RollingUpdate:{rendered}}}")


def _go_time(value: str | None) -> _Go:
    """metav1.Time's String(), as kube prints a timestamp in a message."""
    if not value:
        return _Go("null")
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(datetime.timezone.utc)
    except ValueError:
        return _Go(value)
    return _Go(moment.strftime("%Y-%m-%d %H:%M:%S +0000 UTC"))


# --- causes and field paths ------------------------------------------------------------------------

def _with_detail(text: str, detail: str) -> str:
    return f"{text}: {detail}" if detail else text


class _Causes:
    """A field.ErrorList: kube's constructors, producing StatusCause dicts."""

    def __init__(self):
        self.items: list[dict] = []

    def _add(self, reason: str, field: str, message: str) -> None:
        self.items.append({"reason": reason, "message": message, "field": field})

    def required(self, field: str, detail: str = "") -> None:
        self._add("FieldValueRequired", field, _with_detail("Required value", detail))

    def invalid(self, field: str, value, detail: str) -> None:
        self._add("FieldValueInvalid", field, _with_detail(f"Invalid value: {_go_value(value)}", detail))

    def invalid_each(self, field: str, value, messages: list[str]) -> None:
        for msg in messages:
            self.invalid(field, value, msg)

    def check(self, field: str, value, fmt: Callable[..., list[str]]) -> None:
        """A value against one of the format checks above, each complaint an Invalid."""
        self.invalid_each(field, value, fmt(value))

    def not_supported(self, field: str, value, supported: list[str]) -> None:
        detail = "supported values: " + ", ".join(go_quote(v) for v in supported) if supported else ""
        self._add("FieldValueNotSupported", field, _with_detail(f"Unsupported value: {_go_value(value)}", detail))

    def forbidden(self, field: str, detail: str) -> None:
        self._add("FieldValueForbidden", field, _with_detail("Forbidden", detail))

    def duplicate(self, field: str, value, detail: str = "") -> None:
        self._add("FieldValueDuplicate", field, _with_detail(f"Duplicate value: {_go_value(value)}", detail))

    def not_found(self, field: str, value) -> None:
        self._add("FieldValueNotFound", field, f"Not found: {_go_value(value)}")

    def too_long(self, field: str, limit: int) -> None:
        self._add("FieldValueTooLong", field, f"Too long: may not be more than {limit} bytes")

    def nonnegative(self, field: str, value) -> None:
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            self.invalid(field, value, _NONNEGATIVE)

    def has(self, field: str) -> bool:
        return any(cause["field"] == field for cause in self.items)

    def one_of(self, field: str, value, supported: list[str]) -> None:
        """kube's enum switch: empty is Required, anything else outside the list NotSupported."""
        if not value:
            self.required(field)
        elif value not in supported:
            self.not_supported(field, value, supported)


def _at(base: str, *parts) -> str:
    """field.Path: Child for names, Index for ints."""
    for part in parts:
        if isinstance(part, int):
            base = f"{base}[{part}]"
        else:
            base = f"{base}.{part}" if base else part
    return base


def _key(base: str, key: str) -> str:
    return f"{base}[{key}]"


def dig(obj, dotted: str):
    """The value at a dotted path such as "spec.template.metadata", or None where it stops."""
    for part in dotted.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _semantic(value):
    """What apiequality.Semantic.DeepEqual compares: unset, empty and zero-length are one value."""
    if isinstance(value, dict):
        kept = {k: _semantic(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, "", {}, [])}
    if isinstance(value, list):
        return [_semantic(v) for v in value]
    return value


def _diff(old, new, path: str = "") -> list[str]:
    """A short account of what changed; kube prints a go-cmp diff of the Go structs here."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [line for key in sorted(set(old) | set(new))
                for line in _diff(old.get(key), new.get(key), _at(path, key))]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [line for i, (o, n) in enumerate(zip(old, new)) for line in _diff(o, n, _at(path, i))]
    if old == new:
        return []
    return [f"-\t{path}: {_go_interface(old)}", f"+\t{path}: {_go_interface(new)}"]


# --- quantities, times, base64, cron: what kube's decoders and parsers say ------------------------

_QUANTITY_FORMAT_ERROR = ("quantities must match the regular expression "
                          "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def parse_quantity(text: str) -> fractions.Fraction:
    """resource.ParseQuantity's value; ValueError carries kube's message."""
    if not text:
        raise ValueError(_QUANTITY_FORMAT_ERROR)
    m = re.fullmatch(r"([+-]?)([0-9]*)(?:\.([0-9]*))?([eEinumkKMGTP]*)([-+]?[0-9]*)", text)
    if m is None or not (m.group(2) or m.group(3) is not None):
        raise ValueError(_QUANTITY_FORMAT_ERROR)
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


def _quantity_or_none(value) -> fractions.Fraction | None:
    try:
        return parse_quantity(_quantity_text(value))
    except ValueError:
        return None


def _quantity_text(value) -> str:
    return _go_float(value) if isinstance(value, float) else str(value)


# Go's time layouts as sequences of (element, literal-or-directive).
_RFC3339 = ("2006-01-02T15:04:05Z07:00", ("2006", "-", "01", "-", "02", "T", "15", ":", "04", ":", "05", "Z07:00"))
_RFC3339_MICRO = ("2006-01-02T15:04:05.000000Z07:00",
                  ("2006", "-", "01", "-", "02", "T", "15", ":", "04", ":", "05", ".000000", "Z07:00"))
_TIME_LAYOUTS = {TIME: _RFC3339, MICRO_TIME: _RFC3339_MICRO}
_TIME_FIELDS = {"01": ("month", 1, 12, True), "02": ("day", 1, 31, True), "15": ("hour", 0, 23, False),
                "04": ("minute", 0, 59, True), "05": ("second", 0, 59, True)}


def _time_error(value: str, layout: tuple[str, tuple[str, ...]]) -> str | None:
    """time.Parse's error for `value`, or None when it parses."""
    name, elements = layout
    rest = value

    def cannot(elem: str) -> str:
        return f"parsing time {go_quote(value)} as {go_quote(name)}: cannot parse {go_quote(rest)} as {go_quote(elem)}"

    fields = {}
    for i, elem in enumerate(elements):
        if elem == "2006":
            if len(rest) < 4 or not rest[:4].isdigit():
                return cannot(elem)
            fields["year"], rest = int(rest[:4]), rest[4:]
        elif elem in _TIME_FIELDS:
            label, lo, hi, fixed = _TIME_FIELDS[elem]
            digits = re.match(r"\d\d" if fixed else r"\d\d?", rest)
            if not digits:
                return cannot(elem)
            number, rest = int(digits.group()), rest[digits.end():]
            if not lo <= number <= hi and label != "day":
                return f"parsing time {go_quote(value)}: {label} out of range"
            fields[label] = number
            if elem == "05" and ".000000" not in elements[i:]:
                rest = re.sub(r"^[.,]\d+", "", rest)
        elif elem == ".000000":
            if not re.match(r"[.,]\d{6}", rest):
                return cannot(elem)
            rest = rest[7:]
        elif elem == "Z07:00":
            if rest[:1] == "Z":
                rest = rest[1:]
            elif not re.match(r"[+-]\d\d:\d\d", rest):
                return cannot(elem)
            else:
                rest = rest[6:]
        elif rest.startswith(elem):
            rest = rest[len(elem):]
        else:
            return cannot(elem)
    if rest:
        return f"parsing time {go_quote(value)}: extra text: {go_quote(rest)}"
    try:
        datetime.date(fields["year"], fields["month"], fields["day"])
    except ValueError:
        return f"parsing time {go_quote(value)}: day out of range"
    return None


_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _base64_error(text: str) -> str | None:
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


_CRON_FIELDS = (("minute", 0, 59, {}), ("hour", 0, 23, {}), ("dom", 1, 31, {}),
                ("month", 1, 12, {m: i + 1 for i, m in enumerate(
                    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}),
                ("dow", 0, 6, {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}))
_CRON_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


def _cron_int(text: str, names: dict) -> int:
    if text.lower() in names:
        return names[text.lower()]
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueError(f'failed to parse int from {text}: strconv.Atoi: parsing {go_quote(text)}: invalid syntax')
    if int(text) < 0:
        raise ValueError(f"negative number ({int(text)}) not allowed: {text}")
    return int(text)


def cron_error(spec: str) -> str | None:
    """robfig/cron's ParseStandard error for a CronJob schedule, or None when it parses."""
    if not spec:
        return "empty spec string"
    if spec.startswith("@"):
        if spec in _CRON_DESCRIPTORS or re.fullmatch(r"@every \S+", spec):
            return None
        return f"unrecognized descriptor: {spec}"
    parts = spec.split()
    if len(parts) != 5:
        return f"expected exactly 5 fields, found {len(parts)}: [{' '.join(parts)}]"
    try:
        for text, (_, lo, hi, names) in zip(parts, _CRON_FIELDS):
            for expr in filter(None, text.split(",")):
                range_and_step = expr.split("/")
                low_high = range_and_step[0].split("-")
                if low_high[0] in ("*", "?"):
                    start, end = lo, hi
                elif len(low_high) > 2:
                    return f"too many hyphens: {expr}"
                else:
                    start = _cron_int(low_high[0], names)
                    end = _cron_int(low_high[1], names) if len(low_high) == 2 else start
                if len(range_and_step) > 2:
                    return f"too many slashes: {expr}"
                step = _cron_int(range_and_step[1], {}) if len(range_and_step) == 2 else 1
                if len(range_and_step) == 2 and len(low_high) == 1:
                    end = hi
                if start < lo:
                    return f"beginning of range ({start}) below minimum ({lo}): {expr}"
                if end > hi:
                    return f"end of range ({end}) above maximum ({hi}): {expr}"
                if start > end:
                    return f"beginning of range ({start}) beyond end of range ({end}): {expr}"
                if step == 0:
                    return f"step of range should be a positive number: {expr}"
    except ValueError as e:
        return str(e)
    return None


# --- the schema walk -----------------------------------------------------------------------------

class _Type:
    """One schema node, resolved, with what the walk and its consumers derive from it. Every write
    walks its object against the same few definitions, so each is worked out once, on first use;
    the definitions never change once loaded."""

    def __init__(self, schemas: Schemas, schema: dict, ref: str):
        self.schemas, self.schema, self.ref = schemas, schema, ref
        self.props = schema.get("properties") or None
        # The fields of a struct that keeps no others: decoding drops the rest.
        self.closed = None if schema.get("x-kubernetes-preserve-unknown-fields") else self.props
        additional, items = schema.get("additionalProperties"), schema.get("items")
        self.additional = additional if isinstance(additional, dict) else None
        self.items = items if isinstance(items, dict) else None
        self._fields: dict[str, _Type] = {}
        self._holds: dict[Callable, bool] = {}

    def field(self, name: str) -> _Type:
        found = self._fields.get(name)
        if found is None:
            found = self._fields[name] = _type(self.schemas, self.props[name])
        return found

    @functools.cached_property
    def value_type(self) -> _Type:
        """Of the values of a map."""
        return _type(self.schemas, self.additional)

    @functools.cached_property
    def item_type(self) -> _Type:
        return _type(self.schemas, self.items)

    def holds(self, wanted: Callable[[_Type], bool]) -> bool:
        """Whether a value of this type may be, or hold, a value of a type `wanted` accepts."""
        found = self._holds.get(wanted)
        if found is None:
            found = self._holds[wanted] = any(map(wanted, self._below))
        return found

    @functools.cached_property
    def _below(self) -> tuple[_Type, ...]:
        """This type and every type below it."""
        seen, todo = {id(self): self}, [self]
        while todo:
            t = todo.pop()
            below = [t.field(name) for name in t.props or ()]
            below += [t.value_type] if t.additional is not None else []
            below += [t.item_type] if t.items is not None else []
            for b in below:
                if id(b) not in seen:
                    seen[id(b)] = b
                    todo.append(b)
        return tuple(seen.values())

    @functools.cached_property
    def open(self) -> bool:
        """Whether the schema takes any JSON: RawExtension, FieldsV1, apiextensions JSON, preserved fields."""
        schema = self.schema
        return (schema.get("x-kubernetes-preserve-unknown-fields") or "type" not in schema
                or (schema.get("type") == "object" and "properties" not in schema
                    and "additionalProperties" not in schema))

    @functools.cached_property
    def go_type(self) -> str:
        return _go_type(self.schemas, self.schema, self.ref)

    @functools.cached_property
    def required_empty(self) -> tuple[str, ...]:
        """The required fields kube's Go validation finds empty when unset: strings and lists."""
        props = self.schema.get("properties", {})
        return tuple(name for name in self.schema.get("required", ())
                     if self.schemas.resolve(props.get(name, {})).get("type") in ("string", "array"))


def _ref_of(schema: dict) -> str:
    ref = schema.get("$ref")
    if not ref and len(schema.get("allOf") or ()) == 1:
        ref = schema["allOf"][0].get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else ""


@functools.cache
def _definition(schemas: Schemas, ref: str) -> _Type:
    return _Type(schemas, schemas.resolve(schemas.definitions.get(ref, {})), ref)


def _type(schemas: Schemas, schema: dict) -> _Type:
    ref = _ref_of(schema)
    return _definition(schemas, ref) if ref else _Type(schemas, schemas.resolve(schema), "")


def _short(ref: str) -> str:
    return ref.rsplit(".", 1)[-1]


class Node:
    """One value of an object with the schema that describes it. Where the value sits is worked
    out from its parent only when asked: reports need it, the walk itself does not."""

    __slots__ = ("value", "type", "parent", "key", "position", "is_field")

    def __init__(self, value, type_: _Type, parent: Node | None = None, key=None, position: int = 0,
                 is_field: bool = False):
        self.value, self.type, self.parent = value, type_, parent
        self.key, self.position, self.is_field = key, position, is_field

    @property
    def ref(self) -> str:
        """The definition the schema came from, "" when inline."""
        return self.type.ref

    @property
    def loc(self) -> tuple:
        """Keys and indices from the root."""
        return self.parent.loc + (self.key,) if self.parent else ()

    @property
    def order(self) -> tuple:
        """Positions from the root, so reports can follow the document."""
        return self.parent.order + (self.position,) if self.parent else ()

    @property
    def go_fields(self) -> tuple:
        """Struct field names only, as Go's decoder names a field."""
        if self.parent is None:
            return ()
        return self.parent.go_fields + (self.key,) if self.is_field else self.parent.go_fields

    @property
    def go_struct(self) -> str:
        """The struct holding the field, as Go's decoder names it."""
        if self.parent is None:
            return ""
        return _short(self.parent.ref) if self.is_field else self.parent.go_struct


def walk(schemas: Schemas, definition: str, value, only: Callable[[_Type], bool] | None = None) -> Iterator[Node]:
    """Every value under `value` that the schema describes, parents before children, in order.

    With `only`, just the values of the types it accepts, and the walk goes nowhere they cannot
    be; what it says of a type is remembered, so it must be a function defined once, not per call.

    A consumer may change a node's value before the walk moves on; the walk reads the children
    only when it gets to them, so defaults set on a parent are walked too.
    """
    root = _definition(schemas, definition)
    if only is None or root.holds(only):
        yield from _walk(Node(value, root), only)


def _walk(node: Node, only: Callable[[_Type], bool] | None) -> Iterator[Node]:
    t, value = node.type, node.value
    if only is None or only(t):
        yield node
    if isinstance(value, dict) and t.props:
        props = t.props
        for i, key in enumerate(list(value)):
            if key in props and key in value:
                child = t.field(key)
                if only is None or child.holds(only):
                    yield from _walk(Node(value[key], child, node, key, i, True), only)
    elif isinstance(value, dict) and t.additional is not None:
        child = t.value_type
        if only is None or child.holds(only):
            for i, key in enumerate(list(value)):
                if key in value:
                    yield from _walk(Node(value[key], child, node, key, i), only)
    elif isinstance(value, list) and t.items is not None:
        child = t.item_type
        if only is None or child.holds(only):
            for i in range(len(value)):
                yield from _walk(Node(value[i], child, node, i, i), only)


def _path(loc: tuple) -> str:
    return _at("", *loc)


# --- decoding -------------------------------------------------------------------------------------

_GO_NAMED = {INT_OR_STRING: "intstr.IntOrString", QUANTITY: "resource.Quantity",
             "io.k8s.apimachinery.pkg.runtime.RawExtension": "runtime.RawExtension"}
_INT_RANGES = {"int32": (-2**31, 2**31 - 1), "int64": (-2**63, 2**63 - 1)}
_JSON_TYPES = {"string": str, "boolean": bool, "array": list, "object": dict}


def _go_type(schemas: Schemas, schema: dict, ref: str = "") -> str:
    """The Go type Go's decoder names for a schema (or the definition `ref` it was resolved from)."""
    ref = ref or _ref_of(schema)
    if ref:
        if ref in _GO_NAMED:
            return _GO_NAMED[ref]
        target = schemas.definitions.get(ref, {})
        if target.get("type") != "object":
            return _go_type(schemas, target)
        return f"{ref.split('.')[-2]}.{_short(ref)}"
    kind = schema.get("type")
    if kind == "string":
        return "[]uint8" if schema.get("format") == "byte" else "string"
    if kind == "integer":
        return schema.get("format") or "int"
    if kind == "array":
        return "[]" + _go_type(schemas, schema.get("items") or {})
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return "map[string]" + _go_type(schemas, schema["additionalProperties"])
    return {"number": "float64", "boolean": "bool"}.get(kind, "map[string]interface {}")


def _json_kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]


def _type_error(node: Node, go_type: str, what: str | None = None) -> str:
    what = what or _json_kind(node.value)
    if node.go_fields:
        return (f"json: cannot unmarshal {what} into Go struct field "
                f"{node.go_struct}.{'.'.join(node.go_fields)} of type {go_type}")
    return f"json: cannot unmarshal {what} into Go value of type {go_type}"


def _int_problem(node: Node, go_type: str) -> str | None:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return _type_error(node, go_type)
    lo, hi = _INT_RANGES.get(go_type, _INT_RANGES["int64"])
    if (isinstance(value, float) and not value.is_integer()) or not lo <= value <= hi:
        return _type_error(node, go_type, f"number {_quantity_text(value)}")
    return None


def _decode_problem(node: Node) -> tuple[str, bool] | None:
    """(message, aborts) for a value Go's decoder rejects. Custom unmarshalers (IntOrString,
    Quantity, Time) abort the decode; type mismatches are remembered and decoding goes on."""
    value, t = node.value, node.type
    if value is None:
        return None
    if t.ref == INT_OR_STRING:
        problem = None if isinstance(value, str) else _int_problem(node, "int32")
        return (problem, True) if problem else None
    if t.ref == QUANTITY:
        if isinstance(value, (bool, dict, list)):
            return _QUANTITY_FORMAT_ERROR, True
        try:
            parse_quantity(_quantity_text(value).strip())
        except ValueError as e:
            return str(e), True
        return None
    if t.ref in _TIME_LAYOUTS:
        if not isinstance(value, str):
            return _type_error(node, "string"), True
        problem = _time_error(value, _TIME_LAYOUTS[t.ref])
        return (problem, True) if problem else None
    if t.open:
        return None
    kind, go_type = t.schema["type"], t.go_type
    if kind == "integer":
        problem = _int_problem(node, go_type)
    elif kind == "number":
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        problem = None if number else _type_error(node, go_type)
    elif kind == "string" and t.schema.get("format") == "byte" and isinstance(value, str):
        problem = _base64_error(value)
    else:
        problem = None if isinstance(value, _JSON_TYPES[kind]) else _type_error(node, go_type)
    return (problem, False) if problem else None


def decode_errors(schemas: Schemas, group: str, version: str, kind: str, obj) -> list[str]:
    """Why decoding `obj` into its Go type fails, as kube-apiserver's 400 messages; [] when it decodes."""
    definition = schemas.name_for(group, version, kind)
    if definition is None or not isinstance(obj, dict):
        return []
    aborting, remembered = [], []
    for node in walk(schemas, definition, obj):
        problem = _decode_problem(node)
        if problem:
            (aborting if problem[1] else remembered).append(problem[0])
    return [f'{kind} in version "{version}" cannot be handled as a {kind}: {m}' for m in aborting + remembered]


def _is_closed(t: _Type) -> bool:
    return t.closed is not None


def unknown_fields(schemas: Schemas, group: str, version: str, kind: str, obj, *, drop: bool = False) -> list[str]:
    """Paths of fields the schema does not know, as strict decoding names them: kube reports each
    as `unknown field "spec.foo"` (an error for fieldValidation=Strict, a warning for Warn).

    With `drop`, they are also removed, as decoding into kube's Go types loses them."""
    definition = schemas.name_for(group, version, kind)
    if definition is None or not isinstance(obj, dict):
        return []
    found = []
    for node in walk(schemas, definition, obj, only=_is_closed):
        if isinstance(node.value, dict):
            unknown = [(i, key) for i, key in enumerate(node.value) if key not in node.type.closed]
            found += [(node.order + (i,), _path(node.loc + (key,))) for i, key in unknown]
            if drop:
                for _, key in unknown:
                    del node.value[key]
    return [path for _, path in sorted(found)]


# Types whose required fields kube judges in other words (an empty key is an invalid name, an
# empty IP an invalid address) or not at all (an HTTP header's value may be empty).
_LOOSELY_REQUIRED = {META_V1 + "OwnerReference", META_V1 + "LabelSelectorRequirement",
                     META_V1 + "FieldSelectorRequirement", "io.k8s.api.core.v1.NodeSelectorRequirement",
                     "io.k8s.api.core.v1.ScopedResourceSelectorRequirement", "io.k8s.api.core.v1.Taint",
                     "io.k8s.api.core.v1.HTTPHeader", "io.k8s.api.core.v1.HostAlias",
                     "io.k8s.api.core.v1.EndpointAddress", "io.k8s.api.core.v1.TopologySelectorLabelRequirement",
                     "io.k8s.api.networking.v1.IPBlock"}


def _requires(t: _Type) -> bool:
    return bool(t.required_empty) and t.ref not in _LOOSELY_REQUIRED


def _schema_required(c: _Causes, schemas: Schemas, definition: str, obj: dict) -> None:
    """Fields the schema requires and the object lacks, where kube's Go validation would find them
    empty too: strings and lists. Structs decode to their zero value and integers to 0, which kube
    judges field by field; status is the writers' business, not validated on the main resource."""
    for node in walk(schemas, definition, obj, only=_requires):
        if not isinstance(node.value, dict) or node.loc[:1] == ("status",):
            continue
        for name in node.type.required_empty:
            if node.value.get(name) is None:
                field = _path(node.loc + (name,))
                if not c.has(field):
                    c.required(field)


# --- object metadata (apimachinery/pkg/api/validation/objectmeta.go) -------------------------------

NameFn = Callable[[str], list[str]]

# How each kind's name is checked (each kind's ValidateXName in kube); the rest are DNS subdomains.
NAME_FORMATS: dict[tuple[str, str], NameFn] = {
    ("", "Namespace"): is_dns1123_label,
    ("", "Service"): is_dns1035_label,
    ("apps", "StatefulSet"): is_dns1123_label,
    ("", "Event"): is_path_segment_name,
    (RBAC, "Role"): is_path_segment_name,
    (RBAC, "ClusterRole"): is_path_segment_name,
    (RBAC, "RoleBinding"): is_path_segment_name,
    (RBAC, "ClusterRoleBinding"): is_path_segment_name,
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"): is_path_segment_name,
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"): is_path_segment_name,
}
_STANDARD_FINALIZERS = ("kubernetes", "orphan", "foregroundDeletion")
_META_IMMUTABLE = ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds")


def _mask_trailing_dash(name: str) -> str:
    return name[:-2] + "a" if len(name) > 1 and name.endswith("-") else name


def _labels(c: _Causes, labels, path: str) -> None:
    for key, value in sorted(_dict(labels).items()):
        c.check(path, key, is_qualified_name)
        c.invalid_each(path, value, is_label_value(str(value)))


def _annotations(c: _Causes, annotations, path: str) -> None:
    annotations = _dict(annotations)
    for key in sorted(annotations):
        c.invalid_each(path, key, is_qualified_name(key.lower()))
    if sum(len(k.encode()) + len(str(v).encode()) for k, v in annotations.items()) > _ANNOTATIONS_LIMIT:
        c.too_long(path, _ANNOTATIONS_LIMIT)


def _owner_references(c: _Causes, refs, path: str) -> None:
    controller = ""
    for ref in _list(refs):
        ref = _dict(ref)
        api_version = ref.get("apiVersion") or ""
        if not api_version or api_version.count("/") > 1 or api_version.endswith("/"):
            c.invalid(_at(path, "apiVersion"), api_version, "version must not be empty")
        for field in ("kind", "name", "uid"):
            if not ref.get(field):
                c.invalid(_at(path, field), ref.get(field) or "", "must not be empty")
        if ref.get("controller") is True:
            this = f"{ref.get('kind', '')}/{ref.get('name', '')}"
            if controller:
                c.invalid(path, refs, "Only one reference can have Controller set to true. Found \"true\" in "
                                      f"references for {controller} and {this}")
            else:
                controller = this


def _finalizers(c: _Causes, finalizers, path: str, core: bool) -> None:
    finalizers = [f for f in _list(finalizers) if isinstance(f, str)]
    for f in finalizers:
        c.check(path, f, is_qualified_name)
    if "orphan" in finalizers and "foregroundDeletion" in finalizers:
        c.invalid(path, finalizers, "finalizer orphan and foregroundDeletion cannot be both set")
    for i, f in enumerate(finalizers):
        if core and "/" not in f and f not in _STANDARD_FINALIZERS:
            c.invalid(_at(path, i), f, "name is neither a standard finalizer name nor is it fully qualified")


def _meta_common(c: _Causes, meta: dict, path: str, core: bool) -> None:
    """`core`: the kind is validated with kube's core ObjectMeta rules, which add the
    standard-finalizer check; CRDs and custom resources get apimachinery's generic rules only."""
    _labels(c, meta.get("labels"), _at(path, "labels"))
    _annotations(c, meta.get("annotations"), _at(path, "annotations"))
    _owner_references(c, meta.get("ownerReferences"), _at(path, "ownerReferences"))
    _finalizers(c, meta.get("finalizers"), _at(path, "finalizers"), core)


def _meta_create(c: _Causes, meta: dict, name_fn: NameFn, namespaced: bool, path: str = "metadata",
                 core: bool = True) -> None:
    generate = meta.get("generateName")
    if generate:
        c.invalid_each(_at(path, "generateName"), generate, name_fn(_mask_trailing_dash(generate)))
    name = meta.get("name")
    if not name:
        c.required(_at(path, "name"), "name or generateName is required")
    else:
        c.check(_at(path, "name"), name, name_fn)
    namespace = meta.get("namespace")
    if namespaced and not namespace:
        c.required(_at(path, "namespace"))
    elif namespaced:
        c.check(_at(path, "namespace"), namespace, is_dns1123_label)
    elif namespace:
        c.forbidden(_at(path, "namespace"), "not allowed on this type")
    c.nonnegative(_at(path, "generation"), meta.get("generation"))
    _meta_common(c, meta, path, core)


def _meta_update(c: _Causes, meta: dict, old_meta: dict, path: str = "metadata", core: bool = True) -> None:
    if old_meta.get("deletionTimestamp"):
        added = sorted(set(_list(meta.get("finalizers"))) - set(_list(old_meta.get("finalizers"))))
        if added:
            c.forbidden(_at(path, "finalizers"), "no new finalizers can be added if the object is being deleted, "
                                                 f"found new finalizers {_go_string_list(added)}")
    if (meta.get("generation") or 0) < (old_meta.get("generation") or 0):
        c.invalid(_at(path, "generation"), meta.get("generation") or 0, "must not be decremented")
    for field in _META_IMMUTABLE:
        new, old = meta.get(field), old_meta.get(field)
        if _semantic(new) != _semantic(old):
            c.invalid(_at(path, field), _go_time(new) if field.endswith("Timestamp") else new, _IMMUTABLE)
    _meta_common(c, meta, path, core)


# --- label selectors (apimachinery/pkg/apis/meta/v1/validation) -----------------------------------

_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def _label_selector(c: _Causes, selector, path: str) -> None:
    selector = _dict(selector)
    _labels(c, selector.get("matchLabels"), _at(path, "matchLabels"))
    for i, expr in enumerate(_list(selector.get("matchExpressions"))):
        expr, at = _dict(expr), _at(path, "matchExpressions", i)
        operator, values = expr.get("operator") or "", _list(expr.get("values"))
        if operator in ("In", "NotIn") and not values:
            c.required(_at(at, "values"), "must be specified when `operator` is 'In' or 'NotIn'")
        elif operator in ("Exists", "DoesNotExist") and values:
            c.forbidden(_at(at, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
        elif operator not in _SELECTOR_OPERATORS:
            c.invalid(_at(at, "operator"), operator, "not a valid selector operator")
        c.check(_at(at, "key"), expr.get("key") or "", is_qualified_name)
        for j, value in enumerate(values):
            c.invalid_each(_at(at, "values", j), value, is_label_value(str(value)))


def _selector_converts(selector) -> bool:
    """Whether metav1.LabelSelectorAsSelector accepts the selector."""
    probe = _Causes()
    _label_selector(probe, selector, "")
    return not probe.items


def _selector_is_empty(selector) -> bool:
    return isinstance(selector, dict) and not selector.get("matchLabels") and not selector.get("matchExpressions")


def _selector_matches(selector, labels) -> bool:
    """metav1.LabelSelectorAsSelector(selector).Matches(labels): a nil selector matches nothing."""
    if not isinstance(selector, dict):
        return False
    labels = _dict(labels)
    if any(labels.get(k) != v for k, v in _dict(selector.get("matchLabels")).items()):
        return False
    for expr in _list(selector.get("matchExpressions")):
        key, op, values = expr.get("key"), expr.get("operator"), _list(expr.get("values"))
        present = key in labels
        if ((op == "In" and (not present or labels[key] not in values))
                or (op == "NotIn" and present and labels[key] in values)
                or (op == "Exists" and not present) or (op == "DoesNotExist" and present)):
            return False
    return True


# --- pods and pod templates (pkg/apis/core/validation) --------------------------------------------

_VOLUME_SOURCES = ("emptyDir", "hostPath", "gitRepo", "gcePersistentDisk", "awsElasticBlockStore", "secret", "nfs",
                   "iscsi", "glusterfs", "flocker", "persistentVolumeClaim", "rbd", "cinder", "cephfs", "quobyte",
                   "downwardAPI", "fc", "flexVolume", "configMap", "azureFile", "vsphereVolume",
                   "photonPersistentDisk", "portworxVolume", "azureDisk", "storageos", "projected", "scaleIO",
                   "csi", "ephemeral", "image")
_PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
_LIFECYCLE_HANDLERS = ("exec", "httpGet", "tcpSocket", "sleep")
_PROTOCOLS = ["SCTP", "TCP", "UDP"]
_FILE_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive"
_DOWNWARD_API_ENV_PATHS = ["metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
                           "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP",
                           "status.podIPs"]
_DOWNWARD_API_LABELS = ("metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace",
                        "metadata.uid", "spec.nodeName", "spec.restartPolicy", "spec.serviceAccountName",
                        "spec.schedulerName", "status.phase", "status.hostIP", "status.hostIPs", "status.podIP",
                        "status.podIPs")
_RESOURCE_FIELD_PATHS = ["limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu",
                         "requests.ephemeral-storage", "requests.memory"]
_CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")
_STANDARD_RESOURCES = _CONTAINER_RESOURCES + (
    "requests.cpu", "requests.memory", "requests.ephemeral-storage", "limits.cpu", "limits.memory",
    "limits.ephemeral-storage", "pods", "services", "replicationcontrollers", "resourcequotas", "secrets",
    "configmaps", "persistentvolumeclaims", "storage", "requests.storage", "services.nodeports",
    "services.loadbalancers")
_INTEGER_RESOURCES = ("pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
                      "persistentvolumeclaims", "services.nodeports", "services.loadbalancers")
_TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"]
_INIT_ONLY_ALWAYS = "may not be set for init containers without restartPolicy=Always"
_UPDATABLE_POD_FIELDS = ",".join((
    "`spec.containers[*].image`", "`spec.initContainers[*].image`", "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"))


def _exactly_one(c: _Causes, obj: dict, keys: tuple[str, ...], path: str, what: str) -> str | None:
    """kube's union checks: the first member set counts, the others are forbidden, none is required."""
    chosen = None
    for key in keys:
        if obj.get(key) is None:
            continue
        if chosen:
            c.forbidden(_at(path, key), f"may not specify more than 1 {what}")
        else:
            chosen = key
    if chosen is None:
        c.required(path, f"must specify a {what}")
    return chosen


def _no_backsteps(c: _Causes, target: str, path: str) -> None:
    if ".." in target.split("/"):
        c.invalid(path, target, "must not contain '..'")


def _local_descending_path(c: _Causes, target: str, path: str) -> None:
    if target.startswith("/"):
        c.invalid(path, target, "must be a relative path")
    _no_backsteps(c, target, path)


def _file_mode(c: _Causes, mode, path: str) -> None:
    if isinstance(mode, int) and not 0 <= mode <= 0o777:
        c.invalid(path, mode, _FILE_MODE_ERROR)


def _key_to_paths(c: _Causes, items, path: str) -> None:
    for i, item in enumerate(_list(items)):
        item, at = _dict(item), _at(path, i)
        if not item.get("key"):
            c.required(_at(at, "key"))
        if not item.get("path"):
            c.required(_at(at, "path"))
        target = item.get("path") or ""
        _local_descending_path(c, target, _at(at, "path"))
        if target.startswith("..") and not target.startswith("../"):
            c.invalid(_at(at, "path"), target, "must not start with '..'")
        _file_mode(c, item.get("mode"), _at(at, "mode"))


def _volume_source(c: _Causes, volume: dict, path: str) -> None:
    source = _exactly_one(c, volume, _VOLUME_SOURCES, path, "volume type")
    if source is None:
        return
    spec, at = _dict(volume.get(source)), _at(path, source)
    required = {"hostPath": "path", "persistentVolumeClaim": "claimName", "secret": "secretName",
                "configMap": "name", "nfs": "server"}.get(source)
    if required and not spec.get(required):
        c.required(_at(at, required))
    if source == "hostPath":
        _no_backsteps(c, spec.get("path") or "", _at(at, "path"))
    if source in ("secret", "configMap"):
        _file_mode(c, spec.get("defaultMode"), _at(at, "defaultMode"))
        _key_to_paths(c, spec.get("items"), _at(at, "items"))


def _volumes(c: _Causes, volumes, path: str) -> dict:
    """Validates the volumes and returns those without errors by name, as kube does for mounts."""
    valid = {}
    for i, volume in enumerate(_list(volumes)):
        volume, at, before = _dict(volume), _at(path, i), len(c.items)
        _volume_source(c, volume, at)
        name = volume.get("name") or ""
        if not name:
            c.required(_at(at, "name"))
        else:
            c.check(_at(at, "name"), name, is_dns1123_label)
        if name in valid:
            c.duplicate(_at(at, "name"), name)
        if len(c.items) == before:
            valid[name] = volume
    return valid


def _port_num_or_name(c: _Causes, port, path: str) -> None:
    if isinstance(port, str):
        c.check(path, port, is_valid_port_name)
    else:
        c.check(path, port or 0, is_valid_port_num)


def _handler(c: _Causes, handler: dict, kinds: tuple[str, ...], grace, path: str) -> None:
    chosen = _exactly_one(c, handler, kinds, path, "handler type")
    if chosen is None:
        return
    action, at = _dict(handler.get(chosen)), _at(path, chosen)
    if chosen == "exec" and not action.get("command"):
        c.required(_at(at, "command"))
    elif chosen == "httpGet":
        if not action.get("path"):
            c.required(_at(at, "path"))
        _port_num_or_name(c, action.get("port"), _at(at, "port"))
        if action.get("scheme") not in ("HTTP", "HTTPS"):
            c.not_supported(_at(at, "scheme"), action.get("scheme") or "", ["HTTP", "HTTPS"])
        for header in _list(action.get("httpHeaders")):
            name = _dict(header).get("name") or ""
            if not _matches(_HTTP_HEADER_NAME, name):
                c.invalid(_at(at, "httpHeaders"), name, _regex_error(
                    "a valid HTTP header must consist of alphanumeric characters or '-'", _HTTP_HEADER_NAME,
                    "X-Header-Name"))
    elif chosen in ("tcpSocket", "grpc"):
        _port_num_or_name(c, action.get("port"), _at(at, "port"))
    elif chosen == "sleep" and isinstance(grace, int):
        seconds = action.get("seconds") or 0
        if not 0 <= seconds <= grace:
            c.invalid(at, seconds, f"must be non-negative and less than terminationGracePeriodSeconds ({grace})")


def _probe(c: _Causes, probe, kind: str, grace, path: str) -> None:
    if not isinstance(probe, dict):
        return
    _handler(c, probe, _PROBE_HANDLERS, grace, path)
    for field in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        c.nonnegative(_at(path, field), probe.get(field))
    grace_override = probe.get("terminationGracePeriodSeconds")
    if isinstance(grace_override, int) and grace_override <= 0:
        c.invalid(_at(path, "terminationGracePeriodSeconds"), grace_override, "must be greater than 0")
    if kind in ("livenessProbe", "startupProbe") and probe.get("successThreshold", 1) != 1:
        c.invalid(_at(path, "successThreshold"), probe.get("successThreshold"), "must be 1")
    if kind == "readinessProbe" and grace_override is not None:
        c.invalid(_at(path, "terminationGracePeriodSeconds"), grace_override, "must not be set for readinessProbes")


def _container_ports(c: _Causes, ports, path: str) -> None:
    names = set()
    for i, port in enumerate(_list(ports)):
        port, at = _dict(port), _at(path, i)
        name = port.get("name")
        if name:
            problems = is_valid_port_name(name)
            c.invalid_each(_at(at, "name"), name, problems)
            if not problems and name in names:
                c.duplicate(_at(at, "name"), name)
            names.add(name)
        if not port.get("containerPort"):
            c.required(_at(at, "containerPort"))
        else:
            c.check(_at(at, "containerPort"), port["containerPort"], is_valid_port_num)
        if port.get("hostPort"):
            c.check(_at(at, "hostPort"), port["hostPort"], is_valid_port_num)
        c.one_of(_at(at, "protocol"), port.get("protocol"), _PROTOCOLS)


def _object_field_selector(c: _Causes, ref: dict, path: str) -> None:
    if not ref.get("apiVersion"):
        c.required(_at(path, "apiVersion"))
        return
    field_path = ref.get("fieldPath") or ""
    if not field_path:
        c.required(_at(path, "fieldPath"))
        return
    subscripted, at = re.fullmatch(r"(.*)\['(.*)'\]", field_path), _at(path, "fieldPath")
    if ref["apiVersion"] != "v1":
        c.invalid(at, field_path, f"error converting fieldPath: unsupported pod version: {ref['apiVersion']}")
    elif subscripted and subscripted.group(1) not in ("metadata.annotations", "metadata.labels"):
        c.invalid(at, field_path, f"error converting fieldPath: field label does not support subscript: {field_path}")
    elif subscripted:
        key = subscripted.group(2)
        c.invalid_each(path, key, is_qualified_name(key.lower() if "annotations" in field_path else key))
    elif field_path not in _DOWNWARD_API_LABELS + ("spec.host",):
        c.invalid(at, field_path, f"error converting fieldPath: field label not supported: {field_path}")
    elif field_path.replace("spec.host", "spec.nodeName") not in _DOWNWARD_API_ENV_PATHS:
        c.not_supported(at, field_path, _DOWNWARD_API_ENV_PATHS)


def _key_selector(c: _Causes, ref: dict, path: str) -> None:
    name = ref.get("name") or ""
    c.check(_at(path, "name"), name, is_dns1123_subdomain)
    if not ref.get("key"):
        c.required(_at(path, "key"))
    else:
        c.check(_at(path, "key"), ref["key"], is_config_map_key)


def _env(c: _Causes, env, path: str) -> None:
    for i, var in enumerate(_list(env)):
        var, at = _dict(var), _at(path, i)
        if not var.get("name"):
            c.required(_at(at, "name"))
        else:
            c.check(_at(at, "name"), var["name"], is_env_var_name)
        source = var.get("valueFrom")
        if not isinstance(source, dict):
            continue
        vf = _at(at, "valueFrom")
        present = [k for k in ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef") if source.get(k)]
        if "fieldRef" in present:
            _object_field_selector(c, source["fieldRef"], _at(vf, "fieldRef"))
        if "resourceFieldRef" in present:
            resource = source["resourceFieldRef"].get("resource") or ""
            if not resource:
                c.required(_at(vf, "resourceFieldRef", "resource"))
            elif resource not in _RESOURCE_FIELD_PATHS and not re.match("(requests|limits).hugepages-", resource):
                c.not_supported(_at(vf, "resourceFieldRef", "resource"), resource, _RESOURCE_FIELD_PATHS)
        for key in ("configMapKeyRef", "secretKeyRef"):
            if key in present:
                _key_selector(c, source[key], _at(vf, key))
        if not present:
            c.invalid(vf, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or "
                              "`secretKeyRef`")
        elif var.get("value"):
            c.invalid(vf, "", "may not be specified when `value` is not empty")
        elif len(present) > 1:
            c.invalid(vf, "", "may not have more than one field specified at a time")


def _env_from(c: _Causes, env_from, path: str) -> None:
    for i, source in enumerate(_list(env_from)):
        source, at = _dict(source), _at(path, i)
        if source.get("prefix"):
            c.check(_at(at, "prefix"), source["prefix"], is_env_var_name)
        present = [k for k in ("configMapRef", "secretRef") if isinstance(source.get(k), dict)]
        for key in present:
            name = source[key].get("name") or ""
            if not name:
                c.required(_at(at, key, "name"))
            else:
                c.invalid_each(_at(at, key, "name"), name, is_dns1123_subdomain(_mask_trailing_dash(name)))
        if not present:
            c.invalid(path, "", "must specify one of: `configMapRef` or `secretRef`")
        elif len(present) > 1:
            c.invalid(path, "", "may not have more than one field specified at a time")


def _volume_mounts(c: _Causes, mounts, volumes: dict, path: str) -> None:
    seen = set()
    for i, mount in enumerate(_list(mounts)):
        mount, at = _dict(mount), _at(path, i)
        name, mount_path = mount.get("name") or "", mount.get("mountPath") or ""
        if not name:
            c.required(_at(at, "name"))
        if name not in volumes:
            c.not_found(_at(at, "name"), name)
        if not mount_path:
            c.required(_at(at, "mountPath"))
        if mount_path in seen:
            c.invalid(_at(at, "mountPath"), mount_path, "must be unique")
        seen.add(mount_path)
        for sub in ("subPath", "subPathExpr"):
            if mount.get(sub):
                # kube names the list here, not the item: its path is built from the list's.
                _local_descending_path(c, mount[sub], _at(path, sub))


def _resource_name(c: _Causes, name: str, path: str) -> None:
    problems = is_qualified_name(name)
    c.invalid_each(path, name, problems)
    if problems:
        return
    if "/" not in name:
        if name not in _STANDARD_RESOURCES and not name.startswith("hugepages-"):
            c.invalid(path, name, "must be a standard resource type or fully qualified")
        if name not in _CONTAINER_RESOURCES and not name.startswith("hugepages-"):
            c.invalid(path, name, "must be a standard resource for containers")


def _is_native_resource(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def _overcommit_allowed(name: str) -> bool:
    return _is_native_resource(name) and not name.startswith("hugepages-")


def _resources(c: _Causes, resources, path: str) -> None:
    resources = _dict(resources)
    limits, requests = _dict(resources.get("limits")), _dict(resources.get("requests"))
    for section, values in (("limits", limits), ("requests", requests)):
        for name, raw in values.items():
            at = _key(_at(path, section), name)
            _resource_name(c, name, at)
            quantity = _quantity_or_none(raw)
            if quantity is None:
                continue
            if quantity < 0:
                c.invalid(at, _quantity_text(raw), _NONNEGATIVE)
            integer = name in _INTEGER_RESOURCES or not (_is_native_resource(name) or name.startswith("requests."))
            if integer and quantity.denominator != 1:
                c.invalid(at, _Go(_quantity_text(raw)), "must be an integer")
            if section == "limits":
                continue
            limit = _quantity_or_none(limits.get(name)) if name in limits else None
            if limit is not None and quantity != limit and not _overcommit_allowed(name):
                c.invalid(_at(path, "requests"), _quantity_text(raw),
                          f"must be equal to {name} limit of {_quantity_text(limits[name])}")
            elif limit is not None and quantity > limit:
                c.invalid(_at(path, "requests"), _quantity_text(raw),
                          f"must be less than or equal to {name} limit of {_quantity_text(limits[name])}")
            elif name not in limits and not _overcommit_allowed(name):
                c.required(_at(path, "limits"), "Limit must be set for non overcommitable resources")


def _security_context(c: _Causes, context, path: str) -> None:
    context = _dict(context)
    for field in ("runAsUser", "runAsGroup"):
        value = context.get(field)
        if isinstance(value, int) and not 0 <= value <= 0xFFFFFFFF:
            c.invalid(_at(path, field), value, _range_error(0, 0xFFFFFFFF))
    if context.get("allowPrivilegeEscalation") is False and context.get("privileged") is True:
        c.invalid(path, context, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true")


def _container_common(c: _Causes, container: dict, volumes: dict, path: str) -> None:
    name = container.get("name") or ""
    if not name:
        c.required(_at(path, "name"))
    else:
        c.check(_at(path, "name"), name, is_dns1123_label)
    if not container.get("image"):
        c.required(_at(path, "image"))
    c.one_of(_at(path, "terminationMessagePolicy"), container.get("terminationMessagePolicy"),
             ["File", "FallbackToLogsOnError"])
    _container_ports(c, container.get("ports"), _at(path, "ports"))
    _env(c, container.get("env"), _at(path, "env"))
    _env_from(c, container.get("envFrom"), _at(path, "envFrom"))
    _volume_mounts(c, container.get("volumeMounts"), volumes, _at(path, "volumeMounts"))
    c.one_of(_at(path, "imagePullPolicy"), container.get("imagePullPolicy"), ["Always", "IfNotPresent", "Never"])
    _resources(c, container.get("resources"), _at(path, "resources"))
    _security_context(c, container.get("securityContext"), _at(path, "securityContext"))


def _probes_and_lifecycle(c: _Causes, container: dict, grace, path: str) -> None:
    lifecycle = _dict(container.get("lifecycle"))
    for hook in ("postStart", "preStop"):
        if isinstance(lifecycle.get(hook), dict):
            _handler(c, lifecycle[hook], _LIFECYCLE_HANDLERS, grace, _at(path, "lifecycle", hook))
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        _probe(c, container.get(kind), kind, grace, _at(path, kind))


def _host_port_conflicts(c: _Causes, containers: list, path: str) -> None:
    seen = set()
    for ci, container in enumerate(containers):
        for pi, port in enumerate(_list(_dict(container).get("ports"))):
            port = _dict(port)
            if not port.get("hostPort"):
                continue
            key = f"{port.get('protocol', '')}/{port.get('hostIP', '')}/{port['hostPort']}"
            if key in seen:
                c.duplicate(_at(path, ci, "ports", pi, "hostPort"), key)
            seen.add(key)


def _containers(c: _Causes, containers, volumes: dict, grace, path: str) -> None:
    containers = [_dict(x) for x in _list(containers)]
    if not containers:
        c.required(path)
        return
    names = set()
    for i, container in enumerate(containers):
        at = _at(path, i)
        _container_common(c, container, volumes, at)
        if container.get("name", "") in names:
            c.duplicate(_at(at, "name"), container.get("name", ""))
        names.add(container.get("name", ""))
        _probes_and_lifecycle(c, container, grace, at)
        if container.get("restartPolicy") is not None:
            c.forbidden(_at(at, "restartPolicy"), "may not be set for non-init containers")
    _host_port_conflicts(c, containers, path)


def _init_containers(c: _Causes, init, regular, volumes: dict, grace, path: str) -> None:
    names = {_dict(x).get("name", "") for x in _list(regular)}
    for i, container in enumerate(_list(init)):
        container, at = _dict(container), _at(path, i)
        _container_common(c, container, volumes, at)
        policy = container.get("restartPolicy")
        if policy is not None and policy != "Always":
            c.not_supported(_at(at, "restartPolicy"), policy, ["Always"])
        name = container.get("name") or ""
        if name in names:
            c.duplicate(_at(at, "name"), name)
        elif name:
            names.add(name)
        _host_port_conflicts(c, [container], path)
        if policy == "Always":
            _probes_and_lifecycle(c, container, grace, at)
            continue
        for field in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
            if container.get(field) is not None:
                c.forbidden(_at(at, field), _INIT_ONLY_ALWAYS)


def _tolerations(c: _Causes, tolerations, path: str) -> None:
    for i, toleration in enumerate(_list(tolerations)):
        toleration, at = _dict(toleration), _at(path, i)
        key, operator = toleration.get("key") or "", toleration.get("operator") or ""
        value, effect = toleration.get("value") or "", toleration.get("effect") or ""
        if key:
            c.check(_at(at, "key"), key, is_qualified_name)
        if not key and operator != "Exists":
            c.invalid(_at(at, "operator"), operator,
                      'operator must be Exists when `key` is empty, which means "match all values and all keys"')
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            c.invalid(_at(at, "effect"), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set")
        if operator in ("Equal", ""):
            problems = is_label_value(value)
            if problems:
                c.invalid(_at(at, "operator"), value, ";".join(problems))
        elif operator == "Exists":
            if value:
                c.invalid(_at(at, "operator"), value, "value must be empty when `operator` is 'Exists'")
        else:
            c.not_supported(_at(at, "operator"), operator, ["Equal", "Exists"])
        if effect and effect not in _TAINT_EFFECTS:
            c.not_supported(_at(at, "effect"), effect, _TAINT_EFFECTS)


def _validate_pod_spec(c: _Causes, spec, path: str) -> None:
    """ValidatePodSpec: what every pod and pod template must satisfy."""
    spec = _dict(spec)
    grace = spec.get("terminationGracePeriodSeconds")
    if grace is None:
        c.required(_at(path, "terminationGracePeriodSeconds"))
    volumes = _volumes(c, spec.get("volumes"), _at(path, "volumes"))
    _containers(c, spec.get("containers"), volumes, grace, _at(path, "containers"))
    _init_containers(c, spec.get("initContainers"), spec.get("containers"), volumes, grace,
                     _at(path, "initContainers"))
    c.one_of(_at(path, "restartPolicy"), spec.get("restartPolicy"), ["Always", "OnFailure", "Never"])
    c.one_of(_at(path, "dnsPolicy"), spec.get("dnsPolicy"),
             ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"])
    _labels(c, spec.get("nodeSelector"), _at(path, "nodeSelector"))
    _security_context(c, spec.get("securityContext"), _at(path, "securityContext"))
    if spec.get("dnsPolicy") == "None" and not isinstance(spec.get("dnsConfig"), dict):
        c.required(_at(path, "dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None")
    for field in ("serviceAccountName", "nodeName", "priorityClassName"):
        if spec.get(field):
            c.check(_at(path, field), spec[field], is_dns1123_subdomain)
    deadline = spec.get("activeDeadlineSeconds")
    if isinstance(deadline, int) and not 1 <= deadline <= _MAX_INT32:
        c.invalid(_at(path, "activeDeadlineSeconds"), deadline, _range_error(1, _MAX_INT32))
    for field in ("hostname", "subdomain"):
        if spec.get(field):
            c.check(_at(path, field), spec[field], is_dns1123_label)
    _tolerations(c, spec.get("tolerations"), _at(path, "tolerations"))


def _template_meta(c: _Causes, template: dict, path: str) -> None:
    meta = _dict(template.get("metadata"))
    _labels(c, meta.get("labels"), _at(path, "labels"))
    _annotations(c, meta.get("annotations"), _at(path, "annotations"))


def _validate_pod_template(c: _Causes, template, path: str) -> None:
    """ValidatePodTemplateSpec: labels and annotations at the template's own path, then the pod spec."""
    template = _dict(template)
    _template_meta(c, template, path)
    spec = _dict(template.get("spec"))
    _validate_pod_spec(c, spec, _at(path, "spec"))
    if spec.get("ephemeralContainers"):
        c.forbidden(_at(path, "spec", "ephemeralContainers"), "ephemeral containers not allowed in pod template")


def _template_selector_match(c: _Causes, template: dict, matches: bool, path: str) -> None:
    if not matches:
        c.invalid(_at(path, "metadata", "labels"), _go_string_map(_dict(template.get("metadata")).get("labels")),
                  "`selector` does not match template `labels`")


def _controller_template(c: _Causes, template, matches: bool, owner: str, path: str) -> None:
    """The pod template of a controller whose pods restart forever (RC, ReplicaSet, Deployment, DaemonSet)."""
    template = _dict(template)
    _template_selector_match(c, template, matches, path)
    _validate_pod_template(c, template, path)
    _restarts_always(c, template, owner, path)


def _restarts_always(c: _Causes, template: dict, owner: str, path: str) -> None:
    spec = _dict(template.get("spec"))
    if spec.get("restartPolicy") != "Always":
        c.not_supported(_at(path, "spec", "restartPolicy"), spec.get("restartPolicy") or "", ["Always"])
    if spec.get("activeDeadlineSeconds") is not None:
        c.forbidden(_at(path, "spec", "activeDeadlineSeconds"), f"activeDeadlineSeconds in {owner} is not Supported")


# --- per-kind rules ------------------------------------------------------------------------------
# Each takes the causes, the object and the stored object on update (None on create).

def _pod(c: _Causes, obj: dict, old: dict | None) -> None:
    spec = _dict(obj.get("spec"))
    _validate_pod_spec(c, spec, "spec")
    for field in ("containers", "initContainers"):
        for i, container in enumerate(_list(spec.get(field))):
            image = _dict(container).get("image") or ""
            if image != image.strip():
                c.invalid(_at("spec", field, i, "image"), image, "must not have leading or trailing whitespace")
    if old is None:
        if spec.get("ephemeralContainers"):
            c.forbidden("spec.ephemeralContainers", "cannot be set on create")
        return
    _pod_update(c, spec, _dict(old.get("spec")))


def _pod_update(c: _Causes, spec: dict, old_spec: dict) -> None:
    munged = dict(spec)
    for field in ("containers", "initContainers"):
        new, previous = _list(spec.get(field)), _list(old_spec.get(field))
        if len(new) != len(previous):
            c.forbidden(_at("spec", field), "pod updates may not add or remove containers")
            return
        munged[field] = [{**_dict(n), "image": _dict(o).get("image")} for n, o in zip(new, previous)]
    deadline, old_deadline = spec.get("activeDeadlineSeconds"), old_spec.get("activeDeadlineSeconds")
    if deadline is not None:
        if not 0 <= deadline <= _MAX_INT32:
            c.invalid("spec.activeDeadlineSeconds", deadline, _range_error(0, _MAX_INT32))
            return
        if old_deadline is not None and old_deadline < deadline:
            c.invalid("spec.activeDeadlineSeconds", deadline, "must be less than or equal to previous value")
            return
    elif old_deadline is not None:
        c.invalid("spec.activeDeadlineSeconds", None, "must not update from a positive integer to nil value")
    def without_seconds(tolerations) -> list:
        return [{k: v for k, v in _dict(t).items() if k != "tolerationSeconds"} for t in _list(tolerations)]
    kept = without_seconds(spec.get("tolerations"))
    if any(t not in kept for t in without_seconds(old_spec.get("tolerations"))):
        c.forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds")
    added_gates = [g for g in _list(spec.get("schedulingGates")) if g not in _list(old_spec.get("schedulingGates"))]
    for gate in added_gates:
        i = spec["schedulingGates"].index(gate)
        c.forbidden(_at("spec", "schedulingGates", i, "name"),
                    f"only deletion is allowed, but found new scheduling gate '{_dict(gate).get('name', '')}'")
    munged.update({"activeDeadlineSeconds": old_deadline, "tolerations": old_spec.get("tolerations"),
                   "schedulingGates": old_spec.get("schedulingGates")})
    if _semantic(munged) != _semantic(old_spec):
        c.forbidden("spec", f"pod updates may not change fields other than {_UPDATABLE_POD_FIELDS}\n"
                    + "\n".join(_diff(_semantic(old_spec), _semantic(munged))))


def _pod_template(c: _Causes, obj: dict, old: dict | None) -> None:
    _validate_pod_template(c, obj.get("template"), "template")


def _replication_controller(c: _Causes, obj: dict, old: dict | None) -> None:
    spec = _dict(obj.get("spec"))
    c.nonnegative("spec.minReadySeconds", spec.get("minReadySeconds"))
    selector = _dict(spec.get("selector"))
    if not selector:
        c.required("spec.selector")
    c.nonnegative("spec.replicas", spec.get("replicas"))
    template = spec.get("template")
    if not isinstance(template, dict):
        c.required("spec.template")
        return
    labels = _dict(_dict(template.get("metadata")).get("labels"))
    matches = not selector or all(labels.get(k) == v for k, v in selector.items())
    _controller_template(c, template, matches, "ReplicationController", "spec.template")


def _workload_selector(c: _Causes, spec: dict, kind_word: str, *, required: bool = True) -> bool:
    """The LabelSelector of apps workloads; whether it converts, so the template can be checked."""
    selector = spec.get("selector")
    if selector is None and required:
        c.required("spec.selector")
    elif selector is not None:
        _label_selector(c, selector, "spec.selector")
        if _selector_is_empty(selector):
            c.invalid("spec.selector", _go_label_selector(selector), f"empty selector is invalid for {kind_word}")
    return _selector_converts(selector)


def _template_matches(spec: dict) -> bool:
    """Whether the template passes kube's `selector` check: an empty selector selects everything."""
    selector = spec.get("selector")
    labels = _dict(_dict(_dict(spec.get("template")).get("metadata")).get("labels"))
    return _selector_is_empty(selector) or _selector_matches(selector, labels)


def _replica_set_spec(c: _Causes, spec: dict) -> None:
    c.nonnegative("spec.replicas", spec.get("replicas"))
    if _workload_selector(c, spec, "deployment"):
        _controller_template(c, spec.get("template"), _template_matches(spec), "ReplicaSet", "spec.template")
    else:
        c.invalid("spec.selector", _go_label_selector(spec.get("selector")), "invalid label selector")


def _replica_set(c: _Causes, obj: dict, old: dict | None) -> None:
    spec = _dict(obj.get("spec"))
    c.nonnegative("spec.minReadySeconds", spec.get("minReadySeconds"))
    _replica_set_spec(c, spec)


def _int_or_percent(value) -> int:
    if isinstance(value, str):
        return int(value[:-1]) if _matches(_PERCENT, value) else (int(value) if value.isdigit() else 0)
    return value or 0


def _positive_int_or_percent(c: _Causes, value, path: str) -> None:
    if isinstance(value, str):
        c.invalid_each(path, _Go(value), is_valid_percent(value))
    else:
        c.nonnegative(path, value)
    if isinstance(value, str) and _matches(_PERCENT, value) and int(value[:-1]) > 100:
        c.invalid(path, _Go(value), "must not be greater than 100%")


def _deployment(c: _Causes, obj: dict, old: dict | None) -> None:
    spec = _dict(obj.get("spec"))
    _replica_set_spec(c, spec)
    strategy, path = _dict(spec.get("strategy")), "spec.strategy"
    rolling = strategy.get("rollingUpdate")
    if strategy.get("type") == "Recreate":
        if rolling is not None:
            c.forbidden(_at(path, "rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")
    elif strategy.get("type") == "RollingUpdate":
        if not isinstance(rolling, dict):
            c.required(_at(path, "rollingUpdate"), "this should be defaulted and never be nil")
        else:
            at = _at(path, "rollingUpdate")
            unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
            _positive_int_or_percent(c, unavailable, _at(at, "maxUnavailable"))
            _positive_int_or_percent(c, surge, _at(at, "maxSurge"))
            if _int_or_percent(unavailable) == 0 and _int_or_percent(surge) == 0:
                c.invalid(_at(at, "maxUnavailable"), _Go(str(unavailable or 0)), "may not be 0 when `maxSurge` is 0")
    else:
        c.not_supported(path, _go_strategy("DeploymentStrategy", "RollingUpdateDeployment", strategy),
                        ["Recreate", "RollingUpdate"])
    for field in ("minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds"):
        c.nonnegative(_at("spec", field), spec.get(field))
    deadline = spec.get("progressDeadlineSeconds")
    if isinstance(deadline, int) and deadline <= (spec.get("minReadySeconds") or 0):
        c.invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds")


def _daemon_set(c: _Causes, obj: dict, old: dict | None) -> None:
    spec = _dict(obj.get("spec"))
    template = _dict(spec.get("template"))
    converts = _workload_selector(c, spec, "daemonset", required=False)
    if converts and not _selector_matches(spec.get("selector"), _dict(template.get("metadata")).get("labels")):
        _template_selector_match(c, template, False, "spec.template")
    _validate_pod_template(c, template, "spec.template")
    _restarts_always(c, template, "DaemonSet", "spec.template")
    c.nonnegative("spec.minReadySeconds", spec.get("minReadySeconds"))
    strategy, path = _dict(spec.get("updateStrategy")), "spec.updateStrategy"
    if strategy.get("type") == "RollingUpdate":
        rolling = strategy.get("rollingUpdate")
        if not isinstance(rolling, dict):
            c.required(_at(path, "rollingUpdate"))
        else:
            at = _at(path, "rollingUpdate")
            unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
            _positive_int_or_percent(c, unavailable, _at(at, "maxUnavailable"))
            _positive_int_or_percent(c, surge, _at(at, "maxSurge"))
            if _int_or_percent(unavailable) and _int_or_percent(surge):
                c.invalid(_at(at, "maxSurge"), _Go(str(surge)), "may not be set when maxUnavailable is non-zero")
            elif not _int_or_percent(unavailable) and not _int_or_percent(surge):
                c.required(_at(at, "maxUnavailable"), "cannot be 0 when maxSurge is 0")
    elif strategy.get("type") != "OnDelete":
        c.not_supported(path, _go_strategy("DaemonSetUpdateStrategy", "RollingUpdateDaemonSet", strategy),
                        ["RollingUpdate", "OnDelete"])
    c.nonnegative("spec.revisionHistoryLimit", spec.get("revisionHistoryLimit"))


_STATEFUL_SET_MUTABLE = ("replicas", "ordinals", "template", "updateStrategy",
                         "persistentVolumeClaimRetentionPolicy", "minReadySeconds")


def _stateful_set(c: _Causes, obj: dict, old: dict | None) -> None:
    spec = _dict(obj.get("spec"))
    policy = spec.get("podManagementPolicy")
    if not policy:
        c.required("spec.podManagementPolicy")
    elif policy not in ("OrderedReady", "Parallel"):
        c.invalid("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'")
    strategy = _dict(spec.get("updateStrategy"))
    kind = strategy.get("type")
    if not kind:
        c.required("spec.updateStrategy")
    elif kind == "OnDelete" and strategy.get("rollingUpdate") is not None:
        c.invalid("spec.updateStrategy.rollingUpdate", strategy["rollingUpdate"],
                  "only allowed for updateStrategy 'RollingUpdate'")
    elif kind == "RollingUpdate":
        partition = _dict(strategy.get("rollingUpdate")).get("partition")
        c.nonnegative("spec.updateStrategy.rollingUpdate.partition", partition)
    elif kind != "OnDelete":
        c.invalid("spec.updateStrategy", _go_strategy("StatefulSetUpdateStrategy", "RollingUpdateStatefulSetStrategy",
                                                      strategy), "must be 'RollingUpdate' or 'OnDelete'")
    retention = spec.get("persistentVolumeClaimRetentionPolicy")
    if isinstance(retention, dict):
        for field in ("whenDeleted", "whenScaled"):
            if retention.get(field) not in ("Retain", "Delete"):
                c.not_supported(_at("spec.persistentVolumeClaimRetentionPolicy", field), retention.get(field) or "",
                                ["Retain", "Delete"])
    c.nonnegative("spec.replicas", spec.get("replicas"))
    c.nonnegative("spec.minReadySeconds", spec.get("minReadySeconds"))
    template = _dict(spec.get("template"))
    if _workload_selector(c, spec, "statefulset"):
        _template_selector_match(c, template, _template_matches(spec), "spec.template")
        # kube checks only the template's metadata here, not its pod spec.
        _template_meta(c, template, "spec.template")
    else:
        c.invalid("spec.selector", _go_label_selector(spec.get("selector")), "")
    _restarts_always(c, template, "StatefulSet", "spec.template")
    if old is not None:
        old_spec = _dict(old.get("spec"))
        rest = {k: v for k, v in spec.items() if k not in _STATEFUL_SET_MUTABLE}
        old_rest = {k: v for k, v in old_spec.items() if k not in _STATEFUL_SET_MUTABLE}
        if _semantic(rest) != _semantic(old_rest):
            c.forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                                "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                                "'minReadySeconds' are forbidden")


def _job_spec(c: _Causes, spec: dict, path: str) -> None:
    """validateJobSpec: shared by Jobs and CronJob job templates."""
    for field in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished"):
        c.nonnegative(_at(path, field), spec.get(field))
    mode = spec.get("completionMode")
    if mode is not None and mode not in ("NonIndexed", "Indexed"):
        c.not_supported(_at(path, "completionMode"), mode, ["NonIndexed", "Indexed"])
    if mode == "Indexed" and spec.get("completions") is None:
        c.required(_at(path, "completions"), "when completion mode is Indexed")
    template = _dict(spec.get("template"))
    _validate_pod_template(c, template, _at(path, "template"))
    policy = _dict(template.get("spec")).get("restartPolicy")
    if policy not in ("OnFailure", "Never"):
        c.not_supported(_at(path, "template", "spec", "restartPolicy"), policy or "", ["OnFailure", "Never"])


def _job(c: _Causes, obj: dict, old: dict | None) -> None:
    spec = _dict(obj.get("spec"))
    _job_spec(c, spec, "spec")
    selector = spec.get("selector")
    if selector is None:
        c.required("spec.selector")
    else:
        _label_selector(c, selector, "spec.selector")
    labels = _dict(_dict(spec.get("template")).get("metadata")).get("labels")
    if _selector_converts(selector) and not _selector_matches(selector, labels):
        _template_selector_match(c, _dict(spec.get("template")), False, "spec.template")
    if old is None:
        return
    old_spec = _dict(old.get("spec"))
    elastic = spec.get("completionMode") == "Indexed" and spec.get("completions") == spec.get("parallelism")
    if not elastic and spec.get("completions") != old_spec.get("completions"):
        c.invalid("spec.completions", spec.get("completions"), _IMMUTABLE)
    template, old_template = _dict(spec.get("template")), _dict(old_spec.get("template"))
    if old_spec.get("suspend") and not _dict(old.get("status")).get("startTime"):
        # A suspended Job that never started may have its scheduling directives changed.
        template = _without_scheduling_directives(template)
        old_template = _without_scheduling_directives(old_template)
    if _semantic(template) != _semantic(old_template):
        c.invalid("spec.template", spec.get("template"), _IMMUTABLE)


def _without_scheduling_directives(template: dict) -> dict:
    meta = {k: v for k, v in _dict(template.get("metadata")).items() if k not in ("labels", "annotations")}
    spec = {k: v for k, v in _dict(template.get("spec")).items()
            if k not in ("nodeSelector", "tolerations", "schedulingGates")}
    affinity = {k: v for k, v in _dict(spec.get("affinity")).items() if k != "nodeAffinity"}
    return {**template, "metadata": meta, "spec": {**spec, "affinity": affinity}}


def _cron_job(c: _Causes, obj: dict, old: dict | None) -> None:
    name = _dict(obj.get("metadata")).get("name") or ""
    if old is None and len(name) > 52:
        # The controller appends an 11-character suffix to name Jobs, and Job names stop at 63.
        c.invalid("metadata.name", name, "must be no more than 52 characters")
    spec, old_spec = _dict(obj.get("spec")), _dict((old or {}).get("spec"))
    schedule = spec.get("schedule") or ""
    if not schedule:
        c.required("spec.schedule")
    else:
        problem = cron_error(re.sub(r"^(CRON_)?TZ=\S+\s*", "", schedule))
        if problem:
            c.invalid("spec.schedule", schedule, problem)
        if "TZ" in schedule and "TZ" not in (old_spec.get("schedule") or ""):
            c.invalid("spec.schedule", schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead")
    c.nonnegative("spec.startingDeadlineSeconds", spec.get("startingDeadlineSeconds"))
    zone = spec.get("timeZone")
    if zone is not None and (old is None or zone != old_spec.get("timeZone")):
        _time_zone(c, zone, "spec.timeZone")
    c.one_of("spec.concurrencyPolicy", spec.get("concurrencyPolicy"), ["Allow", "Forbid", "Replace"])
    job_spec = _dict(_dict(spec.get("jobTemplate")).get("spec"))
    _job_spec(c, job_spec, "spec.jobTemplate.spec")
    if job_spec.get("selector") is not None:
        c.invalid("spec.jobTemplate.spec.selector", _go_label_selector(job_spec["selector"]),
                  "`selector` will be auto-generated")
    if job_spec.get("manualSelector") is True:
        c.not_supported("spec.jobTemplate.spec.manualSelector", True, ["nil", "false"])
    for field in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        c.nonnegative(_at("spec", field), spec.get(field))


def _time_zone(c: _Causes, zone: str, path: str) -> None:
    if not zone:
        c.invalid(path, zone, "timeZone must be nil or non-empty string")
    elif zone.lower() == "local":
        c.invalid(path, zone, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")
    else:
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            c.invalid(path, zone, f"unknown time zone {zone}")


_SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]


def _cluster_ips(spec: dict) -> list:
    """The strategy's normalizeClusterIPs: clusterIP names the first entry."""
    ips = list(_list(spec.get("clusterIPs")))
    if spec.get("clusterIP"):
        ips[:1] = [spec["clusterIP"]]
    return ips


def _service(c: _Causes, obj: dict, old: dict | None) -> None:
    spec = _dict(obj.get("spec"))
    kind, ports = spec.get("type"), [_dict(p) for p in _list(spec.get("ports"))]
    ips = _cluster_ips(spec)
    headless = ips[:1] == ["None"]
    if old is not None:
        _service_ip_update(c, spec, _dict(old.get("spec")))
    if not ports and not headless and kind != "ExternalName":
        c.required("spec.ports")
    if kind in ("LoadBalancer", "NodePort") and headless:
        c.invalid("spec.clusterIPs[0]", "None", f"may not be set to 'None' for {kind} services")
    if kind == "ExternalName":
        name = (spec.get("externalName") or "").removesuffix(".")
        if name:
            c.check("spec.externalName", name, is_dns1123_subdomain)
        else:
            c.required("spec.externalName")
    names = set()
    for i, port in enumerate(ports):
        at, name = _at("spec.ports", i), port.get("name") or ""
        if len(ports) > 1 and not name:
            c.required(_at(at, "name"))
        elif name:
            c.check(_at(at, "name"), name, is_dns1123_label)
            if name in names:
                c.duplicate(_at(at, "name"), name)
            names.add(name)
        c.check(_at(at, "port"), port.get("port") or 0, is_valid_port_num)
        c.one_of(_at(at, "protocol"), port.get("protocol"), _PROTOCOLS)
        _port_num_or_name(c, port.get("targetPort"), _at(at, "targetPort"))
        if port.get("appProtocol") is not None:
            c.check(_at(at, "appProtocol"), port["appProtocol"], is_qualified_name)
    _labels(c, spec.get("selector"), "spec.selector")
    affinity = spec.get("sessionAffinity")
    c.one_of("spec.sessionAffinity", affinity, ["ClientIP", "None"])
    if affinity == "None" and spec.get("sessionAffinityConfig") is not None:
        c.forbidden("spec.sessionAffinityConfig", "must not be set when session affinity is None")
    if affinity == "ClientIP":
        _client_ip_config(c, spec.get("sessionAffinityConfig"), "spec.sessionAffinityConfig")
    for i, ip in enumerate(ips):
        if ip != "None" and not _is_ip(ip):
            c.invalid(_at("spec.clusterIPs", i), ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")
    for i, ip in enumerate(_list(spec.get("externalIPs"))):
        if not _is_ip(str(ip)):
            c.invalid(_at("spec.externalIPs", i), ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")
    c.one_of("spec.type", kind, _SERVICE_TYPES)
    _service_ports_by_type(c, spec, ports)
    _service_traffic_policies(c, spec)


def _client_ip_config(c: _Causes, config, path: str) -> None:
    why = "when session affinity type is ClientIP"
    client_ip = _dict(config).get("clientIP")
    timeout = _dict(client_ip).get("timeoutSeconds")
    if not isinstance(config, dict):
        c.required(path, why)
    elif not isinstance(client_ip, dict):
        c.required(_at(path, "clientIP"), why)
    elif timeout is None:
        c.required(_at(path, "clientIP", "timeoutSeconds"), why)
    elif not 0 < timeout <= 86400:
        c.invalid(_at(path, "clientIP", "timeoutSeconds"), timeout, "must be greater than 0 and less than 86400")


def _service_ports_by_type(c: _Causes, spec: dict, ports: list[dict]) -> None:
    kind = spec.get("type")
    node_ports, keys = set(), []
    for i, port in enumerate(ports):
        at = _at("spec.ports", i)
        if kind == "ClusterIP" and port.get("nodePort"):
            c.forbidden(_at(at, "nodePort"), "may not be used when `type` is 'ClusterIP'")
        if port.get("nodePort"):
            key = (port.get("protocol"), port["nodePort"])
            if key in node_ports:
                c.duplicate(_at(at, "nodePort"), port["nodePort"])
            node_ports.add(key)
        key = (port.get("protocol"), port.get("port"))
        if key in keys:
            c.duplicate(at, _go_service_port_key(port))
        keys.append(key)
    if spec.get("loadBalancerSourceRanges") and kind != "LoadBalancer":
        c.forbidden("spec.LoadBalancerSourceRanges", "may only be used when `type` is 'LoadBalancer'")
    if spec.get("allocateLoadBalancerNodePorts") is not None and kind != "LoadBalancer":
        c.forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'")
    if kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        c.required("allocateLoadBalancerNodePorts")


def _service_traffic_policies(c: _Causes, spec: dict) -> None:
    kind, external = spec.get("type"), spec.get("externalTrafficPolicy")
    if kind in ("NodePort", "LoadBalancer") or (kind == "ClusterIP" and spec.get("externalIPs")):
        c.one_of("spec.externalTrafficPolicy", external, ["Cluster", "Local"])
    elif external:
        c.invalid("spec.externalTrafficPolicy", external, "may only be set for externally-accessible services")
    internal = spec.get("internalTrafficPolicy")
    if internal is None and kind in ("NodePort", "LoadBalancer", "ClusterIP"):
        c.required("spec.internalTrafficPolicy")
    elif internal is not None and internal not in ("Cluster", "Local"):
        c.not_supported("spec.internalTrafficPolicy", internal, ["Cluster", "Local"])


def _service_ip_update(c: _Causes, spec: dict, old_spec: dict) -> None:
    # A write that leaves the addresses out keeps the allocated ones; only a different one is a change.
    if "ExternalName" in (spec.get("type"), old_spec.get("type")):
        return
    new, previous = _cluster_ips(spec), _cluster_ips(old_spec)
    if not new or (new[:1] == ["None"] and previous[:1] == ["None"]):
        return
    for i, ip in enumerate(previous[:len(new)]):
        if new[i] != ip:
            c.invalid(_at("spec.clusterIPs", i), new, "may not change once set")


def _data_keys(c: _Causes, data: dict, path: str) -> None:
    for key in data:
        c.check(_key(path, key), key, is_config_map_key)


def _decoded_size(values) -> int:
    return sum(len(v) * 3 // 4 - v.count("=") for v in values if isinstance(v, str))


def _frozen_data(c: _Causes, obj: dict, old: dict | None, fields: tuple[str, ...]) -> None:
    if old is None or old.get("immutable") is not True:
        return
    if obj.get("immutable") is not True:
        c.forbidden("immutable", "field is immutable when `immutable` is set")
    for field in fields:
        if _dict(obj.get(field)) != _dict(old.get(field)):
            c.forbidden(field, "field is immutable when `immutable` is set")


def _config_map(c: _Causes, obj: dict, old: dict | None) -> None:
    _frozen_data(c, obj, old, ("data", "binaryData"))
    data, binary = _dict(obj.get("data")), _dict(obj.get("binaryData"))
    _data_keys(c, data, "data")
    for key in data:
        if key in binary:
            c.invalid(_key("data", key), key, "duplicate of key present in binaryData")
    _data_keys(c, binary, "binaryData")
    if sum(len(str(v).encode()) for v in data.values()) + _decoded_size(binary.values()) > _MAX_SECRET_SIZE:
        # kube reports the whole object, under an empty path.
        c.too_long("", _MAX_SECRET_SIZE)


_SECRET_REQUIRED_KEYS = {"kubernetes.io/dockercfg": (".dockercfg",),
                         "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
                         "kubernetes.io/ssh-auth": ("ssh-privatekey",), "kubernetes.io/tls": ("tls.crt", "tls.key")}


def _secret(c: _Causes, obj: dict, old: dict | None) -> None:
    _frozen_data(c, obj, old, ("data",))
    kind, data = obj.get("type") or "", _dict(obj.get("data"))
    _data_keys(c, data, "data")
    if _decoded_size(data.values()) > _MAX_SECRET_SIZE:
        c.too_long("data", _MAX_SECRET_SIZE)
    if kind == "kubernetes.io/service-account-token":
        if not _dict(_dict(obj.get("metadata")).get("annotations")).get("kubernetes.io/service-account.name"):
            c.required("metadata.annotations[kubernetes.io/service-account.name]")
    elif kind == "kubernetes.io/basic-auth" and "username" not in data and "password" not in data:
        c.required("data[username]")
        c.required("data[password]")
    for key in _SECRET_REQUIRED_KEYS.get(kind, ()):
        if key not in data:
            c.required(_key("data", key))
            if kind != "kubernetes.io/tls":
                break


def _namespace(c: _Causes, obj: dict, old: dict | None) -> None:
    for f in _list(_dict(obj.get("spec")).get("finalizers")):
        c.check("spec.finalizers", f, is_qualified_name)
        if "/" not in f and f not in _STANDARD_FINALIZERS:
            c.invalid("spec.finalizers", f, "name is neither a standard finalizer name nor is it fully qualified")


def _taints(c: _Causes, taints, path: str) -> None:
    seen = set()
    for i, taint in enumerate(_list(taints)):
        taint, at = _dict(taint), _at(path, i)
        c.check(_at(at, "key"), taint.get("key") or "", is_qualified_name)
        problems = is_label_value(taint.get("value") or "")
        if problems:
            c.invalid(_at(at, "value"), taint.get("value") or "", ";".join(problems))
        c.one_of(_at(at, "effect"), taint.get("effect"), _TAINT_EFFECTS)
        key = (taint.get("key"), taint.get("effect"))
        if key in seen:
            c.duplicate(at, _Go(_go_interface(taint)), "taints must be unique by key and effect pair")
        seen.add(key)


def _node(c: _Causes, obj: dict, old: dict | None) -> None:
    spec = _dict(obj.get("spec"))
    # kube names the node's taints under metadata, not spec, in these messages.
    _taints(c, spec.get("taints"), "metadata.taints")
    if old is None:
        return
    old_spec = _dict(old.get("spec"))
    if old_spec.get("podCIDRs") and _list(spec.get("podCIDRs")) != old_spec["podCIDRs"]:
        c.forbidden("spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid')
    if old_spec.get("providerID") and spec.get("providerID") != old_spec["providerID"]:
        c.forbidden("spec.providerID", 'node updates may not change providerID except from "" to valid')


_ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]
_PV_SOURCES = ("hostPath", "gcePersistentDisk", "awsElasticBlockStore", "glusterfs", "flocker", "nfs", "rbd",
               "quobyte", "cephfs", "iscsi", "cinder", "fc", "flexVolume", "azureFile", "vsphereVolume",
               "photonPersistentDisk", "portworxVolume", "azureDisk", "scaleIO", "local", "storageos", "csi")
_PV_NOT_SOURCES = ("accessModes", "capacity", "claimRef", "mountOptions", "nodeAffinity",
                   "persistentVolumeReclaimPolicy", "storageClassName", "volumeMode", "volumeAttributesClassName")


def _access_modes(c: _Causes, modes: list, path: str, missing_detail: str) -> None:
    if not modes:
        c.required(path, missing_detail)
    for mode in modes:
        if mode not in _ACCESS_MODES:
            c.not_supported(path, mode, _ACCESS_MODES)
    if "ReadWriteOncePod" in modes and any(m in _ACCESS_MODES and m != "ReadWriteOncePod" for m in modes):
        c.forbidden(path, "may not use ReadWriteOncePod with other access modes")


def _volume_mode(c: _Causes, spec: dict, path: str) -> None:
    if spec.get("volumeMode") is not None and spec["volumeMode"] not in ("Block", "Filesystem"):
        c.not_supported(path, spec["volumeMode"], ["Block", "Filesystem"])


def _persistent_volume(c: _Causes, obj: dict, old: dict | None) -> None:
    spec = _dict(obj.get("spec"))
    _access_modes(c, _list(spec.get("accessModes")), "spec.accessModes", "")
    capacity = _dict(spec.get("capacity"))
    if not capacity:
        c.required("spec.capacity")
    if "storage" not in capacity or len(capacity) > 1:
        c.not_supported("spec.capacity", capacity, ["storage"])
    for name, value in capacity.items():
        quantity = _quantity_or_none(value)
        if quantity is not None and quantity <= 0:
            c.invalid(_key("spec.capacity", name), _quantity_text(value), "must be greater than zero")
    policy = spec.get("persistentVolumeReclaimPolicy")
    if policy and policy not in ("Delete", "Recycle", "Retain"):
        c.not_supported("spec.persistentVolumeReclaimPolicy", policy, ["Delete", "Recycle", "Retain"])
    source = _exactly_one(c, spec, _PV_SOURCES, "spec", "volume type")
    if source == "local" and spec.get("nodeAffinity") is None:
        c.required("spec.nodeAffinity", "Local volume requires node affinity")
    if spec.get("storageClassName"):
        c.check("spec.storageClassName", spec["storageClassName"], is_dns1123_subdomain)
    _volume_mode(c, spec, "spec.volumeMode")
    if old is None:
        return
    old_spec = _dict(old.get("spec"))
    sources = {k: v for k, v in spec.items() if k not in _PV_NOT_SOURCES}
    old_sources = {k: v for k, v in old_spec.items() if k not in _PV_NOT_SOURCES}
    if _semantic(sources) != _semantic(old_sources):
        c.forbidden("spec.persistentvolumesource", "spec.persistentvolumesource is immutable after creation\n"
                    + "\n".join(_diff(_semantic(old_sources), _semantic(sources))))
    if spec.get("volumeMode") != old_spec.get("volumeMode"):
        # kube names these two without their spec prefix.
        c.invalid("volumeMode", spec.get("volumeMode"), _IMMUTABLE)


def _persistent_volume_claim(c: _Causes, obj: dict, old: dict | None) -> None:
    spec = _dict(obj.get("spec"))
    _access_modes(c, _list(spec.get("accessModes")), "spec.accessModes", "at least 1 access mode is required")
    if spec.get("selector") is not None:
        _label_selector(c, spec["selector"], "spec.selector")
    requests = _dict(_dict(spec.get("resources")).get("requests"))
    storage = _quantity_or_none(requests.get("storage")) if "storage" in requests else None
    if "storage" not in requests:
        c.required("spec.resources[storage]")
    elif storage is not None and storage <= 0:
        c.invalid("spec.resources[storage]", _quantity_text(requests["storage"]), "must be greater than zero")
    if spec.get("storageClassName"):
        c.check("spec.storageClassName", spec["storageClassName"], is_dns1123_subdomain)
    _volume_mode(c, spec, "spec.volumeMode")
    if old is not None:
        _pvc_update(c, obj, old)


def _pvc_update(c: _Causes, obj: dict, old: dict) -> None:
    spec, old_spec = _dict(obj.get("spec")), _dict(old.get("spec"))
    bound = _dict(obj.get("status")).get("phase") == "Bound"
    mutable = {"volumeName"} if not old_spec.get("volumeName") else set()
    if bound:
        mutable |= {"resources", "volumeAttributesClassName"}
    rest = {k: v for k, v in spec.items() if k not in mutable}
    old_rest = {k: v for k, v in old_spec.items() if k not in mutable}
    if bound:
        # Only the storage request may change on a bound claim.
        for target, source in ((rest, spec), (old_rest, old_spec)):
            requests = _dict(_dict(source.get("resources")).get("requests"))
            requests = {k: v for k, v in requests.items() if k != "storage"}
            target["resources"] = {**_dict(source.get("resources")), "requests": requests}
    if _semantic(rest) != _semantic(old_rest):
        c.forbidden("spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName "
                            "for bound claims\n" + "\n".join(_diff(_semantic(old_rest), _semantic(rest))))
    new_size = _quantity_or_none(_dict(_dict(spec.get("resources")).get("requests")).get("storage"))
    old_size = _quantity_or_none(_dict(_dict(old_spec.get("resources")).get("requests")).get("storage"))
    capacity = _quantity_or_none(_dict(_dict(old.get("status")).get("capacity")).get("storage") or 0)
    if new_size is not None and old_size is not None and new_size < old_size and new_size <= capacity:
        c.forbidden("spec.resources.requests.storage", "field can not be less than status.capacity")
    if spec.get("volumeMode") != old_spec.get("volumeMode"):
        c.invalid("volumeMode", spec.get("volumeMode"), _IMMUTABLE)


# Events come in two versions; kube validates the internal form, so causes use its field names.
_EVENTS_V1_FIELDS = {"note": "message", "regarding": "involvedObject", "deprecatedSource": "source",
                     "deprecatedFirstTimestamp": "firstTimestamp", "deprecatedLastTimestamp": "lastTimestamp",
                     "deprecatedCount": "count"}
_EVENT_IMMUTABLE = ("involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count",
                    "type", "eventTime", "action", "related", "reportingController", "reportingInstance")


def _internal_event(obj: dict) -> dict:
    return {_EVENTS_V1_FIELDS.get(k, k): v for k, v in obj.items()}


def _legacy_event(c: _Causes, event: dict) -> None:
    namespace = _dict(event.get("metadata")).get("namespace") or ""
    involved = _dict(event.get("involvedObject")).get("namespace") or ""
    if not event.get("eventTime"):
        if (not involved and namespace not in ("", "default")) or (involved and namespace != involved):
            c.invalid("involvedObject.namespace", involved, "does not match event.namespace")
    else:
        if not involved and namespace not in ("default", "kube-system"):
            c.invalid("involvedObject.namespace", involved, "does not match event.namespace")
        controller = event.get("reportingController") or ""
        if not controller:
            c.required("reportingController")
        c.check("reportingController", controller, is_qualified_name)
        for field, limit in (("reportingInstance", 128), ("action", 128), ("reason", 128), ("message", 1024)):
            if not event.get(field) and field != "message":
                c.required(field)
            if len(event.get(field) or "") > limit:
                c.invalid(field, "", f"can have at most {limit} characters")
    c.check("namespace", namespace, is_dns1123_subdomain)


def _core_event(c: _Causes, obj: dict, old: dict | None) -> None:
    _legacy_event(c, obj)
    if old is None and not c.items:
        # What every create then checks, after the kind's own rules pass.
        _meta_create(c, _dict(obj.get("metadata")), is_path_segment_name, namespaced=True)


def _events_v1_event(c: _Causes, obj: dict, old: dict | None) -> None:
    event = _internal_event(obj)
    _legacy_event(c, event)
    series = _dict(event.get("series"))
    if series and (old is None or series != _dict(old.get("series"))):
        if (series.get("count") or 0) < 2:
            c.invalid("series.count", "", "should be at least 2")
        if not series.get("lastObservedTime"):
            c.required("series.lastObservedTime")
    if old is not None:
        previous = _internal_event(old)
        for field in _EVENT_IMMUTABLE:
            if _semantic(event.get(field)) != _semantic(previous.get(field)):
                c.invalid(field, event.get(field), _IMMUTABLE)
        return
    if not event.get("eventTime"):
        c.required("eventTime")
    if event.get("type") not in ("Normal", "Warning"):
        c.invalid("type", "", f"has invalid value: {event.get('type') or ''}")
    for field in ("firstTimestamp", "lastTimestamp", "count"):
        if event.get(field):
            c.invalid(field, "", "needs to be unset")
    if any(_dict(event.get("source")).get(k) for k in ("component", "host")):
        c.invalid("source", "", "needs to be unset")


def _lease(c: _Causes, obj: dict, old: dict | None) -> None:
    spec = _dict(obj.get("spec"))
    duration, transitions = spec.get("leaseDurationSeconds"), spec.get("leaseTransitions")
    if isinstance(duration, int) and duration <= 0:
        c.invalid("spec.leaseDurationSeconds", duration, "must be greater than 0")
    if isinstance(transitions, int) and transitions < 0:
        c.invalid("spec.leaseTransitions", transitions, _NONNEGATIVE)
    if spec.get("strategy") not in (None, "OldestEmulationVersion"):
        c.not_supported("spec.strategy", spec["strategy"], ["OldestEmulationVersion"])
    if spec.get("preferredHolder") and not spec.get("strategy"):
        c.forbidden("spec.preferredHolder", "may only be specified if `strategy` is defined")


def _policy_rules(c: _Causes, rules, namespaced: bool) -> None:
    for i, rule in enumerate(_list(rules)):
        rule, at = _dict(rule), _at("rules", i)
        if not rule.get("verbs"):
            c.required(_at(at, "verbs"), "verbs must contain at least one value")
        if rule.get("nonResourceURLs"):
            if namespaced:
                c.invalid(_at(at, "nonResourceURLs"), rule["nonResourceURLs"],
                          "namespaced rules cannot apply to non-resource URLs")
            if rule.get("apiGroups") or rule.get("resources") or rule.get("resourceNames"):
                c.invalid(_at(at, "nonResourceURLs"), rule["nonResourceURLs"],
                          "rules cannot apply to both regular resources and non-resource URLs")
            continue
        if not rule.get("apiGroups"):
            c.required(_at(at, "apiGroups"), "resource rules must supply at least one api group")
        if not rule.get("resources"):
            c.required(_at(at, "resources"), "resource rules must supply at least one resource")


def _role(c: _Causes, obj: dict, old: dict | None) -> None:
    _policy_rules(c, obj.get("rules"), namespaced=True)


def _cluster_role(c: _Causes, obj: dict, old: dict | None) -> None:
    _policy_rules(c, obj.get("rules"), namespaced=False)
    aggregation = obj.get("aggregationRule")
    if isinstance(aggregation, dict):
        selectors = _list(aggregation.get("clusterRoleSelectors"))
        if not selectors:
            c.required("aggregationRule.clusterRoleSelectors",
                       "at least one clusterRoleSelector required if aggregationRule is non-nil")
        for i, selector in enumerate(selectors):
            _label_selector(c, selector, _at("aggregationRule.clusterRoleSelectors", i))


def _binding(c: _Causes, obj: dict, old: dict | None, role_kinds: list[str], namespaced: bool) -> None:
    ref = _dict(obj.get("roleRef"))
    if ref.get("apiGroup") != RBAC:
        c.not_supported("roleRef.apiGroup", ref.get("apiGroup") or "", [RBAC])
    if ref.get("kind") not in role_kinds:
        c.not_supported("roleRef.kind", ref.get("kind") or "", role_kinds)
    if not ref.get("name"):
        c.required("roleRef.name")
    else:
        c.check("roleRef.name", ref["name"], is_path_segment_name)
    for i, subject in enumerate(_list(obj.get("subjects"))):
        _subject(c, _dict(subject), namespaced, _at("subjects", i))
    if old is not None and _dict(old.get("roleRef")) != ref:
        c.invalid("roleRef", _go_role_ref(ref), "cannot change roleRef")


def _subject(c: _Causes, subject: dict, namespaced: bool, path: str) -> None:
    name, kind, group = subject.get("name") or "", subject.get("kind") or "", subject.get("apiGroup") or ""
    if not name:
        c.required(_at(path, "name"))
    if kind == "ServiceAccount":
        if name:
            c.check(_at(path, "name"), name, is_dns1123_subdomain)
        if group:
            c.not_supported(_at(path, "apiGroup"), group, [""])
        if not namespaced and not subject.get("namespace"):
            c.required(_at(path, "namespace"))
    elif kind in ("User", "Group"):
        if group != RBAC:
            c.not_supported(_at(path, "apiGroup"), group, [RBAC])
    else:
        c.not_supported(_at(path, "kind"), kind, ["ServiceAccount", "User", "Group"])


def _role_binding(c: _Causes, obj: dict, old: dict | None) -> None:
    _binding(c, obj, old, ["Role", "ClusterRole"], namespaced=True)


def _cluster_role_binding(c: _Causes, obj: dict, old: dict | None) -> None:
    _binding(c, obj, old, ["ClusterRole"], namespaced=False)


_INGRESS_PATH_TYPES = ["Exact", "ImplementationSpecific", "Prefix"]


def _ingress_host(c: _Causes, host: str, path: str) -> None:
    check = is_wildcard_dns1123_subdomain if "*" in host else is_dns1123_subdomain
    c.check(path, host, check)


def _ingress_backend(c: _Causes, backend: dict, path: str) -> None:
    service, resource = backend.get("service"), backend.get("resource")
    if service is not None and resource is not None:
        c.invalid(path, "", "cannot set both resource and service backends")
        return
    if resource is not None:
        resource = _dict(resource)
        for field in ("kind", "name"):
            if not resource.get(field):
                c.required(_at(path, "resource", field))
        return
    if service is None:
        c.invalid(path, "", "resource or service backend is required")
        return
    service = _dict(service)
    if not service.get("name"):
        c.required(_at(path, "service", "name"))
    else:
        c.check(_at(path, "service", "name"), service["name"], is_dns1035_label)
    port = _dict(service.get("port"))
    if port.get("name") and port.get("number"):
        c.invalid(path, "", "cannot set both port name & port number")
    elif port.get("name"):
        c.check(_at(path, "service", "port", "name"), port["name"], is_valid_port_name)
    elif port.get("number"):
        c.check(_at(path, "service", "port", "number"), port["number"], is_valid_port_num)
    else:
        c.required(path, "port name or number is required")


def _ingress_path(c: _Causes, item: dict, path: str) -> None:
    kind, value = item.get("pathType"), item.get("path") or ""
    if kind is None:
        c.required(_at(path, "pathType"), "pathType must be specified")
        return
    if kind in ("Exact", "Prefix"):
        if not value.startswith("/"):
            c.invalid(_at(path, "path"), value, "must be an absolute path")
        for bad in ("//", "/./", "/../", "%2f", "%2F"):
            if bad in value:
                c.invalid(_at(path, "path"), value, f"must not contain '{bad}'")
        for bad in ("/..", "/."):
            if value.endswith(bad):
                c.invalid(_at(path, "path"), value, f"cannot end with '{bad}'")
    elif kind == "ImplementationSpecific":
        if value and not value.startswith("/"):
            c.invalid(_at(path, "path"), value, "must be an absolute path")
    else:
        c.not_supported(_at(path, "pathType"), kind, _INGRESS_PATH_TYPES)
    _ingress_backend(c, _dict(item.get("backend")), _at(path, "backend"))


def _ingress(c: _Causes, obj: dict, old: dict | None) -> None:
    spec = _dict(obj.get("spec"))
    rules = _list(spec.get("rules"))
    if not rules and spec.get("defaultBackend") is None:
        shown = "[]networking.IngressRule(nil)" if spec.get("rules") is None else "[]networking.IngressRule{}"
        c.invalid("spec", _Go(shown), "either `defaultBackend` or `rules` must be specified")
    if isinstance(spec.get("defaultBackend"), dict):
        _ingress_backend(c, spec["defaultBackend"], "spec.defaultBackend")
    for i, rule in enumerate(rules):
        rule, at = _dict(rule), _at("spec.rules", i)
        host = rule.get("host") or ""
        if host:
            if _is_ip(host):
                c.invalid(_at(at, "host"), host, "must be a DNS name, not an IP address")
            _ingress_host(c, host, _at(at, "host"))
        http = rule.get("http")
        if isinstance(http, dict):
            paths = _list(http.get("paths"))
            if not paths:
                c.required(_at(at, "http", "paths"))
            for j, item in enumerate(paths):
                _ingress_path(c, _dict(item), _at(at, "http", "paths", j))
    for i, tls in enumerate(_list(spec.get("tls"))):
        for j, host in enumerate(_list(_dict(tls).get("hosts"))):
            _ingress_host(c, str(host), _at("spec.tls", i, "hosts", j))
    if spec.get("ingressClassName") is not None:
        c.check("spec.ingressClassName", spec["ingressClassName"], is_dns1123_subdomain)


def _custom_resource_definition(c: _Causes, obj: dict, old: dict | None) -> None:
    spec = _dict(obj.get("spec"))
    expected = f"{_dict(spec.get('names')).get('plural', '')}.{spec.get('group', '')}"
    name = _dict(obj.get("metadata")).get("name") or ""
    if name and name != expected:
        c.invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group')


KIND_RULES: dict[tuple[str, str, str], Callable[[_Causes, dict, dict | None], None]] = {
    ("", "v1", "Pod"): _pod,
    ("", "v1", "PodTemplate"): _pod_template,
    ("", "v1", "ReplicationController"): _replication_controller,
    ("", "v1", "Service"): _service,
    ("", "v1", "ConfigMap"): _config_map,
    ("", "v1", "Secret"): _secret,
    ("", "v1", "Namespace"): _namespace,
    ("", "v1", "Node"): _node,
    ("", "v1", "PersistentVolume"): _persistent_volume,
    ("", "v1", "PersistentVolumeClaim"): _persistent_volume_claim,
    ("", "v1", "Event"): _core_event,
    ("events.k8s.io", "v1", "Event"): _events_v1_event,
    ("apps", "v1", "Deployment"): _deployment,
    ("apps", "v1", "ReplicaSet"): _replica_set,
    ("apps", "v1", "StatefulSet"): _stateful_set,
    ("apps", "v1", "DaemonSet"): _daemon_set,
    ("batch", "v1", "Job"): _job,
    ("batch", "v1", "CronJob"): _cron_job,
    ("coordination.k8s.io", "v1", "Lease"): _lease,
    (RBAC, "v1", "Role"): _role,
    (RBAC, "v1", "ClusterRole"): _cluster_role,
    (RBAC, "v1", "RoleBinding"): _role_binding,
    (RBAC, "v1", "ClusterRoleBinding"): _cluster_role_binding,
    ("networking.k8s.io", "v1", "Ingress"): _ingress,
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition"): _custom_resource_definition,
}

# Kinds whose own rules run the metadata checks, in their own way.
_OWN_METADATA = {("", "Event")}

# Fields an update may not change, beyond those the kind rules judge; with how kube prints them.
IMMUTABLE_FIELDS: dict[tuple[str, str], tuple[tuple[str, Callable], ...]] = {
    ("apps", "Deployment"): (("spec.selector", _go_label_selector),),
    ("apps", "ReplicaSet"): (("spec.selector", _go_label_selector),),
    ("apps", "DaemonSet"): (("spec.selector", _go_label_selector),),
    ("batch", "Job"): (("spec.selector", _go_label_selector), ("spec.completionMode", _go_value),
                       ("spec.podFailurePolicy", _go_value), ("spec.backoffLimitPerIndex", _go_value),
                       ("spec.managedBy", _go_value), ("spec.successPolicy", _go_value)),
    ("", "Secret"): (("type", _go_value),),
}


def _immutable_fields(c: _Causes, group: str, kind: str, obj: dict, old: dict) -> None:
    for dotted, render in IMMUTABLE_FIELDS.get((group, kind), ()):
        new = dig(obj, dotted)
        if _semantic(new) != _semantic(dig(old, dotted)):
            c.invalid(dotted, _Go(render(new)), _IMMUTABLE)


def validate(schemas: Schemas, group: str, version: str, kind: str, obj: dict, old: dict | None = None, *,
             namespaced: bool, subresource: str | None = None) -> list[dict]:
    """kube-apiserver's validation of a create (`old` None) or an update, as StatusCauses.

    A write to a subresource (status, finalize, binding...) is judged on its metadata only: what
    else it may change is the subresource's strategy's business.
    """
    c = _Causes()
    meta = _dict(obj.get("metadata"))
    core = group != "apiextensions.k8s.io" and schemas.name_for(group, version, kind) is not None
    if old is not None:
        _meta_update(c, meta, _dict(old.get("metadata")), core=core)
    elif (group, kind) not in _OWN_METADATA:
        _meta_create(c, meta, NAME_FORMATS.get((group, kind), is_dns1123_subdomain), namespaced, core=core)
    if subresource is not None:
        return c.items
    rule = KIND_RULES.get((group, version, kind))
    if rule:
        rule(c, obj, old)
    if old is not None:
        _immutable_fields(c, group, kind, obj, old)
    definition = schemas.name_for(group, version, kind)
    if definition:
        _schema_required(c, schemas, definition, obj)
    return c.items


def invalid_message(kind: str, name: str, causes: list[dict], group: str = "") -> str:
    """The 422 Status message: `Deployment.apps "web" is invalid: <field>: <message>`, several in brackets."""
    qualified = f"{kind}.{group}" if group else kind
    seen = []
    for cause in causes:
        text = f"{cause.get('field', '')}: {cause['message']}"
        if text not in seen:
            seen.append(text)
    if not seen:
        return f"{qualified} {go_quote(name)} is invalid"
    joined = seen[0] if len(seen) == 1 else "[" + ", ".join(seen) + "]"
    return f"{qualified} {go_quote(name)} is invalid: {joined}"
