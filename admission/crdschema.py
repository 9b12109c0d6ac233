"""CustomResourceDefinitions: the schema engine apiextensions-apiserver runs for them, without HTTP.

- `validate_crd`: what kube's CRD strategy rejects on create and update (422 causes), spec and
  status; the object metadata, and the `metadata.name == plural.group` rule, stay with
  `validation.validate`, which judges CRDs like every built-in kind.
- `prune`, `apply_defaults`, `validate`: what happens to a custom resource on its way to storage:
  unknown fields dropped (their paths reported, for fieldValidation), defaults set, then the
  OpenAPI schema, embedded resources, list types and the x-kubernetes-validations CEL rules judged.

Schemas are the `openAPIV3Schema` dicts of a v1 CRD version, walked as they are. Messages are
kube's, built the way kube-openapi and apimachinery's field errors build them, since clients show
them to people who compare them with a real cluster. CEL runs on common-expression-language (the
cel-rust interpreter): it compiles and evaluates fast enough to run on every write, and it has
cel-go's cross-type numeric equality, optionals for optionalOldSelf, and most of the string and
list extensions Kubernetes enables. It has no type checker, so a rule is only parsed when a CRD is
written; a rule kube would refuse for its types (`self.nosuchfield`) fails when it runs instead.
What cel-rust cannot do at all (optional syntax, some Kubernetes libraries) is not enforced.
Rule cost is judged at run time only, roughly: the largest collection to the power of how deeply
the rule nests comprehensions, against kube's per-call limit.
"""
from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import datetime
import functools
import ipaddress
import json
import re
import urllib.parse
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import cel

from admission import schemas as builtin_schemas
from admission.gofmt import Go, go_float, go_interface, go_quote, go_string_list, go_value
from admission.validation.fielderrors import Causes, child, IMMUTABLE, keyed, with_detail
from admission.validation.names import is_dns1035_label, is_dns1123_subdomain, is_path_segment_name
from admission.validation.objects import as_dict, as_list
from admission.validation.rules.meta import validate_object_meta


META_FIELDS = ("apiVersion", "kind", "metadata")
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_ABSENT = object()  # no correlated old value: create, or a part of the object kube cannot match up


class _Errors(Causes):
    """Field errors as custom resources get them: a nil path prints "<nil>", and type, size and
    count errors have their own reasons."""

    def add(self, reason: str, field: str, message: str) -> None:
        super().add(reason, field or "<nil>", message)

    def type_invalid(self, field: str, value, detail: str) -> None:
        self.add("FieldValueTypeInvalid", field, with_detail(f"Invalid value: {go_value(value)}", detail))

    def too_many(self, field: str, actual: int, limit: int) -> None:
        self.add("FieldValueTooMany", field, f"Too many: {actual}: must have at most {limit} "
                                             f"{'item' if limit == 1 else 'items'}")


def _cr_value(value):
    """A decoded JSON value as a field error prints it (nil is the string "null")."""
    if value is None:
        return Go('"null"')
    if isinstance(value, (dict, list)):
        return Go(go_interface(value))
    return value


