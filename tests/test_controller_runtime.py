"""The controller runtime's pieces on their own: the work queue's guarantees, the fake clock,
expectations and the pod helpers every workload controller uses."""
from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from vapi.controllers.clock import FakeClock
from vapi.controllers.expectations import Expectations
from vapi.controllers.pods import (controller_ref, is_pod_active, is_pod_available, is_pod_ready,
                                   pod_from_template)
from vapi.controllers.workqueue import ShutDown, WorkQueue


def run(coro):
    return asyncio.run(coro)


def test_queue_deduplicates_and_requeues_a_key_added_while_processing():
    async def scenario():
        q = WorkQueue("t")
        q.add(("ns", "a"))
        q.add(("ns", "a"))
        q.add(("ns", "b"))
        assert len(q) == 2
        key = await q.get()
        assert key == ("ns", "a")
        q.add(("ns", "a"))          # changed while being reconciled
        assert len(q) == 1           # not handed to a second worker meanwhile
        assert await q.get() == ("ns", "b")
        q.done(("ns", "b"))
        q.done(("ns", "a"))
        assert await q.get() == ("ns", "a")
    run(scenario())


def test_queue_wakes_a_waiting_worker_and_stops_on_shut_down():
    async def scenario():
        q = WorkQueue("t")
        waiter = asyncio.create_task(q.get())
        await asyncio.sleep(0)
        q.add("k")
        assert await asyncio.wait_for(waiter, 1) == "k"
        idle = asyncio.create_task(q.get())
        await asyncio.sleep(0)
        q.shut_down()
        with pytest.raises(ShutDown):
            await asyncio.wait_for(idle, 1)
    run(scenario())


def test_rate_limited_retries_back_off_exponentially_until_forgotten():
    async def scenario():
        q = WorkQueue("t", base_delay=0.01)
        loop = asyncio.get_running_loop()
        delays = []
        for _ in range(3):
            start = loop.time()
            q.add_rate_limited("k")
            key = await q.get()
            delays.append(loop.time() - start)
            q.done(key)
        assert q.failures("k") == 3
        assert delays[0] >= 0.009 and delays[1] >= 0.019 and delays[2] >= 0.039
        q.forget("k")
        assert q.failures("k") == 0
    run(scenario())


def test_add_after_keeps_the_earliest_time():
    async def scenario():
        q = WorkQueue("t")
        q.add_after("k", 0.05)
        q.add_after("k", 10)
        assert await asyncio.wait_for(q.get(), 1) == "k"
    run(scenario())


def test_fake_clock_wakes_sleepers_when_advanced():
    async def scenario():
        clock = FakeClock()
        start = clock.now()
        sleeper = asyncio.create_task(clock.sleep(60))
        await asyncio.sleep(0)
        await clock.advance(30)
        assert not sleeper.done()
        await clock.advance(30)
        await asyncio.wait_for(sleeper, 1)
        assert clock.now() - start == dt.timedelta(seconds=60)
    run(scenario())


def test_expectations_hold_until_observed():
    e = Expectations()
    e.expect("rs", creations=2)
    assert not e.satisfied("rs")
    e.creation_observed("rs")
    assert not e.satisfied("rs")
    e.creation_observed("rs")
    assert e.satisfied("rs")
    assert e.satisfied("unknown")
    short = Expectations(timeout=0)
    short.expect("rs", deletions=1)
    assert short.satisfied("rs")  # a lost watch event does not block the owner for ever


def test_pod_from_template_and_pod_states():
    owner = {"metadata": {"name": "web-abc", "uid": "u1", "namespace": "ns"}}
    template = {"metadata": {"labels": {"app": "web"}, "annotations": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    pod = pod_from_template(template, owner, "apps/v1", "ReplicaSet", namespace="ns")
    assert pod["metadata"]["generateName"] == "web-abc-"
    assert pod["metadata"]["labels"] == {"app": "web"}
    assert controller_ref(pod) == {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-abc", "uid": "u1",
                                   "controller": True, "blockOwnerDeletion": True}
    pod["spec"]["containers"][0]["image"] = "other"
    assert template["spec"]["containers"][0]["image"] == "nginx"  # the template is not shared
    assert is_pod_active(pod) and not is_pod_ready(pod)
    now = dt.datetime(2026, 1, 1, 0, 0, 30, tzinfo=dt.timezone.utc)
    pod["status"] = {"phase": "Running", "conditions": [
        {"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}
    assert is_pod_ready(pod)
    assert is_pod_available(pod, 30, now) and not is_pod_available(pod, 31, now)
    pod["status"]["phase"] = "Succeeded"
    assert not is_pod_active(pod)
