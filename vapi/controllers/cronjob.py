"""The CronJob controller (kube's cronjob-controller, its second version): a Job per scheduled
time, named `<cronjob>-<minutes since the epoch>` so the name itself keeps a time from being run
twice, with the concurrency policy, the starting deadline and the history limits applied, and
the CronJob looked at again just after its next scheduled time.
"""
from __future__ import annotations

import copy
import datetime as dt
import zoneinfo

from admission import cron
from admission.gotime import parse_rfc3339

from .. import errors
from ..api import DeleteOptions
from ..registry.strategies import rfc3339
from .job import condition, is_finished
from .pods import controller_ref, owner_reference
from .reconciler import Reconciler

SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"
MAX_MISSED = 100
NEXT_SCHEDULE_DELTA = 0.1   # seconds after the scheduled time the CronJob is looked at again
UTC = dt.timezone.utc


def job_reference(job: dict) -> dict:
    meta = job["metadata"]
    return {"kind": "Job", "namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"],
            "apiVersion": "batch/v1", "resourceVersion": meta.get("resourceVersion", "")}


def job_name(cronjob: dict, scheduled: dt.datetime) -> str:
    return f"{cronjob['metadata']['name']}-{int(scheduled.timestamp()) // 60}"


def _succeeded(job: dict) -> bool:
    cond = condition(job, "Complete")
    return cond is not None and cond.get("status") == "True"


def _finished_type(job: dict) -> str:
    return next(c["type"] for c in job["status"]["conditions"]
                if c.get("type") in ("Complete", "Failed") and c.get("status") == "True")


