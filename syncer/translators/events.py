"""Events about this cluster's host objects, shown on the virtual objects they stand for, so that
`kubectl describe pod` in the virtual cluster shows what the host's scheduler and kubelets said.

Host events carry no mark of ours, so every event of the host namespace is watched and those
whose involvedObject is one of this cluster's host copies are shown: in the virtual object's
namespace, about the virtual object, with the host copy's name in the message put back as the
virtual name (as vcluster does). The virtual event's name is made from the host event's, so a
repeat (a higher count) updates the same virtual event and a restart makes no second one.
"""
from __future__ import annotations

import hashlib
import re

from .. import origins
from ..fromhost import Mirror
from ..host import HostResource

# Other host names of this cluster's objects in a message, by the shape `NAME-x-NS-x-VC`.
NAME = r"[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?"


class Events(Mirror):
    key = "events"
    host = HostResource("", "v1", "events")
    virtual = ("", "v1", "events")

    def host_key(self, obj: dict) -> tuple | None:
        return None   # a virtual event is the virtual cluster's to keep or drop

    async def _origin(self, host: dict) -> origins.Origin | None:
        ref = host.get("involvedObject") or {}
        if ref.get("namespace") != self.ctx.host.namespace or not ref.get("name"):
            return None
        return await origins.resolve(self.ctx, ref.get("kind", ""), ref["name"])

    async def virtual_key(self, host_key: tuple, host: dict | None) -> tuple | None:
        if host is None:
            return None   # the host forgot it (its TTL); the virtual cluster's own TTL ends the copy
        origin = await self._origin(host)
        if origin is None:
            return None
        prefix = host["involvedObject"]["name"] + "."
        name = host["metadata"]["name"]
        suffix = name[len(prefix):] if name.startswith(prefix) else hashlib.sha256(name.encode()).hexdigest()[:16]
        return origin.namespace, f"{origin.name}.{suffix}"

    async def build(self, host: dict, key: tuple) -> dict | None:
        origin = await self._origin(host)
        if origin is None:
            return None
        ref = host["involvedObject"]
        body = {k: v for k, v in host.items() if k not in ("metadata", "involvedObject", "related")}
        body["metadata"] = {"name": key[1], "namespace": key[0], "labels": dict(self.mark)}
        involved = {k: v for k, v in ref.items() if k != "resourceVersion"}
        involved.update(namespace=origin.namespace, name=origin.name)
        if origin.uid:
            involved["uid"] = origin.uid
        body["involvedObject"] = involved
        if body.get("message"):
            body["message"] = self.message(body["message"], ref["name"], origin)
        return body

    def message(self, text: str, host_name: str, origin: origins.Origin) -> str:
        """`text` with the host copy's names put back as the virtual object's."""
        text = text.replace(f"{self.ctx.host.namespace}/{host_name}", f"{origin.namespace}/{origin.name}")
        text = text.replace(host_name, origin.name)

        def virtual_name(match: re.Match) -> str:
            for namespace, name in origins.candidates(match.group(0), self.ctx.vc):
                if self.ctx.host_name(name, namespace) == match.group(0):
                    return name
            return match.group(0)
        return re.sub(rf"\b{NAME}-x-{re.escape(self.ctx.vc)}\b", virtual_name, text)

