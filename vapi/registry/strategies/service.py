"""Services: cluster IPs and node ports are allocated on create and kept by updates that omit them."""
from __future__ import annotations

import copy

from ..allocators import allocate_service
from .builtin import BuiltinStrategy


class ServiceStrategy(BuiltinStrategy):
    def allocate(self, api, obj: dict) -> None:
        allocate_service(api, obj)

    def keep_on_update(self, svc: dict, old: dict) -> None:
        """An update that leaves out what was allocated keeps it, as clients rarely echo it back."""
        spec, old_spec = svc.setdefault("spec", {}), old.get("spec", {})
        if spec.get("type", "ClusterIP") == "ExternalName":
            return
        for field in ("clusterIP", "clusterIPs"):
            if not spec.get(field) and old_spec.get(field):
                spec[field] = copy.deepcopy(old_spec[field])
        if spec.get("type") not in ("NodePort", "LoadBalancer"):
            return
        allocated = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort") for p in old_spec.get("ports", [])}
        for port in spec.get("ports", []):
            if not port.get("nodePort") and allocated.get((port.get("port"), port.get("protocol", "TCP"))):
                port["nodePort"] = allocated[(port.get("port"), port.get("protocol", "TCP"))]
