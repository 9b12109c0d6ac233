"""The CronJob controller against a real in-process server, with its clock in the test's hand:
time moves only when the test advances it, so schedules an hour or a day apart run in a blink."""
from __future__ import annotations

import asyncio
import datetime as dt

from vapi.controllers.clock import FakeClock
from vapi.controllers.cronjob import SCHEDULED_TIMESTAMP, CronJobController
from vapi.server import Config, Server

UTC = dt.timezone.utc


def cronjob(name, schedule, **spec):
    template = {"spec": {"template": {"spec": {"restartPolicy": "Never",
                                               "containers": [{"name": "c", "image": "busybox"}]}}}}
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
            "spec": {"schedule": schedule, "jobTemplate": template, **spec}}


class World:
    def __init__(self, server, clock, controller):
        self.server, self.clock, self.controller = server, clock, controller
        self.api = server.api
        self.cronjobs = server.registry.get("batch", "v1", "cronjobs")
        self.jobs = server.registry.get("batch", "v1", "jobs")
        self.events = server.registry.get("", "v1", "events")

    async def create(self, obj):
        return await self.api.create(self.cronjobs, "default", obj)

    async def tick(self, seconds, name):
        """Move time on and let the controller look at the CronJob."""
        await self.clock.advance(seconds)
        await self.settle(name)

    async def settle(self, name):
        self.controller.enqueue(("default", name))
        await asyncio.sleep(0.3)
        while len(self.controller.queue):
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)

    def job_names(self, cron_name):
        return sorted(j["metadata"]["name"] for j in self.api.list(self.jobs, "default")["items"]
                      if j["metadata"]["name"].startswith(cron_name + "-"))

    def status(self, name):
        return self.api.get(self.cronjobs, "default", name).get("status") or {}

    def events_of(self, name):
        return [(e["type"], e["reason"], e["message"]) for e in self.api.list(self.events, "default")["items"]
                if e["involvedObject"]["name"] == name]

    async def finish(self, job_name, kind="Complete"):
        job = self.api.get(self.jobs, "default", job_name)
        stamp = self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        conds = [{"type": "SuccessCriteriaMet" if kind == "Complete" else "FailureTarget", "status": "True",
                  "lastProbeTime": stamp, "lastTransitionTime": stamp},
                 {"type": kind, "status": "True", "lastProbeTime": stamp, "lastTransitionTime": stamp}]
        job["status"] = {**(job.get("status") or {}), "conditions": conds, "startTime": stamp, "active": 0,
                         **({"completionTime": stamp, "succeeded": 1} if kind == "Complete" else {"failed": 1})}
        await self.api.update(self.jobs, "default", job_name, job, subresource="status")


def with_clock(tmp_path, scenario):
    async def main():
        server = Server(Config(data_dir=tmp_path, port=0, nodes=0))  # the clock decides, not a kubelet
        start = dt.datetime.now(UTC).replace(second=30, microsecond=0)
        clock = FakeClock(start)
        controller = next(c for c in server.controllers.controllers if isinstance(c, CronJobController))
        controller.clock = clock
        await server.start()
        try:
            await scenario(World(server, clock, controller))
        finally:
            await server.stop()
    asyncio.run(main())


def minutes(moment: dt.datetime) -> int:
    return int(moment.timestamp()) // 60


def test_a_job_per_scheduled_time_named_by_its_minute(tmp_path):
    async def scenario(w):
        await w.create(cronjob("every", "*/1 * * * *"))
        await w.settle("every")
        assert w.job_names("every") == []           # nothing scheduled yet
        await w.tick(60, "every")
        first = w.clock.now().replace(second=0)
        assert w.job_names("every") == [f"every-{minutes(first)}"]
        job = w.api.get(w.jobs, "default", f"every-{minutes(first)}")
        assert job["metadata"]["annotations"][SCHEDULED_TIMESTAMP] == first.strftime("%Y-%m-%dT%H:%M:%SZ")
        ref = job["metadata"]["ownerReferences"][0]
        assert (ref["kind"], ref["name"], ref["controller"], ref["blockOwnerDeletion"]) == ("CronJob", "every", True, True)
        status = w.status("every")
        assert status["lastScheduleTime"] == first.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert [a["name"] for a in status["active"]] == [f"every-{minutes(first)}"]
        assert ("Normal", "SuccessfulCreate", f"Created job every-{minutes(first)}") in w.events_of("every")
        await w.tick(60, "every")                   # Allow: a second one alongside
        assert len(w.job_names("every")) == 2 and len(w.status("every")["active"]) == 2
        await w.finish(f"every-{minutes(first)}")
        await w.settle("every")
        status = w.status("every")
        assert len(status["active"]) == 1 and status["lastSuccessfulTime"]
        assert ("Normal", "SawCompletedJob", f"Saw completed job: every-{minutes(first)}, status: Complete") \
            in w.events_of("every")
    with_clock(tmp_path, scenario)


