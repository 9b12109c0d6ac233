"""The StatefulSet controller: pods with stable names and storage, made and replaced in order.

Each pass, as kube's StatefulSetControl: work out the current and update revisions; make every
missing pod in range (with its claims first), replace failed ones; under OrderedReady one at a
time, each waiting for its predecessors to be Running and Ready, under Parallel all at once; then
delete pods beyond `replicas`, highest ordinal first; then, for RollingUpdate, delete pods not at
the update revision from the highest ordinal down to the partition, keeping at most
maxUnavailable pods unhealthy (kube's MaxUnavailableStatefulSet behaviour; 1 when unset), so they
come back at the new revision. OnDelete leaves replacement to whoever deletes pods.
"""
from __future__ import annotations

import logging

from .. import errors
from . import statefulset_pods as sp
from .history import History, next_revision, revision_hash, same_data, template_of, template_patch
from .intorpercent import scaled_value
from .pods import controller_ref, label_selector
from .reconciler import Reconciler
from .statuswrite import write_status

log = logging.getLogger("vapi.controllers")
HASH_LABEL = "controller.kubernetes.io/hash"


class StatefulSetController(Reconciler):
    user = "statefulset-controller"
    primary = ("apps", "v1", "statefulsets")

    def setup(self) -> None:
        self.watch_owned("", "v1", "pods", "StatefulSet")
        self.watch_owned("apps", "v1", "controllerrevisions", "StatefulSet")
        self.sets = self.cache(*self.primary)
        self.pods = self.cache("", "v1", "pods")
        self.history = History(self.api, self.cache("apps", "v1", "controllerrevisions"), "StatefulSet", HASH_LABEL)
        self.pods_info = self.api.registry.get("", "v1", "pods")
        self.claims_info = self.api.registry.get("", "v1", "persistentvolumeclaims")
        self.sets_info = self.api.registry.get(*self.primary)

    async def reconcile(self, namespace, name):
        sts = self.sets.get(namespace, name)
        if sts is None:
            return None
        uid = sts["metadata"]["uid"]
        pods = [p for p in self.pods.list(namespace)
                if (controller_ref(p) or {}).get("uid") == uid and sp.is_member(sts, p)]
        pods = await self._adopt(sts, pods)
        revisions = self.history.owned(sts)
        current, update, collisions = await self._revisions(sts, revisions)
        status = await self._sync(sts, pods, current, update)
        status["collisionCount"] = collisions
        await self._write_status(sts, status)
        live = {sp.pod_revision(p) for p in pods} | {current["metadata"]["name"], update["metadata"]["name"]}
        await self.history.truncate(sts, self.history.owned(sts), live)
        min_ready = int(sts["spec"].get("minReadySeconds") or 0)
        if min_ready and status["readyReplicas"] != status.get("availableReplicas"):
            return float(min_ready)
        return None

    async def _adopt(self, sts: dict, pods: list[dict]) -> list[dict]:
        """Take in orphaned pods the selector matches and the name says are this set's."""
        if sts["metadata"].get("deletionTimestamp"):
            return pods
        selector = label_selector(sts["spec"].get("selector"))
        for pod in self.pods.list(sts["metadata"]["namespace"]):
            meta = pod["metadata"]
            if controller_ref(pod) or meta.get("deletionTimestamp") or not sp.is_member(sts, pod) \
                    or not selector.matches(meta.get("labels") or {}):
                continue
            refs = [*(meta.get("ownerReferences") or []),
                    {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": sts["metadata"]["name"],
                     "uid": sts["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
            patch = {"metadata": {"ownerReferences": refs, "uid": meta["uid"]}}
            try:
                pods.append(await self.api.patch(self.pods_info, meta["namespace"], meta["name"],
                                                 "application/strategic-merge-patch+json", patch))
            except errors.StatusError as e:
                if e.code not in (404, 409, 422):
                    raise
        return pods

    # Revisions

    async def _revisions(self, sts: dict, revisions: list[dict]) -> tuple[dict, dict, int]:
        collisions = int((sts.get("status") or {}).get("collisionCount") or 0)
        data = template_patch(sts)
        while True:
            hash_ = revision_hash(data, collisions)
            candidate = self.history.new_revision(sts, next_revision(revisions), hash_, data)
            equal = [r for r in revisions if same_data(r, candidate)]
            if equal and revisions and equal[-1]["metadata"]["name"] == revisions[-1]["metadata"]["name"]:
                update = revisions[-1]
            elif equal:
                update = await self.history.renumber(equal[-1], candidate["revision"])
            else:
                update = await self.history.create(candidate)
                if update is None:
                    collisions += 1
                    continue
            break
        current_name = (sts.get("status") or {}).get("currentRevision")
        current = next((r for r in revisions if r["metadata"]["name"] == current_name), update)
        return current, update, collisions

    # Pods

    async def _sync(self, sts: dict, pods: list[dict], current: dict, update: dict) -> dict:
        replicas_count = sp.replicas_of(sts)
        start = sp.start_ordinal(sts)
        slots: list[dict | None] = [None] * replicas_count
        condemned = []
        for pod in pods:
            ordinal = sp.ordinal_of(pod)
            if sp.in_range(sts, ordinal):
                slots[ordinal - start] = pod
            else:
                condemned.append(pod)
        condemned.sort(key=sp.ordinal_of, reverse=True)
        current_template, update_template = template_of(current), template_of(update)
        strategy = sts["spec"].get("updateStrategy") or {}
        partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
        for i, pod in enumerate(slots):
            if pod is None:
                if strategy.get("type", "RollingUpdate") == "RollingUpdate" and i < partition:
                    slots[i] = sp.new_pod(sts, current_template, start + i, current["metadata"]["name"])
                else:
                    slots[i] = sp.new_pod(sts, update_template, start + i, update["metadata"]["name"])
        status = self._status(sts, pods, current, update)
        if sts["metadata"].get("deletionTimestamp"):
            return status
        monotonic = sts["spec"].get("podManagementPolicy", "OrderedReady") != "Parallel"
        now = self.clock.now()
        min_ready = int(sts["spec"].get("minReadySeconds") or 0)
        unhealthy = [p for p in slots if not sp.is_healthy(p)] + [p for p in condemned if not sp.is_healthy(p)]
        first_unhealthy = min(unhealthy, key=sp.ordinal_of, default=None)

        for pod in slots:
            if await self._process_replica(sts, pod, monotonic, min_ready, now):
                return status
        for pod in condemned:
            await self._fix_claims(sts, pod)
        for pod in condemned:
            if sp.is_terminating(pod):
                if monotonic:
                    return status
                continue
            healthy = sp.is_running_and_ready(pod) and sp.is_running_and_available(pod, min_ready, now)
            if monotonic and not healthy and pod is not first_unhealthy:
                return status
            await self._delete_pod(sts, pod)
            if monotonic:
                return status
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return status
        await self._roll(sts, slots, update, partition, status)
        return status

    async def _process_replica(self, sts: dict, pod: dict, monotonic: bool, min_ready: int, now) -> bool:
        """Bring one pod in range towards the spec; True when this pass must stop here."""
        if sp.is_finished(pod):
            if not sp.is_terminating(pod):
                meta = sts["metadata"]
                failed = pod["status"]["phase"] == "Failed"
                self.recorder.event(sts, "Warning" if failed else "Normal",
                                    "RecreatingFailedPod" if failed else "RecreatingTerminatedPod",
                                    f"StatefulSet {meta['namespace']}/{meta['name']} is recreating "
                                    f"{'failed' if failed else 'terminated'} Pod {pod['metadata']['name']}")
                await self._delete_pod(sts, pod)
            return True
        if not sp.is_created(pod):
            if await self._claims_stale(sts, pod):
                return True
            created = await self._create_pod(sts, pod)
            return monotonic or not created
        if sp.is_terminating(pod) and monotonic:
            return True
        if monotonic and not sp.is_running_and_available(pod, min_ready, now):
            return True
        if not (sp.identity_matches(sts, pod) and sp.storage_matches(sts, pod)):
            await self._update_pod(sts, pod)
        await self._fix_claims(sts, pod)
        return False

    async def _claims_stale(self, sts: dict, pod: dict) -> bool:
        """A claim still being deleted (by an earlier scale down) must be gone before the pod returns."""
        for claim in sp.claims_for(sts, sp.ordinal_of(pod)).values():
            existing = self.api.lookup(self.claims_info, claim["metadata"]["namespace"], claim["metadata"]["name"])
            if existing is not None and existing["metadata"].get("deletionTimestamp"):
                return True
        return False

    async def _create_pod(self, sts: dict, pod: dict) -> bool:
        name, set_name = pod["metadata"]["name"], sts["metadata"]["name"]
        namespace = sts["metadata"]["namespace"]
        for claim in sp.claims_for(sts, sp.ordinal_of(pod)).values():
            claim_name = claim["metadata"]["name"]
            if self.api.lookup(self.claims_info, namespace, claim_name) is not None:
                continue
            owners = sp.claim_owners(sts, None, claim)
            if owners:
                claim["metadata"]["ownerReferences"] = owners
            try:
                await self.api.create(self.claims_info, namespace, claim)
            except errors.StatusError as e:
                if e.code == 409:
                    continue
                self.recorder.event(sts, "Warning", "FailedCreate",
                                    f"create Claim {claim_name} for Pod {name} in StatefulSet {set_name} "
                                    f"failed error: {e.message}")
                raise
            self.recorder.event(sts, "Normal", "SuccessfulCreate",
                                f"create Claim {claim_name} Pod {name} in StatefulSet {set_name} success")
        # a conflict: the cache has not seen the pod yet; its event brings the set back
        return await self._pod_write(sts, "create", pod, lambda: self.api.create(self.pods_info, namespace, pod),
                                     quiet=409)

    async def _update_pod(self, sts: dict, pod: dict) -> None:
        await self._pod_write(sts, "update", pod, lambda: self.api.guaranteed_update(
            self.pods_info, pod["metadata"]["namespace"], pod["metadata"]["name"],
            lambda current: sp.fix_identity_and_storage(sts, current)))

    async def _delete_pod(self, sts: dict, pod: dict) -> None:
        await self._pod_write(sts, "delete", pod, lambda: self.api.delete(
            self.pods_info, pod["metadata"]["namespace"], pod["metadata"]["name"]))

    async def _pod_write(self, sts: dict, verb: str, pod: dict, write, quiet: int = 404) -> bool:
        """One write of a pod, reported as kube's StatefulSet controller reports it; False when the
        `quiet` answer came back (the cache was behind)."""
        name, set_name = pod["metadata"]["name"], sts["metadata"]["name"]
        try:
            await write()
        except errors.StatusError as e:
            if e.code == quiet:
                return False
            self.recorder.event(sts, "Warning", f"Failed{verb.title()}",
                                f"{verb} Pod {name} in StatefulSet {set_name} failed error: {e.message}")
            raise
        self.recorder.event(sts, "Normal", f"Successful{verb.title()}",
                            f"{verb} Pod {name} in StatefulSet {set_name} successful")
        return True

    async def _fix_claims(self, sts: dict, pod: dict) -> None:
        """Give the pod's claims the owners the retention policy asks for."""
        for claim in sp.claims_for(sts, sp.ordinal_of(pod)).values():
            meta = claim["metadata"]
            existing = self.api.lookup(self.claims_info, meta["namespace"], meta["name"])
            if existing is None or existing["metadata"].get("deletionTimestamp") \
                    or sp.claim_owners_match(sts, pod, existing):
                continue

            def mutate(current):
                current["metadata"]["ownerReferences"] = sp.claim_owners(sts, pod, current)
                return current
            try:
                await self.api.guaranteed_update(self.claims_info, meta["namespace"], meta["name"], mutate)
            except errors.StatusError as e:
                if e.code != 404:
                    raise

    async def _roll(self, sts: dict, slots: list[dict], update: dict, partition: int, status: dict) -> None:
        """Replace pods not at the update revision, highest ordinal first, down to the partition."""
        max_unavailable = scaled_value((sts["spec"]["updateStrategy"].get("rollingUpdate") or {}).get("maxUnavailable"),
                                       len(slots), False, default=1) or 1
        unavailable = sum(1 for pod in slots if not sp.is_healthy(pod))
        budget = max_unavailable - unavailable
        update_name = update["metadata"]["name"]
        for index in range(len(slots) - 1, partition - 1, -1):
            if budget <= 0:
                return
            pod = slots[index]
            if sp.pod_revision(pod) != update_name and not sp.is_terminating(pod):
                await self._delete_pod(sts, pod)
                status["currentReplicas"] -= 1
                budget -= 1

    # Status

    def _status(self, sts: dict, pods: list[dict], current: dict, update: dict) -> dict:
        now = self.clock.now()
        min_ready = int(sts["spec"].get("minReadySeconds") or 0)
        current_name, update_name = current["metadata"]["name"], update["metadata"]["name"]
        counts = dict.fromkeys(("replicas", "readyReplicas", "currentReplicas", "updatedReplicas",
                                "availableReplicas"), 0)
        for pod in pods:
            created = sp.is_created(pod)
            counts["replicas"] += created
            if sp.is_running_and_ready(pod):
                counts["readyReplicas"] += 1
                counts["availableReplicas"] += sp.is_running_and_available(pod, min_ready, now)
            if created and not sp.is_terminating(pod):
                counts["currentReplicas"] += sp.pod_revision(pod) == current_name
                counts["updatedReplicas"] += sp.pod_revision(pod) == update_name
        return {"observedGeneration": sts["metadata"].get("generation"), **counts,
                "currentRevision": current_name, "updateRevision": update_name}

    async def _write_status(self, sts: dict, status: dict) -> None:
        strategy = (sts["spec"].get("updateStrategy") or {}).get("type", "RollingUpdate")
        # Complete only with every pod there: a pod deleted for the update and not yet made
        # again must not let the rest count as the whole set.
        if strategy == "RollingUpdate" and status["updatedReplicas"] == status["replicas"] \
                == status["readyReplicas"] == sp.replicas_of(sts):
            status["currentReplicas"] = status["updatedReplicas"]
            status["currentRevision"] = status["updateRevision"]
        await write_status(self.api, self.sets_info, sts, status)
