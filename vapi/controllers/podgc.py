"""Pod garbage collection, as kube's pod-garbage-collector does it for pods orphaned by their node.

A pod bound to a node that no longer exists has no kubelet to finish it: once the node has been
missing for the quarantine (kube's 40 s, here the node-monitor grace period, so tests can shorten
both together) and a fresh read confirms it is gone, the pod is marked `DisruptionTarget`
(DeletionByPodGC), failed if it had not finished, and deleted without a grace period. This is
what makes `kubectl delete node` take the node's pods with it.
"""
from __future__ import annotations

from .. import errors
from ..api import DeleteOptions
from ..writes.patch import STRATEGIC
from .node_pods import PodsByNode, disruption_condition
from .reconciler import Reconciler


class PodGCController(Reconciler):
    user = "pod-garbage-collector"
    primary = ("", "v1", "pods")

    def __init__(self, *args):
        super().__init__(*args)
        self.missing_since: dict[str, float] = {}   # node name -> monotonic time first seen missing

    def setup(self) -> None:
        self.pods_by_node = PodsByNode()
        self.pods_by_node.follow(self.cache(*self.primary))
        self.watch("", "v1", "nodes", lambda node: self.pods_by_node.on(node["metadata"]["name"]))

    async def reconcile(self, namespace: str, name: str) -> float | None:
        pod = self.cache(*self.primary).get(namespace, name)
        node_name = ((pod or {}).get("spec") or {}).get("nodeName")
        if not node_name:
            return None
        nodes = self.resource("", "v1", "nodes")
        if self.cache("", "v1", "nodes").get(None, node_name) is not None:
            self.missing_since.pop(node_name, None)
            return None
        now = self.clock.now().timestamp()
        first = self.missing_since.setdefault(node_name, now)
        quarantine = self.settings.node_monitor_grace_period
        if now - first < quarantine:
            return quarantine - (now - first) + 0.05
        if self.api.lookup(nodes, None, node_name) is not None:
            self.missing_since.pop(node_name, None)
            return None
        await self.collect(pod)
        return None

    async def collect(self, pod: dict) -> None:
        info = self.resource(*self.primary)
        namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        status: dict = {"conditions": [disruption_condition("DeletionByPodGC", "PodGC: node no longer exists",
                                                            self.clock.now())]}
        if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
            status["phase"] = "Failed"
        try:
            if not pod["metadata"].get("deletionTimestamp"):
                # A patch, as kube's collector writes it (its role may patch pod status, not update it).
                await self.api.patch(info, namespace, name, STRATEGIC, {"status": status}, subresource="status")
            await self.api.delete(info, namespace, name, DeleteOptions(grace_period_seconds=0,
                                                                       preconditions={"uid": pod["metadata"]["uid"]}))
        except errors.StatusError as e:
            if e.code != 404:
                raise
