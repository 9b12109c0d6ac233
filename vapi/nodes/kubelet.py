"""Simulated kubelets: every simulated node's kubelet in one loop, driven by one timer heap.

A Node labelled `vapi.dev/simulated=true` (those `vapi serve --nodes N` registers, and any a user
creates) gets a kubelet here: it renews the node's Lease in `kube-node-lease` every 10 seconds,
reports the node's status every 5 minutes (kubelet's nodeStatusReportFrequency), and runs the
pods bound to the node (`pod.py`). What is due next sits in one heap, so a thousand nodes and ten
thousand pods cost one loop and only the work that is due; informer events only mark pods to look
at, and a fixed pool of writers (WORKERS, however many nodes and pods) does every write.

Each kubelet acts as its node, `system:node:<name>` in `system:nodes`, as a kubelet's client
certificate names it. kube narrows such a user to its own node's objects with the Node authorizer
and the NodeRestriction admission plugin, which vapi does not have; the bootstrap policy binds the
`system:node` ClusterRole to the `system:nodes` group instead (what kube did before the Node
authorizer), so a simulated kubelet holds exactly the rules kube's nodes hold.

When a Node is deleted its kubelet stops and the pods bound to it are deleted at once, as kube's
pod garbage collector deletes pods whose node is gone (kube waits 40 s first; vapi knows the
node went, so it does not).
"""
from __future__ import annotations

import asyncio
import datetime
import heapq
import itertools
import logging
import time
from dataclasses import dataclass, field

from .. import errors
from ..api import DeleteOptions
from ..writes.patch import MERGE
from ..auth.user import AUTHENTICATED, User
from ..controllers.events import EventRecorder
from ..controllers.identity import ActingAs, controller_user
from .behaviour import defaults
from .node import (LEASE_NAMESPACE, NAME_PREFIX, cidr_index, index_of, internal_ip, is_simulated, max_nodes,
                   micro_time, new_lease, new_node, node_status, pod_cidr, pod_ip, HOSTS_PER_CIDR)
from .pod import PodRun

log = logging.getLogger("vapi.nodes")
NODES_GROUP = "system:nodes"
LEASE, STATUS, POD, FINAL = "lease", "status", "pod", "final"
WORKERS = 16
RETRY_SECONDS = 1.0


def node_user(name: str) -> User:
    return User(f"system:node:{name}", [NODES_GROUP, AUTHENTICATED])


@dataclass
class NodeRun:
    name: str
    index: int
    api: ActingAs
    cidr: str
    host_ip: str
    used: set[int] = field(default_factory=set)
    cursor: int = 0
    recorder: EventRecorder | None = None

    def events(self) -> EventRecorder:
        """The node's kubelet reports events as `kubelet` on its host, as kube's kubelets do."""
        if self.recorder is None:
            self.recorder = EventRecorder(self.api, "kubelet", host=self.name)
        return self.recorder

    def allocate(self) -> str:
        for step in range(HOSTS_PER_CIDR - 1):
            host = (self.cursor + step) % (HOSTS_PER_CIDR - 1) + 1
            if host not in self.used:
                self.used.add(host)
                self.cursor = host
                return pod_ip(self.cidr, host)
        return ""  # a full /24: the pod runs without an IP, as a kubelet out of addresses would not

    def release(self, ip: str) -> None:
        self.used.discard(_host(self.cidr, ip))

    def claim(self, ip: str) -> bool:
        host = _host(self.cidr, ip)
        if host is None or host in self.used:
            return False
        self.used.add(host)
        return True


def _host(cidr: str, ip: str) -> int | None:
    try:
        base = [int(p) for p in cidr.split("/")[0].split(".")]
        parts = [int(p) for p in ip.split(".")]
    except ValueError:
        return None
    if len(parts) != 4 or parts[:3] != base[:3] or not 2 <= parts[3] <= HOSTS_PER_CIDR:
        return None
    return parts[3] - 1


def _when(stamp: str | None) -> float | None:
    if not stamp:
        return None
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