def _same(a, b) -> bool:
    """Go's DeepEqual of decoded JSON: an int is not a float and a bool is no number."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and a == b


def _json_key(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# --- schema access -----------------------------------------------------------------------------

def _props(s: dict) -> dict:
    return as_dict(s.get("properties"))


def _items(s: dict) -> dict | None:
    return s["items"] if isinstance(s.get("items"), dict) else None


def _additional(s: dict) -> dict | None:
    """additionalProperties as a schema; `true` and `false` carry none."""
    return s["additionalProperties"] if isinstance(s.get("additionalProperties"), dict) else None


def _child_schema(s: dict, key: str) -> dict | None:
    props = _props(s)
    return props[key] if key in props else _additional(s)


def _preserves(s: dict | None) -> bool:
    return bool(s and s.get("x-kubernetes-preserve-unknown-fields"))


def _embedded(s: dict | None) -> bool:
    return bool(s and s.get("x-kubernetes-embedded-resource"))


def _subschemas(s: dict) -> Iterator[dict]:
    """Every schema directly below s (SchemaHas' traversal)."""
    for key in ("items", "not", "additionalProperties", "additionalItems"):
        if isinstance(s.get(key), dict):
            yield s[key]
    for key in ("items", "allOf", "anyOf", "oneOf"):
        yield from (sub for sub in as_list(s.get(key)) if isinstance(sub, dict))
    for key in ("properties", "patternProperties", "definitions", "dependencies"):
        yield from (sub for sub in as_dict(s.get(key)).values() if isinstance(sub, dict))


def _any_schema(s, predicate: Callable[[dict], bool]) -> bool:
    return isinstance(s, dict) and (predicate(s) or any(_any_schema(sub, predicate) for sub in _subschemas(s)))


# --- pruning -----------------------------------------------------------------------------------

@functools.cache
def _object_meta_fields() -> frozenset[str]:
    return frozenset(builtin_schemas.load().definitions[OBJECT_META]["properties"])


def _prune_object_meta(obj: dict, path: str, out: list[str]) -> dict | None:
    """ObjectMeta survives decoding only with the fields Go's ObjectMeta has."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return None
    for k in [k for k in meta if k not in _object_meta_fields()]:
        out.append(child(path, "metadata", k))
        del meta[k]
    return meta


def _prune(x, s: dict | None, path: str, out: list[str], embedded: bool = False) -> None:
    """pruning.prune: fields the schema does not specify go, except under preserve-unknown-fields
    and the apiVersion/kind/metadata of embedded resources. Below `additionalProperties: true`
    there is no schema, so objects there lose all their fields, as in kube."""
    if isinstance(x, dict):
        if s is None:
            out += [child(path, k) for k in x]
            x.clear()
            return
        embedded = embedded or _embedded(s)
        props = _props(s)
        for k in list(x):
            if embedded and k in META_FIELDS:
                continue
            if k in props:
                _prune(x[k], props[k], child(path, k), out)
            elif "additionalProperties" in s:
                _prune(x[k], _additional(s), child(path, k), out)
            elif not _preserves(s):
                if not (k in META_FIELDS and not path):
                    out.append(child(path, k))
                del x[k]
    elif isinstance(x, list):
        for i, v in enumerate(x):
            _prune(v, None if s is None else _items(s), f"{path}[{i}]", out)


def _walk(x, s: dict | None, path: str) -> Iterator[tuple[object, dict, str]]:
    """Every value the schema describes, with its schema and path, parents before children (a
    parent may change its children before the walk gets to them)."""
    if s is None:
        return
    yield x, s, path
    if isinstance(x, dict):
        for k, v in list(x.items()):
            yield from _walk(v, _child_schema(s, k), child(path, k))
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _walk(v, _items(s), f"{path}[{i}]")


def _coerce_embedded_meta(obj, schema: dict, out: list[str]) -> None:
    """objectmeta.Coerce below the root: nested embedded resources' metadata is decoded into
    ObjectMeta as well."""
    for x, s, path in _walk(obj, schema, ""):
        meta = _prune_object_meta(x, path, out) if isinstance(x, dict) and _embedded(s) else None
        if meta is not None:
            # Written back from a Go ObjectMeta, whose zero creationTimestamp is a null.
            meta.setdefault("creationTimestamp", None)


def _drop_nulls(x, s: dict | None) -> None:
    """PruneNonNullableNullsWithoutDefaults: a null the schema does not allow and cannot default."""
    if isinstance(x, dict):
        for k in list(x):
            sub = None if s is None else _child_schema(s, k)
            if x[k] is None and sub is not None and not sub.get("nullable") and sub.get("default") is None:
                del x[k]
            else:
                _drop_nulls(x[k], sub)
    elif isinstance(x, list):
        for v in x:
            _drop_nulls(v, None if s is None else _items(s))


def prune(schema: dict, obj: dict, *, is_root: bool = True) -> list[str]:
    """Drops, in place, what the schema does not know; returns the dropped paths ("spec.foo")
    for `unknown field "spec.foo"` warnings or Strict errors. At the root (and in embedded
    resources) apiVersion, kind and metadata stay, metadata cut down to ObjectMeta's fields."""
    out: list[str] = []
    if is_root and isinstance(obj, dict):
        _prune_object_meta(obj, "", out)
    _prune(obj, schema, "", out, embedded=is_root)
    _drop_nulls(obj, schema)
    _coerce_embedded_meta(obj, schema, out)
    return out


# --- defaulting --------------------------------------------------------------------------------

def _non_nullable_null(value, s: dict | None) -> bool:
    return value is None and s is not None and not s.get("nullable")


def apply_defaults(schema: dict, obj) -> None:
    """structuraldefaulting.Default: missing fields (and nulls the schema does not allow) take
    their default, parents before children so that defaults inside defaults apply too."""
    if not isinstance(schema, dict):
        return
    if isinstance(obj, dict):
        props = _props(schema)
        for k, prop in props.items():
            if prop.get("default") is not None and (k not in obj or _non_nullable_null(obj[k], prop)):
                obj[k] = copy.deepcopy(prop["default"])
        extra = _additional(schema)
        for k in obj:
            if k in props:
                apply_defaults(props[k], obj[k])
            elif extra is not None:
                if _non_nullable_null(obj[k], extra):
                    obj[k] = copy.deepcopy(extra.get("default"))
                apply_defaults(extra, obj[k])
    elif isinstance(obj, list):
        item = _items(schema)
        for i in range(len(obj)):
            if _non_nullable_null(obj[i], item):
                obj[i] = copy.deepcopy(item.get("default"))
            apply_defaults(item, obj[i])


# --- OpenAPI value validation (kube-openapi's SchemaValidator) -----------------------------------

class _Failure(NamedTuple):
    """A kube-openapi validation error: its kind decides the field error kube makes of it, and
    only type, invalid and composite errors keep kube-openapi's message."""
    kind: str        # type | required | enum | too_long | too_many | invalid | composite
    name: str        # kube-openapi's path: "spec.replicas", ".spec" for required fields
    value: object = None
    message: str = ""
    extra: object = None  # the allowed values of an enum, the limit of a size


_GO_DURATION = re.compile(r"[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
_WORD_DURATION = re.compile(r"\s*(\d+)\s*(ns|us|µs|ms|s|m|h|d|w|nanoseconds?|microseconds?|milliseconds?|seconds?|sec|"
                            r"minutes?|mins?|hours?|hrs?|days?|weeks?|wks?)\s*")
_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _go_duration(text: str) -> datetime.timedelta | None:
    """time.ParseDuration."""
    if text == "0":
        return datetime.timedelta(0)
    if not _GO_DURATION.fullmatch(text):
        return None
    parts = re.findall(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)", text)
    seconds = sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)
    return datetime.timedelta(seconds=-seconds if text.startswith("-") else seconds)


def _is_duration(text: str) -> bool:
    """strfmt's duration: Go's, or a number of units like "3 days"."""
    return _go_duration(text) is not None or bool(text.strip()) and _WORD_DURATION.sub("", text) == ""


def _rfc3339(text: str) -> datetime.datetime | None:
    m = _RFC3339.fullmatch(text)
    if m is None:
        return None
    try:
        return datetime.datetime.fromisoformat(text.replace("z", "Z").replace("t", "T").replace(" ", "T")
                                               .replace("Z", "+00:00"))
    except ValueError:
        return None


def _is_date(text: str) -> bool:
    try:
        return re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) is not None and bool(datetime.date.fromisoformat(text))
    except ValueError:
        return False


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _is_ip(version: int) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        try:
            return ipaddress.ip_address(text).version == version
        except ValueError:
            return False
    return check


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
_FORMATS: dict[str, Callable[[str], bool]] = {
    "bsonobjectid": _matcher(r"[0-9a-fA-F]{24}"),
    "uri": _is_uri,
    "email": _matcher(r"[^@\s]+@[^@\s]+"),
    "hostname": _matcher(r"(?=.{1,255}$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
                         r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?"),
    "ipv4": _is_ip(4),
    "ipv6": _is_ip(6),
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
    "datetime": lambda text: _rfc3339(text) is not None,
}


def _format(s: dict) -> str:
    fmt = s.get("format") or ""
    return fmt if isinstance(fmt, str) and fmt.replace("-", "") in _FORMATS else ""


def _types(s: dict) -> list[str]:
    if s.get("x-kubernetes-int-or-string"):
        return ["integer", "string"]
    return [s["type"]] if s.get("type") else []


def _json_type(value) -> str:
    for py, name in ((bool, "boolean"), (str, "string"), (int, "integer"), (float, "number"), (list, "array"),
                     (dict, "object")):
        if isinstance(value, py):
            return name
    return ""


def _type_failure(name: str, expected: str, found: str) -> _Failure:
    return _Failure("type", name, found, f"{name} in body must be of type {expected}: {go_quote(found)}")


def _type_failures(s: dict, data, name: str) -> list[_Failure]:
    types, fmt = _types(s), _format(s)
    if not types and not fmt:
        return []
    if data is None:
        return [_type_failure(name, ",".join(types), "null")] if types and not s.get("nullable") else []
    kind = _json_type(data)
    float_int = kind == "number" and float(data).is_integer() and "integer" in types
    int_float = kind == "integer" and "number" in types
    fits = kind in types or float_int or int_float
    if fmt and kind not in ("string", "array") and not fits:
        return [_type_failure(name, fmt, {"integer": "int64", "number": "double"}.get(kind, ""))]
    if fmt and kind in ("string", "array") and not {"integer", "number"} & set(types):
        return []
    return [] if fits else [_type_failure(name, ",".join(types), kind)]


def _junctor_failures(s: dict, data, name: str, old) -> list[_Failure]:
    """allOf, anyOf, oneOf and not; a failed anyOf or oneOf also reports its closest alternative."""
    out: list[_Failure] = []
    any_of = [_schema_failures(as_dict(sub), data, name, old) for sub in as_list(s.get("anyOf"))]
    if any_of and all(any_of):
        out.append(_Failure("composite", name, message=f"{go_quote(name)} must validate at least one schema (anyOf)"))
        out += min(any_of, key=len)
    one_of = [_schema_failures(as_dict(sub), data, name, old) for sub in as_list(s.get("oneOf"))]
    valid = sum(not f for f in one_of)
    if one_of and valid != 1:
        found = "Found none valid" if not valid else f"Found {valid} valid alternatives"
        out.append(_Failure("composite", name, message=f"{go_quote(name)} must validate one and only one schema "
                                                       f"(oneOf). {found}"))
        out += min(one_of, key=len) if not valid else []
    all_of = [_schema_failures(as_dict(sub), data, name, old) for sub in as_list(s.get("allOf"))]
    for failures in all_of:
        out += failures
    if any(all_of):
        none = ". None validated" if all(all_of) else ""
        out.append(_Failure("composite", name, message=f"{go_quote(name)} must validate all the schemas (allOf){none}"))
    if isinstance(s.get("not"), dict) and not _schema_failures(s["not"], data, name, old):
        out.append(_Failure("composite", name, message=f"{go_quote(name)} must not validate the schema (not)"))
    return out


def _string_failures(s: dict, data: str, name: str) -> list[_Failure]:
    """The first of maxLength, minLength and pattern that fails (counted in characters)."""
    if s.get("maxLength") is not None and len(data) > s["maxLength"]:
        limit = int(s["maxLength"])
        return [_Failure("too_long", name, extra=limit)]
    if s.get("minLength") is not None and len(data) < s["minLength"]:
        return [_Failure("invalid", name, data, f"{name} in body should be at least {int(s['minLength'])} chars long")]
    pattern = s.get("pattern")
    if pattern:
        try:
            matched = re.search(pattern, data) is not None
        except re.error as e:
            return [_Failure("invalid", name, data, f"{name} in body should match '{pattern}, but pattern is invalid: "
                                                    f"{e}'")]
        if not matched:
            return [_Failure("invalid", name, data, f"{name} in body should match '{pattern}'")]
    return []


def _number_text(value) -> str:
    return go_float(value) if isinstance(value, float) else str(value)


def _is_json_integer(value: float) -> bool:
    """swag.IsFloat64AJSONInteger: integral, up to a relative error of 1e-9."""
    if value != value or value in (float("inf"), float("-inf")):
        return False
    return value.is_integer() or abs(value - round(value)) / max(abs(value) + abs(round(value)), 1e-300) < 1e-9


def _multiple_of_failure(factor, data, name: str) -> _Failure | None:
    if isinstance(data, int):
        factor = int(factor)  # kube-openapi truncates the factor for integer values
    if factor < 0:
        return _Failure("invalid", name, factor, f"factor MultipleOf declared for {name} must be positive: "
                                                 f"{_number_text(factor)}")
    if factor == 0:
        fits = False
    elif isinstance(data, int):
        fits = data % factor == 0
    else:
        fits = _is_json_integer(1 / factor * data if factor < 1 else data / factor)
    return None if fits else _Failure("invalid", name, data, f"{name} in body should be a multiple of "
                                                             f"{_number_text(factor)}")


def _number_failures(s: dict, data, name: str) -> list[_Failure]:
    """multipleOf, minimum, maximum; integer values are compared with the bounds truncated."""
    out = []
    if s.get("multipleOf") is not None:
        out.append(_multiple_of_failure(s["multipleOf"], data, name))

    def bound(key: str):
        return int(s[key]) if isinstance(data, int) else float(s[key])

    if s.get("minimum") is not None:
        low, exclusive = bound("minimum"), bool(s.get("exclusiveMinimum"))
        if data < low or (exclusive and data == low):
            out.append(_Failure("invalid", name, data, f"{name} in body should be greater than "
                                                       f"{'' if exclusive else 'or equal to '}{_number_text(low)}"))
    if s.get("maximum") is not None:
        high, exclusive = bound("maximum"), bool(s.get("exclusiveMaximum"))
        if data > high or (exclusive and data == high):
            out.append(_Failure("invalid", name, data, f"{name} in body should be less than "
                                                       f"{'' if exclusive else 'or equal to '}{_number_text(high)}"))
    return [f for f in out if f]


def _correlated_item(s: dict, item, old) -> object:
    """The old element kube matches an array element with: by key in a list-type map, by value in
    a set; elements of other lists have none."""
    if not isinstance(old, list):
        return _ABSENT
    list_type = s.get("x-kubernetes-list-type")
    if list_type == "set":
        return item if any(_same(item, o) for o in old) else _ABSENT
    if list_type == "map" and isinstance(item, dict):
        keys = as_list(s.get("x-kubernetes-list-map-keys"))
        for o in old:
            if isinstance(o, dict) and all(_same(item.get(k), o.get(k)) for k in keys):
                return o
    return _ABSENT


def _slice_failures(s: dict, data: list, name: str, old) -> list[_Failure]:
    out = []
    item = _items(s)
    if item is not None:
        for i, v in enumerate(data):
            out += _schema_failures(item, v, f"{name}[{i}]", _correlated_item(s, v, old))
    if s.get("minItems") is not None and len(data) < s["minItems"]:
        out.append(_Failure("invalid", name, len(data), f"{name} in body should have at least {int(s['minItems'])} "
                                                        "items"))
    if s.get("maxItems") is not None and len(data) > s["maxItems"]:
        limit = int(s["maxItems"])
        out.append(_Failure("too_many", name, len(data), extra=limit))
    if s.get("uniqueItems") and len({_json_key(v) for v in data}) < len(data):
        out.append(_Failure("invalid", name, "", f"{name} in body shouldn't contain duplicates"))
    return out


def _enum_failures(s: dict, data, name: str) -> list[_Failure]:
    enum = s.get("enum")
    if not isinstance(enum, list) or not enum:
        return []
    number = isinstance(data, (int, float)) and not isinstance(data, bool)
    for allowed in enum:
        if _same(data, allowed) or (number and isinstance(allowed, (int, float)) and not isinstance(allowed, bool)
                                    and data == allowed):
            return []
    allowed = [v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) for v in enum]
    return [_Failure("enum", name, data, extra=allowed)]


def _object_failures(s: dict, data: dict, name: str, old) -> list[_Failure]:
    """min/maxProperties end the object's checks; then unknown keys, properties and required."""
    if s.get("minProperties") is not None and len(data) < s["minProperties"]:
        return [_Failure("invalid", name, len(data), f"{name} in body should have at least {int(s['minProperties'])} "
                                                     "properties")]
    if s.get("maxProperties") is not None and len(data) > s["maxProperties"]:
        limit = int(s["maxProperties"])
        return [_Failure("too_many", name, len(data), extra=limit)]
    out = []
    props, extra = _props(s), s.get("additionalProperties")
    old_map = old if isinstance(old, dict) else {}
    for k, v in data.items():
        if k in props:
            continue
        if extra is False:
            out.append(_Failure("invalid", name, k, f"{name}.{k} in body is a forbidden property"))
        elif isinstance(extra, dict):
            out += _schema_failures(extra, v, f"{name}.{k}", old_map.get(k, _ABSENT))
    for k, sub in props.items():
        if k in data:
            out += _schema_failures(as_dict(sub), data[k], child(name, k), old_map.get(k, _ABSENT))
    out += [_Failure("required", f"{name}.{k}") for k in as_list(s.get("required")) if k not in data]
    return out


