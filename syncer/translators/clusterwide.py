"""The host's StorageClasses, IngressClasses and PersistentVolumes, opt-in under sync.fromHost: a
virtual cluster's workloads pick classes the host offers, and see the volumes their claims got.

Each shows under its own name, read-only. A PersistentVolume's claimRef names the host copy of a
claim; it is shown as the virtual claim it stands for.
"""
from __future__ import annotations

from .. import origins
from ..fromhost import Mirror
from ..host import HostResource


class StorageClasses(Mirror):
    key = "storageClasses"
    host = HostResource("storage.k8s.io", "v1", "storageclasses", namespaced=False)
    virtual = ("storage.k8s.io", "v1", "storageclasses")


class IngressClasses(Mirror):
    key = "ingressClasses"
    host = HostResource("networking.k8s.io", "v1", "ingressclasses", namespaced=False)
    virtual = ("networking.k8s.io", "v1", "ingressclasses")


class PersistentVolumes(Mirror):
    key = "persistentVolumes"
    host = HostResource("", "v1", "persistentvolumes", namespaced=False)
    virtual = ("", "v1", "persistentvolumes")
    status = True

    def setup(self, loop) -> None:
        def volumes(claim: dict) -> list[tuple]:
            """The host volumes bound to this claim's host copy: its origin shows on them."""
            meta = claim["metadata"]
            copy = self.ctx.host_name(meta["name"], meta.get("namespace"))
            return [(None, pv["metadata"]["name"]) for pv in loop.hosts.list()
                    if ((pv.get("spec") or {}).get("claimRef") or {}).get("name") == copy]
        loop.watch_virtual("", "v1", "persistentvolumeclaims", volumes)

    async def build(self, host: dict, key: tuple) -> dict | None:
        body = await super().build(host, key)
        ref = (body.get("spec") or {}).get("claimRef")
        if ref and ref.get("namespace") == self.ctx.host.namespace:
            origin = await origins.resolve(self.ctx, "PersistentVolumeClaim", ref.get("name", ""))
            if origin is not None:
                body["spec"]["claimRef"] = {**{k: v for k, v in ref.items() if k != "resourceVersion"},
                                            "namespace": origin.namespace, "name": origin.name,
                                            "uid": origin.uid or ref.get("uid")}
        return body
