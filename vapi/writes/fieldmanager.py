"""Server-side apply and `metadata.managedFields`, as kube-apiserver keeps them.

kube records, for every object, which manager set which field: one entry per manager, operation
(`Apply` or `Update`), apiVersion and subresource, holding a set of field paths in the FieldsV1
encoding. This follows kube's structured-merge-diff (`fieldpath`, `typed`, `merge/update.go`) and
the manager layers of apimachinery's `managedfields/internal`:

- A path steps through maps by field name (`f:`), through associative lists by the element's key
  fields (`k:`) or, for sets of scalars, by value (`v:`). Atomic maps and lists are owned whole.
  The schema says which is which: `x-kubernetes-list-type` (and, for older fields, a patch merge
  key), `x-kubernetes-map-type`; anything the schema does not describe is "deduced": its maps are
  granular, its lists atomic.
- A write other than apply compares the object before and after it: the manager of the write takes
  every field it added or changed, and those fields and the removed ones leave every other manager.
- An apply merges the configuration into the object, takes exactly the configuration's fields,
  removes what the same manager applied last time but no longer does (unless someone else owns
  it), and conflicts when it changes a field another manager owns, unless forced.

Objects here are JSON, where kube walks Go structs: a null stands for an unset field, and the
"zero" object a create starts from is rebuilt from the kind's schema (see `_Typer.zero`).
"""
from __future__ import annotations

import copy
import datetime
import functools
import json
from collections import deque
from itertools import chain
from typing import NamedTuple

from admission.gotime import parse_rfc3339

from .patch import PatchError

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# kube folds the oldest update entries into "ancient-changes" once there are more than this many.
MAX_UPDATE_MANAGERS = 10
_ANCIENT_CHANGES = "ancient-changes"
# Who owns the fields of an object first applied to after being written without field tracking.
_BEFORE_FIRST_APPLY = "before-first-apply"
# The only manager whose applies keep kubectl's client-side-apply annotation in step.
_KUBECTL = "kubectl"
_ANNOTATIONS_LIMIT = 256 * 1024

# Path element kinds, in the order structured-merge-diff sorts them.
_FIELD, _KEY, _VALUE, _INDEX = range(4)
_ABSENT = object()
# What removing items from a map or list leaves when nothing is left (kube's null).
_EMPTIED = object()

# The fields a client cannot own: kube strips them from every set it records.
_UNOWNED_META = ("name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation",
                 "managedFields", "resourceVersion")

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


# --- values and path elements ---------------------------------------------------------------------

def _value_key(value):
    """A JSON value as a hashable key that sorts as structured-merge-diff orders values: numbers,
    strings, booleans, lists, maps, null."""
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, (int, float)):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    if isinstance(value, list):
        return (3, tuple(_value_key(v) for v in value))
    if isinstance(value, dict):
        return (4, tuple(sorted((k, _value_key(v)) for k, v in value.items())))
    return (5,)


def _key_value(key):
    """The JSON value back from `_value_key`; whole floats come back as the integers Go writes."""
    rank = key[0]
    if rank == 3:
        return [_key_value(v) for v in key[1]]
    if rank == 4:
        return {k: _key_value(v) for k, v in key[1]}
    if rank == 5:
        return None
    value = key[1]
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _go_json(value) -> str:
    """JSON as Go's encoder writes it: compact, keys sorted, HTML characters escaped."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def _value_text(key) -> str:
    """Go's value.ToString, which conflict messages use."""
    value = _key_value(key)
    if key[0] == 1:
        return json.dumps(value, ensure_ascii=False)
    if key[0] == 2:
        return "true" if value else "false"
    if key[0] == 3:
        return "[" + ",".join(_value_text(v) for v in key[1]) + "]"
    if key[0] == 4:
        return "".join(f"{k}={_value_text(v)}" for k, v in key[1])
    return "null" if value is None else str(value)


def _element_text(pe) -> str:
    kind, payload = pe
    if kind == _FIELD:
        return "." + payload
    if kind == _KEY:
        return "[" + ",".join(f"{name}={_value_text(v)}" for name, v in payload) + "]"
    if kind == _VALUE:
        return f"[={_value_text(payload)}]"
    return f"[{payload}]"


def _path_text(path) -> str:
    return "".join(_element_text(pe) for pe in path)


