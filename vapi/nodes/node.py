"""A simulated node as its kubelet registers and reports it: the Node object, its Lease, its
addresses and pod CIDR, all from vapi/data/simulated-nodes.yaml.

Node `i` (started ones are named `vapi-node-<i>`) gets the i-th /24 of the cluster CIDR as its
pod CIDR and the i-th address of the internal range as its InternalIP, so a pod's IP tells which
node runs it, as with kube's default node IPAM.
"""
from __future__ import annotations

import datetime
import hashlib
import ipaddress
import re
import time

from ..registry.strategies.base import micro_rfc3339, rfc3339
from .behaviour import SIMULATED_LABEL, defaults

NAME_PREFIX = "vapi-node-"
LEASE_NAMESPACE = "kube-node-lease"
HOSTS_PER_CIDR = 254


def micro_time(when: float) -> str:
    """A Unix time as a Lease's renewTime (metav1.MicroTime)."""
    return micro_rfc3339(datetime.datetime.fromtimestamp(when, datetime.timezone.utc))


def pod_cidr(index: int) -> str:
    network = ipaddress.ip_network(defaults()["node"]["clusterCIDR"])
    return str(ipaddress.ip_network((int(network.network_address) + (index << 8), 24)))


def cidr_index(cidr: str) -> int | None:
    """The node index whose pod CIDR this is, or None when it is not one of ours."""
    network = ipaddress.ip_network(defaults()["node"]["clusterCIDR"])
    try:
        mine = ipaddress.ip_network(cidr)
    except ValueError:
        return None
    if mine.prefixlen != 24 or not mine.subnet_of(network):
        return None
    return (int(mine.network_address) - int(network.network_address)) >> 8


def max_nodes() -> int:
    network = ipaddress.ip_network(defaults()["node"]["clusterCIDR"])
    return 1 << (24 - network.prefixlen)


def pod_ip(cidr: str, host: int) -> str:
    """The `host`-th address (1-based, .1 being the node's bridge) of a node's pod CIDR."""
    return str(ipaddress.ip_network(cidr).network_address + host + 1)


def internal_ip(index: int) -> str:
    network = ipaddress.ip_network(defaults()["node"]["internalIPs"])
    return str(network.network_address + 2 + index)


def index_of(name: str) -> int | None:
    found = re.fullmatch(re.escape(NAME_PREFIX) + r"(0|[1-9][0-9]*)", name)
    return int(found.group(1)) if found else None


def _quantity_minus(capacity: str, reserved: str | None) -> str:
    """capacity − reserved for the quantities the data file uses (plain, m, Ki/Mi/Gi)."""
    if not reserved:
        return capacity
    units = {"m": 0.001, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}

    def parse(text):
        for unit, factor in units.items():
            if text.endswith(unit):
                return float(text[: -len(unit)]) * factor, unit
        return float(text), ""
    cap, _ = parse(capacity)
    res, unit = parse(reserved)
    if unit == "m" or not unit:
        return f"{round((cap - res) * 1000)}m" if unit == "m" else str(int(cap - res))
    return f"{int((cap - res) // (1 << 10))}Ki"


def _conditions(now: str, since: str) -> list[dict]:
    def condition(kind, status, reason, message):
        return {"type": kind, "status": status, "lastHeartbeatTime": now, "lastTransitionTime": since,
                "reason": reason, "message": message}
    return [condition("NetworkUnavailable", "False", "RouteCreated", "RouteController created a route"),
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            condition("Ready", "True", "KubeletReady", "kubelet is posting ready status")]


def labels(name: str, index: int) -> dict:
    node = defaults()["node"]
    zones = node["zones"]
    return {**node["labels"], "kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zones[index % len(zones)],
            "beta.kubernetes.io/os": node["labels"]["kubernetes.io/os"],
            "beta.kubernetes.io/arch": node["labels"]["kubernetes.io/arch"]}


def node_status(name: str, index: int, kubelet_version: str, now: float, previous: dict | None = None) -> dict:
    """What the kubelet reports: capacity, allocatable, conditions (keeping their transition
    times), addresses, daemon endpoints and node info."""
    node = defaults()["node"]
    stamp = rfc3339(int(now))
    since = {c["type"]: c.get("lastTransitionTime") for c in (previous or {}).get("conditions") or []}
    conditions = _conditions(stamp, stamp)
    for condition in conditions:
        condition["lastTransitionTime"] = since.get(condition["type"]) or stamp
    machine = hashlib.sha256(name.encode()).hexdigest()
    return {
        "capacity": dict(node["capacity"]),
        "allocatable": {k: _quantity_minus(v, node["reserved"].get(k)) for k, v in node["capacity"].items()},
        "conditions": conditions,
        "addresses": [{"type": "InternalIP", "address": internal_ip(index)}, {"type": "Hostname", "address": name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {"machineID": machine[:32], "systemUUID": f"{machine[:8]}-{machine[8:12]}-{machine[12:16]}-"
                     f"{machine[16:20]}-{machine[20:32]}", "bootID": machine[32:64],
                     "kernelVersion": node["kernelVersion"], "osImage": node["osImage"],
                     "containerRuntimeVersion": node["containerRuntimeVersion"], "kubeletVersion": kubelet_version,
                     "kubeProxyVersion": kubelet_version, "operatingSystem": node["labels"]["kubernetes.io/os"],
                     "architecture": node["labels"]["kubernetes.io/arch"]},
    }


def new_node(name: str, index: int, kubelet_version: str, now: float | None = None) -> dict:
    """The Node a simulated kubelet registers."""
    now = time.time() if now is None else now
    cidr = pod_cidr(index)
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": labels(name, index),
                         "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                                         "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
            "spec": {"podCIDR": cidr, "podCIDRs": [cidr]},
            "status": node_status(name, index, kubelet_version, now)}


def new_lease(node: dict, now: float) -> dict:
    """The node's heartbeat Lease, owned by the Node so that it goes when the Node goes."""
    meta = node["metadata"]
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": meta["name"], "namespace": LEASE_NAMESPACE,
                         "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": meta["name"],
                                              "uid": meta["uid"]}]},
            "spec": {"holderIdentity": meta["name"], "leaseDurationSeconds": defaults()["node"]["leaseDurationSeconds"],
                     "renewTime": micro_time(now)}}


def is_simulated(node: dict) -> bool:
    return (node["metadata"].get("labels") or {}).get(SIMULATED_LABEL) == "true"
