"""Sets of field paths, as structured-merge-diff keeps them: path elements (`f:`, `k:`, `v:`, `i:`),
their text, and the set operations that ownership is computed with, in the FieldsV1 encoding."""
from __future__ import annotations

import json
from typing import NamedTuple

# Path element kinds, in the order structured-merge-diff sorts them.
FIELD, KEY, VALUE, INDEX = range(4)
ABSENT = object()

# The fields a client cannot own: kube strips them from every set it records.
_UNOWNED_META = ("name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation",
                 "managedFields", "resourceVersion")


# --- values and path elements ---------------------------------------------------------------------

def value_key(value):
    """A JSON value as a hashable key that sorts as structured-merge-diff orders values: numbers,
    strings, booleans, lists, maps, null."""
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, (int, float)):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    if isinstance(value, list):
        return (3, tuple(value_key(v) for v in value))
    if isinstance(value, dict):
        return (4, tuple(sorted((k, value_key(v)) for k, v in value.items())))
    return (5,)


def _key_value(key):
    """The JSON value back from `value_key`; whole floats come back as the integers Go writes."""
    rank = key[0]
    if rank == 3:
        return [_key_value(v) for v in key[1]]
    if rank == 4:
        return {k: _key_value(v) for k, v in key[1]}
    if rank == 5:
        return None
    value = key[1]
    return int(value) if isinstance(value, float) and value.is_integer() else value


def go_json(value) -> str:
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


def element_text(pe) -> str:
    kind, payload = pe
    if kind == FIELD:
        return "." + payload
    if kind == KEY:
        return "[" + ",".join(f"{name}={_value_text(v)}" for name, v in payload) + "]"
    if kind == VALUE:
        return f"[={_value_text(payload)}]"
    return f"[{payload}]"


def path_text(path) -> str:
    return "".join(element_text(pe) for pe in path)


def _element_name(pe) -> str:
    """The element's key in FieldsV1."""
    kind, payload = pe
    if kind == FIELD:
        return "f:" + payload
    if kind == KEY:
        return "k:" + go_json({name: _key_value(v) for name, v in payload})
    if kind == VALUE:
        return "v:" + go_json(_key_value(payload))
    return f"i:{payload}"


def _parse_element(name: str):
    """The path element a FieldsV1 key names; None for kinds a later version may define, which kube
    drops. Raises ValueError for a malformed key."""
    if len(name) < 2 or name[1] != ":":
        raise ValueError(f"invalid path element {name!r}")
    kind, text = name[0], name[2:]
    if kind == "f":
        return (FIELD, text)
    if kind == "v":
        return (VALUE, value_key(json.loads(text)))
    if kind == "k":
        fields = json.loads(text)
        if not isinstance(fields, dict):
            raise ValueError(f"invalid key {text!r}")
        return (KEY, tuple(sorted((k, value_key(v)) for k, v in fields.items())))
    if kind == "i":
        return (INDEX, int(text))
    return None


# --- sets of paths ---------------------------------------------------------------------------------

class PathSet:
    """A set of field paths, as a tree like FieldsV1: `members` are the elements that are paths
    themselves, `children` the subsets below elements (never empty). Sets are not changed once
    built, so operations share subtrees freely."""

    __slots__ = ("members", "children")

    def __init__(self, members=(), children=None):
        self.members = set(members)
        self.children = children if children is not None else {}

    @classmethod
    def of(cls, paths) -> PathSet:
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
                child = node.children[pe] = PathSet()
            node = child
        node.members.add(path[-1])

    def __bool__(self) -> bool:
        return bool(self.members or self.children)

    def union(self, other: PathSet) -> PathSet:
        if not other:
            return self
        if not self:
            return other
        children = dict(self.children)
        for pe, sub in other.children.items():
            children[pe] = children[pe].union(sub) if pe in children else sub
        return PathSet(self.members | other.members, children)

    def intersection(self, other: PathSet) -> PathSet:
        children = {}
        for pe, sub in self.children.items():
            if pe in other.children:
                common = sub.intersection(other.children[pe])
                if common:
                    children[pe] = common
        return PathSet(self.members & other.members, children)

    def difference(self, other: PathSet, recursive: bool = False) -> PathSet:
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
        return PathSet(self.members - other.members, children)

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
    def from_fields_v1(cls, fields) -> PathSet:
        return cls._read(fields)[0] or cls()

    @classmethod
    def _read(cls, node) -> tuple[PathSet | None, bool]:
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


def field_paths(paths) -> PathSet:
    return PathSet.of(tuple((FIELD, name) for name in path) for path in paths)


STRIPPED = field_paths([("apiVersion",), ("kind",), ("metadata",), *(("metadata", f) for f in _UNOWNED_META)])


class Comparison(NamedTuple):
    added: PathSet
    modified: PathSet
    removed: PathSet

    def excluding(self, paths: PathSet) -> Comparison:
        return Comparison(*(s.difference(paths, recursive=True) for s in self))

    def changed(self) -> PathSet:
        return self.added.union(self.modified)
