"""Endpoints to the host, only those of Services without a selector: for the others the host's
endpoints controller lists the synced pods itself. The addresses are the virtual ones, which are
already the host pods' IPs (or whatever a user put there)."""
from __future__ import annotations

from ..host import HostResource
from ..syncer import Loop, Translator
from .common import owned
from .services import SKIPPED


class Endpoints(Translator):
    kind = "Endpoints"
    key = "endpoints"
    virtual = ("", "v1", "endpoints")
    host = HostResource("", "v1", "endpoints")

    def __init__(self, ctx):
        super().__init__(ctx)
        self.services = ctx.cache("", "v1", "services")

    def setup(self, loop: Loop) -> None:
        # A Service that gains or loses its selector decides whether its Endpoints belong on the host.
        loop.watch_virtual("", "v1", "services",
                           lambda svc: [(svc["metadata"]["namespace"], svc["metadata"]["name"])])

    def selected(self, endpoints: dict) -> bool:
        meta = endpoints["metadata"]
        if (meta["namespace"], meta["name"]) in SKIPPED:
            return False
        svc = self.services.get(meta["namespace"], meta["name"])
        spec = (svc or {}).get("spec") or {}
        return svc is not None and not spec.get("selector") and spec.get("type") != "ExternalName"

    async def fields(self, endpoints: dict, host: dict | None) -> dict:
        return owned(endpoints, host, ("subsets",), {"subsets": []})
