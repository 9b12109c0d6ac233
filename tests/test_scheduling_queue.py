"""The scheduling queue on its own: priority before age, backoff after a failure, unschedulable
pods moved back only by a change that concerns them."""
from __future__ import annotations

import asyncio
import time

from vapi.scheduler import queue as scheduling_queue
from vapi.scheduler.queue import SchedulingQueue


def _pod(uid: str, priority: int = 0) -> dict:
    return {"metadata": {"uid": uid, "name": uid, "namespace": "q"}, "spec": {"priority": priority}}


def run(coro):
    return asyncio.run(coro)


def test_higher_priority_first_then_older():
    async def scenario():
        q = SchedulingQueue()
        for uid, priority in (("old-low", 0), ("high", 10), ("new-low", 0)):
            q.add(_pod(uid, priority))
        return [(await q.pop())["metadata"]["uid"] for _ in range(3)]
    assert run(scenario()) == ["high", "old-low", "new-low"]


def test_unschedulable_waits_for_a_change_that_concerns_it_then_backs_off(monkeypatch):
    monkeypatch.setattr(scheduling_queue, "INITIAL_BACKOFF", 0.2)

    async def scenario():
        q = SchedulingQueue()
        q.add(_pod("p"))
        await q.pop()
        q.unschedulable("p", {"NodeResourcesFit"})
        q.move_all(("InterPodAffinity",))              # not what refused it: stays put
        assert q.entries["p"].where == scheduling_queue.UNSCHEDULABLE
        q.move_all()                                   # a node changed: back, after its backoff
        assert q.entries["p"].where == scheduling_queue.BACKOFF
        started = time.monotonic()
        await asyncio.wait_for(q.pop(), 2)
        return time.monotonic() - started
    waited = run(scenario())
    assert 0.1 < waited < 1.0


def test_a_pod_updated_while_unschedulable_is_tried_again_and_deleted_ones_are_gone():
    async def scenario():
        q = SchedulingQueue()
        q.add(_pod("p"))
        q.add(_pod("gone"))
        await q.pop()
        q.delete("gone")
        q.unschedulable("p", {"NodeAffinity"})
        same = _pod("p")
        q.update(same)                                 # a status-only change: nothing to retry
        assert q.entries["p"].where == scheduling_queue.UNSCHEDULABLE
        changed = {**same, "spec": {"priority": 0, "nodeSelector": {"a": "b"}}}
        q.update(changed)
        popped = await asyncio.wait_for(q.pop(), 3)
        return popped, len(q)
    popped, size = run(scenario())
    assert popped["spec"]["nodeSelector"] == {"a": "b"} and size == 1
