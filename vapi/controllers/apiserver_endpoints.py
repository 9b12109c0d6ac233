"""The `kubernetes` Service in `default` and where it leads: this server.

kube-apiserver keeps the Service (cluster IP the first of the service range, port 443 `https`
reaching the server's secure port) and writes its Endpoints and EndpointSlice itself, naming the
address it advertises; no controller fills them (the Service has no selector, and the Endpoints
are marked so the mirroring controller skips them). The port may differ at every start (port 0
picks a free one), so all three are brought up to date after the server has bound its socket.
"""
from __future__ import annotations

import ipaddress

from .. import errors
from ..registry.allocators import KUBERNETES_SERVICE_IP

NAMESPACE = "default"
NAME = "kubernetes"
SKIP_MIRROR = "endpointslice.kubernetes.io/skip-mirror"


def advertised_address(host: str) -> str:
    """The address pods are told to reach the server at: its bind address, or the loopback one
    when it listens on every address (or on a name)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "127.0.0.1"
    return "127.0.0.1" if address.is_unspecified or address.version != 4 else str(address)


def service(port: int) -> dict:
    return {"metadata": {"name": NAME, "namespace": NAMESPACE,
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": KUBERNETES_SERVICE_IP, "sessionAffinity": "None", "type": "ClusterIP",
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}]}}


def endpoints(address: str, port: int) -> dict:
    return {"metadata": {"name": NAME, "namespace": NAMESPACE, "labels": {SKIP_MIRROR: "true"}},
            "subsets": [{"addresses": [{"ip": address}],
                         "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]}


def endpoint_slice(address: str, port: int) -> dict:
    return {"metadata": {"name": NAME, "namespace": NAMESPACE, "labels": {"kubernetes.io/service-name": NAME}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [address], "conditions": {"ready": True}}],
            "ports": [{"name": "https", "protocol": "TCP", "port": port}]}


async def _put(api, info, wanted: dict, fields: tuple[str, ...], opts) -> None:
    """Create `wanted`, or give the stored object its `fields` (and labels) when they differ."""
    current = api.lookup(info, NAMESPACE, NAME)
    if current is None:
        try:
            await api.create(info, NAMESPACE, wanted, opts)
        except errors.StatusError as e:
            if e.code != 409:
                raise
        return

    def update(obj: dict) -> dict:
        for field in fields:
            if field == "spec":
                obj["spec"] = {**(obj.get("spec") or {}), "ports": wanted["spec"]["ports"]}
            else:
                obj[field] = wanted[field]
        labels = obj["metadata"].get("labels") or {}
        obj["metadata"]["labels"] = {**labels, **wanted["metadata"]["labels"]}
        return obj

    stale = any(_differs(current, wanted, field) for field in fields) or \
        any((current["metadata"].get("labels") or {}).get(k) != v for k, v in wanted["metadata"]["labels"].items())
    if stale:
        await api.guaranteed_update(info, NAMESPACE, NAME, update, opts=opts)


def _differs(current: dict, wanted: dict, field: str) -> bool:
    if field == "spec":
        return (current.get("spec") or {}).get("ports") != wanted["spec"]["ports"]
    return current.get(field) != wanted[field]


async def ensure_kubernetes_service(api, host: str, port: int, opts=None) -> None:
    """The Service, its Endpoints and its EndpointSlice, pointing at `host:port`, written as
    `opts.user` (the server's own identity)."""
    address = advertised_address(host)
    await _put(api, api.registry.get("", "v1", "services"), service(port), ("spec",), opts)
    await _put(api, api.registry.get("", "v1", "endpoints"), endpoints(address, port), ("subsets",), opts)
    await _put(api, api.registry.get("discovery.k8s.io", "v1", "endpointslices"), endpoint_slice(address, port),
               ("addressType", "endpoints", "ports"), opts)
