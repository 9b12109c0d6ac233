"""Structural schemas (apiextensions-apiserver/pkg/apiserver/schema): what a CRD version's schema
must be for kube to prune, default and run rules with it, and its defaults, each of which must
survive pruning and validate against its own schema, rules included.
"""
from __future__ import annotations

import copy
import re

from admission.crdschema.celrules import CelRun
from admission.crdschema.errors import cr_value, Errors
from admission.crdschema.pruning import prune_unknown
from admission.crdschema.schemanodes import (additional_of, any_schema, is_embedded, items_of, META_FIELDS, preserves,
                                             properties_of, same, subschemas)
from admission.crdschema.values import (report_failures, schema_failures, validate_embedded_resource,
                                        validate_embedded_resources)
from admission.validation.fielderrors import child, keyed
from admission.validation.objects import as_dict, as_list, without

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


def is_set(value) -> bool:
    """Not Go's zero value (a 0 is set: kube's numeric constraints are pointers)."""
    return value is not None and value is not False and not (isinstance(value, (str, list, dict)) and not value)


def nonzero(s: dict) -> dict:
    return {k: v for k, v in s.items() if is_set(v)}


def first_unsupported(s) -> str:
    """NewStructural's complaint: the first field a structural schema cannot hold."""
    if not isinstance(s, dict):
        return ""
    for key, word in _UNSUPPORTED:
        if is_set(s.get(key)):
            return f"OpenAPIV3Schema '{word}' is not supported"
    if isinstance(s.get("items"), list):
        return "OpenAPIV3Schema 'items' must be a schema, but is an array"
    if s.get("x-kubernetes-preserve-unknown-fields") is False:
        return "internal error: 'x-kubernetes-preserve-unknown-fields' must be true or undefined"
    return next((problem for sub in subschemas(s) if (problem := first_unsupported(sub))), "")


def _int_or_string_any_of(any_of) -> bool:
    return isinstance(any_of, list) and [nonzero(as_dict(a)) for a in any_of] == [{"type": "integer"},
                                                                                   {"type": "string"}]


def _structural_nested(c: Errors, v: dict, level: str, path: str, skip_any_of: bool = False) -> None:
    """validateNestedValueValidation: inside allOf, anyOf, oneOf and not only value checks."""
    _structural_junctors(c, v, level, path, skip_any_of, False)
    if isinstance(v.get("items"), dict):
        _structural_nested(c, v["items"], level, child(path, "items"))
    for k, sub in properties_of(v).items():
        _structural_nested(c, as_dict(sub), "field", keyed(child(path, "properties"), k))
    for key, message in _GENERIC_NESTED:
        if is_set(v.get(key)) or key == "default" and v.get(key) is not None:
            c.forbidden(child(path, key), message)
    if "additionalProperties" in v:
        c.forbidden(child(path, "additionalProperties"), "must be undefined to be structural")
    if "metadata" in properties_of(v):
        c.forbidden(keyed(child(path, "properties"), "metadata"), "must not be specified in a nested context")


