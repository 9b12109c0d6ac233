"""Ingresses to the host (opt-in): the Services they send traffic to and their TLS Secrets take
their host names (the Secrets translator syncs those Secrets while an Ingress names them); the
host's status (load balancer addresses) is copied back."""
from __future__ import annotations

import copy

from ..host import HostResource
from ..syncer import Translator
from .common import status_back


class Ingresses(Translator):
    kind = "Ingress"
    key = "ingresses"
    virtual = ("networking.k8s.io", "v1", "ingresses")
    host = HostResource("networking.k8s.io", "v1", "ingresses")

    def _backend(self, backend: dict | None, namespace: str) -> None:
        service = (backend or {}).get("service") or {}
        if service.get("name"):
            service["name"] = self.ctx.host_name(service["name"], namespace)

    async def fields(self, ingress: dict, host: dict | None) -> dict:
        namespace = ingress["metadata"]["namespace"]
        spec = copy.deepcopy(ingress.get("spec") or {})
        self._backend(spec.get("defaultBackend"), namespace)
        for rule in spec.get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                self._backend(path.get("backend"), namespace)
        for tls in spec.get("tls") or []:
            if tls.get("secretName"):
                tls["secretName"] = self.ctx.host_name(tls["secretName"], namespace)
        return {"spec": spec}

    async def back(self, ingress: dict, host: dict) -> float | None:
        await status_back(self.ctx, self.virtual, ingress, host.get("status"))
        return None
