"""CustomResourceDefinitions: the schema engine apiextensions-apiserver runs for them, without HTTP.

- `validate_crd`: what kube's CRD strategy rejects on create and update (422 causes), spec and
  status; the object metadata, and the `metadata.name == plural.group` rule, stay with
  `validation.validate`, which judges CRDs like every built-in kind.
- `prune`, `apply_defaults`, `validate`: what happens to a custom resource on its way to storage:
  unknown fields dropped (their paths reported, for fieldValidation), defaults set, then the
  OpenAPI schema, embedded resources, list types and the x-kubernetes-validations CEL rules judged.

Schemas are the `openAPIV3Schema` dicts of a v1 CRD version, walked as they are (`schemanodes`).
Messages are kube's, built the way kube-openapi and apimachinery's field errors build them, since
clients show them to people who compare them with a real cluster. A custom resource goes through
`pruning`, `values` and `celrules`; a CRD through `crd`, which checks each version's schema with
`structural` and `schemacheck`.
"""
from __future__ import annotations

from admission.crdschema.celrules import BLOCKING, CelRun
from admission.crdschema.crd import stored_versions, validate_crd
from admission.crdschema.errors import Errors
from admission.crdschema.pruning import apply_defaults, prune
from admission.crdschema.schemanodes import ABSENT, any_schema
from admission.crdschema.values import (report_failures, schema_failures, validate_embedded_resources,
                                       validate_list_types)
from admission.gofmt import Go

__all__ = ["apply_defaults", "has_rules", "prune", "stored_versions", "validate", "validate_crd"]


def has_rules(schema: dict) -> bool:
    """Whether any part of the schema carries x-kubernetes-validations (CEL rules)."""
    return any_schema(schema, lambda s: bool(s.get("x-kubernetes-validations")))


def validate(schema: dict, obj: dict, old: dict | None = None) -> list[dict]:
    """A custom resource against its version's schema, as kube's strategy judges a create (old is
    None) or an update: OpenAPI schema (parts left as they were are not judged again), embedded
    resources, list-type sets and maps, then the CEL rules unless a type, required, enum or size
    error means the object does not have the shape the rules expect."""
    c = Errors()
    report_failures(c, schema_failures(schema, obj, "", ABSENT if old is None else old), "")
    validate_embedded_resources(c, schema, obj, "")
    if old is None or not _list_problems(schema, old):
        validate_list_types(c, schema, obj, "")
    if has_rules(schema):
        if any(cause["reason"] in BLOCKING for cause in c.items):
            c.invalid("", Go('"null"'), "some validation rules were not checked because the object was invalid; "
                                        "correct the existing errors to complete validation")
        else:
            CelRun(c, schema, ratchet=True).walk(schema, obj, ABSENT if old is None else old, "", True, False)
    return c.items


def _list_problems(schema: dict, obj) -> bool:
    c = Errors()
    validate_list_types(c, schema, obj, "")
    return bool(c.items)
