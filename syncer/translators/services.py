"""Services to the host: their selector picks this virtual namespace's pods there (by the marks
every host pod carries), and the host allocates the cluster IP, which then becomes the virtual
Service's own, so a name resolves to the same address on both sides.

spec.clusterIP cannot change, so the virtual Service is made again with the host's address, as
vcluster does: deleted (on its uid) and created as it was but for the address. While that
happens the loop finds no virtual object, which would otherwise mean "delete the host copy": the
keys being remade are noted (with the uid deleted) and their host copies kept for a while, the
key looked at again until the new object is seen; a note outlives no more than REMAKE_SECONDS,
so a Service deleted for good meanwhile still takes its host copy with it. A Service without a
selector loses its hand-made Endpoints when it is deleted (the endpoints controller removes
them): Endpoints deleted while it is remade, or within SETTLE_SECONDS of the new Service being
seen, are made again. Node ports the virtual Service has (its
own allocator gives them) are sent to the host, as vcluster sends them; one taken on the host is
refused there and retried with backoff until it is changed in the virtual Service. Headless Services stay headless, ExternalName ones pass through; the host's status (load
balancer ingress) is copied back.
"""
from __future__ import annotations

import copy
import logging
import time

from vapi import errors
from vapi.api import DeleteOptions
from vapi.controllers.workqueue import Retry

from .. import names
from ..host import HostResource
from ..syncer import Loop, Translator
from .common import marks, status_back

log = logging.getLogger("vapi.syncer")

# Allocated by each side for itself.
HOST_OWNED = ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "healthCheckNodePort")
NODE_PORT_TYPES = ("NodePort", "LoadBalancer")
# The virtual cluster's own `kubernetes` Service points at its API server, not at host pods.
SKIPPED = {("default", "kubernetes")}
REMAKE_SECONDS = 30.0
# How long after the remade Service is seen an Endpoints deletion is still taken for the endpoints
# controller's (it deletes them on the Service's deletion event, within moments).
SETTLE_SECONDS = 1.0


def _port_key(port: dict) -> tuple:
    return port.get("port"), port.get("protocol", "TCP")


def _address(spec: dict) -> str | None:
    """The cluster IP a Service has, None when it has none of its own (headless, ExternalName)."""
    ip = spec.get("clusterIP")
    return ip if ip and ip != "None" and spec.get("type") != "ExternalName" else None


