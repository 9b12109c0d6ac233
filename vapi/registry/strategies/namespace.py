"""Namespaces: labelled with their name, the namespace controller's finalizer lives in spec, and
deletion means Terminating."""
from __future__ import annotations

from .builtin import BuiltinStrategy


NAME_LABEL = "kubernetes.io/metadata.name"


class NamespaceStrategy(BuiltinStrategy):
    def canonicalize(self, obj: dict) -> None:
        # Every namespace is selectable by its name, generated names included.
        meta = obj["metadata"]
        if meta.get("name"):
            meta["labels"] = {**(meta.get("labels") or {}), NAME_LABEL: meta["name"]}

    def pending_finalizers(self, obj: dict) -> bool:
        # Namespaces carry the namespace controller's own finalizer in spec, not in metadata.
        return super().pending_finalizers(obj) or bool(obj.get("spec", {}).get("finalizers"))

    def prepare_for_delete(self, obj: dict) -> None:
        obj.setdefault("status", {})["phase"] = "Terminating"
