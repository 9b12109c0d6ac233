"""The scheduler, acting as system:kube-scheduler: pending pods that ask for default-scheduler are
queued, tried one at a time against a snapshot of the nodes and the pods bound to them, and bound
through pods/binding; a pod that fits nowhere gets PodScheduled=False with kube-scheduler's
message and a FailedScheduling event, and may preempt lower-priority pods."""
from __future__ import annotations

import asyncio
import logging
import random

from .. import errors
from ..api import DeleteOptions
from ..auth.user import AUTHENTICATED, User
from ..controllers.pods import pod_condition
from ..registry.strategies import now_rfc3339
from ..writes.patch import STRATEGIC
from .algorithm import Algorithm, Snapshot, default_plugins
from .framework import fit_message
from .nodeinfo import NodeInfo, is_terminal
from .preemption import Candidate, Preemption
from .queue import SchedulingQueue

log = logging.getLogger("vapi.scheduler")

USER = User("system:kube-scheduler", [AUTHENTICATED])
NAME = "default-scheduler"
NO_NODES = "no nodes available to schedule pods"


def _node_essence(node: dict | None) -> tuple:
    if node is None:
        return ()
    spec, status = node.get("spec") or {}, node.get("status") or {}
    return (node["metadata"].get("labels"), spec.get("taints"), spec.get("unschedulable"),
            status.get("allocatable"), status.get("capacity"))


def _with_kind(pod: dict) -> dict:
    return pod if pod.get("kind") else {"apiVersion": "v1", "kind": "Pod", **pod}