def _go_time(moment: dt.datetime) -> str:
    """An RFC 1123 time with numeric zone, as Go's time.RFC1123Z writes it."""
    return moment.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def _rfc3339_in_zone(moment: dt.datetime) -> str:
    text = moment.isoformat(timespec="seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class Schedule:
    """A CronJob's parsed schedule in its time zone: the times it names after a moment."""

    def __init__(self, spec: str, zone: str | None):
        legacy_zone, rest = cron.split_zone(spec)
        self.zone = zoneinfo.ZoneInfo(legacy_zone or zone) if (legacy_zone or zone) else UTC
        self.cron = cron.parse(rest)

    def next(self, after: dt.datetime) -> dt.datetime | None:
        found = self.cron.next(after.astimezone(self.zone))
        return found

    def most_recent(self, earliest: dt.datetime, now: dt.datetime) -> tuple[dt.datetime | None, int]:
        """The latest scheduled time in (earliest, now] and how many there were."""
        t1 = self.next(earliest)
        if t1 is None or t1 > now:
            return None, 0
        t2 = self.next(t1)
        if t2 is None or t2 > now:
            return t1, 1
        period = t2 - t1
        if period < dt.timedelta(seconds=1):
            raise ValueError("time difference between two schedules is less than 1 second")
        # Count by the period, then step through the last stretch exactly (schedules are not all
        # periodic: "0 9 * * 1-5" skips weekends).
        missed = int((now - t1) / period) + 1
        latest, count, t = t1, 1, t2
        if missed > MAX_MISSED * 10:
            t = self.next(now - period * 3) or now
            count = missed - 3
        while t is not None and t <= now:
            latest, count, t = t, count + 1, self.next(t)
        return latest, count


class CronJobController(Reconciler):
    user = "cronjob-controller"
    primary = ("batch", "v1", "cronjobs")

    def setup(self) -> None:
        self.watch_owned("batch", "v1", "jobs", "CronJob")

    async def reconcile(self, namespace, name):
        cached = self.cache(*self.primary).get(namespace, name)
        if cached is None:
            return None
        cronjob = copy.deepcopy(cached)
        uid = cronjob["metadata"]["uid"]
        jobs = [j for j in self.cache("batch", "v1", "jobs").list(namespace)
                if (controller_ref(j) or {}).get("uid") == uid]
        requeue, changed = await self._sync(cronjob, jobs)
        if await self._clean_up(cronjob, jobs):
            changed = True
        if changed:
            if not cronjob["status"].get("active"):
                cronjob["status"].pop("active", None)
            await self.api.update(self.resource(*self.primary), namespace, name, cronjob, subresource="status")
        return requeue

    def _event(self, cronjob: dict, event_type: str, reason: str, message: str) -> None:
        self.recorder.event(cronjob, event_type, reason, message)

    async def _reconcile_active(self, cronjob: dict, jobs: list[dict]) -> bool:
        status = cronjob.setdefault("status", {})
        active = status.setdefault("active", [])
        active_uids = {ref.get("uid") for ref in active}
        changed = False
        for job in jobs:
            uid, job_name_ = job["metadata"]["uid"], job["metadata"]["name"]
            if uid not in active_uids and not is_finished(job):
                self._event(cronjob, "Warning", "UnexpectedJob",
                            f"Saw a job that the controller did not create or forgot: {job_name_}")
            elif uid in active_uids and is_finished(job):
                status["active"] = active = [ref for ref in active if ref.get("uid") != uid]
                self._event(cronjob, "Normal", "SawCompletedJob",
                            f"Saw completed job: {job_name_}, status: {_finished_type(job)}")
                changed = True
            if _succeeded(job) and job["status"].get("completionTime"):
                completed = job["status"]["completionTime"]
                last = status.get("lastSuccessfulTime")
                if last is None or parse_rfc3339(completed) > parse_rfc3339(last):
                    status["lastSuccessfulTime"] = completed
                    changed = True
        children = {j["metadata"]["uid"] for j in jobs}
        for ref in list(active):
            if ref.get("uid") in children:
                continue
            found = self.api.lookup(self.resource("batch", "v1", "jobs"), ref.get("namespace"), ref.get("name"))
            if found is None or found["metadata"]["uid"] != ref.get("uid"):
                self._event(cronjob, "Normal", "MissingJob", f"Active job went missing: {ref.get('name')}")
                status["active"] = active = [r for r in active if r.get("uid") != ref.get("uid")]
                changed = True
        return changed

    async def _sync(self, cronjob: dict, jobs: list[dict]) -> tuple[float | None, bool]:
        """(seconds until the CronJob wants another look, whether its status changed)."""
        changed = await self._reconcile_active(cronjob, jobs)
        spec, status = cronjob["spec"], cronjob["status"]
        if cronjob["metadata"].get("deletionTimestamp"):
            return None, changed
        zone = spec.get("timeZone")
        if zone is not None:
            try:
                zoneinfo.ZoneInfo(zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
                self._event(cronjob, "Warning", "UnknownTimeZone", f'invalid timeZone: "{zone}": {e}')
                return None, changed
        if spec.get("suspend"):
            return None, changed
        text = spec.get("schedule") or ""
        if "TZ" in text:
            self._event(cronjob, "Warning", "UnsupportedSchedule",
                        f'CRON_TZ or TZ used in schedule "{text}" is not officially supported, see '
                        "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details")
        try:
            schedule = Schedule(text, zone)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError) as e:
            self._event(cronjob, "Warning", "UnparseableSchedule", f'unparseable schedule: "{text}" : {e}')
            return None, changed
        now = self.clock.now()
        earliest = self._earliest(cronjob, now, with_deadline=True)
        try:
            scheduled, missed = schedule.most_recent(earliest, now)
        except ValueError as e:
            self._event(cronjob, "Warning", "InvalidSchedule", f"invalid schedule: {text} : {e}")
            return None, changed
        if missed > MAX_MISSED:
            self._event(cronjob, "Warning", "TooManyMissedTimes",
                        f"too many missed start times: {missed}. Set or decrease .spec.startingDeadlineSeconds "
                        "or check clock skew")
        later = self._next_look(cronjob, schedule, now)
        if scheduled is None:
            return later, changed
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None and scheduled + dt.timedelta(seconds=deadline) < now:
            self._event(cronjob, "Warning", "MissSchedule",
                        f"Missed scheduled time to start a job: {_go_time(scheduled)}")
            return later, changed
        name = job_name(cronjob, scheduled)
        last = status.get("lastScheduleTime")
        if any(ref.get("name") == name for ref in status.get("active") or []) or \
                (last and parse_rfc3339(last) == scheduled.replace(microsecond=0)):
            return later, changed
        policy = spec.get("concurrencyPolicy", "Allow")
        if policy == "Forbid" and status.get("active"):
            self._event(cronjob, "Normal", "JobAlreadyActive",
                        "Not starting job because prior execution is running and concurrency policy is Forbid")
            return later, changed
        if policy == "Replace":
            for ref in list(status.get("active") or []):
                await self._delete_job(cronjob, ref)
                changed = True
        job = await self._create_job(cronjob, schedule, scheduled, name)
        if job is None:
            return later, changed
        status.setdefault("active", []).append(job_reference(job))
        status["lastScheduleTime"] = rfc3339(int(scheduled.timestamp()))
        return self._next_look(cronjob, schedule, now), True

    def _earliest(self, cronjob: dict, now: dt.datetime, with_deadline: bool) -> dt.datetime:
        last = (cronjob.get("status") or {}).get("lastScheduleTime")
        earliest = parse_rfc3339(last or cronjob["metadata"]["creationTimestamp"])
        deadline = cronjob["spec"].get("startingDeadlineSeconds")
        if with_deadline and deadline is not None:
            earliest = max(earliest, now - dt.timedelta(seconds=deadline))
        return earliest

    def _next_look(self, cronjob: dict, schedule: Schedule, now: dt.datetime) -> float | None:
        earliest = self._earliest(cronjob, now, with_deadline=False)
        try:
            recent, _ = schedule.most_recent(earliest, now)
        except ValueError:
            return None
        following = schedule.next(recent or earliest)
        if following is None:
            return None
        return max((following - now).total_seconds() + NEXT_SCHEDULE_DELTA, 0.0)

    async def _create_job(self, cronjob: dict, schedule: Schedule, scheduled: dt.datetime, name: str) -> dict | None:
        template = cronjob["spec"].get("jobTemplate") or {}
        tmeta = template.get("metadata") or {}
        meta = cronjob["metadata"]
        annotations = dict(tmeta.get("annotations") or {})
        annotations[SCHEDULED_TIMESTAMP] = _rfc3339_in_zone(scheduled.astimezone(schedule.zone))
        job = {"apiVersion": "batch/v1", "kind": "Job",
               "metadata": {"name": name, "namespace": meta["namespace"], "annotations": annotations,
                            "ownerReferences": [owner_reference(cronjob, "batch/v1", "CronJob")]},
               "spec": copy.deepcopy(template.get("spec") or {})}
        if tmeta.get("labels"):
            job["metadata"]["labels"] = dict(tmeta["labels"])
        info = self.resource("batch", "v1", "jobs")
        try:
            created = await self.api.create(info, meta["namespace"], job)
        except errors.StatusError as e:
            if e.code != 409 or e.reason != "AlreadyExists":
                self._event(cronjob, "Warning", "FailedCreate", f"Error creating job: {e.message}")
                if e.code == 403:
                    return None     # a terminating namespace refuses every creation
                raise
            existing = self.api.lookup(info, meta["namespace"], name)
            # A Job of that name made by someone else is theirs to account for.
            if existing is None or (controller_ref(existing) or {}).get("uid") != meta["uid"]:
                return None
            if any(ref.get("uid") == existing["metadata"]["uid"] for ref in cronjob["status"].get("active") or []):
                return None
            return existing
        self._event(cronjob, "Normal", "SuccessfulCreate", f"Created job {created['metadata']['name']}")
        return created

    async def _delete_job(self, cronjob: dict, ref: dict) -> bool:
        try:
            await self.api.delete(self.resource("batch", "v1", "jobs"), ref.get("namespace"), ref.get("name"),
                                  DeleteOptions(propagation_policy="Background"))
        except errors.StatusError as e:
            if e.code != 404:
                self._event(cronjob, "Warning", "FailedDelete", f"Deleted job: {e.message}")
                return False
        status = cronjob["status"]
        status["active"] = [r for r in status.get("active") or [] if r.get("uid") != ref.get("uid")]
        self._event(cronjob, "Normal", "SuccessfulDelete", f"Deleted job {ref.get('name')}")
        return True

    async def _clean_up(self, cronjob: dict, jobs: list[dict]) -> bool:
        """Delete the oldest finished Jobs beyond the history limits."""
        spec = cronjob["spec"]
        changed = False
        for kind, field in (("Complete", "successfulJobsHistoryLimit"), ("Failed", "failedJobsHistoryLimit")):
            limit = spec.get(field)
            if limit is None:
                continue
            finished = [j for j in jobs if is_finished(j) and _finished_type(j) == kind]
            excess = len(finished) - limit
            if excess <= 0:
                continue
            finished.sort(key=lambda j: (j["status"].get("startTime") is None, j["status"].get("startTime") or "",
                                         j["metadata"]["name"]))
            for job in finished[:excess]:
                if await self._delete_job(cronjob, job_reference(job)):
                    changed = True
        return changed
