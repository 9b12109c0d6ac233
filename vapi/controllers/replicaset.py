"""ReplicaSet and ReplicationController: keep `spec.replicas` pods alive, as kube's ReplicaSet
controller does (the ReplicationController is the same loop over the core kind).

A sync claims the namespace's active pods (adopting orphans its selector matches, releasing those
it no longer matches), creates the missing pods in slow-start batches (1, 2, 4, ... stopping at the
first failure, so a quota refusal costs one request, not hundreds) or deletes the surplus, ranked
as kube ranks them, then writes status. Expectations keep a sync that has just created or deleted
pods from acting again before the informer has seen those writes.
"""
from __future__ import annotations

import asyncio
import copy

from .. import errors
from ..api import DeleteOptions
from .controllerref import ClaimManager
from .deployment_util import spec_replicas, without_zeros
from .expectations import Expectations
from .podranking import pods_to_delete
from .pods import controller_ref, is_pod_active, is_pod_available, is_pod_ready, label_selector, pod_from_template
from .reconciler import Reconciler

BURST_REPLICAS = 500      # kube's cap on creations or deletions in one sync
PODS = ("", "v1", "pods")


def served_minor(api) -> int:
    return int(api.schemas.version.split(".")[1])


def terminating(pod: dict) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp")) and \
        (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


async def slow_start(count: int, make) -> tuple[int, Exception | None]:
    """Run `make()` `count` times in batches doubling from 1; stop after a batch with a failure.
    Returns how many succeeded and the first failure."""
    done, batch = 0, min(count, 1)
    while batch > 0:
        results = await asyncio.gather(*(make() for _ in range(batch)), return_exceptions=True)
        for result in results:
            if isinstance(result, asyncio.CancelledError):
                raise result
        failures = [r for r in results if isinstance(r, Exception)]
        done += batch - len(failures)
        if failures:
            return done, failures[0]
        count -= batch
        batch = min(2 * batch, count)
    return done, None