class Services(Translator):
    kind = "Service"
    key = "services"
    virtual = ("", "v1", "services")
    host = HostResource("", "v1", "services")

    def __init__(self, ctx):
        super().__init__(ctx)
        self.info = ctx.resource(*self.virtual)
        # virtual key being made again with the host's address -> (the uid deleted, until when)
        self.remaking: dict[tuple, tuple[str, float]] = {}
        self.own_address: set[tuple] = set()  # keys that could not take the host's (taken here)
        self.endpoints = ctx.cache("", "v1", "endpoints")
        self.remade: dict[tuple, float] = {}   # keys remade lately, until when their Endpoints are watched
        self.kept: dict[tuple, dict] = {}      # Endpoints deleted with a remade Service, to make again

    def setup(self, loop: Loop) -> None:
        loop.watch_virtual("", "v1", "endpoints", self._endpoints_changed)

    def _endpoints_changed(self, endpoints: dict) -> list[tuple]:
        key = (endpoints["metadata"]["namespace"], endpoints["metadata"]["name"])
        if self.remade.get(key, 0.0) < time.monotonic():
            self.remade.pop(key, None)
            return []
        if self.endpoints.get(*key) is None:
            self.kept[key] = endpoints
        return [key]

    def selected(self, svc: dict) -> bool:
        meta = svc["metadata"]
        return (meta["namespace"], meta["name"]) not in SKIPPED

    async def fields(self, svc: dict, host: dict | None) -> dict:
        meta = svc["metadata"]
        spec = copy.deepcopy(svc.get("spec") or {})
        headless = spec.get("clusterIP") == "None"
        for key in HOST_OWNED:
            spec.pop(key, None)
        if headless:
            spec["clusterIP"] = "None"
        if spec.get("selector"):
            spec["selector"] = {**spec["selector"], **marks(self.ctx.vc, meta["namespace"])}
        host_spec = (host or {}).get("spec") or {}
        if host is not None and spec.get("type") != "ExternalName":
            for key in HOST_OWNED:
                if key in host_spec:
                    spec[key] = copy.deepcopy(host_spec[key])
        host_ports = {_port_key(p): p.get("nodePort") for p in host_spec.get("ports") or []}
        for port in spec.get("ports") or []:
            if spec.get("type") not in NODE_PORT_TYPES:
                port.pop("nodePort", None)
            elif not port.get("nodePort") and host_ports.get(_port_key(port)):
                port["nodePort"] = host_ports[_port_key(port)]
        return {"spec": spec}

    async def remove(self, host: dict) -> None:
        meta = host["metadata"]
        annotations = meta.get("annotations") or {}
        key = (annotations.get(names.OBJECT_NAMESPACE), annotations.get(names.OBJECT_NAME))
        if key in self.remaking:
            if self.remaking[key][1] > time.monotonic():
                raise Retry   # the virtual Service is being made again: look once it is back
            del self.remaking[key]
        await super().remove(host)

    async def back(self, svc: dict, host: dict) -> float | None:
        meta = svc["metadata"]
        key = (meta["namespace"], meta["name"])
        spec, host_spec = svc.get("spec") or {}, host.get("spec") or {}
        if self.remaking.get(key, ("", 0.0))[0] == meta["uid"]:
            return None   # the cache still holds the Service deleted to be made again
        self.remaking.pop(key, None)
        wanted = _address(host_spec)
        if wanted and _address(spec) and _address(spec) != wanted and key not in self.own_address:
            await self._remake(svc, host_spec)
            return None
        if key in self.remade:
            self.remade[key] = min(self.remade[key], time.monotonic() + SETTLE_SECONDS)
            await self._restore_endpoints(key)
        await status_back(self.ctx, self.virtual, svc, host.get("status"))
        return None

    async def _remake(self, svc: dict, host_spec: dict) -> None:
        meta = svc["metadata"]
        key = (meta["namespace"], meta["name"])
        again = copy.deepcopy(svc)
        for field in ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields"):
            again["metadata"].pop(field, None)
        again["spec"]["clusterIP"] = host_spec["clusterIP"]
        again["spec"]["clusterIPs"] = copy.deepcopy(host_spec.get("clusterIPs") or [host_spec["clusterIP"]])
        again.pop("status", None)
        self.remaking[key] = (meta["uid"], time.monotonic() + REMAKE_SECONDS)
        if not (svc.get("spec") or {}).get("selector"):
            self.remade[key] = time.monotonic() + REMAKE_SECONDS
        try:
            await self.ctx.api.delete(self.info, key[0], key[1], DeleteOptions(preconditions={"uid": meta["uid"]}))
        except errors.StatusError as e:
            if e.code in (404, 409):
                return   # changed meanwhile: its own event brings it back
            raise
        try:
            await self.ctx.api.create(self.info, key[0], again)
        except errors.StatusError as e:
            # The host's address is taken here: the Service comes back with one of its own.
            log.warning("service %s/%s: cannot take the host's cluster IP %s: %s", key[0], key[1],
                        host_spec["clusterIP"], e.message)
            for field in ("clusterIP", "clusterIPs"):
                again["spec"].pop(field, None)
            self.own_address.add(key)
            await self.ctx.api.create(self.info, key[0], again)

    async def _restore_endpoints(self, key: tuple) -> None:
        endpoints = self.kept.get(key)
        if endpoints is None or self.endpoints.get(*key) is not None:
            return
        meta = {k: v for k, v in endpoints["metadata"].items() if k in ("name", "namespace", "labels", "annotations")}
        try:
            await self.ctx.api.create(self.ctx.resource("", "v1", "endpoints"), key[0],
                                      {**endpoints, "metadata": meta})
        except errors.StatusError as e:
            if e.code != 409:
                raise
        self.kept.pop(key, None)

    async def gone(self, namespace: str | None, name: str) -> None:
        self.own_address.discard((namespace, name))
        self.kept.pop((namespace, name), None)
        self.remade.pop((namespace, name), None)
