"""What the node-side controllers share: the pods bound to each node (kept from the pod
informer's events, so a node's change reaches its pods without a walk over every pod), the node
taints kube's node controller manages, and how a controller marks a pod it is about to delete
(the `DisruptionTarget` condition, as kube's eviction paths write it)."""
from __future__ import annotations

import datetime as dt

from admission.gotime import RFC3339, RFC3339_MICRO, parse_rfc3339

from ..registry.strategies import rfc3339

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"


class PodsByNode:
    """node name -> {(namespace, pod name)}, kept from the pod informer's events."""

    def __init__(self):
        self._pods: dict[str, set[tuple[str, str]]] = {}
        self._node_of: dict[tuple[str, str], str] = {}

    def follow(self, informer) -> None:
        informer.add_handler(self.handle)

    async def handle(self, event_type: str, pod: dict, prev: dict | None) -> None:
        self.observe(pod, gone=event_type == "DELETED")

    def observe(self, pod: dict, gone: bool = False) -> None:
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        node = (pod.get("spec") or {}).get("nodeName") or ""
        old = self._node_of.pop(key, None)
        if old is not None:
            keys = self._pods.get(old, set())
            keys.discard(key)
            if not keys:
                self._pods.pop(old, None)
        if node and not gone:
            self._node_of[key] = node
            self._pods.setdefault(node, set()).add(key)

    def on(self, node: str) -> list[tuple[str, str]]:
        return sorted(self._pods.get(node, ()))


def parse_time(value) -> dt.datetime | None:
    """A metav1.Time or MicroTime; None when absent or unreadable."""
    for layout in (RFC3339, RFC3339_MICRO):
        try:
            return parse_rfc3339(value, layout)
        except (TypeError, ValueError):
            continue
    return None


def stamp(when: dt.datetime) -> str:
    return rfc3339(int(when.timestamp()))


def disruption_condition(reason: str, message: str, now: dt.datetime) -> dict:
    """The DisruptionTarget condition saying who is about to delete a pod, and why."""
    return {"type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
            "lastTransitionTime": stamp(now), "reason": reason, "message": message}


def marked_for_disruption(pod: dict, reason: str, message: str, now: dt.datetime) -> dict:
    """`pod` with its DisruptionTarget condition (`disruption_condition`)."""
    conditions = [c for c in (pod.get("status") or {}).get("conditions") or [] if c.get("type") != "DisruptionTarget"]
    conditions.append(disruption_condition(reason, message, now))
    pod.setdefault("status", {})["conditions"] = conditions
    return pod


def no_execute_taints(node: dict | None) -> list[dict]:
    return [t for t in ((node or {}).get("spec") or {}).get("taints") or [] if t.get("effect") == "NoExecute"]