def test_forbid_and_replace(tmp_path):
    async def scenario(w):
        await w.create(cronjob("forbid", "*/1 * * * *", concurrencyPolicy="Forbid"))
        await w.create(cronjob("replace", "*/1 * * * *", concurrencyPolicy="Replace"))
        await w.tick(60, "forbid")
        await w.settle("replace")
        first = w.job_names("replace")
        assert len(w.job_names("forbid")) == 1 and len(first) == 1
        await w.tick(60, "forbid")
        await w.settle("replace")
        assert len(w.job_names("forbid")) == 1
        assert ("Normal", "JobAlreadyActive", "Not starting job because prior execution is running and "
                "concurrency policy is Forbid") in w.events_of("forbid")
        now = w.job_names("replace")
        assert first[0] not in now and len(now) == 1
        assert ("Normal", "SuccessfulDelete", f"Deleted job {first[0]}") in w.events_of("replace")
    with_clock(tmp_path, scenario)


def test_time_zone_and_suspend(tmp_path):
    async def scenario(w):
        await w.create(cronjob("tokyo", "0 9 * * *", timeZone="Asia/Tokyo"))
        await w.create(cronjob("paused", "*/1 * * * *", suspend=True))
        tokyo = dt.timezone(dt.timedelta(hours=9))
        local = w.clock.now().astimezone(tokyo)
        nine = local.replace(hour=9, minute=0, second=0)
        if nine <= local:
            nine += dt.timedelta(days=1)
        await w.tick((nine - local).total_seconds() - 1, "tokyo")
        assert w.job_names("tokyo") == []
        await w.tick(2, "tokyo")
        await w.settle("paused")
        name = f"tokyo-{minutes(nine)}"
        assert w.job_names("tokyo") == [name]
        job = w.api.get(w.jobs, "default", name)
        assert job["metadata"]["annotations"][SCHEDULED_TIMESTAMP] == nine.strftime("%Y-%m-%dT%H:%M:%S+09:00")
        assert w.job_names("paused") == []
        # Resumed after a long pause, without a deadline: more than 100 missed times are reported,
        # and only the latest one runs. (Nine in Tokyo may have been less than 100 minutes away.)
        await w.tick(101 * 60, "paused")
        assert w.job_names("paused") == []
        paused = w.api.get(w.cronjobs, "default", "paused")
        paused["spec"]["suspend"] = False
        await w.api.update(w.cronjobs, "default", "paused", paused)
        await w.settle("paused")
        assert len(w.job_names("paused")) == 1
        assert any(r == "TooManyMissedTimes" and m.startswith("too many missed start times: ") and
                   m.endswith(". Set or decrease .spec.startingDeadlineSeconds or check clock skew")
                   for _, r, m in w.events_of("paused"))
    with_clock(tmp_path, scenario)


def test_starting_deadline_and_history_limits(tmp_path):
    async def scenario(w):
        await w.create(cronjob("hist", "*/1 * * * *", successfulJobsHistoryLimit=1, failedJobsHistoryLimit=1,
                               startingDeadlineSeconds=45))
        names = []
        for _ in range(3):
            await w.tick(60, "hist")
            names = w.job_names("hist")
            await w.finish(names[-1])
        await w.settle("hist")
        kept = w.job_names("hist")
        assert len(kept) == 1 and kept[-1] == names[-1]
        assert any(r == "SuccessfulDelete" for _, r, _ in w.events_of("hist"))
        # An hour later with a 45 s deadline: only the latest time runs, and no missed times
        # are counted before the deadline's window.
        await w.tick(3600, "hist")
        assert len(w.job_names("hist")) == 2
        assert not any(r == "TooManyMissedTimes" for _, r, _ in w.events_of("hist"))
    with_clock(tmp_path, scenario)