def _schema_failures(s: dict, data, name: str, old=_ABSENT) -> list[_Failure]:
    """SchemaValidator.Validate, in its validators' order. With an old value, a part equal to what
    it was is not judged again (CRDValidationRatcheting)."""
    if old is not _ABSENT and _same(data, old):
        return []
    if data is None:
        return _type_failures(s, data, name) + _enum_failures(s, data, name)
    out = _type_failures(s, data, name) + _junctor_failures(s, data, name, old)
    if isinstance(data, str):
        out += _string_failures(s, data, name)
        fmt = _format(s)
        if fmt and not _FORMATS[fmt.replace("-", "")](data):
            out.append(_type_failure(name, fmt, data))
    elif isinstance(data, (int, float)) and not isinstance(data, bool):
        out += _number_failures(s, data, name)
    elif isinstance(data, list):
        out += _slice_failures(s, data, name, old)
    out += _enum_failures(s, data, name)
    if isinstance(data, dict):
        out += _object_failures(s, data, name, old)
    return out


def _report(c: _Errors, failures: list[_Failure], base: str) -> None:
    """kubeOpenAPIResultToFieldErrors: each failure as the field error kube turns it into."""
    for f in failures:
        if f.kind == "composite":
            c.invalid(base, "", f.message)
            continue
        field = child(base, f.name[1:] if f.name.startswith(".") else f.name) if f.name not in ("", ".") else base
        if f.kind == "required":
            c.required(field)
        elif f.kind == "enum":
            c.not_supported(field, _cr_value(f.value), f.extra)
        elif f.kind == "too_long":
            c.too_long(field, f.extra)
        elif f.kind == "too_many":
            c.too_many(field, f.value, f.extra)
        elif f.kind == "type":
            c.type_invalid(field, _cr_value(f.value), f.message)
        else:
            c.invalid(field, _cr_value(f.value), f.message)


# --- embedded resources and list types ---------------------------------------------------------

def _embedded_resource(c: _Errors, x: dict, path: str) -> None:
    """objectmeta.validateEmbeddedResource: apiVersion and kind are required, metadata must be
    valid ObjectMeta (a missing name is fine: the resource is not stored by itself)."""
    for field in ("apiVersion", "kind"):
        if field not in x:
            c.required(child(path, field))
    for k, v in x.items():
        at = child(path, k)
        if k in ("apiVersion", "kind") and not isinstance(v, str):
            c.invalid(at, _cr_value(v), "must be a string")
        elif k in ("apiVersion", "kind") and not v:
            c.required(at)
        elif k == "apiVersion" and v.count("/") > 1:
            c.invalid(at, v, f"unexpected GroupVersion string: {v}")
        elif k == "kind":
            _dns1035(c, at, v, mixed_case=True)
        elif k == "metadata" and isinstance(v, dict):
            meta = {**v, "name": v.get("name") or "fakename"}
            validate_object_meta(c, meta, is_path_segment_name, bool(meta.get("namespace")), at)
        elif k == "metadata":
            c.invalid(at, _cr_value(v), f"json: cannot unmarshal {_json_type(v)} into Go value of type v1.ObjectMeta")


def _embedded_resources(c: _Errors, schema: dict, obj, path: str) -> None:
    for x, s, at in _walk(obj, schema, path):
        if isinstance(x, dict) and _embedded(s):
            _embedded_resource(c, x, at)


def _second_occurrences(keys: list) -> list[int]:
    """Where a value repeats for the first time: kube reports each duplicate once."""
    seen: dict[str, int] = {}
    repeated = []
    for i, key in enumerate(keys):
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 2:
            repeated.append(i)
    return repeated


def _list_types(c: _Errors, schema: dict, obj, path: str) -> None:
    """listtype.ValidateListSetsAndMaps: sets hold distinct values, maps distinct keys."""
    for x, s, at in _walk(obj, schema, path):
        list_type = s.get("x-kubernetes-list-type") if isinstance(x, list) else None
        if list_type == "set":
            for i in _second_occurrences([_json_key(v) for v in x]):
                c.duplicate(f"{at}[{i}]", _cr_value(x[i]))
        elif list_type == "map":
            wrong = next((i for i, v in enumerate(x) if v is not None and not isinstance(v, dict)), None)
            if wrong is not None:
                c.invalid(f"{at}[{wrong}]", _cr_value(x[wrong]), "must be an object for an array of list-type map")
                continue
            names = as_list(s.get("x-kubernetes-list-map-keys"))
            keys = [{k: v[k] for k in names if k in v} if isinstance(v, dict) else {} for v in x]
            for i in _second_occurrences([_json_key(k) for k in keys]):
                c.duplicate(f"{at}[{i}]", Go(go_interface(keys[i])))


# --- CEL ---------------------------------------------------------------------------------------

PER_CALL_LIMIT = 1_000_000
_MAX_MESSAGE_EXPRESSION_BYTES = 5 * 1024
_CEL_RESERVED = frozenset(("true", "false", "null", "in", "as", "break", "const", "continue", "else", "for",
                           "function", "if", "import", "let", "loop", "package", "namespace", "return", "var", "void",
                           "while"))
_CEL_IDENTIFIER = re.compile(r"[a-zA-Z_.\-/][a-zA-Z0-9_.\-/]*")
_MACRO = re.compile(r"\.\s*(all|exists_one|exists|map|filter)\s*\(")
_BLOCKING = frozenset(("FieldValueNotSupported", "FieldValueRequired", "FieldValueTooLong", "FieldValueTooMany",
                       "FieldValueTypeInvalid"))
_VALIDATION_REASONS = ["FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"]


def _index_of(target, value, offset: int = 0) -> int:
    """indexOf of Kubernetes' lists library, and of the strings library (from an offset)."""
    if isinstance(target, str):
        return target.find(value, offset)
    return next((i for i, v in enumerate(target) if _same(v, value)), -1)


def _last_index_of(target, value, offset: int | None = None) -> int:
    if isinstance(target, str):
        return target.rfind(value, 0, len(target) if offset is None else offset + len(value))
    return next((i for i in reversed(range(len(target))) if _same(target[i], value)), -1)


def _find(text: str, pattern: str) -> str:
    match = re.search(pattern, text)
    return match.group(0) if match else ""


def _find_all(text: str, pattern: str, limit: int = -1) -> list[str]:
    found = [m.group(0) for m in re.finditer(pattern, text)]
    return found if limit < 0 else found[:limit]


@functools.cache
def _cel():
    """The CEL runtime, loaded on first use: the package imports its command-line tool too
    (~30 MB and 0.15 s), which only servers whose CRDs carry rules should pay for."""
    import cel
    return cel


@functools.cache
def _functions() -> dict:
    """Kubernetes' CEL libraries beyond what cel-rust and its stdlib module have, or have for strings only."""
    from cel import stdlib
    context = _cel().Context()
    stdlib.add_stdlib_to_context(context)
    return {
        **context.functions,
        "isSorted": lambda values: all(a <= b for a, b in zip(values, values[1:])),
        "indexOf": _index_of,
        "lastIndexOf": _last_index_of,
        "find": _find,
        "findAll": _find_all,
    }


@functools.lru_cache(maxsize=4096)
def _program(expression: str) -> tuple[cel.Program | None, str]:
    """The compiled expression, or cel-go's report of why it does not parse."""
    try:
        return _cel().compile(expression), ""
    except (ValueError, RuntimeError) as e:
        text = str(e)
        text = text[text.find("ERROR:"):] if "ERROR:" in text else text
        return None, "\n".join(" " + line if line.startswith("|") else line for line in text.splitlines())


def _beyond_the_engine(error: str) -> bool:
    """Errors of what cel-go takes and cel-rust does not: optional syntax (`self.?field`) and the
    libraries we lack (url, ip, quantity, cel.bind...). Such a rule is accepted and not enforced,
    rather than refusing CRDs a cluster takes."""
    return error.startswith("Undefined variable or function") or "unsupported syntax" in error


def _uses_old_self(program: cel.Program) -> bool:
    return "oldSelf" in program.variables()