def _element_name(pe) -> str:
    """The element's key in FieldsV1."""
    kind, payload = pe
    if kind == _FIELD:
        return "f:" + payload
    if kind == _KEY:
        return "k:" + _go_json({name: _key_value(v) for name, v in payload})
    if kind == _VALUE:
        return "v:" + _go_json(_key_value(payload))
    return f"i:{payload}"


def _parse_element(name: str):
    """The path element a FieldsV1 key names; None for kinds a later version may define, which kube
    drops. Raises ValueError for a malformed key."""
    if len(name) < 2 or name[1] != ":":
        raise ValueError(f"invalid path element {name!r}")
    kind, text = name[0], name[2:]
    if kind == "f":
        return (_FIELD, text)
    if kind == "v":
        return (_VALUE, _value_key(json.loads(text)))
    if kind == "k":
        fields = json.loads(text)
        if not isinstance(fields, dict):
            raise ValueError(f"invalid key {text!r}")
        return (_KEY, tuple(sorted((k, _value_key(v)) for k, v in fields.items())))
    if kind == "i":
        return (_INDEX, int(text))
    return None


# --- sets of paths ---------------------------------------------------------------------------------

class _Set:
    """A set of field paths, as a tree like FieldsV1: `members` are the elements that are paths
    themselves, `children` the subsets below elements (never empty). Sets are not changed once
    built, so operations share subtrees freely."""

    __slots__ = ("members", "children")

    def __init__(self, members=(), children=None):
        self.members = set(members)
        self.children = children if children is not None else {}

    @classmethod
    def of(cls, paths) -> _Set:
        out = cls()
        for path in paths:
            out.insert(path)
        return out

    def insert(self, path) -> None:
        # The empty path is the whole object, which no one owns.
        if not path:
            return
        node = self
        for pe in path[:-1]:
            # Not setdefault: that would build a set at every step, there or not.
            child = node.children.get(pe)
            if child is None:
                child = node.children[pe] = _Set()
            node = child
        node.members.add(path[-1])

    def __bool__(self) -> bool:
        return bool(self.members or self.children)

    def union(self, other: _Set) -> _Set:
        if not other:
            return self
        if not self:
            return other
        children = dict(self.children)
        for pe, sub in other.children.items():
            children[pe] = children[pe].union(sub) if pe in children else sub
        return _Set(self.members | other.members, children)

    def intersection(self, other: _Set) -> _Set:
        children = {}
        for pe, sub in self.children.items():
            if pe in other.children:
                common = sub.intersection(other.children[pe])
                if common:
                    children[pe] = common
        return _Set(self.members & other.members, children)

    def difference(self, other: _Set, recursive: bool = False) -> _Set:
        """The paths of self not in other. A path below one of other's stays, unless recursive."""
        if not other:
            return self
        children = {}
        for pe, sub in self.children.items():
            if recursive and pe in other.members:
                continue
            if pe in other.children:
                sub = sub.difference(other.children[pe], recursive)
            if sub:
                children[pe] = sub
        return _Set(self.members - other.members, children)

    def paths(self, prefix=()):
        """Every path, in kube's order: an element's members before the subsets below it."""
        for pe in sorted(self.members):
            yield prefix + (pe,)
        for pe in sorted(self.children):
            yield from self.children[pe].paths(prefix + (pe,))

    def fields_v1(self, include_self: bool = False) -> dict:
        out = {".": {}} if include_self and self else {}
        for pe in sorted(self.members | self.children.keys()):
            sub = self.children.get(pe)
            out[_element_name(pe)] = {} if sub is None else sub.fields_v1(pe in self.members)
        return out

    @classmethod
    def from_fields_v1(cls, fields) -> _Set:
        return cls._read(fields)[0] or cls()

    @classmethod
    def _read(cls, node) -> tuple[_Set | None, bool]:
        """The subset below a FieldsV1 node and whether the node is a path itself: it is when it
        says so with "." or has nothing below it."""
        if not isinstance(node, dict):
            raise ValueError("fieldsV1 nodes must be objects")
        below, member = None, False
        for name, sub in node.items():
            if name == ".":
                member = True
                continue
            pe = _parse_element(name)
            if pe is None:
                continue
            grandchildren, is_member = cls._read(sub)
            if below is None:
                below = cls()
            if is_member:
                below.members.add(pe)
            if grandchildren is not None:
                below.children[pe] = below.children[pe].union(grandchildren) if pe in below.children \
                    else grandchildren
        return below, member or below is None


