"""EndpointSlices for every Service with a selector, as kube's endpointslice-controller keeps them.

Each pod the selector picks that has an IP and has not finished is an endpoint, its conditions as
kube computes them (serving = Ready, terminating = being deleted, ready = serving and not
terminating, or always under publishNotReadyAddresses), with its node, the node's zone and a
reference to the pod. Pods whose named target ports resolve alike share slices, at most 100
endpoints to a slice; an endpoint stays in the slice it was in, new ones fill slices with room
before new slices are made, and a Service that selects nothing keeps one empty placeholder
slice. Slices are named after the Service (generateName), owned by it and labelled with its name
and this controller as their manager; other managers' slices are left alone.
"""
from __future__ import annotations

import ipaddress

from .pods import is_pod_ready, owner_reference
from .service_pods import (SERVICE_NAME, TRIGGER_TIME, endpoint_labels, pod_ip, selected_pods, served_ports,
                           service_selector, should_be_in_endpoints, should_set_hostname, target_ref,
                           trigger_time, watch_selected_pods)
from .slice_writer import CACHE_WAIT, MANAGED_BY, SliceWriter, ports_key

CONTROLLER_NAME = "endpointslice-controller.k8s.io"
MAX_ENDPOINTS = 100
ZONE = "topology.kubernetes.io/zone"


def address_type(svc: dict) -> str:
    families = (svc.get("spec") or {}).get("ipFamilies") or ["IPv4"]
    return families[0]


def _family(ip: str) -> str:
    try:
        return "IPv6" if ipaddress.ip_address(ip).version == 6 else "IPv4"
    except ValueError:
        return ""


def endpoint_ports(pod: dict, svc: dict) -> list[dict]:
    """discovery/v1 EndpointPorts, in the field order kube writes them."""
    return [{"name": p["name"], "protocol": p["protocol"], "port": p["port"],
             **({"appProtocol": p["appProtocol"]} if "appProtocol" in p else {})} for p in served_ports(pod, svc)]


def pod_endpoint(pod: dict, svc: dict, node: dict | None) -> dict:
    serving = is_pod_ready(pod)
    terminating = bool(pod["metadata"].get("deletionTimestamp"))
    ready = bool((svc.get("spec") or {}).get("publishNotReadyAddresses")) or (serving and not terminating)
    endpoint: dict = {"addresses": [pod_ip(pod)],
                      "conditions": {"ready": ready, "serving": serving, "terminating": terminating}}
    if should_set_hostname(pod, svc):
        endpoint["hostname"] = pod["spec"]["hostname"]
    endpoint["targetRef"] = target_ref(pod)
    node_name = (pod.get("spec") or {}).get("nodeName")
    if node_name:
        endpoint["nodeName"] = node_name
    zone = ((node or {}).get("metadata", {}).get("labels") or {}).get(ZONE)
    if zone:
        endpoint["zone"] = zone
    return endpoint


def _endpoint_key(endpoint: dict) -> str:
    ref = endpoint.get("targetRef") or {}
    return ref.get("uid") or ",".join(endpoint.get("addresses") or [])


def slice_labels(svc: dict) -> dict:
    labels = {k: v for k, v in endpoint_labels(svc).items() if k not in (SERVICE_NAME, MANAGED_BY)}
    labels[SERVICE_NAME] = svc["metadata"]["name"]
    labels[MANAGED_BY] = CONTROLLER_NAME
    return labels


class EndpointSliceController(SliceWriter):
    user = "endpointslice-controller"
    manager = CONTROLLER_NAME
    primary = ("", "v1", "services")
    workers = 2

    def setup(self) -> None:
        watch_selected_pods(self)
        self.watch_slices()
        self._read.append(self.cache("", "v1", "nodes"))

    def desired(self, svc: dict, pods: list[dict]) -> dict[tuple, tuple[list[dict], dict[str, dict]]]:
        """ports key -> (ports, endpoint key -> endpoint) for every pod that belongs in a slice."""
        nodes = self.cache("", "v1", "nodes")
        family = address_type(svc)
        groups: dict[tuple, tuple[list[dict], dict[str, dict]]] = {}
        for pod in pods:
            if not should_be_in_endpoints(pod, include_terminating=True) or _family(pod_ip(pod)) != family:
                continue
            ports = endpoint_ports(pod, svc)
            node = nodes.get(None, pod["spec"]["nodeName"]) if (pod.get("spec") or {}).get("nodeName") else None
            endpoint = pod_endpoint(pod, svc, node)
            groups.setdefault(ports_key(ports), (ports, {}))[1][_endpoint_key(endpoint)] = endpoint
        return groups

    async def reconcile(self, namespace: str, name: str) -> float | None:
        if self.cache_behind((namespace, name)):
            return CACHE_WAIT
        svc = self.cache(*self.primary).get(namespace, name)
        if svc is None or svc["metadata"].get("deletionTimestamp") or service_selector(svc) is None:
            return None  # gone (the slices are collected with their owner) or not ours to fill
        pods = selected_pods(self.cache("", "v1", "pods").list(namespace), svc)
        groups = self.desired(svc, pods)
        existing = self.owned_slices(namespace, name)
        annotations = {TRIGGER_TIME: trigger_time(svc, pods)}
        writes: list[tuple[dict | None, dict]] = []   # (current or None, wanted)
        stale = [s for s in existing if s.get("addressType") != address_type(svc)]
        existing = [s for s in existing if s not in stale]
        if not groups:
            writes.append((existing[0] if existing else None, self._slice(svc, [], None, annotations)))
            stale += existing[1:]
        by_ports: dict[tuple, list[dict]] = {}
        for current in existing if groups else []:
            by_ports.setdefault(ports_key(current.get("ports")), []).append(current)
        for key in by_ports:
            if key not in groups:
                stale += by_ports[key]
        for key, (ports, wanted) in groups.items():
            placed: list[tuple[dict | None, list[dict]]] = []
            for current in by_ports.get(key, []):
                kept = [wanted.pop(_endpoint_key(e)) for e in current.get("endpoints") or []
                        if _endpoint_key(e) in wanted]
                placed.append((current, kept))
            rest = list(wanted.values())
            for i, (current, kept) in enumerate(placed):
                room = MAX_ENDPOINTS - len(kept)
                if room > 0 and rest:
                    placed[i] = (current, kept + rest[:room])
                    rest = rest[room:]
            while rest:
                placed.append((None, rest[:MAX_ENDPOINTS]))
                rest = rest[MAX_ENDPOINTS:]
            for current, endpoints in placed:
                if endpoints:
                    writes.append((current, self._slice(svc, endpoints, ports, annotations)))
                else:
                    stale.append(current)
        for current, wanted in writes:
            await self.write_slice((namespace, name), current, wanted)
        for current in stale:
            await self.delete_slice((namespace, name), current)
        return None

    def _slice(self, svc: dict, endpoints: list[dict], ports: list[dict] | None, annotations: dict) -> dict:
        meta = svc["metadata"]
        return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"generateName": f"{meta['name']}-", "namespace": meta["namespace"],
                             "labels": slice_labels(svc), "annotations": dict(annotations),
                             "ownerReferences": [owner_reference(svc, "v1", "Service")]},
                "addressType": address_type(svc), "endpoints": endpoints, "ports": ports}
