"""Taint-based eviction: pods leave nodes tainted NoExecute, as kube's taint-eviction-controller
(once the node controller's taint manager) deletes them.

A pod that does not tolerate every NoExecute taint of its node is deleted at once; one that
tolerates them all stays for the shortest `tolerationSeconds` among the tolerations used (for
ever when none limits it), counted from when the taint was added. So the five minutes
DefaultTolerationSeconds gives every pod for `not-ready` and `unreachable` elapse before an
unreachable node's pods go. The pod is marked `DisruptionTarget` (DeletionByTaintManager) and a
`TaintManagerEviction` event recorded before it is deleted.
"""
from __future__ import annotations

from .. import errors
from ..api import DeleteOptions
from .node_pods import PodsByNode, marked_for_disruption, no_execute_taints, parse_time
from ..scheduler.matching import tolerates
from .reconciler import Reconciler


def eviction_delay(pod: dict, taints: list[dict]) -> float | None:
    """Seconds the pod may stay from the taints' arrival: 0 when one is not tolerated, None for
    ever."""
    tolerations = (pod.get("spec") or {}).get("tolerations") or []
    seconds = []
    for taint in taints:
        used = [t for t in tolerations if tolerates(t, taint)]
        if not used:
            return 0
        seconds += [t["tolerationSeconds"] for t in used if t.get("tolerationSeconds") is not None]
    if not seconds:
        return None
    return max(min(seconds), 0)


class TaintEvictionController(Reconciler):
    # kube runs it as its own account since 1.29; its rules are the node controller's pod rules.
    user = "node-controller"
    component = "taint-eviction-controller"
    primary = ("", "v1", "pods")
    workers = 2

    def __init__(self, *args):
        super().__init__(*args)
        # pod key -> when its node's NoExecute taints were first seen, for taints added without
        # `timeAdded` (kube's taint manager counts from its first sight of them, too)
        self.first_seen: dict[tuple[str, str], object] = {}

    def setup(self) -> None:
        self.pods_by_node = PodsByNode()
        self.pods_by_node.follow(self.cache(*self.primary))
        # A node's pods are looked at when its NoExecute taints are or were there.
        self.watch("", "v1", "nodes", lambda node: self.pods_by_node.on(node["metadata"]["name"])
                   if no_execute_taints(node) else [])

    async def reconcile(self, namespace: str, name: str) -> float | None:
        pod = self.cache(*self.primary).get(namespace, name)
        if pod is None or pod["metadata"].get("deletionTimestamp") or \
                (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            self.first_seen.pop((namespace, name), None)
            return None
        node_name = (pod.get("spec") or {}).get("nodeName")
        taints = no_execute_taints(self.cache("", "v1", "nodes").get(None, node_name)) if node_name else []
        if not taints:
            self.first_seen.pop((namespace, name), None)
            return None
        delay = eviction_delay(pod, taints)
        if delay is None:
            return None
        now = self.clock.now()
        added = [t for t in (parse_time(t.get("timeAdded")) for t in taints) if t is not None]
        since = min(added) if added else self.first_seen.setdefault((namespace, name), now)
        left = delay - (now - since).total_seconds()
        if left > 0:
            return left
        self.first_seen.pop((namespace, name), None)
        await self.evict(pod, now)
        return None

    async def evict(self, pod: dict, now) -> None:
        info = self.resource(*self.primary)
        namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        self.recorder.event(pod, "Normal", "TaintManagerEviction", f"Marking for deletion Pod {namespace}/{name}")
        try:
            await self.api.guaranteed_update(info, namespace, name, lambda current: marked_for_disruption(
                current, "DeletionByTaintManager", "Taint manager: deleting due to NoExecute taint", now),
                subresource="status")
            await self.api.delete(info, namespace, name, DeleteOptions(preconditions={"uid": pod["metadata"]["uid"]}))
        except errors.StatusError as e:
            if e.code != 404:
                raise
