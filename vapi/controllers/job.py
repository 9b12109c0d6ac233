"""The Job controller (kube's job-controller): runs a Job's pods to its completions.

Pods carry the `batch.kubernetes.io/job-tracking` finalizer from birth, so a finished pod cannot
vanish before it is counted: its uid goes to `status.uncountedTerminatedPods` first, then the
finalizer comes off, then it moves to `succeeded`/`failed`. Indexed Jobs count by index
(`completedIndexes`). A Job that meets its end gets the interim condition (SuccessCriteriaMet or
FailureTarget, in releases that have them), its remaining pods are deleted, and once none are
left terminating the terminal Complete or Failed condition, as kube's controller does it.
"""
from __future__ import annotations

import copy
import datetime as dt

from admission.gotime import parse_rfc3339

from .. import errors
from ..registry.strategies import rfc3339
from ..writes.patch import JSON_PATCH
from .expectations import Expectations
from .jobindexes import COMPLETION_INDEX, completion_index, first_pending, format_indexes, parse_indexes
from .jobpolicy import Backoff, match_pod_failure_policy, match_success_policy
from .pods import controller_ref, is_pod_active, is_pod_ready, pod_from_template
from .reconciler import Reconciler

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
MANAGER = "kubernetes.io/job-controller"
INDEX_FAILURES = "batch.kubernetes.io/job-index-failure-count"
INDEX_IGNORED_FAILURES = "batch.kubernetes.io/job-index-ignored-failure-count"
MAX_PODS_PER_SYNC = 500
BACKOFF_LIMIT_MESSAGE = "Job has reached the specified backoff limit"
DEADLINE_MESSAGE = "Job was active longer than specified deadline"


def condition(job: dict, condition_type: str) -> dict | None:
    return next((c for c in (job.get("status") or {}).get("conditions") or [] if c.get("type") == condition_type), None)


def is_finished(job: dict) -> bool:
    """Complete or Failed, true: nothing more happens to the Job."""
    return any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
               for c in (job.get("status") or {}).get("conditions") or [])


def _new_condition(condition_type: str, reason: str, message: str, now: str, status: str = "True") -> dict:
    cond = {"type": condition_type, "status": status, "lastProbeTime": now, "lastTransitionTime": now}
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


def ensure_condition(conditions: list, condition_type: str, status: str, reason: str, message: str,
                     now: str) -> bool:
    """kube's ensureJobConditionStatus: add or update the condition; whether anything changed."""
    for cond in conditions:
        if cond.get("type") == condition_type:
            if cond.get("status") == status and cond.get("reason") == reason and cond.get("message") == message:
                return False
            cond.update(_new_condition(condition_type, reason, message, now, status))
            return True
    if status == "False":
        return False  # a condition never added need not be added false
    conditions.append(_new_condition(condition_type, reason, message, now, status))
    return True


def _int(text: str | None) -> int:
    return int(text) if text and text.isdigit() else 0


def has_finalizer(pod: dict) -> bool:
    return TRACKING_FINALIZER in (pod["metadata"].get("finalizers") or [])


