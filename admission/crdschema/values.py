"""A value against its schema, as kube-openapi's SchemaValidator judges it (types, formats, bounds,
enums, junctors, required properties), each failure turned into the field error kube makes of it;
then what apiextensions adds: embedded resources, and the sets and maps of list types.
"""
from __future__ import annotations

import json
import re
from typing import NamedTuple

from admission.crdschema.errors import cr_value, dns1035, Errors
from admission.crdschema.formats import format_of, FORMATS
from admission.crdschema.schemanodes import ABSENT, is_embedded, items_of, json_key, properties_of, same, walk_values
from admission.gofmt import Go, go_interface, go_quote, go_value
from admission.validation.fielderrors import child
from admission.validation.names import is_path_segment_name
from admission.validation.objects import as_dict, as_list
from admission.validation.rules.meta import validate_object_meta


class _Failure(NamedTuple):
    """A kube-openapi validation error: its kind decides the field error kube makes of it, and
    only type, invalid and composite errors keep kube-openapi's message."""
    kind: str        # type | required | enum | too_long | too_many | invalid | composite
    name: str        # kube-openapi's path: "spec.replicas", ".spec" for required fields
    value: object = None
    message: str = ""
    extra: object = None  # the allowed values of an enum, the limit of a size


def _types(s: dict) -> list[str]:
    if s.get("x-kubernetes-int-or-string"):
        return ["integer", "string"]
    return [s["type"]] if s.get("type") else []


def json_type(value) -> str:
    for py, name in ((bool, "boolean"), (str, "string"), (int, "integer"), (float, "number"), (list, "array"),
                     (dict, "object")):
        if isinstance(value, py):
            return name
    return ""


def _type_failure(name: str, expected: str, found: str) -> _Failure:
    return _Failure("type", name, found, f"{name} in body must be of type {expected}: {go_quote(found)}")


def _type_failures(s: dict, data, name: str) -> list[_Failure]:
    types, fmt = _types(s), format_of(s)
    if not types and not fmt:
        return []
    if data is None:
        return [_type_failure(name, ",".join(types), "null")] if types and not s.get("nullable") else []
    kind = json_type(data)
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
    any_of = [schema_failures(as_dict(sub), data, name, old) for sub in as_list(s.get("anyOf"))]
    if any_of and all(any_of):
        out.append(_Failure("composite", name, message=f"{go_quote(name)} must validate at least one schema (anyOf)"))
        out += min(any_of, key=len)
    one_of = [schema_failures(as_dict(sub), data, name, old) for sub in as_list(s.get("oneOf"))]
    valid = sum(not f for f in one_of)
    if one_of and valid != 1:
        found = "Found none valid" if not valid else f"Found {valid} valid alternatives"
        out.append(_Failure("composite", name, message=f"{go_quote(name)} must validate one and only one schema "
                                                       f"(oneOf). {found}"))
        out += min(one_of, key=len) if not valid else []
    all_of = [schema_failures(as_dict(sub), data, name, old) for sub in as_list(s.get("allOf"))]
    for failures in all_of:
        out += failures
    if any(all_of):
        none = ". None validated" if all(all_of) else ""
        out.append(_Failure("composite", name, message=f"{go_quote(name)} must validate all the schemas (allOf){none}"))
    if isinstance(s.get("not"), dict) and not schema_failures(s["not"], data, name, old):
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
                                                 f"{go_value(factor)}")
    if factor == 0:
        fits = False
    elif isinstance(data, int):
        fits = data % factor == 0
    else:
        fits = _is_json_integer(1 / factor * data if factor < 1 else data / factor)
    return None if fits else _Failure("invalid", name, data, f"{name} in body should be a multiple of "
                                                             f"{go_value(factor)}")


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
                                                       f"{'' if exclusive else 'or equal to '}{go_value(low)}"))
    if s.get("maximum") is not None:
        high, exclusive = bound("maximum"), bool(s.get("exclusiveMaximum"))
        if data > high or (exclusive and data == high):
            out.append(_Failure("invalid", name, data, f"{name} in body should be less than "
                                                       f"{'' if exclusive else 'or equal to '}{go_value(high)}"))
    return [f for f in out if f]


def correlated_item(s: dict, item, old) -> object:
    """The old element kube matches an array element with: by key in a list-type map, by value in
    a set; elements of other lists have none."""
    if not isinstance(old, list):
        return ABSENT
    list_type = s.get("x-kubernetes-list-type")
    if list_type == "set":
        return item if any(same(item, o) for o in old) else ABSENT
    if list_type == "map" and isinstance(item, dict):
        keys = as_list(s.get("x-kubernetes-list-map-keys"))
        for o in old:
            if isinstance(o, dict) and all(same(item.get(k), o.get(k)) for k in keys):
                return o
    return ABSENT


def _slice_failures(s: dict, data: list, name: str, old) -> list[_Failure]:
    out = []
    item = items_of(s)
    if item is not None:
        for i, v in enumerate(data):
            out += schema_failures(item, v, f"{name}[{i}]", correlated_item(s, v, old))
    if s.get("minItems") is not None and len(data) < s["minItems"]:
        out.append(_Failure("invalid", name, len(data), f"{name} in body should have at least {int(s['minItems'])} "
                                                        "items"))
    if s.get("maxItems") is not None and len(data) > s["maxItems"]:
        limit = int(s["maxItems"])
        out.append(_Failure("too_many", name, len(data), extra=limit))
    if s.get("uniqueItems") and len({json_key(v) for v in data}) < len(data):
        out.append(_Failure("invalid", name, "", f"{name} in body shouldn't contain duplicates"))
    return out