class Scheduler:
    def __init__(self, api, informers, recorder, seed: int | None = None):
        self.api = api
        self.informers = informers
        self.recorder = recorder
        self.queue = SchedulingQueue()
        self.nodes: dict[str, NodeInfo] = {}
        self.by_node: dict[str, dict[str, dict]] = {}    # node name -> uid -> bound pod
        self.bound: dict[str, str] = {}                   # uid -> node name
        self.nominated: dict[str, dict] = {}              # uid -> pod nominated by preemption
        self.pods_info = api.registry.get("", "v1", "pods")
        self.rng = random.Random(seed)
        self._binding: set[asyncio.Task] = set()

    def _cache(self, plural: str, group: str = ""):
        return self.informers.get(self.api.registry.get(group, "v1", plural))

    # --- the cache, fed by informers ---------------------------------------------------------

    def _unbind(self, uid: str) -> None:
        node = self.bound.pop(uid, None)
        if node is None:
            return
        pod = self.by_node.get(node, {}).pop(uid, None)
        if node in self.nodes and pod is not None:
            self.nodes[node].remove(pod)

    def _bind_local(self, pod: dict, node: str) -> None:
        uid = pod["metadata"]["uid"]
        if self.bound.get(uid) not in (None, node):
            self._unbind(uid)
        self.bound[uid] = node
        self.by_node.setdefault(node, {})[uid] = pod
        if node in self.nodes:
            self.nodes[node].add(pod)

    async def _on_pod(self, event_type: str, pod: dict, prev: dict | None) -> None:
        uid = pod["metadata"]["uid"]
        node = (pod.get("spec") or {}).get("nodeName")
        if event_type == "DELETED" or (node and is_terminal(pod)):
            self.queue.delete(uid)
            self.nominated.pop(uid, None)
            if uid in self.bound:
                self._unbind(uid)
                self.queue.move_all()
            return
        if node:
            self.queue.delete(uid)
            self.nominated.pop(uid, None)
            self._bind_local(pod, node)
            if prev is None or not (prev.get("spec") or {}).get("nodeName") or \
                    prev["metadata"].get("labels") != pod["metadata"].get("labels"):
                self.queue.move_all(("InterPodAffinity", "PodTopologySpread"))
            return
        spec = pod.get("spec") or {}
        if pod["metadata"].get("deletionTimestamp") or (spec.get("schedulerName") or NAME) != NAME \
                or spec.get("schedulingGates") or is_terminal(pod):
            self.queue.delete(uid)
            return
        self.queue.update(pod)

    async def _pods_relisted(self) -> None:
        """A lost watch is followed by a fresh list, replayed as ADDED: count bound pods afresh."""
        self.bound.clear()
        self.by_node.clear()
        self.nominated.clear()
        self.nodes = {name: NodeInfo(info.node) for name, info in self.nodes.items()}

    async def _nodes_relisted(self) -> None:
        self.nodes.clear()

    async def _on_node(self, event_type: str, node: dict, prev: dict | None) -> None:
        name = node["metadata"]["name"]
        if event_type == "DELETED":
            self.nodes.pop(name, None)
            return
        info = self.nodes.get(name)
        if info is None:
            info = self.nodes[name] = NodeInfo(node)
            for pod in self.by_node.get(name, {}).values():
                info.add(pod)
        info.node = node
        if _node_essence(node) != _node_essence(prev):
            self.queue.move_all()

    # --- the loop ----------------------------------------------------------------------------

    async def run(self) -> None:
        # Informers start when asked for: here, once the store is open.
        self.pods, self.node_cache = self._cache("pods"), self._cache("nodes")
        namespaces, pdbs = self._cache("namespaces"), self._cache("poddisruptionbudgets", "policy")
        self.algorithm = Algorithm(default_plugins(
            lambda ns: ((namespaces.get(None, ns) or {}).get("metadata") or {}).get("labels") or {}), self.rng)
        self.preemption = Preemption(self.algorithm, pdbs.list)
        self.pods.add_handler(self._on_pod, self._pods_relisted)
        self.node_cache.add_handler(self._on_node, self._nodes_relisted)
        for informer in (self.pods, self.node_cache, namespaces, pdbs):
            await informer.wait_synced()
        while True:
            pod = await self.queue.pop()
            try:
                await self.schedule_one(pod)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - one pod's failure must not stop scheduling
                log.exception("scheduling %s/%s failed", pod["metadata"].get("namespace"), pod["metadata"]["name"])
                self.queue.retry(pod["metadata"]["uid"])
            await asyncio.sleep(0)

    def snapshot(self) -> Snapshot:
        nominated: dict[str, list[dict]] = {}
        for pod in self.nominated.values():
            nominated.setdefault(pod["status"]["nominatedNodeName"], []).append(pod)
        return Snapshot(list(self.nodes.values()), nominated)

    async def schedule_one(self, queued: dict) -> None:
        meta = queued["metadata"]
        uid = meta["uid"]
        pod = self.pods.get(meta.get("namespace"), meta["name"])
        if pod is None or pod["metadata"]["uid"] != uid or (pod.get("spec") or {}).get("nodeName") \
                or pod["metadata"].get("deletionTimestamp"):
            self.queue.done(uid)
            return
        snapshot = self.snapshot()
        if not snapshot.nodes:
            # Nothing to try until a node arrives, which moves every waiting pod.
            self.queue.unschedulable(uid, set())
            await self._failed(pod, "SchedulerError", NO_NODES, None)
            return
        node, statuses = self.algorithm.schedule(pod, snapshot)
        if node is not None:
            # The pod is assumed on its node at once and bound in the background, so the next pod
            # is scheduled meanwhile against what this one takes (kube's binding cycle).
            self._bind_local({**pod, "spec": {**pod["spec"], "nodeName": node}}, node)
            task = asyncio.create_task(self._bind(pod, node))
            self._binding.add(task)
            task.add_done_callback(self._binding.discard)
            return
        outcome = self.preemption.preempt(pod, snapshot, statuses)
        nominated = None
        if outcome.candidate is not None:
            nominated = outcome.candidate.node
            await self._preempt(pod, outcome.candidate)
        self.queue.unschedulable(uid, {status.plugin for status in statuses.values()})
        await self._failed(pod, "Unschedulable", fit_message(len(snapshot.nodes), statuses, outcome.message),
                           nominated)

    async def _bind(self, pod: dict, node: str) -> None:
        meta = pod["metadata"]
        uid = meta["uid"]
        binding = {"apiVersion": "v1", "kind": "Binding",
                   "metadata": {"name": meta["name"], "namespace": meta.get("namespace"), "uid": uid},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": node}}
        try:
            await self.api.create_subresource(self.pods_info, meta.get("namespace"), meta["name"], "binding", binding)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - the pod is tried again, whatever stopped its binding
            self._unbind(uid)
            why = e.message if isinstance(e, errors.StatusError) else str(e)
            self.recorder.event(_with_kind(pod), "Warning", "FailedScheduling", f"Binding rejected: {why}",
                                action="Scheduling")
            if not isinstance(e, errors.StatusError) or e.code != 404:
                self.queue.retry(uid)
            return
        self.queue.done(uid)
        self.nominated.pop(uid, None)
        self.recorder.event(_with_kind(pod), "Normal", "Scheduled",
                            f"Successfully assigned {meta.get('namespace')}/{meta['name']} to {node}", action="Binding")

    async def _preempt(self, pod: dict, candidate: Candidate) -> None:
        reason = {"type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler",
                  "message": f"{NAME}: preempting to accommodate a higher priority pod"}
        for victim in candidate.victims:
            meta = victim["metadata"]
            try:
                await self.api.patch(self.pods_info, meta.get("namespace"), meta["name"], STRATEGIC,
                                     {"status": {"conditions": [{**reason, "lastTransitionTime": now_rfc3339()}]}},
                                     subresource="status")
                await self.api.delete(self.pods_info, meta.get("namespace"), meta["name"],
                                      DeleteOptions(preconditions={"uid": meta["uid"]}))
            except errors.StatusError as e:
                if e.code != 404:
                    raise
            self.recorder.event(_with_kind(victim), "Normal", "Preempted",
                                f"Preempted by pod {pod['metadata']['uid']} on node {candidate.node}",
                                action="Preempting")

    async def _failed(self, pod: dict, reason: str, message: str, nominated: str | None) -> None:
        self.recorder.event(_with_kind(pod), "Warning", "FailedScheduling", message, action="Scheduling")
        meta, status = pod["metadata"], pod.get("status") or {}
        old = pod_condition(pod, "PodScheduled") or {}
        patch: dict = {}
        if nominated and status.get("nominatedNodeName") != nominated:
            patch["nominatedNodeName"] = nominated
            self.nominated[meta["uid"]] = {**pod, "status": {**status, "nominatedNodeName": nominated}}
        if (old.get("status"), old.get("reason"), old.get("message")) != ("False", reason, message):
            since = old.get("lastTransitionTime") if old.get("status") == "False" else now_rfc3339()
            patch["conditions"] = [{"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                                    "lastTransitionTime": since, "reason": reason, "message": message}]
        if patch:
            try:
                await self.api.patch(self.pods_info, meta.get("namespace"), meta["name"], STRATEGIC,
                                     {"status": patch}, subresource="status")
            except errors.StatusError as e:
                if e.code != 404:
                    raise

