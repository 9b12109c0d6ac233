"""What the scheduler knows of a node: the Node, the pods bound to it and what they take of it
(kube's framework.NodeInfo), with pod requests summed as kube's resource helpers sum them."""
from __future__ import annotations

from dataclasses import dataclass, field

from admission.quantity import Quantity
from admission.quota import pod_requests

# What a container without requests counts as when spreading load (kube's non-zero defaults).
DEFAULT_MILLI_CPU = 100
DEFAULT_MEMORY = 200 * 1024 * 1024
COUNTED = ("cpu", "memory")


def amount(name: str, quantity: Quantity) -> int:
    """CPU in millicores, everything else in whole units, as kube's Resource keeps them."""
    return quantity.milli() if name == "cpu" else int(quantity.value)


def requests_of(pod: dict) -> dict[str, int]:
    return {name: amount(name, q) for name, q in pod_requests(pod.get("spec") or {}).items()}


def nonzero_requests_of(pod: dict) -> tuple[int, int]:
    """CPU and memory with kube's defaults standing in for each container that asks for none."""
    spec = pod.get("spec") or {}

    def container_sum(containers, name, default):
        total = 0
        for c in containers or []:
            raw = ((c.get("resources") or {}).get("requests") or {}).get(name)
            total += amount(name, Quantity.parse(raw)) if raw is not None else default
        return total
    cpu = container_sum(spec.get("containers"), "cpu", DEFAULT_MILLI_CPU)
    memory = container_sum(spec.get("containers"), "memory", DEFAULT_MEMORY)
    for c in spec.get("initContainers") or []:
        cpu = max(cpu, container_sum([c], "cpu", DEFAULT_MILLI_CPU))
        memory = max(memory, container_sum([c], "memory", DEFAULT_MEMORY))
    return cpu, memory


def host_ports(pod: dict) -> list[tuple[str, str, int]]:
    ports = []
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                ports.append((p.get("hostIP") or "0.0.0.0", p.get("protocol") or "TCP", p["hostPort"]))
    return ports


def priority_of(pod: dict) -> int:
    return (pod.get("spec") or {}).get("priority") or 0


def is_terminal(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


@dataclass
class NodeInfo:
    _node: dict
    pods: dict[str, dict] = field(default_factory=dict)   # uid -> pod
    requested: dict[str, int] = field(default_factory=dict)
    nonzero: list[int] = field(default_factory=lambda: [0, 0])
    ports: list[tuple[str, str, int]] = field(default_factory=list)
    _allocatable: dict[str, int] | None = None

    @property
    def node(self) -> dict:
        return self._node

    @node.setter
    def node(self, node: dict) -> None:
        self._node, self._allocatable = node, None

    @property
    def name(self) -> str:
        return self._node["metadata"]["name"]

    @property
    def labels(self) -> dict:
        return self._node["metadata"].get("labels") or {}

    def allocatable(self) -> dict[str, int]:
        if self._allocatable is None:
            status = self._node.get("status") or {}
            raw = status.get("allocatable") or status.get("capacity") or {}
            self._allocatable = {name: amount(name, Quantity.parse(value)) for name, value in raw.items()}
        return self._allocatable

    def add(self, pod: dict) -> None:
        uid = pod["metadata"]["uid"]
        if uid in self.pods:
            self.remove(self.pods[uid])
        self.pods[uid] = pod
        self._account(pod, 1)

    def remove(self, pod: dict) -> None:
        if self.pods.pop(pod["metadata"]["uid"], None) is not None:
            self._account(pod, -1)

    def _account(self, pod: dict, sign: int) -> None:
        for name, value in requests_of(pod).items():
            self.requested[name] = self.requested.get(name, 0) + sign * value
        cpu, memory = nonzero_requests_of(pod)
        self.nonzero[0] += sign * cpu
        self.nonzero[1] += sign * memory
        for port in host_ports(pod):
            if sign > 0:
                self.ports.append(port)
            else:
                self.ports.remove(port)

    def copy(self) -> "NodeInfo":
        clone = NodeInfo(self._node)
        clone._allocatable = self._allocatable
        for pod in self.pods.values():
            clone.add(pod)
        return clone
