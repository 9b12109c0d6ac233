"""The TTL-after-finished controller (kube's ttl-after-finished-controller): a finished Job with
`ttlSecondsAfterFinished` is deleted, with its pods in the foreground, that many seconds after
its Complete or Failed condition was set.
"""
from __future__ import annotations

import datetime as dt

from admission.gotime import parse_rfc3339

from .. import errors
from ..api import DeleteOptions
from .job import is_finished
from .reconciler import Reconciler


def finish_time(job: dict) -> dt.datetime | None:
    for cond in (job.get("status") or {}).get("conditions") or []:
        if cond.get("type") in ("Complete", "Failed") and cond.get("status") == "True":
            stamp = cond.get("lastTransitionTime")
            return parse_rfc3339(stamp) if stamp else None
    return None


class TTLAfterFinishedController(Reconciler):
    user = "ttl-after-finished-controller"
    primary = ("batch", "v1", "jobs")

    def _expires_in(self, job: dict) -> float | None:
        """Seconds until the Job's time is up (<= 0: now), or None when it has no TTL running."""
        ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
        if ttl is None or job["metadata"].get("deletionTimestamp") or not is_finished(job):
            return None
        finished = finish_time(job)
        if finished is None:
            return None
        return (finished + dt.timedelta(seconds=ttl) - self.clock.now()).total_seconds()

    async def reconcile(self, namespace, name):
        job = self.cache(*self.primary).get(namespace, name)
        if job is None:
            return None
        left = self._expires_in(job)
        if left is None:
            return None
        if left > 0:
            return left
        info = self.resource(*self.primary)
        # The cache may be behind a TTL change: decide on the stored Job.
        fresh = self.api.lookup(info, namespace, name)
        if fresh is None:
            return None
        left = self._expires_in(fresh)
        if left is None or left > 0:
            return left
        try:
            await self.api.delete(info, namespace, name, DeleteOptions(
                propagation_policy="Foreground", preconditions={"uid": fresh["metadata"]["uid"]}))
        except errors.StatusError as e:
            if e.code not in (404, 409):
                raise
        return None
