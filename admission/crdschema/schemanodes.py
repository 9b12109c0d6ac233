"""Reading a CRD's openAPIV3Schema as it is written: the schema of a property, an item or a map
value, the extensions that change how a value is kept, and a walk of a value with the schema of
each of its parts. Also Go's DeepEqual of decoded JSON, which ratcheting and list types compare by.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator

from admission.validation.fielderrors import child
from admission.validation.objects import as_dict, as_list

META_FIELDS = ("apiVersion", "kind", "metadata")
ABSENT = object()  # no correlated old value: create, or a part of the object kube cannot match up


def same(a, b) -> bool:
    """Go's DeepEqual of decoded JSON: an int is not a float and a bool is no number."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
    return type(a) is type(b) and a == b


def json_key(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def properties_of(s: dict) -> dict:
    return as_dict(s.get("properties"))


def items_of(s: dict) -> dict | None:
    return s["items"] if isinstance(s.get("items"), dict) else None


def additional_of(s: dict) -> dict | None:
    """additionalProperties as a schema; `true` and `false` carry none."""
    return s["additionalProperties"] if isinstance(s.get("additionalProperties"), dict) else None


def child_schema(s: dict, key: str) -> dict | None:
    props = properties_of(s)
    return props[key] if key in props else additional_of(s)


def preserves(s: dict | None) -> bool:
    return bool(s and s.get("x-kubernetes-preserve-unknown-fields"))


def is_embedded(s: dict | None) -> bool:
    return bool(s and s.get("x-kubernetes-embedded-resource"))


def subschemas(s: dict) -> Iterator[dict]:
    """Every schema directly below s (SchemaHas' traversal)."""
    for key in ("items", "not", "additionalProperties", "additionalItems"):
        if isinstance(s.get(key), dict):
            yield s[key]
    for key in ("items", "allOf", "anyOf", "oneOf"):
        yield from (sub for sub in as_list(s.get(key)) if isinstance(sub, dict))
    for key in ("properties", "patternProperties", "definitions", "dependencies"):
        yield from (sub for sub in as_dict(s.get(key)).values() if isinstance(sub, dict))


def any_schema(s, predicate: Callable[[dict], bool]) -> bool:
    return isinstance(s, dict) and (predicate(s) or any(any_schema(sub, predicate) for sub in subschemas(s)))


def walk_values(x, s: dict | None, path: str) -> Iterator[tuple[object, dict, str]]:
    """Every value the schema describes, with its schema and path, parents before children (a
    parent may change its children before the walk gets to them)."""
    if s is None:
        return
    yield x, s, path
    if isinstance(x, dict):
        for k, v in list(x.items()):
            yield from walk_values(v, child_schema(s, k), child(path, k))
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from walk_values(v, items_of(s), f"{path}[{i}]")