def _structural_junctors(c: Errors, s: dict, level: str, path: str, skip_any_of: bool,
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


def _structural_metadata(c: Errors, meta: dict, check: bool, level: str, path: str) -> None:
    if check and meta.get("type") != "object":
        c.invalid(child(path, "type"), meta.get("type") or "", "must be object")
    if level != "root":
        return
    rest = without(nonzero(meta), _METADATA_IGNORED)
    if set(properties_of(meta)) <= {"name", "generateName"}:
        rest.pop("properties", None)
    if rest:
        c.forbidden(path, "must not specify anything other than name and generateName, but metadata is implicitly "
                          "specified")


def _structural_invariants(c: Errors, s: dict, level: str, path: str) -> None:
    """validateStructuralInvariants."""
    kind = s.get("type") or ""
    if kind == "array" and "items" not in s:
        c.required(child(path, "items"), "must be specified")
    if isinstance(s.get("items"), dict):
        _structural_invariants(c, s["items"], "item", child(path, "items"))
    for k, sub in properties_of(s).items():
        _structural_invariants(c, as_dict(sub), "field", keyed(child(path, "properties"), k))
    if "additionalProperties" in s:
        if level == "root":
            c.forbidden(child(path, "additionalProperties"), "must not be used at the root")
        if additional_of(s) is not None:
            _structural_invariants(c, additional_of(s), "field", child(path, "additionalProperties"))
    int_or_string, embedded = s.get("x-kubernetes-int-or-string"), is_embedded(s)
    if int_or_string and preserves(s):
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
    elif not kind and not int_or_string and not preserves(s):
        c.required(child(path, "type"), _LEVEL_TYPE[level])
    if embedded and "additionalProperties" in s:
        c.forbidden(child(path, "additionalProperties"), "must not be used if x-kubernetes-embedded-resource is set")
    if level == "root" and kind and kind != "object":
        c.invalid(child(path, "type"), kind, "must be object at the root")
    check_meta = level == "root" or embedded
    props = properties_of(s)
    for field in ("kind", "apiVersion"):
        if field in props and check_meta and as_dict(props[field]).get("type") != "string":
            c.invalid(child(keyed(child(path, "properties"), field), "type"), as_dict(props[field]).get("type") or "",
                      "must be string")
    if "metadata" in props:
        _structural_metadata(c, as_dict(props["metadata"]), check_meta, level,
                             keyed(child(path, "properties"), "metadata"))
    if embedded and not preserves(s) and not props:
        c.required(child(path, "properties"), "must not be empty if x-kubernetes-embedded-resource is true without "
                                              "x-kubernetes-preserve-unknown-fields")


def _completeness(c: Errors, v: dict, s: dict | None, s_path: str, v_path: str) -> None:
    """validateStructuralCompleteness: what value validations name must exist structurally."""
    for junctor in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(as_list(v.get(junctor))):
            _nested_completeness(c, as_dict(sub), s, s_path, f"{child(v_path, junctor)}[{i}]")
    if isinstance(v.get("not"), dict):
        _nested_completeness(c, v["not"], s, s_path, child(v_path, "not"))


def _nested_completeness(c: Errors, v: dict, s: dict | None, s_path: str, v_path: str) -> None:
    if s is None:
        c.required(s_path, f"because it is defined in {v_path}")
        return
    _completeness(c, v, s, s_path, v_path)
    if isinstance(v.get("items"), dict):
        _nested_completeness(c, v["items"], items_of(s), child(s_path, "items"), child(v_path, "items"))
    for k, sub in properties_of(v).items():
        s_at, v_at = keyed(child(s_path, "properties"), k), keyed(child(v_path, "properties"), k)
        if k not in properties_of(s):
            c.required(s_at, f"because it is defined in {v_at}")
        else:
            _nested_completeness(c, as_dict(sub), properties_of(s)[k], s_at, v_at)


def structural_errors(schema: dict, path: str) -> list[dict]:
    """ValidateStructural's causes, sorted as kube sorts them (by their text)."""
    c = Errors()
    _structural_invariants(c, schema, "root", path)
    _completeness(c, schema, schema, path, path)
    return sorted(c.items, key=lambda cause: f"{cause['field']}: {cause['message']}")


def default_errors(c: Errors, s: dict, path: str, root: dict, inside_meta: bool, require_pruned: bool) -> None:
    """Every default must survive pruning and validate against its schema, CEL rules included."""
    if is_embedded(s):
        inside_meta, root = False, s
    resource = s is root  # the root counts as an embedded resource
    if s.get("default") is not None:
        value, at = s["default"], child(path, "default")
        if not inside_meta and require_pruned and _pruned_differs(s, resource):
            c.invalid(at, cr_value(value), "must not have unknown fields")
        before = len(c.items)
        if not inside_meta:
            if resource and not is_embedded(s) and isinstance(value, dict):
                validate_embedded_resource(c, value, at)
            validate_embedded_resources(c, s, value, at)
        if len(c.items) == before:
            report_failures(c, schema_failures(s, value, ""), at)
        if len(c.items) == before:
            CelRun(c, s, ratchet=False).walk(s, value, value, at, resource, False)
    if isinstance(s.get("items"), dict):
        default_errors(c, s["items"], child(path, "items"), root, inside_meta, require_pruned)
    for k, sub in properties_of(s).items():
        default_errors(c, as_dict(sub), keyed(child(path, "properties"), k), root,
                       inside_meta or resource and k in META_FIELDS, require_pruned)


def has_unpruned_defaults(schema) -> bool:
    """Whether a stored (structural) schema already has defaults that pruning would change."""
    if not isinstance(schema, dict) or first_unsupported(schema) or structural_errors(schema, ""):
        return False
    return any_schema(schema, lambda s: s.get("default") is not None and _pruned_differs(s, False))


def _pruned_differs(s: dict, resource: bool) -> bool:
    pruned = copy.deepcopy(s["default"])
    prune_unknown(pruned, s, "", [], embedded=resource)
    return not same(pruned, s["default"])
