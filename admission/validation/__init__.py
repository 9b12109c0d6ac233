"""Validation of built-in objects, in kube-apiserver's own words.

Three checks, each answering what kube-apiserver answers at the same point of a request:
- `decode_errors`: what decoding the body into the Go type rejects (400 BadRequest);
- `unknown_fields`: what strict field validation reports (`fieldValidation=Strict|Warn`);
- `validate`: the per-kind validation (422 Invalid), as StatusCauses.
The schemas drive the generic parts (JSON types, unknown and required fields: `schemawalk`). The
rules kube writes by hand per kind live in `rules`, one module per API group as kube's
`pkg/apis/*/validation`, on top of `fielderrors` (causes and their messages), `names` and `formats`
(the formats kube checks) and `objects` (reading objects as kube's Go code does).
"""
from __future__ import annotations

from admission.gofmt import Go, go_quote
from admission.schemas import Schemas
from admission.validation.fielderrors import Causes, IMMUTABLE, invalid_message
from admission.validation.formats import cron_error, parse_quantity
from admission.validation.names import is_dns1123_subdomain, is_label_value, is_qualified_name
from admission.validation.objects import as_dict, dig, semantic
from admission.validation.rules import IMMUTABLE_FIELDS, KIND_RULES, NAME_FORMATS, OWN_METADATA
from admission.validation.rules.meta import validate_object_meta, validate_object_meta_update
from admission.validation.rules.rbac import RBAC
from admission.validation.schemawalk import decode_errors, Node, null_map_values, schema_required, unknown_fields, walk

__all__ = ["RBAC", "Node", "cron_error", "decode_errors", "dig", "go_quote", "invalid_message", "is_label_value",
           "is_qualified_name", "null_map_values", "parse_quantity", "unknown_fields", "validate", "walk"]


def _immutable_fields(c: Causes, group: str, kind: str, obj: dict, old: dict) -> None:
    for dotted, render in IMMUTABLE_FIELDS.get((group, kind), ()):
        new = dig(obj, dotted)
        if semantic(new) != semantic(dig(old, dotted)):
            c.invalid(dotted, Go(render(new)), IMMUTABLE)


def validate(schemas: Schemas, group: str, version: str, kind: str, obj: dict, old: dict | None = None, *,
             namespaced: bool, subresource: str | None = None) -> list[dict]:
    """kube-apiserver's validation of a create (`old` None) or an update, as StatusCauses.

    A write to a subresource (status, finalize, binding...) is judged on its metadata only: what
    else it may change is the subresource's strategy's business.
    """
    c = Causes()
    meta = as_dict(obj.get("metadata"))
    core = group != "apiextensions.k8s.io" and schemas.name_for(group, version, kind) is not None
    if old is not None:
        validate_object_meta_update(c, meta, as_dict(old.get("metadata")), core=core)
    elif (group, kind) not in OWN_METADATA:
        validate_object_meta(c, meta, NAME_FORMATS.get((group, kind), is_dns1123_subdomain), namespaced, core=core)
    if subresource is not None:
        return c.items
    rule = KIND_RULES.get((group, version, kind))
    if rule:
        rule(c, obj, old)
    if old is not None:
        _immutable_fields(c, group, kind, obj, old)
    definition = schemas.name_for(group, version, kind)
    if definition:
        schema_required(c, schemas, definition, obj)
    return c.items
