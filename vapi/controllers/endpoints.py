"""core/v1 Endpoints for every Service with a selector, as kube's endpoint-controller keeps them.

The Endpoints object is named after its Service and carries its labels (marked headless when the
Service has no cluster IP). Ready pods are `addresses`, others `notReadyAddresses` (all of them
`addresses` under publishNotReadyAddresses, which alone keeps pods being deleted), grouped into
subsets by the ports they serve; more than 1000 addresses are cut to 1000, ready ones first, and
the object is annotated as over capacity. A Service without a selector keeps whatever Endpoints
its user writes; deleting a Service deletes its Endpoints.
"""
from __future__ import annotations

from .. import errors
from .pods import is_pod_ready
from .reconciler import Reconciler
from .service_pods import (TRIGGER_TIME, create_unless_terminating, endpoint_labels, pod_ip, selected_pods,
                           served_ports, service_selector, should_be_in_endpoints, should_set_hostname,
                           target_ref, trigger_time, watch_selected_pods)

MAX_ADDRESSES = 1000
OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity"


def _ports(pod: dict, svc: dict) -> list[dict]:
    """core/v1 EndpointPorts: an unnamed port has no name at all."""
    ports = [{k: v for k, v in p.items() if k != "name" or v} for p in served_ports(pod, svc)]
    return sorted(ports, key=lambda p: (p.get("name", ""), p["port"], p["protocol"]))


def _address(pod: dict, svc: dict) -> dict:
    address = {"ip": pod_ip(pod)}
    if should_set_hostname(pod, svc):
        address["hostname"] = pod["spec"]["hostname"]
    if (pod.get("spec") or {}).get("nodeName"):
        address["nodeName"] = pod["spec"]["nodeName"]
    address["targetRef"] = target_ref(pod)
    return address


def _sort_key(address: dict) -> tuple:
    return address["ip"].encode(), address["targetRef"]["uid"]


def subsets_for(svc: dict, pods: list[dict]) -> tuple[list[dict], bool]:
    """(subsets, truncated): the pods' addresses grouped by the ports they serve."""
    tolerate_unready = bool((svc.get("spec") or {}).get("publishNotReadyAddresses"))
    headless = (svc.get("spec") or {}).get("clusterIP") == "None"
    groups: dict[tuple, tuple[list[dict], list[dict], list[dict]]] = {}
    for pod in pods:
        if not should_be_in_endpoints(pod, include_terminating=tolerate_unready):
            continue
        ports = _ports(pod, svc)
        if not ports and not (headless and not (svc.get("spec") or {}).get("ports")):
            continue
        key = tuple(tuple(sorted(p.items())) for p in ports)
        ready, not_ready = groups.setdefault(key, (ports, [], []))[1:]
        (ready if tolerate_unready or is_pod_ready(pod) else not_ready).append(_address(pod, svc))
    total = sum(len(r) + len(n) for _, r, n in groups.values())
    subsets = []
    for key in sorted(groups):
        ports, ready, not_ready = groups[key]
        ready, not_ready = sorted(ready, key=_sort_key), sorted(not_ready, key=_sort_key)
        subsets.append([ports, ready, not_ready])
    if total > MAX_ADDRESSES:
        # Ready addresses are kept first, as many as fit, then not-ready ones.
        budget = MAX_ADDRESSES
        for entry in subsets:
            entry[1] = entry[1][:budget]
            budget -= len(entry[1])
        for entry in subsets:
            entry[2] = entry[2][:budget]
            budget -= len(entry[2])
    out = []
    for ports, ready, not_ready in subsets:
        subset: dict = {}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        if subset and ports:
            subset["ports"] = ports
        if subset:
            out.append(subset)
    return out, total > MAX_ADDRESSES


class EndpointsController(Reconciler):
    user = "endpoint-controller"
    primary = ("", "v1", "services")
    workers = 2

    def setup(self) -> None:
        watch_selected_pods(self)
        endpoints = self.cache("", "v1", "endpoints")
        self._read.append(endpoints)

        async def deleted(event_type: str, obj: dict, prev: dict | None) -> None:
            # kube's onEndpointsDelete: Endpoints deleted under a live Service (a delete racing the
            # Service being made again) are made again.
            if event_type == "DELETED":
                self.enqueue((obj["metadata"]["namespace"], obj["metadata"]["name"]))
        endpoints.add_handler(deleted)

    async def reconcile(self, namespace: str, name: str) -> float | None:
        info = self.resource("", "v1", "endpoints")
        svc = self.cache(*self.primary).get(namespace, name)
        current = self.cache("", "v1", "endpoints").get(namespace, name)
        if svc is None:
            if current is not None:
                try:
                    await self.api.delete(info, namespace, name)
                except errors.StatusError as e:
                    if e.code != 404:
                        raise
            return None
        if service_selector(svc) is None or svc["metadata"].get("deletionTimestamp"):
            return None
        pods = selected_pods(self.cache("", "v1", "pods").list(namespace), svc)
        subsets, truncated = subsets_for(svc, pods)
        labels = endpoint_labels(svc)
        annotations = dict(((current or {}).get("metadata") or {}).get("annotations") or {})
        if truncated:
            annotations[OVER_CAPACITY] = "truncated"
        else:
            annotations.pop(OVER_CAPACITY, None)
        if current is not None and (current.get("subsets") or []) == subsets and \
                (current["metadata"].get("labels") or {}) == labels and \
                ((current["metadata"].get("annotations") or {}).get(OVER_CAPACITY) == annotations.get(OVER_CAPACITY)):
            return None
        annotations[TRIGGER_TIME] = trigger_time(svc, pods)
        wanted = {"apiVersion": "v1", "kind": "Endpoints",
                  "metadata": {"name": name, "namespace": namespace, "labels": labels, "annotations": annotations}}
        if subsets:
            wanted["subsets"] = subsets
        if current is None:
            try:
                await create_unless_terminating(self.api, info, namespace, wanted, self.cache("", "v1", "namespaces"))
            except errors.StatusError as e:
                if e.code != 409:  # the cache was behind: look again with what is there
                    raise
                self.enqueue_after((namespace, name), 0.05)
            return None
        wanted["metadata"] = {**current["metadata"], "labels": labels, "annotations": annotations}
        await self.api.update(info, namespace, name, wanted)
        return None
