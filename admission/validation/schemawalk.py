"""The typed walk of a built-in object against its schema, and the generic checks kube's Go types
make of it, each answered as kube-apiserver answers at the same point of a request:
- `decode_errors`: what decoding the body into the Go type rejects (400 BadRequest);
- `unknown_fields`: what strict field validation reports (`fieldValidation=Strict|Warn`);
- `schema_required`: the required fields Go's validation finds empty (422 Invalid).
`walk` also serves defaulting, which sets what the schema's types leave unset.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

from admission.gotime import parse_rfc3339, RFC3339, RFC3339_MICRO
from admission.schemas import INT_OR_STRING, QUANTITY, Schemas
from admission.validation.fielderrors import Causes, child
from admission.validation.formats import base64_error, parse_quantity, QUANTITY_FORMAT_ERROR, quantity_text

META_V1 = "io.k8s.apimachinery.pkg.apis.meta.v1."
TIME = META_V1 + "Time"
MICRO_TIME = META_V1 + "MicroTime"
_TIME_LAYOUTS = {TIME: RFC3339, MICRO_TIME: RFC3339_MICRO}


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
    return child("", *loc)


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
        return _type_error(node, go_type, f"number {quantity_text(value)}")
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
            return QUANTITY_FORMAT_ERROR, True
        try:
            parse_quantity(quantity_text(value).strip())
        except ValueError as e:
            return str(e), True
        return None
    if t.ref in _TIME_LAYOUTS:
        if not isinstance(value, str):
            return _type_error(node, "string"), True
        try:
            parse_rfc3339(value, _TIME_LAYOUTS[t.ref])
        except ValueError as e:
            return str(e), True
        return None
    if t.open:
        return None
    kind, go_type = t.schema["type"], t.go_type
    if kind == "integer":
        problem = _int_problem(node, go_type)
    elif kind == "number":
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        problem = None if number else _type_error(node, go_type)
    elif kind == "string" and t.schema.get("format") == "byte" and isinstance(value, str):
        problem = base64_error(value)
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


def _is_string_map(t: _Type) -> bool:
    return t.additional is not None and t.value_type.schema.get("type") == "string"


def null_map_values(schemas: Schemas, group: str, version: str, kind: str, obj) -> None:
    """Go decodes a JSON null in a map of strings (labels, annotations, a ConfigMap's or a
    Secret's data) as the empty string, and keeps the key: so do we."""
    definition = schemas.name_for(group, version, kind)
    if definition is None or not isinstance(obj, dict):
        return
    for node in walk(schemas, definition, obj, only=_is_string_map):
        if isinstance(node.value, dict):
            for key, value in node.value.items():
                if value is None:
                    node.value[key] = ""


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


def schema_required(c: Causes, schemas: Schemas, definition: str, obj: dict) -> None:
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
