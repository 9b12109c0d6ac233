"""PersistentVolumeClaims to the host. A claim's spec is fixed once made, but for the storage it
requests, which may grow: the host copy is made from the virtual spec (storageClassName as given,
volumeName only when PersistentVolumes come from the host, since it names a host volume) and
afterwards only a larger request is sent. The host owns status (phase, capacity, access modes,
conditions), copied back."""
from __future__ import annotations

import copy

from admission.quantity import Quantity

from ..host import HostResource
from ..syncer import Translator
from .common import status_back


def _larger(virtual: dict, host: dict) -> dict:
    """The host's requests with each that the virtual claim asks more of raised to it."""
    requests = dict(host)
    for name, value in virtual.items():
        try:
            if name not in host or Quantity.parse(value).value > Quantity.parse(host[name]).value:
                requests[name] = value
        except ValueError:
            continue
    return requests


class PersistentVolumeClaims(Translator):
    kind = "PersistentVolumeClaim"
    key = "persistentVolumeClaims"
    virtual = ("", "v1", "persistentvolumeclaims")
    host = HostResource("", "v1", "persistentvolumeclaims")

    async def fields(self, claim: dict, host: dict | None) -> dict:
        spec = copy.deepcopy(claim.get("spec") or {})
        if host is None:
            if not self.ctx.config.enabled("fromHost", "persistentVolumes"):
                spec.pop("volumeName", None)
            return {"spec": spec}
        host_spec = copy.deepcopy(host.get("spec") or {})
        virtual_requests = (spec.get("resources") or {}).get("requests") or {}
        host_requests = (host_spec.get("resources") or {}).get("requests") or {}
        grown = _larger(virtual_requests, host_requests)
        if grown != host_requests:
            host_spec.setdefault("resources", {})["requests"] = grown
        return {"spec": host_spec}

    async def back(self, claim: dict, host: dict) -> float | None:
        await status_back(self.ctx, self.virtual, claim, host.get("status"))
        return None
