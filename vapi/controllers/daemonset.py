"""The DaemonSet controller: one pod on every node that should run it, rolled node by node.

Each pass, as kube's: find (or record) the revision of the current template; on every node
that should run the daemon and has none, make one; delete pods on nodes that no longer tolerate
or match them, failed pods (to be made again), and extras; then, for RollingUpdate, replace old
pods: without surge, delete as many as maxUnavailable allows and let the next pass make new
ones; with maxSurge, make the new pod first and delete the old one once the new is available.
"""
from __future__ import annotations

import logging

from .. import errors
from . import daemonset_pods as dp
from .expectations import Expectations
from .history import History, same_data, template_hash, template_patch
from .intorpercent import scaled_value
from .pods import controller_ref, is_pod_available, is_pod_ready
from .reconciler import Reconciler
from .statuswrite import write_status

log = logging.getLogger("vapi.controllers")


class DaemonSetController(Reconciler):
    user = "daemon-set-controller"
    component = "daemonset-controller"
    primary = ("apps", "v1", "daemonsets")

    def setup(self) -> None:
        self.watch_owned("", "v1", "pods", "DaemonSet")
        self.watch_owned("apps", "v1", "controllerrevisions", "DaemonSet")
        self.watch("", "v1", "nodes", self._every_daemonset)
        self.sets = self.cache(*self.primary)
        self.pods = self.cache("", "v1", "pods")
        self.pods.add_handler(self._observe)
        self.expectations = Expectations()
        self.nodes = self.cache("", "v1", "nodes")
        self.history = History(self.api, self.cache("apps", "v1", "controllerrevisions"), "DaemonSet",
                               dp.REVISION_LABEL)
        self.pods_info = self.api.registry.get("", "v1", "pods")
        self.sets_info = self.api.registry.get(*self.primary)

    async def _observe(self, event_type: str, pod: dict, prev: dict | None) -> None:
        """Count off the creations and deletions a pass is waiting for the cache to show."""
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != "DaemonSet":
            return
        key = (pod["metadata"]["namespace"], ref["name"])
        was_deleting = bool(prev and prev["metadata"].get("deletionTimestamp"))
        if event_type == "ADDED":
            self.expectations.creation_observed(key)
        elif not was_deleting and (event_type == "DELETED" or pod["metadata"].get("deletionTimestamp")):
            self.expectations.deletion_observed(key)

    def _every_daemonset(self, _node):
        return [(ds["metadata"]["namespace"], ds["metadata"]["name"]) for ds in self.sets.list()]

    async def reconcile(self, namespace, name):
        ds = self.sets.get(namespace, name)
        if ds is None or ds["metadata"].get("deletionTimestamp"):
            return None
        # node name -> (should a new pod go there, may an existing one stay), worked out once a pass
        spec = dp.daemon_spec(ds)
        nodes = {n["metadata"]["name"]: dp.placement(spec, n) for n in self.nodes.list()}
        current = await self._current_revision(ds)
        hash_ = current["metadata"]["labels"][dp.REVISION_LABEL]
        by_node = self._pods_by_node(ds)
        if not self.expectations.satisfied((namespace, name)):
            # The cache has not caught up with this controller's own writes: acting on it now
            # would make pods twice. Their events bring the set back.
            return await self._write_status(ds, nodes, by_node, hash_)
        await self._manage(ds, nodes, by_node, hash_)
        rolling = (ds["spec"].get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"
        if rolling and self.expectations.satisfied((namespace, name)):
            await self._roll(ds, nodes, self._pods_by_node(ds), hash_)
        live_hashes = {(p["metadata"].get("labels") or {}).get(dp.REVISION_LABEL)
                       for pods in by_node.values() for p in pods}
        revisions = self.history.owned(ds)
        live = {r["metadata"]["name"] for r in revisions
                if r["metadata"]["labels"].get(dp.REVISION_LABEL) in live_hashes} | {current["metadata"]["name"]}
        await self.history.truncate(ds, revisions, live)
        return await self._write_status(ds, nodes, self._pods_by_node(ds), hash_)

    def _pods_by_node(self, ds: dict) -> dict[str, list[dict]]:
        uid = ds["metadata"]["uid"]
        by_node: dict[str, list[dict]] = {}
        for pod in self.pods.list(ds["metadata"]["namespace"]):
            if (controller_ref(pod) or {}).get("uid") != uid:
                continue
            if pod["metadata"].get("deletionTimestamp") and (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            node = dp.target_node(pod)
            if node:
                by_node.setdefault(node, []).append(pod)
        return by_node

    # Revisions

    async def _current_revision(self, ds: dict) -> dict:
        data = template_patch(ds)
        revisions = self.history.owned(ds)
        matching = [r for r in revisions if same_data(r, {"data": data})]
        old = [r for r in revisions if not same_data(r, {"data": data})]
        number = max((r.get("revision") or 0 for r in old), default=0) + 1
        if matching:
            current = matching[-1]
            if (current.get("revision") or 0) < number:
                current = await self.history.renumber(current, number)
            return current
        collisions = (ds.get("status") or {}).get("collisionCount")
        hash_ = template_hash(ds["spec"]["template"], collisions)
        created = await self.history.create(self.history.new_revision(ds, number, hash_, data))
        if created is None:
            await self._bump_collisions(ds)
            raise errors.conflict(self.sets_info, ds["metadata"]["name"], "hash collision of its controller revision")
        return created

    async def _bump_collisions(self, ds: dict) -> None:
        def mutate(current):
            status = current.setdefault("status", {})
            status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
            return current
        await self.api.guaranteed_update(self.sets_info, ds["metadata"]["namespace"], ds["metadata"]["name"],
                                         mutate, subresource="status")

    # Placement

    async def _manage(self, ds: dict, nodes: dict[str, tuple[bool, bool]], by_node: dict[str, list[dict]], hash_: str) -> None:
        surge = _allows_surge(ds)
        to_create, to_delete = [], []
        for node_name, (run, keep) in nodes.items():
            pods = [p for p in by_node.get(node_name, []) if not p["metadata"].get("deletionTimestamp")]
            if run and not by_node.get(node_name):
                to_create.append(node_name)
            elif keep:
                running = []
                for pod in pods:
                    phase = (pod.get("status") or {}).get("phase")
                    if phase in ("Failed", "Succeeded"):
                        if phase == "Failed":
                            self.recorder.event(ds, "Warning", "FailedDaemonPod",
                                                f"Found failed daemon pod {pod['metadata']['namespace']}/"
                                                f"{pod['metadata']['name']} on node {node_name}, will try to kill it")
                        to_delete.append(pod)
                    else:
                        running.append(pod)
                running = dp.oldest_first(running)
                if not surge:
                    to_delete.extend(running[1:])
                elif not running and run:
                    to_create.append(node_name)
                else:
                    to_delete.extend(self._surge_extras(ds, running, hash_))
            elif pods:
                to_delete.extend(pods)
        for node_name, pods in by_node.items():
            if node_name not in nodes:
                to_delete.extend(p for p in pods if not p["spec"].get("nodeName")
                                 and not p["metadata"].get("deletionTimestamp"))
        await self._sync_nodes(ds, to_delete, to_create, hash_)

    def _surge_extras(self, ds: dict, running: list[dict], hash_: str) -> list[dict]:
        """With surge, a node keeps its oldest new pod and its oldest old pod until the new one is
        available (or the old one is not ready); anything else goes."""
        extras, newest, oldest = [], None, None
        for pod in running:
            if (pod["metadata"].get("labels") or {}).get(dp.REVISION_LABEL) == hash_:
                if newest is None:
                    newest = pod
                    continue
            elif oldest is None:
                oldest = pod
                continue
            extras.append(pod)
        if newest is not None and oldest is not None:
            if not is_pod_ready(oldest) or is_pod_available(newest, _min_ready(ds), self.clock.now()):
                extras.append(oldest)
        return extras

    async def _sync_nodes(self, ds: dict, to_delete: list[dict], to_create: list[str], hash_: str) -> None:
        namespace = ds["metadata"]["namespace"]
        key = (namespace, ds["metadata"]["name"])
        self.expectations.raise_expectations(key, creations=len(to_create), deletions=len(to_delete))
        for node_name in to_create:
            pod = dp.new_pod(ds, node_name, hash_)
            try:
                created = await self.api.create(self.pods_info, namespace, pod)
            except errors.StatusError as e:
                self.expectations.creation_observed(key)
                self.recorder.event(ds, "Warning", "FailedCreate", f"Error creating: {e.message}")
                if e.code == 403 and "being terminated" in e.message:
                    return  # the namespace is going away
                raise
            self.recorder.event(ds, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}")
        for pod in to_delete:
            name = pod["metadata"]["name"]
            try:
                await self.api.delete(self.pods_info, namespace, name)
            except errors.StatusError as e:
                self.expectations.deletion_observed(key)
                if e.code == 404:
                    continue
                self.recorder.event(ds, "Warning", "FailedDelete", f"Error deleting: {e.message}")
                raise
            self.recorder.event(ds, "Normal", "SuccessfulDelete", f"Deleted pod: {name}")

    # Rolling update

    def _limits(self, ds: dict, nodes: dict[str, tuple[bool, bool]]) -> tuple[int, int]:
        desired = sum(1 for run, _ in nodes.values() if run)
        rolling = (ds["spec"].get("updateStrategy") or {}).get("rollingUpdate") or {}
        max_surge = scaled_value(rolling.get("maxSurge"), desired, True)
        max_unavailable = scaled_value(rolling.get("maxUnavailable"), desired, True, default=1)
        if max_surge == 0 and max_unavailable == 0:
            max_unavailable = 1
        return max_surge, max_unavailable

    async def _roll(self, ds: dict, nodes: dict[str, tuple[bool, bool]], by_node: dict[str, list[dict]], hash_: str) -> None:
        max_surge, max_unavailable = self._limits(ds, nodes)
        now, min_ready = self.clock.now(), _min_ready(ds)
        generation = dp.template_generation(ds)
        if max_surge == 0:
            unavailable, replace, candidates = 0, [], []
            for pods in by_node.values():
                found = _new_and_old(pods, hash_, generation)
                if found is None:
                    unavailable += 1
                    continue
                new, old = found
                if (new is None) == (old is None):
                    unavailable += 1
                elif new is not None:
                    unavailable += not is_pod_available(new, min_ready, now)
                elif not is_pod_available(old, min_ready, now):
                    replace.append(old)
                elif unavailable < max_unavailable:
                    candidates.append(old)
            room = min(max(max_unavailable - unavailable, 0), len(candidates))
            await self._sync_nodes(ds, replace + candidates[:room], [], hash_)
            return
        to_delete, allowed, candidates, surging = [], [], [], 0
        for node_name, pods in by_node.items():
            found = _new_and_old(pods, hash_, generation)
            if found is None:
                continue
            new, old = found
            if old is None:
                continue
            if new is None:
                if not is_pod_available(old, min_ready, now):
                    if nodes.get(node_name, (False, False))[0]:
                        allowed.append(node_name)
                elif surging < max_surge:
                    candidates.append(node_name)
            elif not is_pod_available(new, min_ready, now):
                surging += 1
            else:
                to_delete.append(old)
        room = min(max(max_surge - surging, 0), len(candidates))
        await self._sync_nodes(ds, to_delete, allowed + candidates[:room], hash_)

    # Status

    async def _write_status(self, ds: dict, nodes: dict[str, tuple[bool, bool]], by_node: dict[str, list[dict]],
                            hash_: str) -> float | None:
        now, min_ready = self.clock.now(), _min_ready(ds)
        generation = dp.template_generation(ds)
        counts = dict.fromkeys(("currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled",
                                "numberReady", "updatedNumberScheduled", "numberAvailable"), 0)
        waiting = False
        for node_name, (run, _) in nodes.items():
            pods = by_node.get(node_name)
            if not run:
                counts["numberMisscheduled"] += bool(pods)
                continue
            counts["desiredNumberScheduled"] += 1
            if not pods:
                continue
            counts["currentNumberScheduled"] += 1
            pod = dp.oldest_first(pods)[0]
            if is_pod_ready(pod):
                counts["numberReady"] += 1
                available = is_pod_available(pod, min_ready, now)
                counts["numberAvailable"] += available
                waiting = waiting or not available
            counts["updatedNumberScheduled"] += dp.is_updated(pod, hash_, generation)
        status = {**counts, "observedGeneration": ds["metadata"].get("generation")}
        unavailable = counts["desiredNumberScheduled"] - counts["numberAvailable"]
        if unavailable:
            status["numberUnavailable"] = unavailable
        await write_status(self.api, self.sets_info, ds, status, kept=("collisionCount", "conditions"))
        return float(min_ready) if waiting and min_ready else None


def _allows_surge(ds: dict) -> bool:
    strategy = ds["spec"].get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return False
    return scaled_value((strategy.get("rollingUpdate") or {}).get("maxSurge"), 1, True) > 0


def _min_ready(ds: dict) -> int:
    return int(ds["spec"].get("minReadySeconds") or 0)


def _new_and_old(pods: list[dict], hash_: str, generation: str | None) -> tuple[dict | None, dict | None] | None:
    """A node's one new and one old pod; None when it has more than one of either."""
    new = old = None
    for pod in pods:
        if pod["metadata"].get("deletionTimestamp"):
            continue
        if dp.is_updated(pod, hash_, generation):
            if new is not None:
                return None
            new = pod
        else:
            if old is not None:
                return None
            old = pod
    return new, old
