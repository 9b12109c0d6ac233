"""CustomResourceDefinitions: validated as apiextensions-apiserver does, and held by a finalizer
until the CRD controller has deleted every custom resource of the definition."""
from __future__ import annotations

from admission import crdschema

from .builtin import BuiltinStrategy

CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


class CRDStrategy(BuiltinStrategy):
    create_finalizers = (CLEANUP_FINALIZER,)

    def validate(self, obj: dict, old: dict | None, subresource: str | None) -> list[dict]:
        causes = super().validate(obj, old, subresource)
        if subresource is None:
            causes += crdschema.validate_crd(obj, old)
        return causes
