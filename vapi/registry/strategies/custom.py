"""The custom-resource family: a strategy built from a CustomResourceDefinition's version entry.

Custom resources have no Go types: their schema prunes unknown fields instead of a decoder, sets
their defaults, and carries their validation and CEL rules; the CRD also names their selectable
fields, printer columns and scale paths.
"""
from __future__ import annotations

import functools

from admission import crdschema, validation

from .. import selectors
from .base import ScalePaths, Strategy


class CustomResourceStrategy(Strategy):
    # Every custom resource counts generations (apiextensions-apiserver's strategy does).
    has_generation = True
    unstructured = True

    def __init__(self, info, schemas):
        super().__init__(info, schemas)
        self.version = info.crd
        self.openapi_schema = (self.version.get("schema") or {}).get("openAPIV3Schema") or {}
        self.printer_columns = self.version.get("additionalPrinterColumns") or None

    def decode(self, obj: dict) -> list[str]:
        return crdschema.prune(self.openapi_schema, obj, self.schemas.object_meta_fields)

    def default(self, obj: dict) -> None:
        crdschema.apply_defaults(self.openapi_schema, obj)

    def validate(self, obj: dict, old: dict | None, subresource: str | None) -> list[dict]:
        info = self.info
        causes = validation.validate(self.schemas, info.group, info.version, info.kind, obj, old,
                                     namespaced=info.namespaced, subresource=subresource)
        if subresource in (None, "status"):
            causes += crdschema.validate(self.openapi_schema, obj, old)
        return causes

    def _schema(self):
        return self.openapi_schema, (lambda node: node)

    @functools.cached_property
    def validates_off_loop(self) -> bool:
        """CEL rules may run once per item of a large list: up to seconds of work, which must not
        hold the event loop (the Strategy attribute SchemaValidation reads)."""
        return crdschema.has_rules(self.openapi_schema)

    @functools.cached_property
    def field_set(self) -> selectors.FieldSet:
        fields = {f["jsonPath"].lstrip("."): f["jsonPath"] for f in self.version.get("selectableFields") or []}
        return selectors.custom_field_set(fields, namespaced=self.info.namespaced)

    @functools.cached_property
    def scale(self) -> ScalePaths | None:
        declared = (self.version.get("subresources") or {}).get("scale")
        if declared is None:
            return None
        selector = declared.get("labelSelectorPath")
        return ScalePaths(declared["specReplicasPath"].lstrip("."), declared["statusReplicasPath"].lstrip("."),
                          selector.lstrip(".") if selector else None)
