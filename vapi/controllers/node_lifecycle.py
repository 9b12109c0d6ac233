"""Node lifecycle, as kube's node-controller watches over nodes.

A node is alive while its kubelet renews its Lease in `kube-node-lease` (or posts its Ready
condition); one not heard from for the grace period (`--node-monitor-grace-period`, 40 s as in
kube; a minute for a node whose kubelet never posted Ready) has every condition set to Unknown
(`NodeStatusUnknown`, "Kubelet stopped posting node status.", or `NodeStatusNeverUpdated` for a
kubelet never heard from at all), its pods marked not Ready and a `NodeNotReady` event recorded.
The node's taints follow its Ready condition: False gives `node.kubernetes.io/not-ready`, Unknown
`node.kubernetes.io/unreachable`, each with the NoSchedule and the NoExecute effect (the latter
stamped with when it was added, which the taint-based eviction counts from); a cordoned node
gets `node.kubernetes.io/unschedulable`. Recovery takes the taints away again.
"""
from __future__ import annotations

import datetime as dt

from .. import errors
from .node_pods import NOT_READY, UNREACHABLE, UNSCHEDULABLE, PodsByNode, parse_time, stamp
from .pods import pod_condition
from .reconciler import Reconciler

LEASES = ("coordination.k8s.io", "v1", "leases")
LEASE_NAMESPACE = "kube-node-lease"
STARTUP_GRACE_PERIOD = 60.0  # for a node whose kubelet never posted Ready (kube's node-startup-grace-period)
CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
MANAGED = {NOT_READY, UNREACHABLE, UNSCHEDULABLE}


def wanted_taints(node: dict, now: str) -> list[dict]:
    """The node's taints with the ones this controller manages made to match its state."""
    taints = list((node.get("spec") or {}).get("taints") or [])
    ready = (pod_condition(node, "Ready") or {}).get("status")
    want = set()
    if ready == "False":
        want = {(NOT_READY, "NoSchedule"), (NOT_READY, "NoExecute")}
    elif ready == "Unknown":
        want = {(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")}
    if (node.get("spec") or {}).get("unschedulable"):
        want.add((UNSCHEDULABLE, "NoSchedule"))
    kept = [t for t in taints if t.get("key") not in MANAGED or (t.get("key"), t.get("effect")) in want]
    have = {(t.get("key"), t.get("effect")) for t in kept}
    for key, effect in sorted(want - have):
        taint = {"key": key, "effect": effect}
        if effect == "NoExecute":
            taint["timeAdded"] = now
        kept.append(taint)
    return kept


class NodeLifecycleController(Reconciler):
    user = "node-controller"
    primary = ("", "v1", "nodes")

    def setup(self) -> None:
        self.watch(*LEASES, lambda lease: [(None, lease["metadata"]["name"])]
                   if lease["metadata"].get("namespace") == LEASE_NAMESPACE else [])
        self.pods_by_node = PodsByNode()
        pods = self.cache("", "v1", "pods")
        self.pods_by_node.follow(pods)
        self._read.append(pods)

    def last_heard(self, node: dict) -> dt.datetime:
        """When the node's kubelet was last heard from: its lease renewed, its Ready condition
        posted, or (never heard from) the node's creation."""
        times = [parse_time(node["metadata"].get("creationTimestamp"))]
        times.append(parse_time((pod_condition(node, "Ready") or {}).get("lastHeartbeatTime")))
        lease = self.cache(*LEASES).get(LEASE_NAMESPACE, node["metadata"]["name"])
        if lease is not None:
            times.append(parse_time((lease.get("spec") or {}).get("renewTime")))
        return max(t for t in times if t is not None)

    async def reconcile(self, namespace: None, name: str) -> float | None:
        node = self.cache(*self.primary).get(None, name)
        if node is None or node["metadata"].get("deletionTimestamp"):
            return None
        now = self.clock.now()
        silent_for = (now - self.last_heard(node)).total_seconds()
        ready = pod_condition(node, "Ready")
        period = self.settings.node_monitor_grace_period
        grace = period if ready is not None else max(period, STARTUP_GRACE_PERIOD)
        if silent_for >= grace and (ready or {}).get("status") != "Unknown":
            node = await self.mark_unknown(node, now)
            await self.mark_pods_not_ready(name, now)
            self.recorder.event(node, "Normal", "NodeNotReady", f"Node {name} status is now: NodeNotReady")
        taints = wanted_taints(node, stamp(now))
        if taints != ((node.get("spec") or {}).get("taints") or []):
            await self.api.guaranteed_update(self.resource(*self.primary), None, name,
                                             lambda current: self._with_taints(current, stamp(now)))
        if (pod_condition(node, "Ready") or {}).get("status") == "Unknown":
            return None  # heard of again through the lease or the node's status
        return max(grace - silent_for, 0) + 0.05

    @staticmethod
    def _with_taints(node: dict, now: str) -> dict:
        taints = wanted_taints(node, now)
        node.setdefault("spec", {})["taints"] = taints
        if not taints:
            del node["spec"]["taints"]
        return node

    async def mark_unknown(self, node: dict, now: dt.datetime) -> dict:
        def unknown(current: dict) -> dict:
            status = current.setdefault("status", {})
            conditions = status.setdefault("conditions", [])
            for condition_type in CONDITIONS:
                condition = pod_condition(current, condition_type)
                if condition is None:
                    conditions.append({"type": condition_type, "status": "Unknown", "lastHeartbeatTime": stamp(now),
                                       "lastTransitionTime": stamp(now), "reason": "NodeStatusNeverUpdated",
                                       "message": "Kubelet never posted node status."})
                elif condition.get("status") != "Unknown":
                    condition.update(status="Unknown", reason="NodeStatusUnknown",
                                     message="Kubelet stopped posting node status.", lastTransitionTime=stamp(now))
            return current
        return await self.api.guaranteed_update(self.resource(*self.primary), None, node["metadata"]["name"],
                                                unknown, subresource="status")

    async def mark_pods_not_ready(self, node_name: str, now: dt.datetime) -> None:
        pods = self.resource("", "v1", "pods")
        for namespace, name in self.pods_by_node.on(node_name):
            pod = self.cache("", "v1", "pods").get(namespace, name)
            if pod is None or (pod_condition(pod, "Ready") or {}).get("status") != "True":
                continue

            def not_ready(current: dict) -> dict:
                condition = pod_condition(current, "Ready")
                if condition is not None and condition.get("status") == "True":
                    condition.update(status="False", lastTransitionTime=stamp(now))
                return current
            try:
                await self.api.guaranteed_update(pods, namespace, name, not_ready, subresource="status")
            except errors.StatusError as e:
                if e.code != 404:  # deleted meanwhile: nothing to mark
                    raise
