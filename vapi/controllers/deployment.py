"""Deployments: roll a pod template out through ReplicaSets, as kube's deployment controller does.

Each template a Deployment has had lives in a ReplicaSet named `<deployment>-<pod-template-hash>`.
A sync claims the Deployment's ReplicaSets, then either only scales (paused, or the replica count
changed: proportionally across the ReplicaSets mid-rollout) or rolls out (RollingUpdate within
maxSurge/maxUnavailable, or Recreate: old pods gone first), trims history past
revisionHistoryLimit and writes status with its Progressing and Available conditions. The rollout
arithmetic is in `deployment_util`; the ReplicaSet lifecycle in `deployment_replicasets`.
"""
from __future__ import annotations

import copy

from .. import errors
from . import deployment_util as du
from .controllerref import ClaimManager
from .deployment_replicasets import ReplicaSets
from .pods import controller_ref, label_selector
from .reconciler import Reconciler
from .replicaset import PODS

RS = ("apps", "v1", "replicasets")


class DeploymentController(Reconciler, ReplicaSets):
    user = "deployment-controller"
    primary = ("apps", "v1", "deployments")
    workers = 2

    # --- what wakes a sync -----------------------------------------------------------------------

    def setup(self) -> None:
        self.watch(*RS, self._replicaset_owners)
        self.watch(*PODS, self._recreate_owner)

    def _replicaset_owners(self, rs: dict):
        namespace = rs["metadata"].get("namespace")
        ref = controller_ref(rs)
        if ref is not None:
            if ref.get("kind") == "Deployment":
                yield namespace, ref["name"]
            return
        labels = rs["metadata"].get("labels") or {}
        for d in self.cache(*self.primary).list(namespace):
            if label_selector(d["spec"].get("selector")).matches(labels):
                yield namespace, d["metadata"]["name"]

    def _recreate_owner(self, pod: dict):
        """A Recreate rollout waits for the old pods to be gone: their going wakes it."""
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return
        namespace = pod["metadata"].get("namespace")
        rs = self.cache(*RS).get(namespace, ref["name"])
        owner = controller_ref(rs)
        if owner is None or owner.get("kind") != "Deployment":
            return
        d = self.cache(*self.primary).get(namespace, owner["name"])
        if d is not None and (d["spec"].get("strategy") or {}).get("type") == "Recreate":
            yield namespace, owner["name"]

    # --- the sync --------------------------------------------------------------------------------

    def stamp(self) -> str:
        return self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")

    def with_terminating(self) -> bool:
        return self.served_minor() >= 34

    async def reconcile(self, namespace: str | None, name: str) -> float | None:
        cached = self.cache(*self.primary).get(namespace, name)
        if cached is None:
            return None
        d = copy.deepcopy(cached)
        selector = d["spec"].get("selector") or {}
        if not selector.get("matchLabels") and not selector.get("matchExpressions"):
            self.recorder.event(d, "Warning", "SelectingAll",
                                "This deployment is selecting all pods. A non-empty selector is required.")
            if (d.get("status") or {}).get("observedGeneration") != d["metadata"].get("generation"):
                d.setdefault("status", {})["observedGeneration"] = d["metadata"].get("generation")
                await self.write_deployment_status(d)
            return None
        rss = await self.claim_replicasets(d)
        if d["metadata"].get("deletionTimestamp"):
            new_rs, old_rss = await self.all_replicasets(d, rss, create=False)
            await self.sync_status(d, old_rss + [new_rs], new_rs)
            return None
        await self.check_paused(d)
        if d["spec"].get("paused") or await self.is_scaling_event(d, rss):
            return await self.sync_scale(d, rss)
        if (d["spec"].get("strategy") or {}).get("type") == "Recreate":
            return await self.rollout_recreate(d, rss)
        return await self.rollout_rolling(d, rss)

    async def claim_replicasets(self, d: dict) -> list[dict]:
        namespace = d["metadata"]["namespace"]
        claim = ClaimManager(self.api, self.resource(*self.primary), d, "apps/v1", "Deployment",
                             label_selector(d["spec"].get("selector")).matches)
        return await claim.claim(self.resource(*RS), self.cache(*RS).list(namespace))

    async def write_deployment_status(self, d: dict) -> None:
        meta = d["metadata"]
        d["status"] = du.without_zero_counts(d.get("status") or {}, self.with_terminating())
        written = await self.api.update(self.resource(*self.primary), meta["namespace"], meta["name"], d,
                                        subresource="status")
        d.clear()
        d.update(copy.deepcopy(written))

    async def check_paused(self, d: dict) -> None:
        if du.progress_deadline(d) is None:
            return
        status = d.setdefault("status", {})
        cond = du.condition(status, "Progressing")
        if cond is not None and cond.get("reason") == du.TIMED_OUT:
            return
        paused_shown = cond is not None and cond.get("reason") == du.PAUSED
        if d["spec"].get("paused") and not paused_shown:
            du.set_condition(status, du.new_condition("Progressing", "Unknown", du.PAUSED,
                                                      "Deployment is paused", self.stamp()))
        elif not d["spec"].get("paused") and paused_shown:
            du.set_condition(status, du.new_condition("Progressing", "Unknown", du.RESUMED,
                                                      "Deployment is resumed", self.stamp()))
        else:
            return
        await self.write_deployment_status(d)

    async def is_scaling_event(self, d: dict, rss: list[dict]) -> bool:
        new_rs, old_rss = await self.all_replicasets(d, rss, create=False)
        for rs in du.active(old_rss + [new_rs]):
            desired = du.replicas_annotation(rs, du.DESIRED_REPLICAS)
            if desired is not None and desired != du.spec_replicas(d):
                return True
        return False

    # --- scaling without a rollout ---------------------------------------------------------------

    async def sync_scale(self, d: dict, rss: list[dict]) -> float | None:
        new_rs, old_rss = await self.all_replicasets(d, rss, create=False)
        await self.scale(d, new_rs, old_rss)
        if d["spec"].get("paused"):
            await self.cleanup(d, old_rss)
        await self.sync_status(d, old_rss + [new_rs], new_rs)
        return None

    async def scale(self, d: dict, new_rs: dict | None, old_rss: list[dict]) -> None:
        desired = du.spec_replicas(d)
        only = du.active_or_latest(new_rs, old_rss)
        if only is not None:
            if du.spec_replicas(only) != desired:
                await self.scale_and_record(only, desired, d)
            return
        if du.is_saturated(d, new_rs):
            for old in du.active(old_rss):
                await self.scale_and_record(old, 0, d)
            return
        if du.rolling(d) is None:
            return
        sizes, operation = du.proportional_sizes(d, old_rss + [new_rs])
        for rs, size in sizes:
            await self.scale_replicaset(rs, size, d, operation)

    # --- rolling update --------------------------------------------------------------------------

    async def rollout_rolling(self, d: dict, rss: list[dict]) -> float | None:
        new_rs, old_rss = await self.all_replicasets(d, rss, create=True)
        all_rss = old_rss + [new_rs]
        if await self.reconcile_new(d, all_rss, new_rs):
            return await self.sync_rollout_status(d, all_rss, new_rs)
        if await self.reconcile_old(d, all_rss, old_rss, new_rs):
            return await self.sync_rollout_status(d, old_rss + [new_rs], new_rs)
        if du.complete(d, d.get("status") or {}):
            await self.cleanup(d, old_rss)
        return await self.sync_rollout_status(d, all_rss, new_rs)

    async def reconcile_new(self, d: dict, all_rss: list[dict], new_rs: dict) -> bool:
        desired = du.spec_replicas(d)
        if du.spec_replicas(new_rs) == desired:
            return False
        target = desired if du.spec_replicas(new_rs) > desired else du.new_rs_replicas(d, all_rss, new_rs)
        return await self.scale_and_record(new_rs, target, d)

    async def reconcile_old(self, d: dict, all_rss: list[dict], old_rss: list[dict], new_rs: dict) -> bool:
        old_active = du.active(old_rss)
        if du.total(old_active) == 0:
            return False
        min_available = du.spec_replicas(d) - du.max_unavailable(d)
        new_unavailable = du.spec_replicas(new_rs) - du.status_of(new_rs, "availableReplicas")
        max_down = du.total(all_rss) - min_available - new_unavailable
        if max_down <= 0:
            return False
        cleaned = await self.cleanup_unhealthy(d, old_rss, max_down)
        scaled = await self.scale_down_old(d, old_rss + [new_rs], old_rss)
        return cleaned + scaled > 0

    async def cleanup_unhealthy(self, d: dict, old_rss: list[dict], limit: int) -> int:
        """Scale old ReplicaSets down by their unavailable pods first: they serve nobody."""
        old_rss.sort(key=du.created)
        done = 0
        for i, rs in enumerate(old_rss):
            if done >= limit:
                break
            replicas, available = du.spec_replicas(rs), du.status_of(rs, "availableReplicas")
            if replicas == 0 or replicas == available:
                continue
            count = min(limit - done, replicas - available)
            old_rss[i] = await self.scaled(rs, replicas - count, d)
            done += count
        return done

    async def scale_down_old(self, d: dict, all_rss: list[dict], old_rss: list[dict]) -> int:
        min_available = du.spec_replicas(d) - du.max_unavailable(d)
        available = du.total(all_rss, "availableReplicas")
        if available <= min_available:
            return 0
        old_rss.sort(key=du.created)
        wanted, done = available - min_available, 0
        for i, rs in enumerate(old_rss):
            if done >= wanted:
                break
            if du.spec_replicas(rs) == 0:
                continue
            count = min(du.spec_replicas(rs), wanted - done)
            old_rss[i] = await self.scaled(rs, du.spec_replicas(rs) - count, d)
            done += count
        return done

    # --- recreate --------------------------------------------------------------------------------

    async def rollout_recreate(self, d: dict, rss: list[dict]) -> float | None:
        new_rs, old_rss = await self.all_replicasets(d, rss, create=False)
        all_rss = old_rss + [new_rs]
        scaled_down = False
        for i, rs in enumerate(old_rss):
            if du.spec_replicas(rs) > 0:
                old_rss[i] = await self.scaled(rs, 0, d)
                scaled_down = True
        if scaled_down or self.old_pods_running(new_rs, old_rss):
            return await self.sync_rollout_status(d, old_rss + [new_rs], new_rs)
        if new_rs is None:
            new_rs, old_rss = await self.all_replicasets(d, rss, create=True)
            all_rss = old_rss + [new_rs]
        await self.scale_and_record(new_rs, du.spec_replicas(d), d)
        if du.complete(d, d.get("status") or {}):
            await self.cleanup(d, old_rss)
        return await self.sync_rollout_status(d, all_rss, new_rs)

    def old_pods_running(self, new_rs: dict | None, old_rss: list[dict]) -> bool:
        if du.total(old_rss, "replicas") > 0:
            return True
        old_uids = {rs["metadata"]["uid"] for rs in old_rss}
        namespace = old_rss[0]["metadata"]["namespace"] if old_rss else None
        if namespace is None:
            return False
        for pod in self.cache(*PODS).list(namespace):
            if (controller_ref(pod) or {}).get("uid") in old_uids and \
                    (pod.get("status") or {}).get("phase") not in ("Failed", "Succeeded"):
                return True
        return False

    # --- history and status ----------------------------------------------------------------------

    async def cleanup(self, d: dict, old_rss: list[dict]) -> None:
        """Delete the oldest ReplicaSets beyond revisionHistoryLimit that hold no pods."""
        limit = d["spec"].get("revisionHistoryLimit")
        if limit is None:
            return
        alive = [rs for rs in old_rss if rs is not None and not rs["metadata"].get("deletionTimestamp")]
        surplus = len(alive) - limit
        if surplus <= 0:
            return
        for rs in du.by_revision(alive)[:surplus]:
            meta = rs["metadata"]
            if du.status_of(rs, "replicas") or du.spec_replicas(rs) or \
                    meta.get("generation", 0) > du.status_of(rs, "observedGeneration"):
                continue
            try:
                await self.api.delete(self.resource(*RS), meta["namespace"], meta["name"])
            except errors.StatusError as e:
                if e.code != 404:
                    raise

    async def sync_status(self, d: dict, all_rss: list[dict], new_rs: dict | None) -> None:
        status = du.calculate_status(d, all_rss, new_rs, self.stamp(), self.with_terminating())
        if du.without_zero_counts(status, self.with_terminating()) != (d.get("status") or {}):
            d["status"] = status
            await self.write_deployment_status(d)

    async def sync_rollout_status(self, d: dict, all_rss: list[dict], new_rs: dict | None) -> float | None:
        status = du.calculate_status(d, all_rss, new_rs, self.stamp(), self.with_terminating())
        deadline = du.progress_deadline(d)
        if deadline is None:
            du.remove_condition(status, "Progressing")
        current = du.condition(d.get("status") or {}, "Progressing")
        finished = status.get("replicas", 0) == status.get("updatedReplicas", 0) and \
            current is not None and current.get("reason") == du.NEW_RS_AVAILABLE
        now = self.clock.now()
        if deadline is not None and not finished:
            rs_name = new_rs["metadata"]["name"] if new_rs is not None else None
            if du.complete(d, status):
                du.set_condition(status, du.new_condition(
                    "Progressing", "True", du.NEW_RS_AVAILABLE,
                    f'ReplicaSet "{rs_name}" has successfully progressed.', self.stamp()))
            elif du.progressing(d, status):
                message = f'ReplicaSet "{rs_name}" is progressing.' if rs_name else \
                    f'Deployment "{d["metadata"]["name"]}" is progressing.'
                cond = du.new_condition("Progressing", "True", du.RS_UPDATED, message, self.stamp())
                if current is not None:
                    if current.get("status") == "True":
                        cond["lastTransitionTime"] = current.get("lastTransitionTime")
                    du.remove_condition(status, "Progressing")
                du.set_condition(status, cond)
            elif du.timed_out(d, status, now):
                message = f'ReplicaSet "{rs_name}" has timed out progressing.' if rs_name else \
                    f'Deployment "{d["metadata"]["name"]}" has timed out progressing.'
                du.set_condition(status, du.new_condition("Progressing", "False", du.TIMED_OUT, message,
                                                          self.stamp()))
        failure = self.replica_failure(new_rs, all_rss)
        if failure is not None:
            du.set_condition(status, failure)
        else:
            du.remove_condition(status, "ReplicaFailure")
        if du.without_zero_counts(status, self.with_terminating()) != (d.get("status") or {}):
            d["status"] = status
            await self.write_deployment_status(d)
            return None
        # Nothing changed: look again when the progress deadline would pass.
        if du.complete(d, status):
            return None
        left = du.seconds_left(d, d.get("status") or {}, now)
        if left is None or (du.condition(d.get("status") or {}, "Progressing") or {}).get("reason") == du.TIMED_OUT:
            return None
        return max(left, 0) + 1.0

    def replica_failure(self, new_rs: dict | None, all_rss: list[dict]) -> dict | None:
        for rs in [new_rs] + [r for r in all_rss if r is not new_rs]:
            for cond in ((rs or {}).get("status") or {}).get("conditions") or []:
                if cond.get("type") == "ReplicaFailure":
                    return {"type": "ReplicaFailure", "status": cond.get("status"),
                            "lastUpdateTime": cond.get("lastTransitionTime"),
                            "lastTransitionTime": cond.get("lastTransitionTime"),
                            "reason": cond.get("reason"), "message": cond.get("message")}
        return None