class ReplicaSetController(Reconciler):
    user = "replicaset-controller"
    primary = ("apps", "v1", "replicasets")
    api_version, kind = "apps/v1", "ReplicaSet"
    workers = 2

    def __init__(self, api, informers, recorder, clock):
        super().__init__(api, informers, recorder, clock)
        self.expectations = Expectations()

    def matcher(self, owner: dict):
        return label_selector(owner["spec"].get("selector")).matches

    def counts_terminating(self) -> bool:
        """ReplicaSet status has terminatingReplicas from 1.34, when its feature is on by default."""
        return served_minor(self.api) >= 34

    # --- what wakes a sync -----------------------------------------------------------------------

    def setup(self) -> None:
        pods = self.cache(*PODS)
        self._read.append(pods)
        pods.add_handler(self._pod_changed)

    def _owner_key(self, pod: dict, ref: dict | None):
        if ref is None or ref.get("kind") != self.kind:
            return None
        namespace = pod["metadata"].get("namespace")
        owner = self.cache(*self.primary).get(namespace, ref["name"])
        if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
            return None
        return namespace, ref["name"]

    def _matching_owners(self, pod: dict):
        namespace = pod["metadata"].get("namespace")
        labels = pod["metadata"].get("labels") or {}
        for owner in self.cache(*self.primary).list(namespace):
            if self.matcher(owner)(labels):
                yield namespace, owner["metadata"]["name"]

    async def _pod_changed(self, event_type: str, pod: dict, prev: dict | None) -> None:
        ref = controller_ref(pod)
        key = self._owner_key(pod, ref)
        was_deleting = prev is not None and prev["metadata"].get("deletionTimestamp")
        if key is not None:
            if event_type == "ADDED" and not pod["metadata"].get("deletionTimestamp"):
                self.expectations.creation_observed(key)
            elif (event_type == "DELETED" or pod["metadata"].get("deletionTimestamp")) and not was_deleting:
                self.expectations.deletion_observed(key)
            self.enqueue(key)
            min_ready = (self.cache(*self.primary).get(*key) or {}).get("spec", {}).get("minReadySeconds") or 0
            if min_ready and prev is not None and is_pod_ready(pod) and not is_pod_ready(prev):
                self.enqueue_after(key, min_ready + 1)    # when it will count as available
        if prev is not None:
            old_key = self._owner_key(prev, controller_ref(prev))
            if old_key is not None and old_key != key:
                self.enqueue(old_key)
        if ref is None and event_type != "DELETED":
            labels_changed = prev is None or (prev["metadata"].get("labels") != pod["metadata"].get("labels")) \
                or controller_ref(prev) is not None
            if labels_changed:
                for owner_key in self._matching_owners(pod):
                    self.enqueue(owner_key)

    # --- the sync --------------------------------------------------------------------------------

    async def reconcile(self, namespace: str | None, name: str) -> float | None:
        key = (namespace, name)
        owner = self.cache(*self.primary).get(namespace, name)
        if owner is None:
            self.expectations.forget(key)
            return None
        needs_sync = self.expectations.satisfied(key)
        all_pods = self.cache(*PODS).list(namespace)
        claim = ClaimManager(self.api, self.resource(*self.primary), owner, self.api_version, self.kind,
                             self.matcher(owner))
        pods = await claim.claim(self.resource(*PODS), [p for p in all_pods if is_pod_active(p)])
        failure = None
        if needs_sync and not owner["metadata"].get("deletionTimestamp"):
            try:
                await self.manage(key, owner, pods)
            except errors.StatusError as e:
                failure = e
        uid = owner["metadata"]["uid"]
        gone = sum(1 for p in all_pods if terminating(p) and (controller_ref(p) or {}).get("uid") == uid)
        status = self.calculate_status(owner, pods, failure, gone)
        await self.write_status(owner, status)
        if failure is not None:
            raise failure
        min_ready = owner["spec"].get("minReadySeconds") or 0
        if min_ready > 0 and status.get("readyReplicas", 0) == spec_replicas(owner) and \
                status.get("availableReplicas", 0) != spec_replicas(owner):
            return float(min_ready)
        return None

    async def manage(self, key, owner: dict, pods: list[dict]) -> None:
        diff = len(pods) - spec_replicas(owner)
        if diff < 0:
            wanted = min(-diff, BURST_REPLICAS)
            self.expectations.expect(key, creations=wanted)
            made, failure = await slow_start(wanted, lambda: self.create_pod(owner))
            for _ in range(wanted - made):      # never made: nothing to wait for
                self.expectations.creation_observed(key)
            if failure is not None:
                raise failure
        elif diff > 0:
            surplus = min(diff, BURST_REPLICAS)
            victims = pods_to_delete(pods, self.related_pods(owner, pods), surplus, self.clock.now())
            self.expectations.expect(key, deletions=len(victims))
            results = await asyncio.gather(*(self.delete_pod(owner, pod) for pod in victims),
                                           return_exceptions=True)
            failures = [r for r in results if isinstance(r, Exception)]
            for _ in failures:
                self.expectations.deletion_observed(key)
            real = [f for f in failures if not (isinstance(f, errors.StatusError) and f.code == 404)]
            if real:
                raise real[0]

    def related_pods(self, owner: dict, own: list[dict]) -> list[dict]:
        """This owner's pods and those of its siblings under the same controller (a Deployment's
        other ReplicaSets): doubling up on a node is judged across all of them."""
        parent = controller_ref(owner)
        if parent is None:
            return own
        namespace = owner["metadata"].get("namespace")
        siblings = {rs["metadata"]["uid"] for rs in self.cache(*self.primary).list(namespace)
                    if (controller_ref(rs) or {}).get("uid") == parent.get("uid")}
        return [p for p in self.cache(*PODS).list(namespace) if (controller_ref(p) or {}).get("uid") in siblings]

    async def create_pod(self, owner: dict) -> None:
        namespace = owner["metadata"]["namespace"]
        pod = pod_from_template(owner["spec"].get("template") or {}, owner, self.api_version, self.kind,
                                namespace=namespace)
        try:
            made = await self.api.create(self.resource(*PODS), namespace, pod)
        except errors.StatusError as e:
            if e.code == 403 and "because it is being terminated" in e.message:
                return          # the namespace is going away: nothing to replace
            self.recorder.event(owner, "Warning", "FailedCreate", f"Error creating: {e.message}")
            raise
        self.recorder.event(owner, "Normal", "SuccessfulCreate", f"Created pod: {made['metadata']['name']}")

    async def delete_pod(self, owner: dict, pod: dict) -> None:
        name = pod["metadata"]["name"]
        try:
            await self.api.delete(self.resource(*PODS), pod["metadata"]["namespace"], name,
                                  DeleteOptions(preconditions={"uid": pod["metadata"]["uid"]}))
        except errors.StatusError as e:
            if e.code != 404:
                self.recorder.event(owner, "Warning", "FailedDelete", f"Error deleting: {e.message}")
            raise
        self.recorder.event(owner, "Normal", "SuccessfulDelete", f"Deleted pod: {name}")

    def calculate_status(self, owner: dict, pods: list[dict], failure, gone: int) -> dict:
        template_labels = ((owner["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {}
        min_ready = owner["spec"].get("minReadySeconds") or 0
        now = self.clock.now()
        status = {"replicas": len(pods),
                  "fullyLabeledReplicas": sum(1 for p in pods if template_labels.items() <=
                                              (p["metadata"].get("labels") or {}).items()),
                  "readyReplicas": sum(1 for p in pods if is_pod_ready(p)),
                  "availableReplicas": sum(1 for p in pods if is_pod_available(p, min_ready, now)),
                  "observedGeneration": owner["metadata"].get("generation", 0)}
        keep = ("replicas",)
        if self.counts_terminating():
            status["terminatingReplicas"] = gone
            keep += ("terminatingReplicas",)
        conditions = copy.deepcopy((owner.get("status") or {}).get("conditions") or [])
        existing = next((c for c in conditions if c.get("type") == "ReplicaFailure"), None)
        if failure is not None and existing is None:
            reason = "FailedCreate" if len(pods) < spec_replicas(owner) else "FailedDelete"
            conditions.append({"type": "ReplicaFailure", "status": "True",
                               "lastTransitionTime": self.stamp(), "reason": reason, "message": failure.message})
        elif failure is None and existing is not None:
            conditions.remove(existing)
        status["conditions"] = conditions
        return without_zeros(status, keep)

    def stamp(self) -> str:
        return self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")

    async def write_status(self, owner: dict, status: dict) -> None:
        if (owner.get("status") or {}) == status:
            return
        meta = owner["metadata"]

        def put(current: dict) -> dict:
            current["status"] = status
            return current
        try:
            await self.api.guaranteed_update(self.resource(*self.primary), meta.get("namespace"), meta["name"],
                                             put, subresource="status")
        except errors.StatusError as e:
            if e.code != 404:
                raise


class ReplicationManager(ReplicaSetController):
    """The ReplicationController: a ReplicaSet whose selector is a plain label map."""
    user = "replication-controller"
    primary = ("", "v1", "replicationcontrollers")
    api_version, kind = "v1", "ReplicationController"

    def matcher(self, owner: dict):
        selector = owner["spec"].get("selector") or {}
        return lambda labels: selector.items() <= (labels or {}).items()

    def counts_terminating(self) -> bool:
        return False