def _field_paths(paths) -> _Set:
    return _Set.of(tuple((_FIELD, name) for name in path) for path in paths)


_STRIPPED = _field_paths([("apiVersion",), ("kind",), ("metadata",), *(("metadata", f) for f in _UNOWNED_META)])


class _Comparison(NamedTuple):
    added: _Set
    modified: _Set
    removed: _Set

    def excluding(self, paths: _Set) -> _Comparison:
        return _Comparison(*(s.difference(paths, recursive=True) for s in self))

    def changed(self) -> _Set:
        return self.added.union(self.modified)


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
        if self.kind == "map" and pe[0] == _FIELD:
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
_BUILTIN_TYPERS: dict[int, tuple[dict, _Typer]] = {}


def _empty_like(value, other):
    """A null facing a map or list is an empty one, as Go reads it."""
    if value is None and isinstance(other, (dict, list)):
        return type(other)()
    return value


def _is_empty(value) -> bool:
    return value is _ABSENT or value == {} or value == []


class _Typer:
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
    def of(cls, schema: dict | None, resolve) -> _Typer:
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
            return (_VALUE, _value_key(item))
        if item is None:
            raise ValueError("associative list with keys may not have a null element")
        if not isinstance(item, dict):
            raise ValueError("associative list with keys may not have non-map elements")
        fields = []
        for name in shape.keys:
            value = item.get(name, _ABSENT)
            if value is _ABSENT:
                value = self._key_default(shape.element, name)
            if value is _ABSENT:
                raise ValueError(f'associative list with keys has an element that omits key field "{name}" '
                                 "(and doesn't have default value)")
            fields.append((name, _value_key(value)))
        return (_KEY, tuple(sorted(fields)))

    def _key_default(self, items, name):
        field = self._schema(self._schema(items).get("properties", {}).get(name))
        return field["default"] if "default" in field else _KEY_DEFAULTS.get(name, _ABSENT)

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

    def field_set(self, value, errors: list[str] | None = None) -> _Set:
        """Every field of value (kube's ToFieldSet). With `errors`, value is an applied
        configuration, which kube types strictly: what does not fit is reported there."""
        out = _Set()
        self._collect(value, self.root, (), out, errors)
        return out

    def _collect(self, value, schema, path, out: _Set, errors) -> None:
        shape = self.shape(schema, value)
        if shape.kind == "scalar" or shape.atomic:
            out.insert(path)
        elif shape.kind == "map":
            for key, child in value.items():
                pe = (_FIELD, key)
                declared = key in shape.fields
                if errors is not None and shape.strict and not declared:
                    errors.append(f"{_path_text(path + (pe,))}: field not declared in schema")
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
                        errors.append(f"{_path_text(path)}: element {number}: {err}")
                    continue
                if errors is not None and pe in seen:
                    errors.append(f"{_path_text(path)}: duplicate entries for key {_element_text(pe)}")
                    continue
                seen.add(pe)
                self._collect(item, shape.element, path + (pe,), out, errors)
                out.insert(path + (pe,))

    def ensure_named(self, paths: _Set) -> _Set:
        """paths, plus every struct field with paths below it (kube's EnsureNamedFieldsAreMembers)."""
        return self._named(paths, self.root)

    def _named(self, paths: _Set, schema) -> _Set:
        members, children = set(paths.members), {}
        for pe, sub in paths.children.items():
            shape = self.shape(schema, {} if pe[0] == _FIELD else [])
            if pe[0] == _FIELD and pe[1] in shape.fields:
                members.add(pe)
            children[pe] = self._named(sub, shape.child(pe))
        return _Set(members, children)

    # -- comparison --

    def compare(self, lhs, rhs) -> _Comparison:
        out = _Comparison(_Set(), _Set(), _Set())
        self._compare(lhs, rhs, self.root, (), out)
        return out

    def _is_leaf(self, shape: _Shape, *values) -> bool:
        # Empty on both sides, a map or list compares whole, which keeps {} apart from unset.
        return shape.kind == "scalar" or shape.atomic or all(map(_is_empty, values))

    def _compare(self, lhs, rhs, schema, path, out: _Comparison) -> None:
        if lhs is _ABSENT:
            self._one_sided(rhs, schema, path, out.added)
            return
        if rhs is _ABSENT:
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

    def _one_sided(self, value, schema, path, into: _Set) -> None:
        """A value only one side has: it and every path in it were added, or removed."""
        shape = self.shape(schema, value)
        if not self._is_leaf(shape, value):
            self._one_sided_items(value, shape, path, into)
        into.insert(path)

    def _one_sided_items(self, value, shape: _Shape, path, into: _Set) -> None:
        if shape.kind == "map":
            for key, item in value.items():
                pe = (_FIELD, key)
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

    def _compare_items(self, lhs, rhs, shape: _Shape, path, out: _Comparison) -> None:
        if shape.kind == "map":
            for key, left in lhs.items():
                pe = (_FIELD, key)
                self._compare(left, rhs.get(key, _ABSENT), shape.child(pe), path + (pe,), out)
            for key, right in rhs.items():
                if key not in lhs:
                    pe = (_FIELD, key)
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
                self._compare(old[0] if old else _ABSENT, new[0] if new else _ABSENT, shape.element, here, out)
            # Duplicated keys compare as a whole, as kube tolerates them in stored objects.
            elif len(old) > 1 and len(new) > 1:
                if old != new:
                    out.modified.insert(here)
            elif len(old) > 1:
                if new:
                    self._compare(_ABSENT, new[0], shape.element, here, out)
                out.removed.insert(here)
            else:
                if old:
                    self._compare(old[0], _ABSENT, shape.element, here, out)
                out.added.insert(here)

    # -- merging an applied configuration --

    def merge(self, lhs, rhs):
        return self._merge(lhs, rhs, self.root)

    def _merge(self, lhs, rhs, schema):
        if rhs is _ABSENT:
            return lhs
        if lhs is _ABSENT or lhs is None:
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
            value = self._merge(lhs.get(key, _ABSENT), rhs.get(key, _ABSENT), right.child((_FIELD, key)))
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
                old[pe] = _ABSENT if pe in old else item
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
            out.append(self._merge(old.get(pe, _ABSENT), item, shape.element))
            ri += 1
            if next_shared is not None and next_shared == pe:
                next_shared = shared.popleft() if shared else None
        return out

    # -- removing fields --

    def remove(self, value: dict, paths: _Set) -> dict:
        out = self._remove(value, paths, self.root)
        return {} if out is _EMPTIED else out

    def _remove(self, value, paths: _Set, schema):
        shape = self.shape(schema, value)
        if shape.kind == "scalar" or not value:
            return value
        if shape.atomic:
            return _EMPTIED
        items = value.items() if shape.kind == "map" else self._index(shape, value)
        kept, emptied = [], False
        for name, item in items:
            pe = (_FIELD, name) if shape.kind == "map" else name
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
    return _Typer.of(schema, resolve).field_set(obj).fields_v1()