def _enum_failures(s: dict, data, name: str) -> list[_Failure]:
    enum = s.get("enum")
    if not isinstance(enum, list) or not enum:
        return []
    number = isinstance(data, (int, float)) and not isinstance(data, bool)
    for allowed in enum:
        if same(data, allowed) or (number and isinstance(allowed, (int, float)) and not isinstance(allowed, bool)
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
    props, extra = properties_of(s), s.get("additionalProperties")
    old_map = old if isinstance(old, dict) else {}
    for k, v in data.items():
        if k in props:
            continue
        if extra is False:
            out.append(_Failure("invalid", name, k, f"{name}.{k} in body is a forbidden property"))
        elif isinstance(extra, dict):
            out += schema_failures(extra, v, f"{name}.{k}", old_map.get(k, ABSENT))
    for k, sub in props.items():
        if k in data:
            out += schema_failures(as_dict(sub), data[k], child(name, k), old_map.get(k, ABSENT))
    out += [_Failure("required", f"{name}.{k}") for k in as_list(s.get("required")) if k not in data]
    return out


def schema_failures(s: dict, data, name: str, old=ABSENT) -> list[_Failure]:
    """SchemaValidator.Validate, in its validators' order. With an old value, a part equal to what
    it was is not judged again (CRDValidationRatcheting)."""
    if old is not ABSENT and same(data, old):
        return []
    if data is None:
        return _type_failures(s, data, name) + _enum_failures(s, data, name)
    out = _type_failures(s, data, name) + _junctor_failures(s, data, name, old)
    if isinstance(data, str):
        out += _string_failures(s, data, name)
        fmt = format_of(s)
        if fmt and not FORMATS[fmt.replace("-", "")](data):
            out.append(_type_failure(name, fmt, data))
    elif isinstance(data, (int, float)) and not isinstance(data, bool):
        out += _number_failures(s, data, name)
    elif isinstance(data, list):
        out += _slice_failures(s, data, name, old)
    out += _enum_failures(s, data, name)
    if isinstance(data, dict):
        out += _object_failures(s, data, name, old)
    return out


def report_failures(c: Errors, failures: list[_Failure], base: str) -> None:
    """kubeOpenAPIResultToFieldErrors: each failure as the field error kube turns it into."""
    for f in failures:
        if f.kind == "composite":
            c.invalid(base, "", f.message)
            continue
        field = child(base, f.name[1:] if f.name.startswith(".") else f.name) if f.name not in ("", ".") else base
        if f.kind == "required":
            c.required(field)
        elif f.kind == "enum":
            c.not_supported(field, cr_value(f.value), f.extra)
        elif f.kind == "too_long":
            c.too_long(field, f.extra)
        elif f.kind == "too_many":
            c.too_many(field, f.value, f.extra)
        elif f.kind == "type":
            c.type_invalid(field, cr_value(f.value), f.message)
        else:
            c.invalid(field, cr_value(f.value), f.message)


def validate_embedded_resource(c: Errors, x: dict, path: str) -> None:
    """objectmeta.validateEmbeddedResource: apiVersion and kind are required, metadata must be
    valid ObjectMeta (a missing name is fine: the resource is not stored by itself)."""
    for field in ("apiVersion", "kind"):
        if field not in x:
            c.required(child(path, field))
    for k, v in x.items():
        at = child(path, k)
        if k in ("apiVersion", "kind") and not isinstance(v, str):
            c.invalid(at, cr_value(v), "must be a string")
        elif k in ("apiVersion", "kind") and not v:
            c.required(at)
        elif k == "apiVersion" and v.count("/") > 1:
            c.invalid(at, v, f"unexpected GroupVersion string: {v}")
        elif k == "kind":
            dns1035(c, at, v, mixed_case=True)
        elif k == "metadata" and isinstance(v, dict):
            meta = {**v, "name": v.get("name") or "fakename"}
            validate_object_meta(c, meta, is_path_segment_name, bool(meta.get("namespace")), at)
        elif k == "metadata":
            c.invalid(at, cr_value(v), f"json: cannot unmarshal {json_type(v)} into Go value of type v1.ObjectMeta")


def validate_embedded_resources(c: Errors, schema: dict, obj, path: str) -> None:
    for x, s, at in walk_values(obj, schema, path):
        if isinstance(x, dict) and is_embedded(s):
            validate_embedded_resource(c, x, at)


def _second_occurrences(keys: list) -> list[int]:
    """Where a value repeats for the first time: kube reports each duplicate once."""
    seen: dict[str, int] = {}
    repeated = []
    for i, key in enumerate(keys):
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 2:
            repeated.append(i)
    return repeated


def validate_list_types(c: Errors, schema: dict, obj, path: str) -> None:
    """listtype.ValidateListSetsAndMaps: sets hold distinct values, maps distinct keys."""
    for x, s, at in walk_values(obj, schema, path):
        list_type = s.get("x-kubernetes-list-type") if isinstance(x, list) else None
        if list_type == "set":
            for i in _second_occurrences([json_key(v) for v in x]):
                c.duplicate(f"{at}[{i}]", cr_value(x[i]))
        elif list_type == "map":
            wrong = next((i for i, v in enumerate(x) if v is not None and not isinstance(v, dict)), None)
            if wrong is not None:
                c.invalid(f"{at}[{wrong}]", cr_value(x[wrong]), "must be an object for an array of list-type map")
                continue
            names = as_list(s.get("x-kubernetes-list-map-keys"))
            keys = [{k: v[k] for k in names if k in v} if isinstance(v, dict) else {} for v in x]
            for i in _second_occurrences([json_key(k) for k in keys]):
                c.duplicate(f"{at}[{i}]", Go(go_interface(keys[i])))