class JobController(Reconciler):
    user = "job-controller"
    primary = ("batch", "v1", "jobs")
    workers = 2

    def __init__(self, api, informers, recorder, clock, backoff_base: float | None = None):
        super().__init__(api, informers, recorder, clock)
        self.backoff_base = backoff_base
        self.expectations = Expectations()
        self.backoffs: dict[tuple, Backoff] = {}
        self.removed_finalizers: dict[tuple, set[str]] = {}   # pod uids whose finalizer we took off
        release = tuple(int(x) for x in api.schemas.version.split("."))
        # status.terminating is counted once pod replacement policies are on by default (1.29).
        self.track_terminating = release >= (1, 29)
        # Releases with the interim conditions hold the terminal one until no pod is terminating.
        self.delay_terminal = release >= (1, 31)

    def setup(self) -> None:
        self.watch_owned("", "v1", "pods", "Job")
        pods = self.cache("", "v1", "pods")

        async def observe(event_type: str, pod: dict, prev: dict | None) -> None:
            ref = controller_ref(pod)
            if ref is None or ref.get("kind") != "Job":
                return
            key = (pod["metadata"].get("namespace"), ref["name"])
            if event_type == "ADDED":
                self.expectations.creation_observed(key)
            elif event_type == "DELETED" or (pod["metadata"].get("deletionTimestamp") and
                                             not (prev or {}).get("metadata", {}).get("deletionTimestamp")):
                self.expectations.deletion_observed(key)
        pods.add_handler(observe)

    def _now(self) -> dt.datetime:
        return self.clock.now()

    def _stamp(self) -> str:
        return rfc3339(int(self._now().timestamp()))

    # --- reconcile ---------------------------------------------------------------------------

    async def reconcile(self, namespace, name):
        key = (namespace, name)
        cached = self.cache(*self.primary).get(namespace, name)
        if cached is None:
            # Pods of a Job that is gone are counted by nobody: let them go.
            orphans = [p for p in self.cache("", "v1", "pods").list(namespace) if has_finalizer(p)
                       and (controller_ref(p) or {}).get("kind") == "Job" and controller_ref(p)["name"] == name]
            await self._release(key, orphans)
            self.expectations.forget(key)
            self.backoffs.pop(key, None)
            self.removed_finalizers.pop(key, None)
            return None
        managed_by = (cached.get("spec") or {}).get("managedBy")
        if managed_by not in (None, MANAGER):
            return None
        job = copy.deepcopy(cached)
        uid = job["metadata"]["uid"]
        pods = [p for p in self.cache("", "v1", "pods").list(namespace)
                if (controller_ref(p) or {}).get("uid") == uid]
        if is_finished(job):
            self.backoffs.pop(key, None)
            await self._release(key, [p for p in pods if has_finalizer(p)])
            return None
        return await self._sync(key, job, pods)

    async def _sync(self, key, job: dict, pods: list[dict]) -> float | None:
        spec, status = job["spec"], job.setdefault("status", {})
        uncounted = status.setdefault("uncountedTerminatedPods", {})
        satisfied = self.expectations.satisfied(key)
        done_uids = self._removed(key, pods)
        active_pods = [p for p in pods if is_pod_active(p)]
        ready = sum(1 for p in active_pods if is_pod_ready(p))
        terminating = sum(1 for p in pods if p["metadata"].get("deletionTimestamp")
                          and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed"))
        indexed = spec.get("completionMode") == "Indexed"
        completions = spec.get("completions")
        policy = spec.get("podFailurePolicy")
        tracked = [p for p in pods if has_finalizer(p) and p["metadata"]["uid"] not in done_uids]
        new_succeeded = [p for p in tracked if p.get("status", {}).get("phase") == "Succeeded"
                         and p["metadata"]["uid"] not in (uncounted.get("succeeded") or [])]
        new_failed = [p for p in tracked if self._is_failed(p, job)
                      and p.get("status", {}).get("phase") != "Succeeded"
                      and p["metadata"]["uid"] not in (uncounted.get("failed") or [])]
        succeeded = status.get("succeeded", 0) + len(new_succeeded) + len(uncounted.get("succeeded") or [])
        failed = status.get("failed", 0) + len(uncounted.get("failed") or []) + \
            sum(1 for p in new_failed if match_pod_failure_policy(policy, p)[1])
        now = self._stamp()
        suspended = bool(spec.get("suspend"))
        if not status.get("startTime") and not suspended:
            status["startTime"] = now
        backoff = self.backoffs.setdefault(key, Backoff())
        backoff.record(new_succeeded, new_failed, self._now())

        requeue = None
        finished = self._existing_interim(job)
        if finished is None:
            message = next((m for p in pods if p.get("status", {}).get("phase") == "Failed"
                            for m in [match_pod_failure_policy(policy, p)[0]] if m), None)
            if message:
                finished = _new_condition("FailureTarget", "PodFailurePolicy", message, now)
        if finished is None:
            if failed > spec.get("backoffLimit", 6) or self._past_backoff_on_failure(job, active_pods):
                finished = self._failure("BackoffLimitExceeded", BACKOFF_LIMIT_MESSAGE, now)
            elif self._past_deadline(job):
                finished = self._failure("DeadlineExceeded", DEADLINE_MESSAGE, now)
            elif spec.get("activeDeadlineSeconds") is not None and not suspended:
                requeue = self._deadline_left(job)
        succeeded_indexes: set[int] = set()
        failed_indexes: set[int] = set()
        failure_counts: dict[int, tuple[int, int]] = {}
        if indexed:
            succeeded_indexes = parse_indexes(status.get("completedIndexes"), completions) | {
                i for p in pods if p.get("status", {}).get("phase") == "Succeeded"
                and (i := completion_index(p)) is not None and i < completions}
            succeeded = len(succeeded_indexes)
            if spec.get("backoffLimitPerIndex") is not None:
                failure_counts = self._index_failures(job, pods)
                failed_indexes = self._failed_indexes(job, pods, failure_counts) - succeeded_indexes
                status["failedIndexes"] = format_indexes(failed_indexes)
                finished = finished or self._index_failure(job, failed_indexes, succeeded_indexes, now)
            if finished is None:
                message = match_success_policy(spec.get("successPolicy"), completions, succeeded_indexes)
                if message:
                    finished = _new_condition("SuccessCriteriaMet", "SuccessPolicy", message, now)

        active = len(active_pods)
        if finished is not None:
            deleted, deleted_ready = await self._delete_pods(job, active_pods)
            if deleted != active or not satisfied:
                finished = None
            active -= deleted
            terminating += deleted
            ready -= deleted_ready
        else:
            managed = False
            if satisfied and not job["metadata"].get("deletionTimestamp"):
                active, wait = await self._manage(key, job, active_pods, succeeded,
                                                  succeeded_indexes | failed_indexes, terminating, backoff,
                                                  failure_counts)
                managed = True
                if wait is not None:
                    requeue = wait if requeue is None else min(requeue, wait)
            complete = (succeeded > 0 if completions is None else succeeded >= completions) and active == 0
            if complete:
                finished = self._success(now)
            elif managed:
                self._suspension(job, suspended, now)
        status["active"] = active
        status["ready"] = ready
        if self.track_terminating:
            status["terminating"] = terminating
        await self._track(key, job, pods, tracked, done_uids, finished, succeeded_indexes, terminating)
        return requeue

    # --- deciding ----------------------------------------------------------------------------

    def _existing_interim(self, job: dict) -> dict | None:
        met = condition(job, "SuccessCriteriaMet")
        if met is not None and met.get("status") == "True":
            return met
        target = condition(job, "FailureTarget")
        if target is not None and target.get("status") == "True":
            return target
        return None

    def _failure(self, reason: str, message: str, now: str) -> dict:
        return _new_condition("FailureTarget" if self.delay_terminal else "Failed", reason, message, now)

    def _success(self, now: str) -> dict:
        if self.delay_terminal:
            return _new_condition("SuccessCriteriaMet", "CompletionsReached",
                                  "Reached expected number of succeeded pods", now)
        return _new_condition("Complete", "", "", now)

    def _index_failures(self, job: dict, pods: list[dict]) -> dict[int, tuple[int, int]]:
        """Per index, (failures counted, failures ignored) so far: the latest failed pod's counts
        plus its own failure."""
        policy = job["spec"].get("podFailurePolicy")
        counts: dict[int, tuple[int, int]] = {}
        for pod in pods:
            index = completion_index(pod)
            if index is None or not self._is_failed(pod, job):
                continue
            notes = pod["metadata"].get("annotations") or {}
            counted, ignored = _int(notes.get(INDEX_FAILURES)), _int(notes.get(INDEX_IGNORED_FAILURES))
            if match_pod_failure_policy(policy, pod)[1]:
                counted += 1
            else:
                ignored += 1
            counts[index] = max(counts.get(index, (0, 0)), (counted, ignored))
        return counts

    def _failed_indexes(self, job: dict, pods: list[dict], counts: dict[int, tuple[int, int]]) -> set[int]:
        """Indexes out of retries (or failed by a FailIndex rule), with those already recorded."""
        spec = job["spec"]
        failed = parse_indexes(job["status"].get("failedIndexes"), spec["completions"])
        failed |= {i for i, (counted, _) in counts.items() if counted > spec["backoffLimitPerIndex"]}
        for pod in pods:
            index = completion_index(pod)
            if index is not None and (pod.get("status") or {}).get("phase") == "Failed" and \
                    match_pod_failure_policy(spec.get("podFailurePolicy"), pod)[2] == "FailIndex":
                failed.add(index)
        return {i for i in failed if i < spec["completions"]}

    def _index_failure(self, job: dict, failed: set[int], succeeded: set[int], now: str) -> dict | None:
        spec = job["spec"]
        limit = spec.get("maxFailedIndexes")
        if limit is not None and len(failed) > limit:
            return self._failure("MaxFailedIndexesExceeded",
                                 "Job has exceeded the specified maximal number of failed indexes", now)
        if failed and len(failed) + len(succeeded) >= spec["completions"]:
            return self._failure("FailedIndexes", "Job has failed indexes", now)
        return None

    def _is_failed(self, pod: dict, job: dict) -> bool:
        """kube's isPodFailed: Failed, or (unless only failed pods are replaced) being deleted."""
        phase = (pod.get("status") or {}).get("phase")
        if phase == "Failed":
            return True
        if job["spec"].get("podReplacementPolicy") == "Failed" or job["spec"].get("podFailurePolicy"):
            return False
        return bool(pod["metadata"].get("deletionTimestamp")) and phase != "Succeeded"

    def _past_backoff_on_failure(self, job: dict, active_pods: list[dict]) -> bool:
        """With restartPolicy OnFailure failures are container restarts, counted on active pods."""
        spec = job["spec"]
        if (spec.get("template", {}).get("spec") or {}).get("restartPolicy") != "OnFailure":
            return False
        restarts = sum(s.get("restartCount", 0) for p in active_pods
                       for s in (p.get("status", {}).get("containerStatuses") or [])
                       + (p.get("status", {}).get("initContainerStatuses") or []))
        limit = spec.get("backoffLimit", 6)
        return restarts > 0 and restarts >= limit if limit else restarts > 0

    def _deadline_left(self, job: dict) -> float | None:
        start = job["status"].get("startTime")
        if not start:
            return None
        elapsed = (self._now() - parse_rfc3339(start)).total_seconds()
        return job["spec"]["activeDeadlineSeconds"] - elapsed

    def _past_deadline(self, job: dict) -> bool:
        if job["spec"].get("activeDeadlineSeconds") is None or job["spec"].get("suspend"):
            return False
        left = self._deadline_left(job)
        return left is not None and left <= 0

    def _suspension(self, job: dict, suspended: bool, now: str) -> None:
        conditions = job["status"].setdefault("conditions", [])
        if suspended:
            if ensure_condition(conditions, "Suspended", "True", "JobSuspended", "Job suspended", now):
                self.recorder.event(job, "Normal", "Suspended", "Job suspended")
        elif ensure_condition(conditions, "Suspended", "False", "JobResumed", "Job resumed", now):
            self.recorder.event(job, "Normal", "Resumed", "Job resumed")
            # The deadline counts time active: a resumed Job starts its clock again.
            job["status"]["startTime"] = now

    # --- acting on pods ----------------------------------------------------------------------

    async def _manage(self, key, job: dict, active_pods: list[dict], succeeded: int, succeeded_indexes: set[int],
                      terminating: int, backoff: Backoff,
                      failure_counts: dict[int, tuple[int, int]]) -> tuple[int, float | None]:
        """Create or delete pods towards what the Job wants running; (active, seconds to wait)."""
        spec = job["spec"]
        active = len(active_pods)
        if spec.get("suspend"):
            deleted, _ = await self._delete_pods(job, active_pods, uncounted=True)
            return active - deleted, None
        parallelism, completions = spec.get("parallelism", 1), spec.get("completions")
        indexed = spec.get("completionMode") == "Indexed"
        if completions is None:
            want = active if succeeded > 0 else parallelism
        else:
            want = max(min(completions - succeeded, parallelism), 0)
        surplus = self._surplus(job, active_pods, succeeded_indexes, max(active - want, 0))
        if surplus:
            deleted, _ = await self._delete_pods(job, surplus, uncounted=True)
            active -= deleted
            active_pods = [p for p in active_pods if p not in surplus]
        if job["spec"].get("podReplacementPolicy") == "Failed" or job["spec"].get("podFailurePolicy"):
            want -= terminating
        missing = min(want - active, MAX_PODS_PER_SYNC)
        if missing <= 0:
            return active, None
        wait = backoff.remaining(self._now(), self.backoff_base)
        if wait > 0:
            return active, wait
        indexes: list[int | None] = [None] * missing
        if indexed:
            running = {i for p in active_pods if (i := completion_index(p)) is not None}
            indexes = first_pending(missing, completions, succeeded_indexes | running)
        self.expectations.expect(key, creations=len(indexes))
        for index in indexes:
            if await self._create_pod(job, index, failure_counts.get(index, (0, 0))
                                      if job["spec"].get("backoffLimitPerIndex") is not None else None):
                active += 1
            else:
                self.expectations.creation_observed(key)
        return active, None

    def _surplus(self, job: dict, active_pods: list[dict], succeeded_indexes: set[int], at_least: int) -> list[dict]:
        """Pods to remove: indexed pods whose index is done, out of range or run twice; then, most
        recently created first, as many more as the Job has too many."""
        chosen: list[dict] = []
        if job["spec"].get("completionMode") == "Indexed":
            seen: set[int] = set()
            for pod in sorted(active_pods, key=lambda p: p["metadata"].get("creationTimestamp") or ""):
                index = completion_index(pod)
                if index is None or index >= job["spec"]["completions"] or index in succeeded_indexes or index in seen:
                    chosen.append(pod)
                elif index is not None:
                    seen.add(index)
        rest = sorted((p for p in active_pods if p not in chosen),
                      key=lambda p: (is_pod_ready(p), p["metadata"].get("creationTimestamp") or ""))
        while len(chosen) < at_least and rest:
            chosen.append(rest.pop(0))
        return chosen

    async def _create_pod(self, job: dict, index: int | None, failures: tuple[int, int] | None) -> bool:
        meta = job["metadata"]
        template = copy.deepcopy(job["spec"]["template"])
        generate_name = f"{meta['name']}-"
        if index is not None:
            tmeta = template.setdefault("metadata", {})
            tmeta.setdefault("annotations", {})[COMPLETION_INDEX] = str(index)
            tmeta.setdefault("labels", {})[COMPLETION_INDEX] = str(index)
            pod_spec = template.setdefault("spec", {})
            pod_spec.setdefault("hostname", f"{meta['name']}-{index}")
            for container in (pod_spec.get("containers") or []) + (pod_spec.get("initContainers") or []):
                env = container.setdefault("env", [])
                if not any(e.get("name") == "JOB_COMPLETION_INDEX" for e in env):
                    env.append({"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {
                        "fieldPath": f"metadata.annotations['{COMPLETION_INDEX}']"}}})
            generate_name = f"{meta['name']}-{index}-"
            if failures is not None:
                tmeta["annotations"][INDEX_FAILURES] = str(failures[0])
                if failures[1]:
                    tmeta["annotations"][INDEX_IGNORED_FAILURES] = str(failures[1])
        pod = pod_from_template(template, job, "batch/v1", "Job", namespace=meta["namespace"],
                                generate_name=generate_name)
        pod["metadata"]["finalizers"] = [*pod["metadata"].get("finalizers", []), TRACKING_FINALIZER]
        try:
            created = await self.api.create(self.resource("", "v1", "pods"), meta["namespace"], pod)
        except errors.StatusError as e:
            self.recorder.event(job, "Warning", "FailedCreate", f"Error creating: {e.message}")
            return False
        self.recorder.event(job, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}")
        return True

    async def _delete_pods(self, job: dict, pods: list[dict], uncounted: bool = False) -> tuple[int, int]:
        """Delete pods; (deleted, of which ready). Pods of an ending Job keep their finalizer until
        they are counted as failed; pods removed by suspension or scaling down (`uncounted`) lose
        it first, as they are no failures."""
        deleted = ready = 0
        info = self.resource("", "v1", "pods")
        key = (job["metadata"]["namespace"], job["metadata"]["name"])
        for pod in pods:
            if uncounted and has_finalizer(pod) and not await self._release(key, [pod]):
                continue
            try:
                await self.api.delete(info, pod["metadata"]["namespace"], pod["metadata"]["name"])
            except errors.StatusError as e:
                if e.code != 404:
                    self.recorder.event(job, "Warning", "FailedDelete", f"Error deleting: {e.message}")
                    continue
            else:
                self.recorder.event(job, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}")
            deleted += 1
            ready += is_pod_ready(pod)
        return deleted, ready

    def _removed(self, key, pods: list[dict]) -> set[str]:
        """Uids whose finalizer this controller removed and the cache still shows (forgotten once seen)."""
        done = self.removed_finalizers.get(key, set())
        still = {p["metadata"]["uid"] for p in pods if has_finalizer(p)}
        done &= still
        self.removed_finalizers[key] = done
        return done

    async def _release(self, key, pods: list[dict]) -> list[dict]:
        """Take the tracking finalizer off; the pods it came off (or that are gone)."""
        info = self.resource("", "v1", "pods")
        released = []
        for pod in pods:
            finalizers = pod["metadata"].get("finalizers") or []
            position = finalizers.index(TRACKING_FINALIZER)
            patch = [{"op": "test", "path": f"/metadata/finalizers/{position}", "value": TRACKING_FINALIZER},
                     {"op": "remove", "path": f"/metadata/finalizers/{position}"}]
            try:
                await self.api.patch(info, pod["metadata"]["namespace"], pod["metadata"]["name"], JSON_PATCH, patch)
            except errors.StatusError as e:
                if e.code not in (404, 422):
                    raise
                if e.code == 422:
                    continue  # finalizers moved under us: look again next time
            self.removed_finalizers.setdefault(key, set()).add(pod["metadata"]["uid"])
            released.append(pod)
        return released

    # --- status ------------------------------------------------------------------------------

    async def _track(self, key, job: dict, pods: list[dict], tracked: list[dict], done_uids: set[str],
                     finished: dict | None, succeeded_indexes: set[int], terminating: int) -> None:
        """Count finished pods into status before their finalizers come off, then finish the Job
        when nothing is left uncounted or terminating (kube's trackJobStatusAndRemoveFinalizers)."""
        spec, status = job["spec"], job["status"]
        uncounted = status["uncountedTerminatedPods"]
        indexed = spec.get("completionMode") == "Indexed"
        policy = spec.get("podFailurePolicy")
        ends_badly = finished is not None and finished["type"] not in ("SuccessCriteriaMet", "Complete")
        release = []
        for pod in tracked:
            uid, phase = pod["metadata"]["uid"], (pod.get("status") or {}).get("phase")
            considered_failed = self._is_failed(pod, job)
            if not (job["metadata"].get("deletionTimestamp") or finished is not None or phase == "Succeeded"
                    or considered_failed):
                continue
            release.append(pod)
            if phase == "Succeeded" and uid not in (uncounted.get("failed") or []):
                if not indexed and uid not in (uncounted.get("succeeded") or []):
                    uncounted.setdefault("succeeded", []).append(uid)
            elif considered_failed or ends_badly:
                index = completion_index(pod)
                if uid in (uncounted.get("failed") or []) or (indexed and (index is None or index >= spec["completions"])):
                    continue
                if match_pod_failure_policy(policy, pod)[1]:
                    uncounted.setdefault("failed", []).append(uid)
        if indexed:
            status["completedIndexes"] = format_indexes(succeeded_indexes)
            status["succeeded"] = len(succeeded_indexes)
        conditions = status.setdefault("conditions", [])
        if finished is not None and finished["type"] in ("FailureTarget", "SuccessCriteriaMet"):
            if condition(job, finished["type"]) is None:
                conditions.append(finished)
            final = "Failed" if finished["type"] == "FailureTarget" else "Complete"
            finished = _new_condition(final, finished.get("reason", ""), finished.get("message", ""), self._stamp())
        job = await self._write_status(job)
        status, uncounted = job["status"], job["status"].setdefault("uncountedTerminatedPods", {})
        released = {p["metadata"]["uid"] for p in await self._release(key, release)}
        for field in ("succeeded", "failed"):
            moved = [u for u in uncounted.get(field) or [] if u in released or u in done_uids or
                     not any(p["metadata"]["uid"] == u and has_finalizer(p) for p in pods)]
            if moved:
                status[field] = status.get(field, 0) + len(moved)
                uncounted[field] = [u for u in uncounted[field] if u not in moved]
            if not uncounted.get(field):
                uncounted.pop(field, None)
        finishing = finished is not None and not uncounted.get("succeeded") and not uncounted.get("failed") and \
            not (self.delay_terminal and terminating > 0)
        if finishing:
            ensure_condition(status.setdefault("conditions", []), finished["type"], "True",
                             finished.get("reason", ""), finished.get("message", ""), finished["lastTransitionTime"])
            if finished["type"] == "Complete":
                status["completionTime"] = finished["lastTransitionTime"]
        await self._write_status(job)
        if finishing:
            if finished["type"] == "Complete":
                self.recorder.event(job, "Normal", "Completed", "Job completed")
            else:
                self.recorder.event(job, "Warning", finished.get("reason", ""), finished.get("message", ""))

    async def _write_status(self, job: dict) -> dict:
        current = self.cache(*self.primary).get(job["metadata"]["namespace"], job["metadata"]["name"])
        if current is not None and current.get("status") == job["status"] and \
                current["metadata"]["resourceVersion"] == job["metadata"]["resourceVersion"]:
            return job
        written = await self.api.update(self.resource(*self.primary), job["metadata"]["namespace"],
                                        job["metadata"]["name"], job, subresource="status")
        return copy.deepcopy(written)