# --- managers --------------------------------------------------------------------------------------

class _Identity(NamedTuple):
    """Who an entry belongs to. Appliers keep one entry whatever apiVersion they apply with."""
    manager: str
    operation: str
    api_version: str
    subresource: str

    def json(self) -> str:
        """kube's identifier for the manager, which orders managers in conflict messages."""
        entry = {"manager": self.manager, "operation": self.operation, "apiVersion": self.api_version,
                 "subresource": self.subresource}
        return _go_json_ordered({k: v for k, v in entry.items() if v})

    def printed(self) -> str:
        text = json.dumps(self.manager, ensure_ascii=False)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource, ensure_ascii=False)}"
        if self.operation == "Update":
            text += f" using {self.api_version}"
        return text


def _go_json_ordered(value: dict) -> str:
    """Go's JSON of a struct, whose fields keep their declared order."""
    return "{" + ",".join(f"{_go_json(k)}:{_go_json(v)}" for k, v in value.items()) + "}"


class _Entry(NamedTuple):
    fields: _Set
    api_version: str
    applied: bool
    time: str | None


def _seconds(time: str | None) -> int:
    return int(parse_rfc3339(time).timestamp()) if time else 0


def _decode(entries) -> dict[_Identity, _Entry]:
    """The managers of stored managedFields; ValueError with kube's words when they are invalid."""
    if entries is None or entries is _ABSENT:
        return {}
    if not isinstance(entries, list):
        raise ValueError("managedFields must be a list")
    out = {}
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"managed fields entry {number} must be an object")
        operation, version, kind = entry.get("operation"), entry.get("apiVersion"), entry.get("fieldsType")
        if operation not in ("Apply", "Update"):
            raise ValueError("operation must be `Apply` or `Update`")
        if not version:
            raise ValueError("apiVersion must not be empty")
        if kind != "FieldsV1":
            raise ValueError(f"invalid fieldsType {json.dumps(kind)} in managed fields entry {number}" if kind
                             else f"missing fieldsType in managed fields entry {number}")
        time = entry.get("time")
        if time is not None:
            time = parse_rfc3339(time).astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        identity = _Identity(entry.get("manager") or "", operation, "" if operation == "Apply" else version,
                             entry.get("subresource") or "")
        out[identity] = _Entry(_Set.from_fields_v1(entry.get("fieldsV1") or {}), version,
                               operation == "Apply", time)
    return out


