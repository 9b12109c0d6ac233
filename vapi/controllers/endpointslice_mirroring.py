"""EndpointSlices mirrored from the Endpoints a user writes for a Service without a selector, as
kube's endpointslicemirroring-controller keeps them.

Each subset's ready addresses become ready endpoints and its not-ready addresses unready ones,
with the subset's ports, one slice per address family and port set (at most 1000 endpoints to a
slice, and 1000 addresses taken from a subset). Slices carry the Endpoints' labels and
annotations (less the ones kube leaves behind), the Service's name and this controller as their
manager, and are owned by the Endpoints. Nothing is mirrored for a Service with a selector (its
slices are the endpointslice controller's), for Endpoints labelled to skip mirroring (the
apiserver's own `kubernetes` Endpoints) or when either object is missing; what was mirrored
before is then deleted.
"""
from __future__ import annotations

import ipaddress

from .pods import owner_reference
from .service_pods import SERVICE_NAME
from .slice_writer import CACHE_WAIT, MANAGED_BY, SliceWriter, ports_key

CONTROLLER_NAME = "endpointslicemirroring-controller.k8s.io"
SKIP_MIRROR = "endpointslice.kubernetes.io/skip-mirror"
MAX_PER_SUBSET = 1000
MAX_PER_SLICE = 1000
DROPPED_ANNOTATIONS = ("endpoints.kubernetes.io/last-change-trigger-time",
                       "kubectl.kubernetes.io/last-applied-configuration")


def _family(ip: str) -> str | None:
    try:
        return "IPv6" if ipaddress.ip_address(ip).version == 6 else "IPv4"
    except ValueError:
        return None  # not an IP (kube leaves such addresses out)


def _endpoint(address: dict, ready: bool) -> dict:
    endpoint: dict = {"addresses": [address["ip"]], "conditions": {"ready": ready}}
    for source, target in (("hostname", "hostname"), ("targetRef", "targetRef"), ("nodeName", "nodeName")):
        if address.get(source):
            endpoint[target] = address[source]
    return endpoint


def _slice_ports(subset: dict) -> list[dict]:
    ports = []
    for port in subset.get("ports") or []:
        out = {"name": port.get("name", ""), "protocol": port.get("protocol") or "TCP", "port": port.get("port")}
        if port.get("appProtocol"):
            out["appProtocol"] = port["appProtocol"]
        ports.append(out)
    return ports


def mirrored_groups(endpoints: dict) -> dict[tuple, tuple[str, list[dict], list[dict]]]:
    """(address type, ports key) -> (address type, ports, endpoints) over every subset."""
    groups: dict[tuple, tuple[str, list[dict], list[dict]]] = {}
    for subset in endpoints.get("subsets") or []:
        ports = _slice_ports(subset)
        addresses = [(a, True) for a in subset.get("addresses") or []] + \
            [(a, False) for a in subset.get("notReadyAddresses") or []]
        for address, ready in addresses[:MAX_PER_SUBSET]:
            family = _family(address.get("ip", ""))
            if family is None:
                continue
            group = groups.setdefault((family, ports_key(ports)), (family, ports, []))
            group[2].append(_endpoint(address, ready))
    return groups


class EndpointSliceMirroringController(SliceWriter):
    user = "endpointslicemirroring-controller"
    manager = CONTROLLER_NAME
    primary = ("", "v1", "endpoints")

    def setup(self) -> None:
        self.watch("", "v1", "services", lambda svc: [(svc["metadata"]["namespace"], svc["metadata"]["name"])])
        self.watch_slices()

    async def reconcile(self, namespace: str, name: str) -> float | None:
        key = (namespace, name)
        if self.cache_behind(key):
            return CACHE_WAIT
        endpoints = self.cache(*self.primary).get(namespace, name)
        svc = self.cache("", "v1", "services").get(namespace, name)
        existing = self.owned_slices(namespace, name)
        mirror = endpoints is not None and svc is not None and not (svc.get("spec") or {}).get("selector") \
            and (endpoints["metadata"].get("labels") or {}).get(SKIP_MIRROR) != "true" \
            and not endpoints["metadata"].get("deletionTimestamp")
        wanted = []
        if mirror:
            for family, ports, found in mirrored_groups(endpoints).values():
                for start in range(0, len(found), MAX_PER_SLICE):
                    wanted.append(self._slice(endpoints, family, ports, found[start:start + MAX_PER_SLICE]))
        by_shape: dict[tuple, list[dict]] = {}
        for current in existing:
            by_shape.setdefault((current.get("addressType"), ports_key(current.get("ports"))), []).append(current)
        for slice_ in wanted:
            matches = by_shape.get((slice_["addressType"], ports_key(slice_["ports"])))
            await self.write_slice(key, matches.pop(0) if matches else None, slice_)
        for leftovers in by_shape.values():
            for current in leftovers:
                await self.delete_slice(key, current)
        return None

    def _slice(self, endpoints: dict, family: str, ports: list[dict], found: list[dict]) -> dict:
        meta = endpoints["metadata"]
        labels = {k: v for k, v in (meta.get("labels") or {}).items() if k not in (SERVICE_NAME, MANAGED_BY)}
        labels.update({SERVICE_NAME: meta["name"], MANAGED_BY: CONTROLLER_NAME})
        annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in DROPPED_ANNOTATIONS}
        return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"generateName": f"{meta['name']}-", "namespace": meta["namespace"], "labels": labels,
                             "annotations": annotations,
                             "ownerReferences": [owner_reference(endpoints, "v1", "Endpoints")]},
                "addressType": family, "endpoints": found, "ports": ports}