@functools.lru_cache(maxsize=4096)
def _comprehension_depth(expression: str) -> int:
    """How deeply the rule nests macros (all, exists, map, filter): its cost is about the largest
    collection raised to that power."""
    depth, stack, quote, i = 0, [], "", 0
    while i < len(expression):
        ch = expression[i]
        if quote:
            i += 2 if ch == "\\" else 1
            quote = "" if ch == quote else quote
            continue
        macro = _MACRO.match(expression, i)
        if macro:
            stack.append(True)
            depth = max(depth, stack.count(True))
            i = macro.end()
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([{":
            stack.append(False)
        elif ch in ")]}" and stack:
            stack.pop()
        i += 1
    return depth


def _largest(value) -> int:
    if isinstance(value, dict):
        return max([len(value), *map(_largest, value.values())])
    if isinstance(value, list):
        return max([len(value), *map(_largest, value)])
    return 0


def _cel_escape(name: str) -> str | None:
    """How a property is named in CEL; None when it cannot be."""
    if name in _CEL_RESERVED:
        return f"__{name}__"
    if not _CEL_IDENTIFIER.fullmatch(name):
        return None
    return (name.replace("__", "__underscores__").replace(".", "__dot__").replace("-", "__dash__")
            .replace("/", "__slash__"))


def _string_to_cel(value: str, fmt: str):
    if fmt == "byte" and _is_base64(value):
        return base64.b64decode(value)
    if fmt == "duration" and _go_duration(value) is not None:
        return _go_duration(value)
    if fmt in ("date-time", "datetime"):
        return _rfc3339(value) or value
    if fmt == "date" and _is_date(value):
        return datetime.datetime.fromisoformat(value).replace(tzinfo=datetime.timezone.utc)
    return value


def _to_cel(value, s: dict | None, resource: bool = False):
    """UnstructuredToVal: the value as CEL sees it through its schema. Objects show their declared
    properties (null ones as absent), numbers are doubles, formatted strings are timestamps,
    durations or bytes; a resource also shows apiVersion, kind, metadata.name and generateName."""
    if value is None or s is None:
        return value
    kind = s.get("type")
    if kind == "number" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind == "string" and isinstance(value, str):
        return _string_to_cel(value, s.get("format") or "")
    if isinstance(value, list):
        return [_to_cel(v, _items(s), _embedded(_items(s))) for v in value]
    if not isinstance(value, dict) or kind != "object":
        return value
    props, extra = _props(s), _additional(s)
    if not props and extra is not None:
        return {k: _to_cel(v, extra, _embedded(extra)) for k, v in value.items()}
    if not props and (_preserves(s) or not resource):
        return value
    out = {}
    for k, v in value.items():
        escaped = _cel_escape(k)
        if v is None or escaped is None:
            continue
        if resource and k == "metadata" and isinstance(v, dict):
            out[k] = {m: v[m] for m in ("name", "generateName") if isinstance(v.get(m), str)}
        elif resource and k in ("apiVersion", "kind"):
            out[k] = v
        elif k in props:
            out[escaped] = _to_cel(v, props[k], _embedded(props[k]))
    return out


def _evaluate(program: cel.Program, variables: dict) -> tuple[object, str]:
    """The result, or the error as cel-go words it."""
    try:
        return program.execute(_cel().Context(variables, _functions())), ""
    except KeyError as e:
        return None, f"no such key: {e.args[0] if e.args else ''}"
    except ZeroDivisionError:
        return None, "division by zero"
    except OverflowError:
        return None, "integer overflow"
    except TypeError:
        return None, "no such overload"
    except (IndexError, ValueError, RuntimeError) as e:
        return None, str(e)


def _rule_message(rule: dict) -> str:
    message = str(rule.get("message") or "").strip()
    return message or str(rule.get("rule") or "").strip()


class _CelRun:
    """One object's x-kubernetes-validations, walked as cel.Validator walks them. With `ratchet`
    (updates), a failed rule that is not about oldSelf, on a part left as it was, only warns in
    kube; we leave it out."""

    def __init__(self, c: _Errors, schema: dict, ratchet: bool):
        self.c = c
        self.ratchet = ratchet
        self.with_rules: set[int] = set()  # the schema nodes with rules at or below them
        self._find_rules(schema)
        self.stopped = False

    def _find_rules(self, s: dict) -> bool:
        below = [self._find_rules(sub) for sub in _subschemas(s)]
        if any(below) or s.get("x-kubernetes-validations"):
            self.with_rules.add(id(s))
            return True
        return False

    def walk(self, s: dict | None, value, old, path: str, resource: bool, unchanged: bool) -> None:
        """Rules run on non-null values, then on the parts below. `old` is the correlated old value
        (_ABSENT when there is none); `unchanged` says the nearest correlated part is as it was."""
        if s is None or value is None or id(s) not in self.with_rules or self.stopped:
            return
        if old is not _ABSENT:
            unchanged = _same(value, old)
        if s.get("x-kubernetes-validations"):
            self._rules(s, value, old, path, resource, unchanged)
        if isinstance(value, list):
            item = _items(s)
            for i, v in enumerate(value):
                self.walk(item, v, _correlated_item(s, v, old) if s.get("x-kubernetes-list-type") == "map" else _ABSENT,
                          f"{path}[{i}]", _embedded(item), unchanged)
        elif isinstance(value, dict):
            old_map = old if isinstance(old, dict) and s.get("x-kubernetes-map-type") != "atomic" else {}
            props, extra = _props(s), _additional(s)
            for k, v in value.items():
                sub, at = (props[k], child(path, k)) if k in props else (extra, keyed(path, k))
                self.walk(sub, v, old_map.get(k, _ABSENT), at, _embedded(sub), unchanged)

    def _rules(self, s: dict, value, old, path: str, resource: bool, unchanged: bool) -> None:
        kind = "object" if resource else s.get("type") or ""
        variables = {"self": _to_cel(value, s, resource)}
        old_value = None if old is _ABSENT else _to_cel(old, s, resource)
        largest = _largest([value, None if old is _ABSENT else old])
        for rule in as_list(s.get("x-kubernetes-validations")):
            rule = as_dict(rule)
            program, error = _program(str(rule.get("rule") or ""))
            if program is None:
                if not _beyond_the_engine(error):
                    self.c.invalid(path, kind, f"rule compile error: compilation failed: {error}")
                continue
            uses_old = _uses_old_self(program)
            if rule.get("optionalOldSelf"):
                variables["oldSelf"] = _cel().OptionalValue.none() if old_value is None else _cel().OptionalValue.of(
                    old_value)
            elif uses_old and old_value is None:
                continue
            else:
                variables["oldSelf"] = old_value
            if largest ** _comprehension_depth(str(rule.get("rule"))) > PER_CALL_LIMIT:
                self.c.invalid(path, kind, "'operation cancelled: actual cost limit exceeded': no further validation "
                                           "rules will be run due to call cost exceeds limit for rule: "
                                           + _rule_message(rule))
                self.stopped = True
                return
            result, error = _evaluate(program, variables)
            if _beyond_the_engine(error):
                continue
            if error.startswith("no such overload"):
                self.c.invalid(path, kind, f"'{error}': call arguments did not match a supported operator, function "
                                           f"or macro signature for rule: {_rule_message(rule)}")
            elif error:
                self.c.invalid(path, kind, f"{error} evaluating rule: {_rule_message(rule)}")
            elif result is not True and not (self.ratchet and unchanged and not uses_old):
                self._failed(s, rule, variables, kind, path)

    def _failed(self, s: dict, rule: dict, variables: dict, kind: str, path: str) -> None:
        field_path = str(rule.get("fieldPath") or "").strip()
        if field_path:
            try:
                path = child(path, _field_path(field_path, s)[0])
            except ValueError:
                pass  # refused when the CRD was written; a stored CRD from elsewhere keeps the rule's own path
        detail = self._message_expression(rule, variables) or (
            str(rule["message"]).strip() if rule.get("message") else f"failed rule: {_rule_message(rule)}")
        reason = rule.get("reason")
        if reason == "FieldValueForbidden":
            self.c.forbidden(path, detail)
        elif reason == "FieldValueRequired":
            self.c.required(path, detail)
        elif reason == "FieldValueDuplicate":
            self.c.duplicate(path, kind)
        else:
            self.c.invalid(path, kind, detail)

    @staticmethod
    def _message_expression(rule: dict, variables: dict) -> str:
        """The evaluated messageExpression; "" when it fails, so that the message stands in."""
        program, _ = _program(str(rule.get("messageExpression") or ""))
        if program is None or not rule.get("messageExpression"):
            return ""
        result, error = _evaluate(program, variables)
        if error or not isinstance(result, str):
            return ""
        text = result.strip()
        return "" if "\n" in text or len(text.encode()) > _MAX_MESSAGE_EXPRESSION_BYTES else text


def _field_path_tokens(text: str) -> Iterator[str]:
    """The tokens of a rule's fieldPath: '.', '[', ']', single-quoted strings and names."""
    i = 0
    while i < len(text):
        if text[i] in ".[]":
            yield text[i]
            i += 1
        elif text[i] == "'":
            end = i + 1
            while end < len(text) and (text[end] != "'" or text[end - 1] == "\\"):
                end += 1
            yield text[i:end + 1]
            i = end + 1
        else:
            end = i
            while end < len(text) and text[end] not in ".[]":
                end += 1
            yield text[i:end]
            i = end


def _unescape_single_quoted(text: str) -> str:
    escapes = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "'": "'", "\\": "\\"}

    def replace(m: re.Match) -> str:
        if m.group(1) not in escapes:
            raise ValueError(f"invalid string literal: invalid escape char {m.group(0)}")
        return escapes[m.group(1)]
    return re.sub(r"\\(.)", replace, text)


def _field_path(json_path: str, schema: dict, allow_arrays: bool = True) -> tuple[str, dict | None]:
    """cel.ValidFieldPath: a rule's fieldPath or a selectable field as a field path, with the
    schema it leads to. Raises ValueError with kube's reason."""
    path, tokens = "", _field_path_tokens(json_path)

    def step(name: str) -> str:
        nonlocal schema
        if schema is None:
            raise ValueError("does not refer to a valid field")
        if _props(schema):
            if name not in _props(schema):
                raise ValueError("does not refer to a valid field")
            schema = _props(schema)[name]
            return child(path, name)
        if "additionalProperties" not in schema:
            raise ValueError("does not refer to a valid field")
        schema = _additional(schema)
        return keyed(path, name)

    for token in tokens:
        if token == "[":
            if not allow_arrays:
                raise ValueError("array notation is not allowed")
            quoted = next(tokens, None)
            if quoted is None:
                raise ValueError("unexpected end of JSON path")
            if len(quoted) < 2 or quoted[0] != "'" or quoted[-1] != "'":
                raise ValueError(f"expected single quoted string but got {quoted}")
            path = step(_unescape_single_quoted(quoted[1:-1]))
            closing = next(tokens, None)
            if closing is None:
                raise ValueError("unexpected end of JSON path")
            if closing != "]":
                raise ValueError(f"expected ] but got {closing}")
        elif token == ".":
            name = next(tokens, None)
            if name is None:
                raise ValueError("unexpected end of JSON path")
            path = step(name)
        else:
            raise ValueError(f"expected [ or . but got: {token}")
    return path, schema


# --- custom resources --------------------------------------------------------------------------

def validate(schema: dict, obj: dict, old: dict | None = None) -> list[dict]:
    """A custom resource against its version's schema, as kube's strategy judges a create (old is
    None) or an update: OpenAPI schema (parts left as they were are not judged again), embedded
    resources, list-type sets and maps, then the CEL rules unless a type, required, enum or size
    error means the object does not have the shape the rules expect."""
    c = _Errors()
    _report(c, _schema_failures(schema, obj, "", _ABSENT if old is None else old), "")
    _embedded_resources(c, schema, obj, "")
    if old is None or not _list_problems(schema, old):
        _list_types(c, schema, obj, "")
    if _any_schema(schema, lambda s: bool(s.get("x-kubernetes-validations"))):
        if any(cause["reason"] in _BLOCKING for cause in c.items):
            c.invalid("", Go('"null"'), "some validation rules were not checked because the object was invalid; "
                                        "correct the existing errors to complete validation")
        else:
            _CelRun(c, schema, ratchet=True).walk(schema, obj, _ABSENT if old is None else old, "", True, False)
    return c.items


def _list_problems(schema: dict, obj) -> bool:
    c = _Errors()
    _list_types(c, schema, obj, "")
    return bool(c.items)


# --- structural schemas (apiextensions-apiserver/pkg/apiserver/schema) ---------------------------

_UNSUPPORTED = (("id", "id"), ("$schema", "schema"), ("$ref", "$ref"), ("patternProperties", "patternProperties"),
                ("dependencies", "dependencies"), ("additionalItems", "additionalItems"),
                ("definitions", "definitions"))
_GENERIC_NESTED = (("type", "must be empty to be structural"), ("title", "must be empty to be structural"),
                   ("description", "must be empty to be structural"), ("default", "must be undefined to be structural"),
                   ("nullable", "must be false to be structural"),
                   ("x-kubernetes-preserve-unknown-fields", "must be false to be structural"),
                   ("x-kubernetes-embedded-resource", "must be false to be structural"),
                   ("x-kubernetes-int-or-string", "must be false to be structural"),
                   ("x-kubernetes-list-map-keys", "must be empty to be structural"),
                   ("x-kubernetes-list-type", "must be undefined to be structural"),
                   ("x-kubernetes-map-type", "must be undefined to be structural"),
                   ("x-kubernetes-validations", "must be empty to be structural"))
_LEVEL_TYPE = {"root": "must not be empty at the root", "item": "must not be empty for specified array items",
               "field": "must not be empty for specified object fields"}
# Fields a structural schema holds; metadata at the root may set none but type, default and the
# properties name and generateName (example and externalDocs are not kept, so they do not count).
_METADATA_IGNORED = frozenset(("type", "default", "example", "externalDocs"))


def _is_set(value) -> bool:
    """Not Go's zero value (a 0 is set: kube's numeric constraints are pointers)."""
    return value is not None and value is not False and not (isinstance(value, (str, list, dict)) and not value)


def _nonzero(s: dict) -> dict:
    return {k: v for k, v in s.items() if _is_set(v)}


def _unsupported(s) -> str:
    """NewStructural's complaint: the first field a structural schema cannot hold."""
    if not isinstance(s, dict):
        return ""
    for key, word in _UNSUPPORTED:
        if _is_set(s.get(key)):
            return f"OpenAPIV3Schema '{word}' is not supported"
    if isinstance(s.get("items"), list):
        return "OpenAPIV3Schema 'items' must be a schema, but is an array"
    if s.get("x-kubernetes-preserve-unknown-fields") is False:
        return "internal error: 'x-kubernetes-preserve-unknown-fields' must be true or undefined"
    return next((problem for sub in _subschemas(s) if (problem := _unsupported(sub))), "")


def _int_or_string_any_of(any_of) -> bool:
    return isinstance(any_of, list) and [_nonzero(as_dict(a)) for a in any_of] == [{"type": "integer"},
                                                                                    {"type": "string"}]


def _structural_nested(c: _Errors, v: dict, level: str, path: str, skip_any_of: bool = False) -> None:
    """validateNestedValueValidation: inside allOf, anyOf, oneOf and not only value checks."""
    _structural_junctors(c, v, level, path, skip_any_of, False)
    if isinstance(v.get("items"), dict):
        _structural_nested(c, v["items"], level, child(path, "items"))
    for k, sub in _props(v).items():
        _structural_nested(c, as_dict(sub), "field", keyed(child(path, "properties"), k))
    for key, message in _GENERIC_NESTED:
        if _is_set(v.get(key)) or key == "default" and v.get(key) is not None:
            c.forbidden(child(path, key), message)
    if "additionalProperties" in v:
        c.forbidden(child(path, "additionalProperties"), "must be undefined to be structural")
    if "metadata" in _props(v):
        c.forbidden(keyed(child(path, "properties"), "metadata"), "must not be specified in a nested context")


def _structural_junctors(c: _Errors, s: dict, level: str, path: str, skip_any_of: bool,
                         skip_first_all_of: bool) -> None:
    if not skip_any_of:
        for i, sub in enumerate(as_list(s.get("anyOf"))):
            _structural_nested(c, as_dict(sub), level, f"{child(path, 'anyOf')}[{i}]")
    for i, sub in enumerate(as_list(s.get("allOf"))):
        _structural_nested(c, as_dict(sub), level, f"{child(path, 'allOf')}[{i}]", skip_first_all_of and i == 0)
    for i, sub in enumerate(as_list(s.get("oneOf"))):
        _structural_nested(c, as_dict(sub), level, f"{child(path, 'oneOf')}[{i}]")
    if isinstance(s.get("not"), dict):
        _structural_nested(c, s["not"], level, child(path, "not"))
    if s.get("pattern"):
        try:
            _go_regexp_check(s["pattern"])
        except re.error as e:
            c.invalid(child(path, "pattern"), s["pattern"], f"must be a valid regular expression, but isn't: {e}")


def _go_regexp_check(pattern: str) -> None:
    """Go's regexp (RE2) has no lookaround and no backreferences; Python's would take them."""
    unsupported = re.search(r"\(\?<?[=!]|\\[1-9]", pattern)
    if unsupported:
        raise re.error(f"error parsing regexp: invalid or unsupported Perl syntax: `{unsupported.group(0)}`")
    re.compile(pattern)


def _structural_metadata(c: _Errors, meta: dict, check: bool, level: str, path: str) -> None:
    if check and meta.get("type") != "object":
        c.invalid(child(path, "type"), meta.get("type") or "", "must be object")
    if level != "root":
        return
    rest = {k: v for k, v in _nonzero(meta).items() if k not in _METADATA_IGNORED}
    if set(_props(meta)) <= {"name", "generateName"}:
        rest.pop("properties", None)
    if rest:
        c.forbidden(path, "must not specify anything other than name and generateName, but metadata is implicitly "
                          "specified")


def _structural_invariants(c: _Errors, s: dict, level: str, path: str) -> None:
    """validateStructuralInvariants."""
    kind = s.get("type") or ""
    if kind == "array" and "items" not in s:
        c.required(child(path, "items"), "must be specified")
    if isinstance(s.get("items"), dict):
        _structural_invariants(c, s["items"], "item", child(path, "items"))
    for k, sub in _props(s).items():
        _structural_invariants(c, as_dict(sub), "field", keyed(child(path, "properties"), k))
    if "additionalProperties" in s:
        if level == "root":
            c.forbidden(child(path, "additionalProperties"), "must not be used at the root")
        if _additional(s) is not None:
            _structural_invariants(c, _additional(s), "field", child(path, "additionalProperties"))
    int_or_string, embedded = s.get("x-kubernetes-int-or-string"), _embedded(s)
    if int_or_string and _preserves(s):
        c.invalid(child(path, "x-kubernetes-preserve-unknown-fields"), True,
                  "must be false if x-kubernetes-int-or-string is true")
    if int_or_string and embedded:
        c.invalid(child(path, "x-kubernetes-embedded-resource"), True, "must be false if x-kubernetes-int-or-string is "
                                                                       "true")
    all_of = as_list(s.get("allOf"))
    _structural_junctors(c, s, level, path, _int_or_string_any_of(s.get("anyOf")),
                         bool(all_of) and _int_or_string_any_of(as_dict(all_of[0]).get("anyOf")))
    if embedded and kind != "object":
        if kind:
            c.invalid(child(path, "type"), kind, "must be object if x-kubernetes-embedded-resource is true")
        else:
            c.required(child(path, "type"), "must be object if x-kubernetes-embedded-resource is true")
    elif not kind and not int_or_string and not _preserves(s):
        c.required(child(path, "type"), _LEVEL_TYPE[level])
    if embedded and "additionalProperties" in s:
        c.forbidden(child(path, "additionalProperties"), "must not be used if x-kubernetes-embedded-resource is set")
    if level == "root" and kind and kind != "object":
        c.invalid(child(path, "type"), kind, "must be object at the root")
    check_meta = level == "root" or embedded
    props = _props(s)
    for field in ("kind", "apiVersion"):
        if field in props and check_meta and as_dict(props[field]).get("type") != "string":
            c.invalid(child(keyed(child(path, "properties"), field), "type"), as_dict(props[field]).get("type") or "",
                      "must be string")
    if "metadata" in props:
        _structural_metadata(c, as_dict(props["metadata"]), check_meta, level,
                             keyed(child(path, "properties"), "metadata"))
    if embedded and not _preserves(s) and not props:
        c.required(child(path, "properties"), "must not be empty if x-kubernetes-embedded-resource is true without "
                                              "x-kubernetes-preserve-unknown-fields")


def _completeness(c: _Errors, v: dict, s: dict | None, s_path: str, v_path: str) -> None:
    """validateStructuralCompleteness: what value validations name must exist structurally."""
    for junctor in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(as_list(v.get(junctor))):
            _nested_completeness(c, as_dict(sub), s, s_path, f"{child(v_path, junctor)}[{i}]")
    if isinstance(v.get("not"), dict):
        _nested_completeness(c, v["not"], s, s_path, child(v_path, "not"))


def _nested_completeness(c: _Errors, v: dict, s: dict | None, s_path: str, v_path: str) -> None:
    if s is None:
        c.required(s_path, f"because it is defined in {v_path}")
        return
    _completeness(c, v, s, s_path, v_path)
    if isinstance(v.get("items"), dict):
        _nested_completeness(c, v["items"], _items(s), child(s_path, "items"), child(v_path, "items"))
    for k, sub in _props(v).items():
        s_at, v_at = keyed(child(s_path, "properties"), k), keyed(child(v_path, "properties"), k)
        if k not in _props(s):
            c.required(s_at, f"because it is defined in {v_at}")
        else:
            _nested_completeness(c, as_dict(sub), _props(s)[k], s_at, v_at)


def _structural_errors(schema: dict, path: str) -> list[dict]:
    """ValidateStructural's causes, sorted as kube sorts them (by their text)."""
    c = _Errors()
    _structural_invariants(c, schema, "root", path)
    _completeness(c, schema, schema, path, path)
    return sorted(c.items, key=lambda cause: f"{cause['field']}: {cause['message']}")


# --- defaults (structuraldefaulting.ValidateDefaults) --------------------------------------------

def _default_errors(c: _Errors, s: dict, path: str, root: dict, inside_meta: bool, require_pruned: bool) -> None:
    """Every default must survive pruning and validate against its schema, CEL rules included."""
    if _embedded(s):
        inside_meta, root = False, s
    resource = s is root  # the root counts as an embedded resource
    if s.get("default") is not None:
        value, at = s["default"], child(path, "default")
        if not inside_meta and require_pruned and _pruned_differs(s, resource):
            c.invalid(at, _cr_value(value), "must not have unknown fields")
        before = len(c.items)
        if not inside_meta:
            if resource and not _embedded(s) and isinstance(value, dict):
                _embedded_resource(c, value, at)
            _embedded_resources(c, s, value, at)
        if len(c.items) == before:
            _report(c, _schema_failures(s, value, ""), at)
        if len(c.items) == before:
            _CelRun(c, s, ratchet=False).walk(s, value, value, at, resource, False)
    if isinstance(s.get("items"), dict):
        _default_errors(c, s["items"], child(path, "items"), root, inside_meta, require_pruned)
    for k, sub in _props(s).items():
        _default_errors(c, as_dict(sub), keyed(child(path, "properties"), k), root,
                        inside_meta or resource and k in META_FIELDS, require_pruned)


def _has_unpruned_defaults(schema) -> bool:
    """Whether a stored (structural) schema already has defaults that pruning would change."""
    if not isinstance(schema, dict) or _unsupported(schema) or _structural_errors(schema, ""):
        return False
    return _any_schema(schema, lambda s: s.get("default") is not None and _pruned_differs(s, False))


def _pruned_differs(s: dict, resource: bool) -> bool:
    pruned = copy.deepcopy(s["default"])
    _prune(pruned, s, "", [], embedded=resource)
    return not _same(pruned, s["default"])


# --- the openAPIV3Schema of a CRD version -----------------------------------------------------------

_OPENAPI_TYPES = ["array", "boolean", "integer", "number", "object", "string"]
# The root fields the status subresource allows (the rest could not carry over to the status schema).
_ROOT_WITH_STATUS = frozenset(("description", "type", "format", "title", "maximum", "exclusiveMaximum", "minimum",
                               "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
                               "uniqueItems", "multipleOf", "required", "items", "properties", "externalDocs",
                               "example", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-validations"))
_ROOT_WITH_STATUS_GO = ("[Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength "
                        "MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties "
                        "ExternalDocs Example XPreserveUnknownFields XValidations]")


@dataclasses.dataclass(frozen=True)
class _Rules:
    """What a CRD write must meet; an update keeps accepting what the stored CRD already had."""
    require_schema: bool = True
    valid_types: bool = True
    pruned_defaults: bool = True
    atomic_sets: bool = True
    map_list_keys: bool = True


@dataclasses.dataclass(frozen=True)
class _Scope:
    """specStandardValidatorV3's state along the walk."""
    defaults_forbidden: str = ""   # why defaults are not allowed here ("" when they are)
    inside_meta: bool = False
    old_self_forbidden: str = ""   # the uncorrelatable ancestor oldSelf cannot see past
    cel: bool = True               # the schema is structural, so its rules are compiled

    def forbid_old_self(self, path: str) -> _Scope:
        return self if self.old_self_forbidden else dataclasses.replace(self, old_self_forbidden=path)


def _go_validation_rule(rule: dict) -> Go:
    """%#v of an apiextensions.ValidationRule, as kube shows a rule it cannot compile."""
    def pointer(key: str, go_type: str) -> str:
        return f"(*{go_type})(nil)" if rule.get(key) is None else f"(*{go_type})(0xc000000000)"
    return Go(f"apiextensions.ValidationRule{{Rule:{go_quote(str(rule.get('rule') or ''))}, "
              f"Message:{go_quote(str(rule.get('message') or ''))}, "
              f"MessageExpression:{go_quote(str(rule.get('messageExpression') or ''))}, "
              f"Reason:{pointer('reason', 'apiextensions.FieldValueErrorReason')}, "
              f"FieldPath:{go_quote(str(rule.get('fieldPath') or ''))}, "
              f"OptionalOldSelf:{pointer('optionalOldSelf', 'bool')}}}")


class _SchemaCheck:
    """ValidateCustomResourceDefinitionOpenAPISchema over one version's schema: schema errors
    first, then the CEL errors (rules compile only where no schema error was found)."""

    def __init__(self, rules: _Rules):
        self.rules = rules
        self.errors = _Errors()
        self.cel = _Errors()

    def node(self, s: dict, path: str, scope: _Scope, is_root: bool = False, cel_here: bool = True) -> None:
        c, start = self.errors, len(self.errors.items)
        self._standard(s, path, scope)
        if s.get("uniqueItems") is True:
            c.forbidden(child(path, "uniqueItems"), "uniqueItems cannot be set to true since the runtime complexity "
                                                    "becomes quadratic")
        if "additionalProperties" in s:
            if _props(s) and (s["additionalProperties"] is False or isinstance(s["additionalProperties"], dict)):
                c.forbidden(child(path, "additionalProperties"),
                            "additionalProperties and properties are mutual exclusive")
            if _additional(s) is not None:
                reason = "inside additionalProperties applying to object metadata"
                sub_scope = dataclasses.replace(scope, defaults_forbidden=reason) if scope.inside_meta else scope
                self.node(_additional(s), child(path, "additionalProperties"), sub_scope, cel_here=cel_here)
        for k, sub in _props(s).items():
            sub_scope = scope if s.get("x-kubernetes-map-type") != "atomic" else scope.forbid_old_self(path)
            if (is_root or _embedded(s)) and k in META_FIELDS:
                sub_scope = dataclasses.replace(sub_scope, inside_meta=True)
                if is_root:
                    sub_scope = dataclasses.replace(sub_scope, defaults_forbidden=f"in top-level {k}")
            self.node(as_dict(sub), keyed(child(path, "properties"), k), sub_scope, cel_here=cel_here)
        if isinstance(s.get("not"), dict):
            self.node(s["not"], child(path, "not"), scope, cel_here=False)
        for junctor in ("allOf", "oneOf", "anyOf"):
            for i, sub in enumerate(as_list(s.get(junctor))):
                self.node(as_dict(sub), f"{child(path, junctor)}[{i}]", scope, cel_here=False)
        for k, sub in as_dict(s.get("definitions")).items():
            self.node(as_dict(sub), keyed(child(path, "definitions"), k), scope, cel_here=False)
        if isinstance(s.get("items"), dict):
            item_scope = scope if s.get("x-kubernetes-list-type") == "map" else scope.forbid_old_self(path)
            self.node(s["items"], child(path, "items"), item_scope, cel_here=cel_here)
        for k, sub in as_dict(s.get("dependencies")).items():
            if isinstance(sub, dict):
                self.node(sub, keyed(child(path, "dependencies"), k), scope, cel_here=False)
        self._extensions(s, path)
        self._rule_texts(s, path)
        if len(c.items) == start and scope.cel and cel_here:
            self._compile_rules(s, path, scope)

    def _standard(self, s: dict, path: str, scope: _Scope) -> None:
        c = self.errors
        kind = s.get("type")
        if self.rules.valid_types and kind and kind not in _OPENAPI_TYPES:
            c.not_supported(child(path, "type"), kind, _OPENAPI_TYPES)
        if s.get("default") is not None and scope.defaults_forbidden:
            c.forbidden(child(path, "default"), f"must not be set {scope.defaults_forbidden}")
        for key in ("id", "additionalItems", "patternProperties", "definitions", "dependencies", "$ref"):
            if _is_set(s.get(key)) or s.get(key) is False:
                c.forbidden(child(path, key), f"{key} is not supported")
        if kind == "null":
            c.forbidden(child(path, "type"), "type cannot be set to null, use nullable as an alternative")
        if isinstance(s.get("items"), list) and s["items"]:
            c.forbidden(child(path, "items"), "items must be a schema object and not an array")
        if scope.inside_meta and _embedded(s):
            c.forbidden(child(path, "x-kubernetes-embedded-resource"), "must not be used inside of resource meta")

    def _extensions(self, s: dict, path: str) -> None:
        c = self.errors
        kind, list_type, map_type = s.get("type") or "", s.get("x-kubernetes-list-type"), s.get("x-kubernetes-map-type")
        if s.get("x-kubernetes-preserve-unknown-fields") is False:
            c.invalid(child(path, "x-kubernetes-preserve-unknown-fields"), False, "must be true or undefined")
        for ext, value, needed in (("x-kubernetes-map-type", map_type, "object"),
                                   ("x-kubernetes-list-type", list_type, "array")):
            if value is not None and kind != needed:
                (c.invalid(child(path, "type"), kind, f"must be {needed} if {ext} is specified") if kind
                 else c.required(child(path, "type"), f"must be {needed} if {ext} is specified"))
        if map_type is not None and map_type not in ("atomic", "granular"):
            c.not_supported(child(path, "x-kubernetes-map-type"), map_type, ["atomic", "granular"])
        item = _items(s)
        if list_type == "set" and kind == "array" and self.rules.atomic_sets and item is not None:
            if item.get("type") == "array" and item.get("x-kubernetes-list-type") not in (None, "atomic"):
                c.invalid(child(path, "items", "x-kubernetes-list-type"), item["x-kubernetes-list-type"],
                          "must be atomic as item of a list with x-kubernetes-list-type=set")
            elif item.get("type") == "object" and item.get("x-kubernetes-map-type") != "atomic":
                c.invalid(child(path, "items", "x-kubernetes-map-type"), Go('"null"'),
                          "must be atomic as item of a list with x-kubernetes-list-type=set")
        if list_type is not None and list_type not in ("atomic", "set", "map"):
            c.not_supported(child(path, "x-kubernetes-list-type"), list_type, ["atomic", "set", "map"])
        keys = as_list(s.get("x-kubernetes-list-map-keys"))
        if keys and list_type is None:
            c.required(child(path, "x-kubernetes-list-type"), "must be map if x-kubernetes-list-map-keys is non-empty")
        elif keys and list_type != "map":
            c.invalid(child(path, "x-kubernetes-list-type"), list_type, "must be map if x-kubernetes-list-map-keys is "
                                                                        "non-empty")
        if list_type == "map":
            self._list_map(s, path, keys)
        if self.rules.map_list_keys:
            self._list_map_keys_set(s, path)

    def _list_map(self, s: dict, path: str, keys: list) -> None:
        c = self.errors
        if not keys:
            c.required(child(path, "x-kubernetes-list-map-keys"), "must not be empty if x-kubernetes-list-type is map")
        if "items" not in s:
            c.required(child(path, "items"), "must have a schema if x-kubernetes-list-type is map")
        elif isinstance(s["items"], list):
            c.invalid(child(path, "items"), _cr_value(s["items"]), "must only have a single schema if "
                                                                   "x-kubernetes-list-type is map")
        item = _items(s)
        if item is None:
            return
        if item.get("type") != "object":
            c.invalid(child(path, "items", "type"), item.get("type") or "", "must be object if parent array's "
                                                                            "x-kubernetes-list-type is map")
            return
        for i, k in enumerate(keys):
            if k in _props(item):
                if as_dict(_props(item)[k]).get("type") in ("array", "object"):
                    c.invalid(child(keyed(child(path, "items", "properties"), k), "type"), "object",
                              "must be a scalar type if parent array's x-kubernetes-list-type is map")
            else:
                c.invalid(child(path, "x-kubernetes-list-map-keys"), go_string_list(keys),
                          "entries must all be names of item properties")
            if k in keys[:i]:
                c.invalid(child(path, "x-kubernetes-list-map-keys"), go_string_list(keys),
                          "must not contain duplicate entries")

    def _list_map_keys_set(self, s: dict, path: str) -> None:
        """validateMapListKeysMapSet: keys and elements of sets and maps are never null."""
        c, item, list_type = self.errors, _items(s), s.get("x-kubernetes-list-type")
        if item is None or list_type not in ("set", "map"):
            return
        if item.get("nullable"):
            c.forbidden(child(path, "items", "nullable"),
                        f"cannot be nullable when x-kubernetes-list-type is {list_type}")
        if list_type != "map":
            return
        required = set(as_list(item.get("required")))
        for k in as_list(s.get("x-kubernetes-list-map-keys")):
            prop = _props(item).get(k)
            if not isinstance(prop, dict):
                continue
            at = keyed(child(path, "items", "properties"), k)
            if k not in required and prop.get("default") is None:
                c.required(child(at, "default"), "this property is in x-kubernetes-list-map-keys, so it must have a "
                                                 "default or be a required property")
            if prop.get("nullable"):
                c.forbidden(child(at, "nullable"), "this property is in x-kubernetes-list-map-keys, so it cannot be "
                                                   "nullable")

    def _rule_texts(self, s: dict, path: str) -> None:
        c = self.errors
        for i, rule in enumerate(as_list(s.get("x-kubernetes-validations"))):
            rule, at = as_dict(rule), f"{child(path, 'x-kubernetes-validations')}[{i}]"
            text, message = str(rule.get("rule") or ""), str(rule.get("message") or "")
            if not text.strip():
                c.required(child(at, "rule"), "rule is not specified")
            elif message and not message.strip():
                c.invalid(child(at, "message"), message, "message must be non-empty if specified")
            elif re.search(r"[\n\r]", message.strip()):
                c.invalid(child(at, "message"), message, "message must not contain line breaks")
            elif re.search(r"[\n\r]", text.strip()) and not message.strip():
                c.required(child(at, "message"), "message must be specified if rule contains line breaks")
            if rule.get("messageExpression") and not str(rule["messageExpression"]).strip():
                c.required(child(at, "messageExpression"), "messageExpression must be non-empty if specified")
            if rule.get("reason") is not None and rule["reason"] not in _VALIDATION_REASONS:
                c.not_supported(child(at, "reason"), rule["reason"], _VALIDATION_REASONS)
            self._rule_field_path(s, rule, at)

    def _rule_field_path(self, s: dict, rule: dict, at: str) -> None:
        c, field_path = self.errors, str(rule.get("fieldPath") or "")
        if not field_path:
            return
        if not field_path.strip():
            c.invalid(child(at, "fieldPath"), field_path, "fieldPath must be non-empty if specified")
        if re.search(r"[\n\r]", field_path):
            c.invalid(child(at, "fieldPath"), field_path, "fieldPath must not contain line breaks")
        if not _unsupported(s) and not self._path_ok(field_path, s):
            c.invalid(child(at, "fieldPath"), field_path, "fieldPath must be a valid path")

    @staticmethod
    def _path_ok(field_path: str, s: dict) -> bool:
        try:
            _field_path(field_path, s)
        except ValueError:
            return False
        return True

    def _compile_rules(self, s: dict, path: str, scope: _Scope) -> None:
        c = self.cel
        for i, rule in enumerate(as_list(s.get("x-kubernetes-validations"))):
            rule, at = as_dict(rule), f"{child(path, 'x-kubernetes-validations')}[{i}]"
            program, error = _program(str(rule.get("rule") or ""))
            if program is None and not _beyond_the_engine(error):
                c.invalid(child(at, "rule"), _go_validation_rule(rule), f"compilation failed: {error}")
            if rule.get("messageExpression"):
                message, error = _program(str(rule["messageExpression"]))
                if message is None and not _beyond_the_engine(error):
                    c.invalid(child(at, "messageExpression"), _go_validation_rule(rule),
                              f"messageExpression compilation failed: {error}")
            if program is None:
                continue
            if _uses_old_self(program):
                if scope.old_self_forbidden:
                    c.invalid(child(at, "rule"), str(rule.get("rule")), "oldSelf cannot be used on the uncorrelatable "
                                                                        f"portion of the schema within "
                                                                        f"{scope.old_self_forbidden}")
            elif rule.get("optionalOldSelf") is not None:
                c.invalid(child(at, "optionalOldSelf"), rule["optionalOldSelf"],
                          "may not be set if oldSelf is not used in rule")


def _version_schema(c: _Errors, schema: dict, status: bool, rules: _Rules, path: str) -> None:
    """validateCustomResourceDefinitionValidation for `schema.openAPIV3Schema`."""
    at = child(path, "openAPIV3Schema")
    if status:
        if schema.get("type") and schema["type"] != "object":
            c.invalid(child(at, "type"), schema["type"], 'only "object" is allowed as the type at the root of the '
                                                         "schema if the status subresource is enabled")
        elif any(k not in _ROOT_WITH_STATUS for k in _nonzero(schema)):
            c.invalid(at, _cr_value(schema), f"only {_ROOT_WITH_STATUS_GO} fields are allowed at the root of the "
                                             "schema if the status subresource is enabled")
    if schema.get("nullable"):
        c.forbidden(child(at, "nullable"), "nullable cannot be true at the root")
    unsupported = _unsupported(schema)
    structural = [] if unsupported else _structural_errors(schema, at)
    c.items += structural
    cel_ok = not unsupported and not structural
    if cel_ok:
        before = len(c.items)
        _default_errors(c, schema, at, schema, False, rules.pruned_defaults)
        cel_ok = len(c.items) == before
    check = _SchemaCheck(rules)
    check.node(schema, at, _Scope(cel=cel_ok), is_root=True)
    c.items += check.errors.items + check.cel.items
    if unsupported and not c.items:
        c.invalid(at, "", unsupported)


# --- CustomResourceDefinitions -----------------------------------------------------------------

_PRINTER_TYPES = ["boolean", "date", "integer", "number", "string"]
_PRINTER_FORMATS = ["byte", "date", "date-time", "double", "float", "int32", "int64", "password"]
_MAX_SELECTABLE_FIELDS = 8
_APPROVAL = "api-approved.kubernetes.io"
_APPROVAL_DOC = "see https://github.com/kubernetes/enhancements/pull/1111"


def _dns1035(c: _Errors, field: str, value, mixed_case: bool = False) -> None:
    errs = is_dns1035_label(str(value).lower() if mixed_case else str(value))
    if errs:
        c.invalid(field, value, ("may have mixed case, but should otherwise match: " if mixed_case else "")
                  + ",".join(errs))


def _names(c: _Errors, names: dict, path: str) -> None:
    """ValidateCustomResourceDefinitionNames."""
    for field in ("plural", "singular"):
        if names.get(field):
            _dns1035(c, child(path, field), names[field])
    for field in ("kind", "listKind"):
        if names.get(field):
            _dns1035(c, child(path, field), names[field], mixed_case=True)
    for i, short in enumerate(as_list(names.get("shortNames"))):
        _dns1035(c, f"{child(path, 'shortNames')}[{i}]", short)
    if names.get("kind") and names.get("kind") == names.get("listKind"):
        c.invalid(child(path, "listKind"), names["listKind"], "kind and listKind may not be the same")
    for i, category in enumerate(as_list(names.get("categories"))):
        _dns1035(c, f"{child(path, 'categories')}[{i}]", category)


def _simple_json_path(c: _Errors, value: str, path: str) -> bool:
    """validateSimpleJSONPath, for a path known not to be empty."""
    if value[0] != ".":
        c.invalid(path, value, "must be a simple json path starting with .")
        return False
    return True


def _subresources(c: _Errors, subresources: dict, path: str) -> None:
    scale = subresources.get("scale")
    if not isinstance(scale, dict):
        return
    for field, prefixes, where in (("specReplicasPath", (".spec.",), ".spec"),
                                   ("statusReplicasPath", (".status.",), ".status"),
                                   ("labelSelectorPath", (".spec.", ".status."), "either .spec or .status")):
        value, at = scale.get(field) or "", child(path, "scale", field)
        if not value:
            if field != "labelSelectorPath":
                c.required(at)
        elif _simple_json_path(c, value, at) and not value.startswith(prefixes):
            c.invalid(at, value, f"should be a json path under {where}")


def _printer_column(c: _Errors, column: dict, path: str) -> None:
    if not column.get("name"):
        c.required(child(path, "name"))
    if not column.get("type"):
        c.required(child(path, "type"), "must be one of " + ",".join(_PRINTER_TYPES))
    elif column["type"] not in _PRINTER_TYPES:
        c.invalid(child(path, "type"), column["type"], "must be one of " + ",".join(_PRINTER_TYPES))
    if column.get("format") and column["format"] not in _PRINTER_FORMATS:
        c.invalid(child(path, "format"), column["format"], "must be one of " + ",".join(_PRINTER_FORMATS))
    # kube names the field after its Go name here, JSONPath, not jsonPath.
    if not column.get("jsonPath"):
        c.required(child(path, "JSONPath"))
    else:
        _simple_json_path(c, column["jsonPath"], child(path, "JSONPath"))


def _selectable_fields(c: _Errors, fields: list, schema: dict | None, path: str) -> None:
    if schema is None:
        c.invalid(path, "", "selectableFields may only be set when version.schema.openAPIV3Schema is not included")
        return
    seen: list[str] = []
    for i, selectable in enumerate(fields):
        json_path, at = as_dict(selectable).get("jsonPath") or "", child(f"{path}[{i}]", "jsonPath")
        if not json_path:
            c.required(at)
            continue
        try:
            found, target = _field_path(json_path, schema, allow_arrays=False)
        except ValueError as e:
            c.invalid(at, json_path, f"is an invalid path: {e}")
            continue
        if found.split(".")[0] == "metadata":
            c.invalid(at, json_path, "must not point to fields in metadata")
        if as_dict(target).get("type") not in ("string", "boolean", "integer"):
            c.invalid(at, json_path, "must point to a field of type string, boolean or integer. Enum string fields "
                                     "and strings with formats are allowed.")
        if found in seen:
            c.duplicate(at, json_path)
        else:
            seen.append(found)
    if len(seen) > _MAX_SELECTABLE_FIELDS:
        c.too_many(path, len(seen), _MAX_SELECTABLE_FIELDS)


def _deprecation_warning(c: _Errors, version: dict, path: str) -> None:
    warning = version.get("deprecationWarning")
    if warning is None:
        return
    at = child(path, "deprecationWarning")
    if not version.get("deprecated"):
        c.invalid(at, warning, "can only be set for deprecated versions")
        return
    if len(warning.encode()) > 256:
        c.invalid(at, warning, "must be <= 256 characters long")
    if not warning:
        c.invalid(at, warning, "must not be an empty string")
    unprintable = next((i for i, ch in enumerate(warning) if not (ch.isprintable() or ch == " ")), None)
    if unprintable is not None:
        c.invalid(at, warning, "must only contain printable UTF-8 characters; non-printable character found at "
                               f"index {len(warning[:unprintable].encode())}")


def _version(c: _Errors, version: dict, path: str, rules: _Rules) -> None:
    """validateCustomResourceDefinitionVersion."""
    _deprecation_warning(c, version, path)
    schema = as_dict(version.get("schema")).get("openAPIV3Schema")
    subresources = as_dict(version.get("subresources"))
    if isinstance(schema, dict):
        _version_schema(c, schema, isinstance(subresources.get("status"), dict), rules, child(path, "schema"))
    _subresources(c, subresources, child(path, "subresources"))
    for i, column in enumerate(as_list(version.get("additionalPrinterColumns"))):
        _printer_column(c, as_dict(column), f"{child(path, 'additionalPrinterColumns')}[{i}]")
    if as_list(version.get("selectableFields")):
        _selectable_fields(c, version["selectableFields"], schema if isinstance(schema, dict) else None,
                           child(path, "selectableFields"))


def _schemas(spec: dict) -> list:
    return [as_dict(as_dict(v).get("schema")).get("openAPIV3Schema") for v in as_list(spec.get("versions"))]


def _rules_for(old: dict | None) -> _Rules:
    """On update, kube does not tighten what the stored CRD already got away with."""
    if old is None:
        return _Rules()
    schemas = _schemas(as_dict(old.get("spec")))

    def nodes_with(predicate: Callable[[dict], bool]) -> bool:
        return any(_any_schema(s, predicate) for s in schemas)

    return _Rules(
        require_schema=all(isinstance(s, dict) for s in schemas),
        valid_types=not nodes_with(lambda s: bool(s.get("type")) and s["type"] not in _OPENAPI_TYPES),
        pruned_defaults=not any(_has_unpruned_defaults(s) for s in schemas),
        atomic_sets=not nodes_with(_non_atomic_set),
        map_list_keys=not nodes_with(_bad_list_map_keys),
    )


def _non_atomic_set(s: dict) -> bool:
    item = _items(s)
    if s.get("x-kubernetes-list-type") != "set" or item is None:
        return False
    if item.get("type") == "array":
        return item.get("x-kubernetes-list-type") not in (None, "atomic")
    return item.get("type") == "object" and item.get("x-kubernetes-map-type") != "atomic"


def _bad_list_map_keys(s: dict) -> bool:
    check = _SchemaCheck(_Rules())
    check._list_map_keys_set(s, "")
    return bool(check.errors.items)


def _conversion(c: _Errors, conversion: dict, path: str) -> None:
    """Only the None strategy: vapi serves each version from the one stored object as is."""
    strategy = conversion.get("strategy")
    if not strategy:
        c.required(child(path, "strategy"))
    elif strategy != "None":
        c.not_supported(child(path, "strategy"), strategy, ["None"])
        return
    for field in ("webhookClientConfig", "webhook", "conversionReviewVersions"):
        if conversion.get(field):
            c.forbidden(child(path, field), "should not be set when strategy is not set to Webhook")


def _spec(c: _Errors, spec: dict, rules: _Rules) -> None:
    """validateCustomResourceDefinitionSpec, for what apiextensions.k8s.io/v1 can carry."""
    group = str(spec.get("group") or "")
    if not group:
        c.required("spec.group")
    elif is_dns1123_subdomain(group):
        c.invalid("spec.group", group, ",".join(is_dns1123_subdomain(group)))
    elif "." not in group:
        c.invalid("spec.group", group, "should be a domain with at least one dot")
    c.one_of("spec.scope", spec.get("scope"), ["Cluster", "Namespaced"])
    versions = [as_dict(v) for v in as_list(spec.get("versions"))]
    if rules.require_schema:
        for i, version in enumerate(versions):
            if not isinstance(as_dict(version.get("schema")).get("openAPIV3Schema"), dict):
                c.required(f"spec.versions[{i}].schema.openAPIV3Schema", "schemas are required")
    if spec.get("preserveUnknownFields") is True and any(
            _any_schema(s, lambda n: n.get("default") is not None) for s in _schemas(spec)):
        c.invalid("spec.preserveUnknownFields", True, "must be false in order to use defaults in the schema")
    names = [v.get("name") for v in versions]
    for i, version in enumerate(versions):
        _dns1035(c, f"spec.versions[{i}].name", version.get("name") or "")
        _version(c, version, f"spec.versions[{i}]", rules)
    shown = Go("[]apiextensions.CustomResourceDefinitionVersion{" + ", ".join(
        f"apiextensions.CustomResourceDefinitionVersion{{Name:{go_quote(str(v.get('name') or ''))}, "
        f"Served:{go_value(bool(v.get('served')))}, Storage:{go_value(bool(v.get('storage')))}, ...}}"
        for v in versions) + "}")
    if len(set(names)) < len(names):
        c.invalid("spec.versions", shown, "must contain unique version names")
    if sum(1 for v in versions if v.get("storage") is True) != 1:
        c.invalid("spec.versions", shown, "must have exactly one version marked as storage version")
    crd_names = as_dict(spec.get("names"))
    for field in ("plural", "singular", "kind", "listKind"):
        if not crd_names.get(field):
            c.required(f"spec.names.{field}")
    _names(c, crd_names, "spec.names")
    if spec.get("conversion") is not None:
        if spec.get("preserveUnknownFields") is True and as_dict(spec["conversion"]).get("strategy") != "None":
            c.invalid("spec.conversion.strategy", as_dict(spec["conversion"]).get("strategy") or "",
                      "must be None if spec.preserveUnknownFields is true")
        _conversion(c, as_dict(spec["conversion"]), "spec.conversion")


def _established(crd: dict) -> bool:
    return any(as_dict(cond).get("type") == "Established" and as_dict(cond).get("status") == "True"
               for cond in as_list(as_dict(crd.get("status")).get("conditions")))


def stored_versions(crd: dict, old: dict | None = None) -> list[str]:
    """status.storedVersions as kube's strategy sets them before validation: a create starts from
    the storage version, an update adds the new storage version to those stored so far."""
    stored = [] if old is None else [str(v) for v in as_list(as_dict(old.get("status")).get("storedVersions"))]
    storage = next((as_dict(v).get("name") for v in as_list(as_dict(crd.get("spec")).get("versions"))
                    if as_dict(v).get("storage") is True), None)
    if storage and storage not in stored:
        stored.append(storage)
    return stored


def _stored_versions(c: _Errors, stored: list[str], versions: list) -> None:
    if not stored:
        c.invalid("status.storedVersions", go_string_list(None), "must have at least one stored version")
    served = {as_dict(v).get("name") for v in versions}
    for i, name in enumerate(stored):
        if name not in served:
            c.invalid(f"status.storedVersions[{i}]", name, f"missing from spec.versions; {name} was previously a "
                      f"storage version, and must remain in spec.versions until a storage migration ensures no data "
                      f"remains persisted in {name} and removes {name} from status.storedVersions")


def _approval_state(crd: dict) -> tuple[str, str]:
    annotation = str(as_dict(as_dict(crd.get("metadata")).get("annotations")).get(_APPROVAL) or "")
    parsed = urllib.parse.urlparse(annotation)
    if not annotation:
        return "missing", f"protected groups must have approval annotation {go_quote(_APPROVAL)}, {_APPROVAL_DOC}"
    if annotation.startswith("unapproved"):
        return "bypassed", ""
    if parsed.scheme and parsed.netloc:
        return "approved", ""
    return "invalid", (f"protected groups must have approval annotation {go_quote(_APPROVAL)} with either a URL or a "
                       f'reason starting with "unapproved", {_APPROVAL_DOC}')


def _api_approval(c: _Errors, crd: dict, old: dict | None) -> None:
    """Groups under k8s.io and kubernetes.io belong to the Kubernetes project, which approves them."""
    group = str(as_dict(crd.get("spec")).get("group") or "")
    if not any(group == d or group.endswith("." + d) for d in ("k8s.io", "kubernetes.io")):
        return
    state, reason = _approval_state(crd)
    if old is not None and _approval_state(old)[0] == state:
        return
    field = keyed("metadata.annotations", _APPROVAL)
    if state == "missing":
        c.required(field, reason)
    elif state == "invalid":
        c.invalid(field, as_dict(as_dict(crd.get("metadata")).get("annotations")).get(_APPROVAL), reason)


def validate_crd(crd: dict, old: dict | None = None) -> list[dict]:
    """What kube-apiserver refuses in a CustomResourceDefinition (apiextensions.k8s.io/v1) on
    create (old is None) or update, as StatusCauses. The request's status is not trusted: status
    storedVersions are judged as kube's strategy sets them (see `stored_versions`)."""
    c = _Errors()
    spec = as_dict(crd.get("spec"))
    _spec(c, spec, _rules_for(old))
    if old is not None:
        old_spec = as_dict(old.get("spec"))
        immutable = [("spec.group", ("group",)), ("spec.names.plural", ("names", "plural"))]
        if _established(old):
            immutable += [("spec.scope", ("scope",)), ("spec.names.kind", ("names", "kind"))]
        for field, keys in immutable:
            new_value, old_value = spec, old_spec
            for k in keys:
                new_value, old_value = as_dict(new_value).get(k), as_dict(old_value).get(k)
            if (new_value or "") != (old_value or ""):
                c.invalid(field, new_value or "", IMMUTABLE)
    _names(c, as_dict(as_dict(crd.get("status")).get("acceptedNames")), "status.acceptedNames")
    _stored_versions(c, stored_versions(crd, old), as_list(spec.get("versions")))
    _api_approval(c, crd, old)
    old_preserved = old is not None and as_dict(old.get("spec")).get("preserveUnknownFields") is True
    if spec.get("preserveUnknownFields") is True and not old_preserved:
        c.invalid("spec.preserveUnknownFields", True, "cannot set to true, set x-kubernetes-preserve-unknown-fields to "
                                                      "true in spec.versions[*].schema instead")
    return c.items
