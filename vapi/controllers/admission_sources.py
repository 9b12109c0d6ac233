"""What the dynamic admission plugins (webhooks, policies) read of the cluster, from the shared
informers' caches: their configurations, namespaces, where a webhook's Service is served, and
policies' parameter objects.

A webhook's `service` reference resolves through the Service as stored: an ExternalName Service
to its external name; any other Service to the first address of its Endpoints, on the endpoint
port named as the Service's port is (vapi runs no cluster network or DNS, so a selector-less
Service with Endpoints written by hand is how a webhook served outside is reached).
"""
from __future__ import annotations

from admission.validation.rules.meta import selector_matches

REGISTRATION = "admissionregistration.k8s.io"


class AdmissionSources:
    def __init__(self, lookups, registry, namespace_cached, namespace_live):
        self.lookups = lookups
        self.registry = registry
        self._namespace_cached = namespace_cached
        self._namespace_live = namespace_live

    def configs(self, plural: str):
        if self.registry.get(REGISTRATION, "v1", plural) is None:
            return lambda: []  # not served by this release
        return lambda: self.lookups.list(REGISTRATION, plural, None)

    async def namespace(self, name: str) -> dict | None:
        return self._namespace_cached(name) or await self._namespace_live(name)

    async def resolve(self, namespace: str, name: str, port: int) -> tuple[str, int]:
        service = self.lookups.get("", "services", namespace, name)
        if service is None:
            raise LookupError(f'service "{name}" not found')
        spec = service.get("spec") or {}
        if spec.get("type") == "ExternalName":
            return str(spec.get("externalName") or ""), port
        service_port = next((p for p in spec.get("ports") or [] if p.get("port") == port), None)
        if service_port is None:
            raise LookupError(f'service "{name}" has no port {port}')
        endpoints = self.lookups.get("", "endpoints", namespace, name) or {}
        for subset in endpoints.get("subsets") or []:
            ports = [p for p in subset.get("ports") or [] if p.get("name", "") == service_port.get("name", "")]
            if subset.get("addresses") and ports:
                return str(subset["addresses"][0].get("ip")), int(ports[0].get("port"))
        raise LookupError(f'no endpoints available for service "{name}"')

    async def params(self, api_version: str, kind: str, namespace: str | None, name: str | None,
                     selector: dict | None) -> list[dict] | None:
        group, _, version = api_version.rpartition("/")
        info = self.registry.by_kind(group, version, kind)
        if info is None:
            return None
        namespace = namespace if info.namespaced else None
        if name:
            found = self.lookups.get(group, info.plural, namespace, name)
            return [found] if found is not None else []
        return [obj for obj in self.lookups.list(group, info.plural, namespace)
                if selector_matches(selector or {}, (obj.get("metadata") or {}).get("labels"))]