def _encode(managers: dict[_Identity, _Entry]) -> list[dict]:
    def order(item):
        who, entry = item
        return (who.operation, _seconds(entry.time), who.manager, entry.api_version, who.subresource)

    out = []
    for who, entry in sorted(managers.items(), key=order):
        encoded = {"manager": who.manager, "operation": who.operation, "apiVersion": entry.api_version,
                   "time": entry.time, "fieldsType": "FieldsV1", "fieldsV1": entry.fields.fields_v1(),
                   "subresource": who.subresource}
        out.append({k: v for k, v in encoded.items() if v or k == "fieldsV1"})
    return out


def _is_reset(sent) -> bool:
    """Whether a write asks to drop all managedFields: [] or a single empty entry."""
    if not isinstance(sent, list) or len(sent) > 1:
        return False
    return not sent or (isinstance(sent[0], dict) and all(v in (None, "") for v in sent[0].values()))


def _cap(managers: dict[_Identity, _Entry]) -> dict[_Identity, _Entry]:
    """At most MAX_UPDATE_MANAGERS update entries: the oldest fold into one "ancient-changes"
    entry per apiVersion (kube's capManagersManager)."""
    updaters = [who for who, entry in managers.items() if not entry.applied]
    if len(updaters) <= MAX_UPDATE_MANAGERS:
        return managers
    updaters.sort(key=lambda who: (_seconds(managers[who].time), who.json()))
    managers, first_of_version, count = dict(managers), {}, len(updaters)
    for who in updaters:
        if count <= MAX_UPDATE_MANAGERS:
            break
        entry = managers[who]
        bucket = _Identity(_ANCIENT_CHANGES, "Update", entry.api_version, "")
        # kube would fold a bucket into itself and lose it; a bucket only ever receives.
        if who == bucket or entry.api_version not in first_of_version:
            first_of_version.setdefault(entry.api_version, who)
            continue
        if bucket not in managers:
            managers[bucket] = managers.pop(first_of_version[entry.api_version])
        fields = entry.fields.union(managers[bucket].fields)
        managers[bucket] = _Entry(fields, entry.api_version, False, entry.time)
        del managers[who]
        count -= 1
    return managers


def _content(obj: dict) -> dict:
    """A copy of obj as kube compares it: no managedFields, no nulls (unset, in Go)."""
    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    out = clean(obj)
    if isinstance(out.get("metadata"), dict):
        out["metadata"].pop("managedFields", None)
    return out


def _last_applied(config: dict) -> str:
    """kubectl's client-side-apply annotation for config, as kube rewrites it after an apply."""
    applied = copy.deepcopy(config)
    meta = applied.get("metadata")
    if isinstance(meta, dict):
        if isinstance(meta.get("annotations"), dict):
            meta["annotations"].pop(LAST_APPLIED, None)
        else:
            meta.pop("annotations", None)
    return _go_json(applied) + "\n"


def _described(config: dict) -> str:
    """The object as kube names it in apply errors: namespace/name; group/version, Kind=kind."""
    meta = config.get("metadata") if isinstance(config.get("metadata"), dict) else {}
    api_version = str(config.get("apiVersion") or "")
    group, _, version = api_version.rpartition("/")
    name = f"{meta.get('namespace') or ''}/{meta.get('name') or ''}"
    return f"{name}; {group}/{version}, Kind={config.get('kind') or ''}"


class _Conflicts(Exception):
    def __init__(self, conflicts: dict[_Identity, _Set]):
        super().__init__("apply conflicts")
        self.conflicts = conflicts


