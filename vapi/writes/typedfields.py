"""The typed walk: an object read through its kind's schema, so that lists merge by their keys and
maps key by key, as structured-merge-diff's `typed` package does; it yields field sets and merges."""
from __future__ import annotations

import copy
import functools
from collections import deque
from itertools import chain
from typing import NamedTuple

from .fieldpaths import ABSENT, FIELD, KEY, VALUE, Comparison, PathSet, element_text, path_text, value_key


# What removing items from a map or list leaves when nothing is left (kube's null).
_EMPTIED = object()

# Go structs held by value rather than by pointer under these names: the zero object of a kind has
# them as `{}`, so a create adds their fields but not the structs themselves.
_VALUE_STRUCTS = frozenset({"metadata", "spec", "status", "template", "strategy", "updateStrategy",
                            "resources", "jobTemplate"})

# kube's OpenAPI defaults these list-map keys (every port list is keyed by protocol, "TCP" when
# unset); the schemas we read carry no defaults.
_KEY_DEFAULTS = {"protocol": "TCP"}

# kube gives custom resources typed metadata (their schemas leave it out), so that labels merge
# key by key, finalizers as a set and owner references by uid.
_OBJECT_META = {
    "type": "object",
    "x-kubernetes-preserve-unknown-fields": True,
    "properties": {
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "finalizers": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
        "ownerReferences": {"type": "array", "items": {"type": "object", "x-kubernetes-map-type": "atomic"},
                            "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["uid"]},
        "managedFields": {"type": "array", "items": {"type": "object"}, "x-kubernetes-list-type": "atomic"},
    },
}
_TYPE_META = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": _OBJECT_META}



# --- typed walks -----------------------------------------------------------------------------------

class _Shape(NamedTuple):
    """What the schema makes of one value."""
    kind: str                         # "map", "list" or "scalar"
    atomic: bool = False
    fields: dict | None = None        # map: the declared fields
    element: dict | None = None       # map: the schema of other keys; list: of the items
    keys: tuple[str, ...] = ()        # associative list: its key fields, none for a set
    strict: bool = False              # map: a struct, which has only its declared fields

    def child(self, pe):
        if self.kind == "map" and pe[0] == FIELD:
            return self.fields.get(pe[1], self.element)
        return self.element if self.kind == "list" else None


def _list_type(schema: dict) -> tuple[str, tuple[str, ...]]:
    """"atomic", "set" or "map" and the map keys. Lists older than list types are associative when
    they have a merge strategy, as kube's OpenAPI conversion makes them."""
    list_type = schema.get("x-kubernetes-list-type")
    if list_type is None and schema.get("x-kubernetes-patch-strategy") in ("merge", "merge,retainKeys"):
        key = schema.get("x-kubernetes-patch-merge-key")
        return ("map", (key,)) if key else ("set", ())
    if list_type == "map":
        return "map", tuple(schema.get("x-kubernetes-list-map-keys") or ())
    return ("set", ()) if list_type == "set" else ("atomic", ())


def _with_type_meta(schema: dict | None) -> dict:
    """A custom resource's schema (or an embedded resource's) with the apiVersion, kind and
    metadata kube types for it whatever the schema says."""
    schema = schema or {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return {**schema, "properties": {**(schema.get("properties") or {}), **_TYPE_META}}


_SCALAR = _Shape("scalar")
_BUILTIN_TYPERS: dict[int, tuple[dict, Typer]] = {}


def _empty_like(value, other):
    """A null facing a map or list is an empty one, as Go reads it."""
    if value is None and isinstance(other, (dict, list)):
        return type(other)()
    return value


def _is_empty(value) -> bool:
    return value is ABSENT or value == {} or value == []


class Typer:
    """The walks structured-merge-diff makes over objects, with their schema."""

    def __init__(self, schema: dict | None, resolve):
        self.resolve = resolve
        resolved = resolve(schema) if schema is not None else None
        # Only kinds backed by Go types start their creates from a zero object with structs in it.
        self.builtin = bool(resolved and resolved.get("x-kubernetes-group-version-kind"))
        self.root = resolved if self.builtin else _with_type_meta(resolved)
        # (id of the schema, kind of value) -> (the schema, kept so that its id stays its own; its shape)
        self._shapes: dict[tuple[int, type], tuple[object, _Shape]] = {}

    @classmethod
    def of(cls, schema: dict | None, resolve) -> Typer:
        """The typer of a schema. A built-in kind's schema lives as long as the process, so its typer,
        with the shapes it has worked out, serves every write of the kind."""
        cached = _BUILTIN_TYPERS.get(id(schema))
        if cached is not None and cached[1].resolve == resolve:
            return cached[1]
        typer = cls(schema, resolve)
        if typer.builtin:
            _BUILTIN_TYPERS[id(schema)] = (schema, typer)
        return typer

    def _schema(self, schema) -> dict:
        return (self.resolve(schema) or {}) if isinstance(schema, dict) else {}

    def shape(self, schema, value) -> _Shape:
        kind = dict if isinstance(value, dict) else list if isinstance(value, list) else None
        if kind is None:
            return _SCALAR
        cached = self._shapes.get((id(schema), kind))
        if cached is None:
            cached = self._shapes[(id(schema), kind)] = (schema, self._shape(schema, kind))
        return cached[1]

    def _shape(self, schema, kind: type) -> _Shape:
        s = self._schema(schema)
        declared = s.get("type")
        if kind is dict:
            if declared not in (None, "object"):
                s = {}
            elif s.get("x-kubernetes-embedded-resource"):
                s = _with_type_meta(s)
            element = s.get("additionalProperties")
            element = element if isinstance(element, dict) else None
            open_ = element is not None or s.get("additionalProperties") is True \
                or s.get("x-kubernetes-preserve-unknown-fields") is True
            return _Shape("map", s.get("x-kubernetes-map-type") == "atomic", s.get("properties") or {}, element, (),
                          "properties" in s and not open_)
        if declared != "array":
            return _Shape("list", atomic=True)
        list_type, keys = _list_type(s)
        return _Shape("list", list_type == "atomic", element=s.get("items"), keys=keys)

    def element(self, shape: _Shape, item):
        """The path element of a list item; ValueError, with kube's words, when it has none."""
        if not shape.keys:
            if isinstance(item, dict):
                raise ValueError("associative list without keys has an element that's a map type")
            if isinstance(item, list):
                raise ValueError("not supported: associative list with lists as elements")
            if item is None:
                raise ValueError("associative list without keys has an element that's an explicit null")
            return (VALUE, value_key(item))
        if item is None:
            raise ValueError("associative list with keys may not have a null element")
        if not isinstance(item, dict):
            raise ValueError("associative list with keys may not have non-map elements")
        fields = []
        for name in shape.keys:
            value = item.get(name, ABSENT)
            if value is ABSENT:
                value = self._key_default(shape.element, name)
            if value is ABSENT:
                raise ValueError(f'associative list with keys has an element that omits key field "{name}" '
                                 "(and doesn't have default value)")
            fields.append((name, value_key(value)))
        return (KEY, tuple(sorted(fields)))

    def _key_default(self, items, name):
        field = self._schema(self._schema(items).get("properties", {}).get(name))
        return field["default"] if "default" in field else _KEY_DEFAULTS.get(name, ABSENT)

    def _index(self, shape: _Shape, items: list) -> list:
        """(path element, item) for each item; an item without one (None) is left alone."""
        out = []
        for item in items:
            try:
                out.append((self.element(shape, item), item))
            except ValueError:
                out.append((None, item))
        return out

    # -- field sets --

    def field_set(self, value, errors: list[str] | None = None) -> PathSet:
        """Every field of value (kube's ToFieldSet). With `errors`, value is an applied
        configuration, which kube types strictly: what does not fit is reported there."""
        out = PathSet()
        self._collect(value, self.root, (), out, errors)
        return out

    def _collect(self, value, schema, path, out: PathSet, errors) -> None:
        shape = self.shape(schema, value)
        if shape.kind == "scalar" or shape.atomic:
            out.insert(path)
        elif shape.kind == "map":
            for key, child in value.items():
                pe = (FIELD, key)
                declared = key in shape.fields
                if errors is not None and shape.strict and not declared:
                    errors.append(f"{path_text(path + (pe,))}: field not declared in schema")
                    continue
                self._collect(child, shape.child(pe), path + (pe,), out, errors)
                # A struct's fields holding maps or lists are owned through what they hold.
                if child is None or child == {} or not declared:
                    out.insert(path + (pe,))
        else:
            seen = set()
            for number, item in enumerate(value):
                try:
                    pe = self.element(shape, item)
                except ValueError as err:
                    if errors is not None:
                        errors.append(f"{path_text(path)}: element {number}: {err}")
                    continue
                if errors is not None and pe in seen:
                    errors.append(f"{path_text(path)}: duplicate entries for key {element_text(pe)}")
                    continue
                seen.add(pe)
                self._collect(item, shape.element, path + (pe,), out, errors)
                out.insert(path + (pe,))

    def ensure_named(self, paths: PathSet) -> PathSet:
        """paths, plus every struct field with paths below it (kube's EnsureNamedFieldsAreMembers)."""
        return self._named(paths, self.root)

    def _named(self, paths: PathSet, schema) -> PathSet:
        members, children = set(paths.members), {}
        for pe, sub in paths.children.items():
            shape = self.shape(schema, {} if pe[0] == FIELD else [])
            if pe[0] == FIELD and pe[1] in shape.fields:
                members.add(pe)
            children[pe] = self._named(sub, shape.child(pe))
        return PathSet(members, children)

    # -- comparison --

    def compare(self, lhs, rhs) -> Comparison:
        out = Comparison(PathSet(), PathSet(), PathSet())
        self._compare(lhs, rhs, self.root, (), out)
        return out

    def _is_leaf(self, shape: _Shape, *values) -> bool:
        # Empty on both sides, a map or list compares whole, which keeps {} apart from unset.
        return shape.kind == "scalar" or shape.atomic or all(map(_is_empty, values))

    def _compare(self, lhs, rhs, schema, path, out: Comparison) -> None:
        if lhs is ABSENT:
            self._one_sided(rhs, schema, path, out.added)
            return
        if rhs is ABSENT:
            self._one_sided(lhs, schema, path, out.removed)
            return
        lhs, rhs = _empty_like(lhs, rhs), _empty_like(rhs, lhs)
        left, right = self.shape(schema, lhs), self.shape(schema, rhs)
        if left.kind != right.kind:
            # Each side goes its own way: the fields of the old value go, those of the new come.
            if self._is_leaf(left, lhs) or self._is_leaf(right, rhs):
                out.modified.insert(path)
            if not self._is_leaf(left, lhs):
                self._one_sided_items(lhs, left, path, out.removed)
            if not self._is_leaf(right, rhs):
                self._one_sided_items(rhs, right, path, out.added)
            return
        if not self._is_leaf(left, lhs, rhs):
            self._compare_items(lhs, rhs, left, path, out)
        elif lhs != rhs:
            out.modified.insert(path)

    def _one_sided(self, value, schema, path, into: PathSet) -> None:
        """A value only one side has: it and every path in it were added, or removed."""
        shape = self.shape(schema, value)
        if not self._is_leaf(shape, value):
            self._one_sided_items(value, shape, path, into)
        into.insert(path)

    def _one_sided_items(self, value, shape: _Shape, path, into: PathSet) -> None:
        if shape.kind == "map":
            for key, item in value.items():
                pe = (FIELD, key)
                self._one_sided(item, shape.child(pe), path + (pe,), into)
            return
        groups: dict = {}
        for pe, item in self._index(shape, value):
            if pe is not None:
                groups.setdefault(pe, []).append(item)
        for pe, items in groups.items():
            # Duplicated keys go or come as a whole.
            if len(items) == 1:
                self._one_sided(items[0], shape.element, path + (pe,), into)
            else:
                into.insert(path + (pe,))

    def _compare_items(self, lhs, rhs, shape: _Shape, path, out: Comparison) -> None:
        if shape.kind == "map":
            for key, left in lhs.items():
                pe = (FIELD, key)
                self._compare(left, rhs.get(key, ABSENT), shape.child(pe), path + (pe,), out)
            for key, right in rhs.items():
                if key not in lhs:
                    pe = (FIELD, key)
                    self._one_sided(right, shape.child(pe), path + (pe,), out.added)
            return
        groups: dict = {}
        for side, items in enumerate((lhs, rhs)):
            for pe, item in self._index(shape, items):
                if pe is not None:
                    groups.setdefault(pe, ([], []))[side].append(item)
        for pe, (old, new) in groups.items():
            here = path + (pe,)
            if len(old) <= 1 and len(new) <= 1:
                self._compare(old[0] if old else ABSENT, new[0] if new else ABSENT, shape.element, here, out)
            # Duplicated keys compare as a whole, as kube tolerates them in stored objects.
            elif len(old) > 1 and len(new) > 1:
                if old != new:
                    out.modified.insert(here)
            elif len(old) > 1:
                if new:
                    self._compare(ABSENT, new[0], shape.element, here, out)
                out.removed.insert(here)
            else:
                if old:
                    self._compare(old[0], ABSENT, shape.element, here, out)
                out.added.insert(here)

    # -- merging an applied configuration --

    def merge(self, lhs, rhs):
        return self._merge(lhs, rhs, self.root)

    def _merge(self, lhs, rhs, schema):
        if rhs is ABSENT:
            return lhs
        if lhs is ABSENT or lhs is None:
            if not isinstance(rhs, (dict, list)):
                return rhs
            lhs = type(rhs)()
        left = self.shape(schema, lhs)
        if rhs is None:
            # Applying null to a granular map or list leaves it as it is (kube drops such a null).
            return lhs if left.kind != "scalar" and not left.atomic and lhs else None
        right = self.shape(schema, rhs)
        if left.kind != right.kind or self._is_leaf(right, lhs, rhs):
            return copy.deepcopy(rhs)
        if right.kind == "list":
            return self._merge_list(lhs, rhs, right)
        out = {}
        for key in chain(lhs, (k for k in rhs if k not in lhs)):
            value = self._merge(lhs.get(key, ABSENT), rhs.get(key, ABSENT), right.child((FIELD, key)))
            if value is not None:
                out[key] = value
        return out

    def _merge_list(self, lhs: list, rhs: list, shape: _Shape) -> list:
        """Items merged by key. The order keeps the live list's, placing the configuration's items
        where the configuration orders them (kube's visitListItems)."""
        left, right = self._index(shape, lhs), self._index(shape, rhs)
        old = {}
        for pe, item in left:
            if pe is not None:
                # A duplicated key merges as if absent: the configuration's item replaces them all.
                old[pe] = ABSENT if pe in old else item
        new = dict(right)
        shared = deque(pe for pe, _ in right if pe in old)
        next_shared = shared.popleft() if shared else None
        done, out = set(), []
        li = ri = 0
        while li < len(left) or ri < len(right):
            if li < len(left) and ri < len(right):
                pe = left[li][0]
                if pe is not None and pe == right[ri][0]:
                    done.add(pe)
                    out.append(self._merge(old[pe], new[pe], shape.element))
                    li, ri = li + 1, ri + 1
                    next_shared = shared.popleft() if shared else None
                    continue
                if pe in new and next_shared is not None and next_shared != pe:
                    li += 1
                    continue
            if li < len(left):
                pe, item = left[li]
                if pe not in new:
                    out.append(item)
                    li += 1
                    continue
                if pe in done:
                    li += 1
                    continue
            pe, item = right[ri]
            done.add(pe)
            out.append(self._merge(old.get(pe, ABSENT), item, shape.element))
            ri += 1
            if next_shared is not None and next_shared == pe:
                next_shared = shared.popleft() if shared else None
        return out

    # -- removing fields --

    def remove(self, value: dict, paths: PathSet) -> dict:
        out = self._remove(value, paths, self.root)
        return {} if out is _EMPTIED else out

    def _remove(self, value, paths: PathSet, schema):
        shape = self.shape(schema, value)
        if shape.kind == "scalar" or not value:
            return value
        if shape.atomic:
            return _EMPTIED
        items = value.items() if shape.kind == "map" else self._index(shape, value)
        kept, emptied = [], False
        for name, item in items:
            pe = (FIELD, name) if shape.kind == "map" else name
            if pe in paths.members:
                continue
            below = paths.children.get(pe)
            if below is not None:
                item = self._remove(item, below, shape.child(pe))
                # What became empty goes, but its parent stays, as kube leaves a null in it.
                if item is _EMPTIED:
                    emptied = True
                    continue
            kept.append((name, item))
        if not kept and not emptied:
            return _EMPTIED
        return dict(kept) if shape.kind == "map" else [item for _, item in kept]

    # -- the object a create starts from --

    @functools.cached_property
    def zero(self) -> dict:
        """What kube's empty Go object of the kind holds: the structs it has by value, and its
        required lists and maps. A create then adds their contents but not them (no "." for
        `f:spec`), as kube's managedFields show. Custom resources start from nothing.
        Shared by every write of the kind: read it, never change it."""
        return self._zero(self.root, ()) if self.builtin else {}

    def _zero(self, schema, seen: tuple) -> dict:
        s = self._schema(schema)
        required = set(s.get("required") or ())
        out = {}
        for name, prop in (s.get("properties") or {}).items():
            p = self._schema(prop)
            if "properties" in p and (name in required or name in _VALUE_STRUCTS) and id(p) not in seen:
                out[name] = self._zero(p, seen + (id(p),))
            elif name in required and p.get("type") in ("array", "object"):
                out[name] = [] if p["type"] == "array" else {}
        return out


def fields_v1(obj: dict, schema: dict | None, resolve) -> dict:
    """The FieldsV1 form of every field present in obj."""
    return Typer.of(schema, resolve).field_set(obj).fields_v1()
