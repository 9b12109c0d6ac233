"""DefaultTolerationSeconds: a pod tolerates its node being not ready or unreachable for five
minutes unless it says otherwise, as kube's plugin gives every pod on create."""
from __future__ import annotations

from ..chain import CREATE, Attributes, MutatingPlugin

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
DEFAULT_SECONDS = 300


class DefaultTolerationSeconds(MutatingPlugin):
    name = "DefaultTolerationSeconds"
    operations = frozenset((CREATE,))

    async def admit(self, attrs: Attributes) -> None:
        if (attrs.group, attrs.resource, attrs.subresource) != ("", "pods", "") or attrs.object is None:
            return
        spec = attrs.object.setdefault("spec", {})
        tolerations = spec.get("tolerations") or []
        for key in (NOT_READY, UNREACHABLE):
            # kube adds one unless a toleration of that key (or of every key) has the NoExecute
            # effect (or every effect).
            if any(t.get("effect") in ("NoExecute", "", None) and t.get("key") in (key, "", None)
                   for t in tolerations):
                continue
            tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                                "tolerationSeconds": DEFAULT_SECONDS})
        spec["tolerations"] = tolerations