class ApplyConflict(Exception):
    """An apply that would change fields other managers own. kube answers 409 Conflict with
    `message()` and `causes()` (reason FieldManagerConflict)."""

    def __init__(self, conflicts: dict[_Identity, _Set]):
        rows = [(who, path) for who in sorted(conflicts, key=_Identity.json) for path in conflicts[who].paths()]
        # (manager, field path), in the order kube reports them.
        self.conflicts: list[tuple[str, str]] = [(who.manager, _path_text(path)) for who, path in rows]
        self._rows = [(who.printed(), _path_text(path)) for who, path in rows]
        super().__init__(self.message())

    def message(self) -> str:
        if len(self._rows) == 1:
            who, path = self._rows[0]
            return f"Apply failed with 1 conflict: conflict with {who}: {path}"
        lines, previous = [], None
        for who, path in self._rows:
            if who != previous:
                lines.append(f"conflicts with {who}:")
                previous = who
            lines.append(f"- {path}")
        return f"Apply failed with {len(self._rows)} conflicts: " + "\n".join(lines)

    def causes(self) -> list[dict]:
        return [{"reason": "FieldManagerConflict", "message": f"conflict with {who}", "field": path}
                for who, path in self._rows]


class FieldManager:
    """managedFields for the objects of one kind, served at `api_version`.

    `reset_paths` are the fields the (sub)resource being written resets (kube's ResetFields): no
    write to it owns them or takes them from others, e.g. [("status",)] for a main resource with a
    status subresource, [("spec",)] for that status subresource.
    """

    def __init__(self, schema: dict | None, resolve, api_version: str, reset_paths=()):
        self._typer = _Typer.of(schema, resolve)
        self.api_version = api_version
        self._reset = _field_paths(reset_paths)

    def update(self, old: dict | None, new: dict, manager: str, *, subresource: str = "", now: str) -> None:
        """Record a create (old None), update or non-apply patch by `manager` in new's managedFields.

        managedFields the client sent are kept, except through a subresource; [] or [{}] drop them
        all. Without them the live object's carry on. An existing object without managedFields
        stays without: kube tracks fields from the create or from the first apply."""
        meta = new.setdefault("metadata", {})
        sent = meta.pop("managedFields", _ABSENT)
        live = (old or {}).get("metadata", {}).get("managedFields")
        managers = self._sent_or_live(sent, live, subresource)
        if not managers and old is not None:
            return
        who = _Identity(manager or "unknown", "Update", self.api_version, subresource)
        start = _content(old) if old is not None else self._typer.zero
        managers = self._record_update(start, _content(new), managers, who, now)
        if managers:
            meta["managedFields"] = _encode(managers)

    def apply(self, live: dict | None, config: dict, manager: str, *, force: bool, subresource: str = "",
              now: str) -> dict:
        """The object after applying config as `manager` (live None: the object it creates), with
        its managedFields. Raises ApplyConflict, or PatchError for a configuration kube refuses."""
        if (config.get("metadata") or {}).get("managedFields") is not None:
            raise PatchError("metadata.managedFields must be nil", 400)
        errors: list[str] = []
        config_fields = self._typer.field_set(config, errors)
        if errors:
            detail = errors[0] if len(errors) == 1 else "errors:\n" + "\n".join(f"  {e}" for e in errors)
            raise PatchError(f"failed to create typed patch object ({_described(config)}): {detail}")
        try:
            managers = _decode((live or {}).get("metadata", {}).get("managedFields"))
        except ValueError as err:
            raise PatchError(f"failed to decode managed fields: {err}") from None
        base = _content(live) if live is not None else {}
        if not managers and live is not None:
            # The object was written untracked: whoever wrote it so far owns all of it now.
            first = _Identity(_BEFORE_FIRST_APPLY, "Update", self.api_version, subresource)
            managers = self._record_update(self._typer.zero, base, managers, first, now)
        who = _Identity(manager or "unknown", "Apply", "", subresource)
        try:
            merged, managers = self._apply(base, config, config_fields, managers, who, force, now)
        except _Conflicts as err:
            remaining = self._not_applied_by_kubectl(base, err.conflicts) if manager == _KUBECTL else err.conflicts
            if remaining:
                raise ApplyConflict(remaining) from None
            merged, managers = self._apply(base, config, config_fields, managers, who, True, now)
        result = copy.deepcopy(live) if live is not None and merged == base else merged
        meta = result.setdefault("metadata", {})
        meta.pop("managedFields", None)
        if managers:
            meta["managedFields"] = _encode(managers)
        annotations = meta.get("annotations")
        if manager == _KUBECTL and isinstance(annotations, dict) and annotations.get(LAST_APPLIED):
            # Keeps a later client-side `kubectl apply` from undoing this one.
            annotations[LAST_APPLIED] = _last_applied(config)
            if sum(len(k.encode()) + len(str(v).encode()) for k, v in annotations.items()) > _ANNOTATIONS_LIMIT:
                del annotations[LAST_APPLIED]
        return result

    def _sent_or_live(self, sent, live, subresource: str) -> dict[_Identity, _Entry]:
        if not subresource and sent is not _ABSENT:
            if _is_reset(sent):
                return {}
            try:
                managers = _decode(sent)
            except ValueError:
                managers = {}
            if managers:
                return managers
        try:
            return _decode(live)
        except ValueError:
            return {}

    def _record_update(self, old: dict, new: dict, managers, who: _Identity, now: str) -> dict[_Identity, _Entry]:
        diff = self._typer.compare(old, new).excluding(self._reset)
        changed = diff.changed()
        taken = changed.union(diff.removed)
        managers = {w: e._replace(fields=e.fields.difference(taken)) for w, e in managers.items()}
        managers = {w: e for w, e in managers.items() if e.fields}
        mine = changed.difference(diff.removed).difference(_STRIPPED)
        if mine:
            previous = managers.get(who)
            fields = mine.union(previous.fields) if previous else mine
            managers[who] = _Entry(fields, self.api_version, False, now)
        return _cap(managers)

    def _apply(self, live: dict, config: dict, config_fields: _Set, managers, who: _Identity, force: bool,
               now: str) -> tuple[dict, dict[_Identity, _Entry]]:
        merged = self._typer.merge(live, config)
        last = managers.get(who)
        managers = dict(managers)
        managers[who] = _Entry(config_fields.difference(self._reset, recursive=True), self.api_version, True,
                               last.time if last else None)
        merged = self._prune(merged, managers, last)
        diff = self._typer.compare(live, merged).excluding(self._reset)
        changed = diff.changed()
        conflicts = {w: e.fields.intersection(changed) for w, e in managers.items() if w != who}
        conflicts = {w: fields for w, fields in conflicts.items() if fields}
        if conflicts and not force:
            raise _Conflicts(conflicts)
        out = {}
        for w, entry in managers.items():
            fields = entry.fields.difference(_STRIPPED) if w == who else \
                entry.fields.difference(changed).difference(diff.removed)
            if fields:
                out[w] = entry._replace(fields=fields, time=now if w == who and merged != live else entry.time)
        return merged, out

    def _prune(self, merged: dict, managers, last: _Entry | None) -> dict:
        """Remove what the applier applied last time and no longer does, unless someone (the applier
        included) still owns it, and only what the applier owned (kube's Updater.prune)."""
        if last is None or not last.fields:
            return merged
        t = self._typer
        last_fields = t.ensure_named(last.fields)
        pruned = t.remove(merged, last_fields)
        owned = _Set()
        for entry in managers.values():
            owned = owned.union(entry.fields)
        everything = t.ensure_named(t.field_set(merged))
        kept = t.ensure_named(t.field_set(pruned)).union(t.ensure_named(owned))
        pruned = t.remove(merged, everything.difference(kept))
        gone = everything.difference(t.ensure_named(t.field_set(pruned))).intersection(last_fields)
        return t.remove(merged, gone)

    def _not_applied_by_kubectl(self, live: dict, conflicts: dict[_Identity, _Set]) -> dict[_Identity, _Set]:
        """The conflicts left once those on fields kubectl's client-side apply last set (and that
        still hold that value) are allowed: `kubectl apply --server-side` takes over from it."""
        text = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
        try:
            applied = json.loads(text) if text else None
        except ValueError:
            applied = None
        if not isinstance(applied, dict) or applied.get("apiVersion") != self.api_version:
            return conflicts
        diff = self._typer.compare(applied, live)
        allowed = self._typer.field_set(applied).difference(diff.changed()).difference(diff.removed)
        remaining = {w: fields.difference(allowed) for w, fields in conflicts.items()}
        return {w: fields for w, fields in remaining.items() if fields}