class Kubelets:
    def __init__(self, api, informers, authorize, runtime, *, count: int, kubelet_version: str, clock=time.time):
        self._raw, self.informers, self.authorize, self.runtime = api, informers, authorize, runtime
        self.count, self.kubelet_version, self.clock = count, kubelet_version, clock
        self._stopped_recorders: list[EventRecorder] = []
        registry = api.registry
        self.pods_info = registry.get("", "v1", "pods")
        self.nodes_info = registry.get("", "v1", "nodes")
        self.leases_info = registry.get("coordination.k8s.io", "v1", "leases")
        self.pod_gc = ActingAs(api, controller_user("pod-garbage-collector"), authorize)
        self.nodes: dict[str, NodeRun] = {}
        self.runs: dict[str, PodRun] = {}                       # pod uid -> its run
        self.by_node: dict[str, set[tuple[str, str]]] = {}      # node -> (namespace, name) bound to it
        self._heap: list[tuple[float, int, str, str]] = []
        self._seq = itertools.count()
        self._dirty: set[tuple[str, str]] = set()
        self._node_changes: dict[str, dict | None] = {}         # name -> Node seen, or None: deleted
        self._wake = asyncio.Event()
        self._work: asyncio.Queue = asyncio.Queue()
        self._busy: set[str] = set()                            # uids of pods a worker is stepping
        self._again: set[str] = set()                           # ... that changed meanwhile
        node = defaults()["node"]
        self.renew_seconds, self.report_seconds = node["leaseRenewSeconds"], node["statusReportSeconds"]
        runtime.on_exit = self._process_exited

    def _process_exited(self, uid: str, container: str, instance: int, code: int) -> None:
        run = self.runs.get(uid)
        if run is not None and run.process_exited(container, instance, code, self.clock()):
            self._schedule(run, self.clock())

    # --- informer events (never write: they only say what to look at) -------------------------

    async def _pod_event(self, kind: str, obj: dict, prev: dict | None) -> None:
        meta = obj["metadata"]
        key = (meta["namespace"], meta["name"])
        before = (prev or {}).get("spec", {}).get("nodeName")
        now_on = obj["spec"].get("nodeName")
        if before and before != now_on:
            self.by_node.get(before, set()).discard(key)
        if kind == "DELETED":
            if now_on:
                self.by_node.get(now_on, set()).discard(key)
            run = self.runs.pop(meta["uid"], None)
            if run is not None:
                self._forget(run)
            return
        if now_on:
            self.by_node.setdefault(now_on, set()).add(key)
            if now_on in self.nodes:
                self._dirty.add(key)
                self._wake.set()

    async def _node_event(self, kind: str, obj: dict, prev: dict | None) -> None:
        name = obj["metadata"]["name"]
        if kind == "DELETED":
            self._node_changes[name] = None
        elif is_simulated(obj) != (name in self.nodes):
            self._node_changes[name] = obj
        else:
            return
        self._wake.set()

    # --- the loop ------------------------------------------------------------------------------

    def _at(self, when: float, kind: str, key: str) -> None:
        heapq.heappush(self._heap, (when, next(self._seq), kind, key))
        self._wake.set()

    async def run(self) -> None:
        await self._register_started_nodes()
        self.informers.get(self.nodes_info).add_handler(self._node_event)
        self.informers.get(self.pods_info).add_handler(self._pod_event)
        # A few workers write at once, so that the store commits their writes together; the loop
        # alone decides what is due, and a pod is in at most one worker's hands at a time.
        workers = [asyncio.create_task(self._worker(), name=f"kubelet worker {i}") for i in range(WORKERS)]
        try:
            await self._loop()
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            await self._guarded(self._node_moves(), "node changes")
            while self._dirty:
                self._sync(self._dirty.pop())
            now = self.clock()
            while self._heap and self._heap[0][0] <= now:
                when, _, kind, key = heapq.heappop(self._heap)
                if kind == POD:
                    run = self.runs.get(key)
                    if run is None or run.due != when:
                        continue  # superseded
                    if key in self._busy:
                        self._again.add(key)
                        continue
                    self._busy.add(key)
                self._work.put_nowait((kind, key))
            timeout = max(self._heap[0][0] - self.clock(), 0) if self._heap else None
            # asyncio.timeout, not wait_for: Python 3.11's wait_for may swallow a cancellation
            # that arrives as the wait ends, and the loop would then outlive its server's stop.
            try:
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def _worker(self) -> None:
        while True:
            kind, key = await self._work.get()
            try:
                await self._due(kind, key)
            finally:
                if kind == POD:
                    self._busy.discard(key)
                    if key in self._again and key in self.runs:
                        self._again.discard(key)
                        self._schedule(self.runs[key], self.clock())

    @staticmethod
    async def _guarded(work, what: str) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - one node's or pod's failure must not stop the others
            log.exception("simulated kubelet: %s failed", what)

    async def _due(self, kind: str, key) -> None:
        try:
            if kind == POD:
                if key in self.runs:
                    await self._step(self.runs[key])
            elif kind == FINAL:
                await self._final_delete(key)
            elif key in self.nodes:
                await (self._renew(key) if kind == LEASE else self._report(key))
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - one node's or pod's failure must not stop the others
            log.exception("simulated kubelet: %s %s failed; retrying", kind,
                          key if isinstance(key, str) else key["metadata"]["name"])
            if kind == POD and key in self.runs:
                self._schedule(self.runs[key], self.clock() + RETRY_SECONDS)
            elif kind in (LEASE, STATUS) and key in self.nodes:
                self._at(self.clock() + RETRY_SECONDS, kind, key)

    # --- nodes ---------------------------------------------------------------------------------

    async def _register_started_nodes(self) -> None:
        """`--nodes N`: the kubelets of vapi-node-0..N-1 register their Nodes, unless they exist."""
        for index in range(min(self.count, max_nodes())):
            name = f"{NAME_PREFIX}{index}"
            api = ActingAs(self._raw, node_user(name), self.authorize)
            if self._raw.lookup(self.nodes_info, None, name) is None:
                try:
                    await api.create(self.nodes_info, None, new_node(name, index, self.kubelet_version, self.clock()))
                except errors.StatusError as e:
                    if e.code != 409:
                        raise

    async def _node_moves(self) -> None:
        while self._node_changes:
            name, obj = self._node_changes.popitem()
            if obj is not None and is_simulated(obj):
                if name not in self.nodes:
                    self._track(obj)
            elif name in self.nodes:
                await self._untrack(name, deleted=obj is None)
            elif obj is None:
                await self._collect(name)

    def _free_index(self, name: str, spec: dict) -> int:
        taken = {n.index for n in self.nodes.values()}
        index = cidr_index(spec.get("podCIDR") or "")
        if index is not None and index not in taken:
            return index
        index = index_of(name)
        if index is not None and index not in taken:
            return index
        return next(i for i in itertools.count(self.count) if i not in taken)

    def _track(self, obj: dict) -> None:
        name = obj["metadata"]["name"]
        spec = obj.get("spec") or {}
        index = self._free_index(name, spec)
        self.nodes[name] = NodeRun(name, index, ActingAs(self._raw, node_user(name), self.authorize),
                                   spec.get("podCIDR") or pod_cidr(index), internal_ip(index))
        now = self.clock()
        self._at(now, LEASE, name)
        self._at(now if not (obj.get("status") or {}).get("nodeInfo") else now + self.report_seconds, STATUS, name)
        self._dirty.update(self.by_node.get(name, ()))

    async def _untrack(self, name: str, deleted: bool) -> None:
        node = self.nodes.pop(name)
        if node.recorder is not None:
            self._stopped_recorders.append(node.recorder)
        for uid in [uid for uid, run in self.runs.items() if run.node == name]:
            self._forget(self.runs.pop(uid))
        if deleted:
            await self._collect(name)

    async def _collect(self, name: str) -> None:
        """The pods of a deleted node go too (kube's pod GC, for pods whose node is gone)."""
        for namespace, pod in sorted(self.by_node.pop(name, set())):
            try:
                await self.pod_gc.delete(self.pods_info, namespace, pod, DeleteOptions(grace_period_seconds=0))
            except errors.StatusError as e:
                if e.code != 404:
                    log.warning("deleting pod %s/%s of deleted node %s: %s", namespace, pod, name, e)

    async def _renew(self, name: str) -> None:
        node = self.nodes[name]
        now = self.clock()

        def renewed(lease):
            lease["spec"].update(holderIdentity=name, renewTime=micro_time(now),
                                 leaseDurationSeconds=defaults()["node"]["leaseDurationSeconds"])
            return lease
        try:
            await node.api.guaranteed_update(self.leases_info, LEASE_NAMESPACE, name, renewed)
        except errors.StatusError as e:
            if e.code != 404:
                raise
            obj = self.informers.get(self.nodes_info).get(None, name) or self._raw.lookup(self.nodes_info, None, name)
            if obj is None:
                return
            await node.api.create(self.leases_info, LEASE_NAMESPACE, new_lease(obj, now))
        self._at(now + self.renew_seconds, LEASE, name)

    async def _report(self, name: str) -> None:
        node = self.nodes[name]
        now = self.clock()
        seen = self.informers.get(self.nodes_info).get(None, name) or {}
        if not (seen.get("spec") or {}).get("podCIDR"):
            # kube's node IPAM gives a new node its pod CIDR; here its kubelet takes the one its index names.
            await node.api.patch(self.nodes_info, None, name, MERGE,
                                 {"spec": {"podCIDR": node.cidr, "podCIDRs": [node.cidr]}})

        def reported(obj):
            obj["status"] = {**(obj.get("status") or {}),
                             **node_status(name, node.index, self.kubelet_version, now, obj.get("status"))}
            return obj
        await node.api.guaranteed_update(self.nodes_info, None, name, reported, subresource="status")
        self._at(now + self.report_seconds, STATUS, name)

    # --- pods ----------------------------------------------------------------------------------

    def _schedule(self, run: PodRun, when: float | None) -> None:
        run.due = when
        if when is not None:
            self._at(when, POD, run.uid)

    def _forget(self, run: PodRun) -> None:
        """Nothing more to do for the pod: its IP goes back to the node. (The runtime hears of the
        pod's statuses, and of its deletion, from the server's pods informer: a finished pod's logs
        stay readable until the pod is deleted.)"""
        run.due = None
        node = self.nodes.get(run.node)
        if node is not None and run.ip:
            node.release(run.ip)

    def _sync(self, key: tuple[str, str]) -> None:
        """A pod changed: take it up, or see it again now (never a write: the workers write)."""
        obj = self.informers.get(self.pods_info).get(*key)
        if obj is None or obj["spec"].get("nodeName") not in self.nodes:
            return
        meta = obj["metadata"]
        run = self.runs.get(meta["uid"])
        now = self.clock()
        if run is None:
            if (obj.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                if meta.get("deletionTimestamp"):
                    self._work.put_nowait((FINAL, obj))
                return
            run = self.runs[meta["uid"]] = self._new_run(obj, now)
        elif meta["resourceVersion"] == run.written_rv:
            return  # our own write, heard back
        if meta.get("deletionTimestamp"):
            run.delete(now, meta.get("deletionGracePeriodSeconds"))
        if run.uid in self._busy:
            self._again.add(run.uid)
        else:
            self._schedule(run, now)

    def _new_run(self, obj: dict, now: float) -> PodRun:
        node = self.nodes[obj["spec"]["nodeName"]]
        status = obj.get("status") or {}
        ip = status.get("podIP") if status.get("podIP") and node.claim(status["podIP"]) else node.allocate()
        run = PodRun(obj, node.name, ip, node.host_ip, _when(status.get("startTime")) or now)
        run.adopt(status, _when)
        return run

    async def _step(self, run: PodRun) -> None:
        obj = self.informers.get(self.pods_info).get(run.namespace, run.name)
        if obj is None or obj["metadata"]["uid"] != run.uid:
            self._forget(self.runs.pop(run.uid))
            return
        now = self.clock()
        due = run.advance(now)
        node = self.nodes[run.node]
        if run.status(obj.get("status") or {}, now) != run.reported:
            def mutate(current):
                if current["metadata"]["uid"] != run.uid:
                    raise errors.not_found(self.pods_info, run.name)
                current["status"] = run.reported = run.status(current.get("status") or {}, now)
                return current
            try:
                written = await node.api.guaranteed_update(self.pods_info, run.namespace, run.name, mutate,
                                                           subresource="status")
            except errors.StatusError as e:
                if e.code != 404:
                    raise
                self._forget(self.runs.pop(run.uid))
                return
            run.written_rv = written["metadata"]["resourceVersion"]
            self._tell(run, written)
        if run.finished:
            self._forget(self.runs.pop(run.uid))
            if run.deleting is not None:
                await self._final_delete(obj)
            return
        self._schedule(run, due)

    def _tell(self, run: PodRun, pod: dict) -> None:
        """The log lines and events the pod's moves produced, now that its status says so."""
        for container, instance, line, when in run.logs:
            self.runtime.logs.append(run.uid, container, instance, line,
                                     datetime.datetime.fromtimestamp(when, datetime.timezone.utc))
        run.logs.clear()
        node = self.nodes.get(run.node)
        if node is not None:
            for kind, reason, message in run.events:
                node.events().event(pod, kind, reason, message)
        run.events.clear()

    async def close(self) -> None:
        """Stops the event recorders (the loop itself is stopped by cancelling `run`)."""
        for recorder in self._stopped_recorders + [n.recorder for n in self.nodes.values() if n.recorder]:
            await recorder.close()

    async def _final_delete(self, obj: dict) -> None:
        """The kubelet's last word on a deleted pod: delete it now, this very pod (its uid)."""
        meta = obj["metadata"]
        node = self.nodes.get(obj["spec"].get("nodeName"))
        if node is None:
            return
        try:
            await node.api.delete(self.pods_info, meta["namespace"], meta["name"],
                                  DeleteOptions(grace_period_seconds=0, preconditions={"uid": meta["uid"]}))
        except errors.StatusError as e:
            if e.code not in (404, 409):
                raise
