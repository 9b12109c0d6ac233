"""The Go types behind the built-in kinds, read from the protobuf field tables (vapi/data/).

kube-apiserver writes a built-in object by encoding its Go struct, so JSON keys come in the
struct's field order and map keys sorted. The tables list each message's fields by number, which
follows the Go declaration order for the fields kube has always had (TypeMeta, ObjectMeta, spec,
status, and most structs); fields added later to the middle of a struct keep a late number, so
for those the order here is the number's. Objects are put in this order once, when written, so
every read answers it without work.
"""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
META = "k8s.io.apimachinery.pkg.apis.meta.v1"

# Go structs embedded with `json:",inline"`: the proto has a field for them, JSON spreads their fields
# into the parent. Entries are field names, or Message.field where the name alone is too common.
INLINE = frozenset({
    "localObjectReference",  # configMapKeyRef, secretKeyRef, configMap volumes...: {"name": ...}
    "volumeSource", "persistentVolumeSource", "ephemeralContainerCommon", "ingressRuleValue",
    "ruleWithOperations", "deviceConfiguration", "Probe.handler", "RuleWithOperations.rule",
})

# Fields whose proto name is not their JSON name (an old generator's spelling), bar FieldsV1.Raw,
# which has no JSON name of its own.
JSON_NAMES = {"Webhooks": "webhooks", "Expression": "expression", "Name": "name", "uID": "uid",
              "aPIGroup": "apiGroup"}

# API group -> protobuf package, where the package is not k8s.io.api.<first label of the group>.
PACKAGES = {
    "": "k8s.io.api.core",
    "meta.k8s.io": "k8s.io.apimachinery.pkg.apis.meta",
    "internal.apiserver.k8s.io": "k8s.io.api.apiserverinternal",
    "apiextensions.k8s.io": "k8s.io.apiextensions-apiserver.pkg.apis.apiextensions",
    "apiregistration.k8s.io": "k8s.io.kube-aggregator.pkg.apis.apiregistration",
}

# Messages whose JSON form is not an object of their fields (times, quantities, raw JSON...).
OPAQUE = frozenset({
    f"{META}.Time", f"{META}.MicroTime", f"{META}.Duration", f"{META}.FieldsV1", f"{META}.Verbs",
    "k8s.io.apimachinery.pkg.runtime.RawExtension", "k8s.io.apimachinery.pkg.api.resource.Quantity",
    "k8s.io.apimachinery.pkg.api.resource.QuantityValue", "k8s.io.apimachinery.pkg.util.intstr.IntOrString",
})


# Written by the server alone, already in Go order (the field manager encodes every entry afresh).
PRE_ORDERED = frozenset({f"{META}.ManagedFieldsEntry"})


def is_opaque(message: str) -> bool:
    return message in OPAQUE or message.endswith(".ExtraValue")


@functools.cache
def messages() -> dict[str, tuple]:
    """`"<package>.<Message>" -> ((number, jsonName, label, type), ...)`, read once on first use.
    Held for the server's life, as tuples of shared strings: a third of the memory of the lists
    JSON decodes to (the same few labels and type names recur in thousands of rows)."""
    intern = sys.intern
    return {intern(name): tuple(tuple(intern(cell) if isinstance(cell, str) else cell for cell in row)
                                for row in rows)
            for name, rows in json.loads((DATA / "k8s-protobuf-fields.json").read_bytes())["messages"].items()}


def json_name(name: str) -> str:
    return JSON_NAMES.get(name, name)


def is_inline(message: str, name: str) -> bool:
    return name in INLINE or f"{message.rpartition('.')[2]}.{name}" in INLINE


def message_for(api_version: str, kind: str) -> str | None:
    """The message of a kind served at `api_version`; meta kinds (Status, DeleteOptions...) belong
    to every group version."""
    group, _, version = api_version.rpartition("/")
    package = PACKAGES.get(group) or "k8s.io.api." + group.split(".")[0]
    table = messages()
    for name in (f"{package}.{version}.{kind}", f"{META}.{kind}"):
        if version and kind and name in table and not is_opaque(name):
            return name
    return None


# --- field order ------------------------------------------------------------------------------------

_LAST = 1 << 30


class _Ranks(dict):
    """JSON key -> its place in the struct; keys the struct lacks go last, in their own order."""

    def __missing__(self, key):
        return _LAST


class _Plan:
    """How to put one message's JSON in Go order: each key's rank, and what its value needs."""

    __slots__ = ("ranks", "children")

    def __init__(self):
        self.ranks = _Ranks()
        # key -> (how, plan): "struct" a nested message, "list" a repeated one, "map" a map (keys
        # sorted) whose values are messages when plan is set.
        self.children: dict[str, tuple[str, _Plan | None]] = {}


@functools.cache
def plan(message: str) -> _Plan:
    result = _Plan()
    for _, name, label, type_ in sorted(messages()[message]):
        _add(result, message, json_name(name), label, type_)
    return result


def _add(result: _Plan, message: str, name: str, label: str, type_: str) -> None:
    if label == "map":
        value_type = type_.partition(",")[2]
        nested = value_type in messages() and not is_opaque(value_type)
        result.ranks[name] = len(result.ranks)
        result.children[name] = ("map", plan(value_type) if nested else None)
        return
    if is_inline(message, name) and type_ in messages():
        inner = plan(type_)
        for key in sorted(inner.ranks, key=inner.ranks.__getitem__):
            result.ranks[key] = len(result.ranks)
            if key in inner.children:
                result.children[key] = inner.children[key]
        return
    result.ranks[name] = len(result.ranks)
    if type_ in messages() and not is_opaque(type_) and type_ not in PRE_ORDERED:
        result.children[name] = ("list" if label == "repeated" else "struct", plan(type_))


def ordered(value, how: _Plan) -> dict:
    """A copy of the object `value` with its keys, and its nested structs' keys, in Go order."""
    if not isinstance(value, dict):
        return value
    out = {}
    children = how.children
    for key in sorted(value, key=how.ranks.__getitem__):
        item = value[key]
        child = children.get(key)
        if child is not None and item is not None:
            kind, sub = child
            if kind == "struct":
                item = ordered(item, sub)
            elif kind == "list" and isinstance(item, list):
                item = [ordered(v, sub) for v in item]
            elif kind == "map" and isinstance(item, dict):
                item = {k: item[k] if sub is None else ordered(item[k], sub) for k in sorted(item)}
        out[key] = item
    return out


def object_meta_in_go_order(meta: dict) -> dict:
    """A custom resource's metadata as kube types it where it must (PartialObjectMetadata)."""
    return ordered(meta, plan(f"{META}.ObjectMeta"))


def in_go_order(obj: dict, message: str) -> dict:
    """A built-in object as kube encodes it: TypeMeta's kind and apiVersion, then the message's fields."""
    body = ordered(obj, plan(message))
    return {"kind": obj.get("kind"), "apiVersion": obj.get("apiVersion"), **body} \
        if "kind" in obj and "apiVersion" in obj else body
