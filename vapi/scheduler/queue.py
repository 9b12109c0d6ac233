"""kube-scheduler's scheduling queue, simplified but with its three parts: the active queue (by
priority, then by when the pod was queued), the backoff queue (a pod that failed waits 1 s,
doubling to 10 s per attempt) and the unschedulable pods, which wait for a change in the cluster
(a node, or a pod that frees room) or at most five minutes before they are tried again."""
from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from dataclasses import dataclass

from .nodeinfo import priority_of

INITIAL_BACKOFF = 1.0
MAX_BACKOFF = 10.0
MAX_UNSCHEDULABLE = 300.0   # kube's podMaxInUnschedulablePodsDuration
ACTIVE, BACKOFF, UNSCHEDULABLE, IN_FLIGHT = "active", "backoff", "unschedulable", "in flight"


@dataclass
class Entry:
    pod: dict
    queued_at: float
    attempts: int = 0
    where: str = ACTIVE
    backoff_until: float = 0.0
    since: float = 0.0
    moved_while_in_flight: bool = False
    plugins: frozenset = frozenset()   # the plugins that last refused it


def _essence(pod: dict) -> tuple:
    meta = pod["metadata"]
    return pod.get("spec"), meta.get("labels"), meta.get("annotations")


class SchedulingQueue:
    def __init__(self):
        self.entries: dict[str, Entry] = {}
        self._active: list[tuple] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()

    def __len__(self) -> int:
        return len(self.entries)

    def _activate(self, uid: str, entry: Entry) -> None:
        entry.where = ACTIVE
        heapq.heappush(self._active, (-priority_of(entry.pod), entry.queued_at, next(self._seq), uid))
        self._wake.set()

    def add(self, pod: dict) -> None:
        uid = pod["metadata"]["uid"]
        if uid in self.entries:
            self.update(pod)
            return
        entry = self.entries[uid] = Entry(pod, time.monotonic())
        self._activate(uid, entry)

    def update(self, pod: dict) -> None:
        entry = self.entries.get(pod["metadata"]["uid"])
        if entry is None:
            self.add(pod)
            return
        changed = _essence(entry.pod) != _essence(pod)
        entry.pod = pod
        if changed and entry.where == UNSCHEDULABLE:
            self._move(pod["metadata"]["uid"], entry)
        elif changed and entry.where == IN_FLIGHT:
            entry.moved_while_in_flight = True

    def delete(self, uid: str) -> None:
        self.entries.pop(uid, None)

    def _move(self, uid: str, entry: Entry) -> None:
        if entry.backoff_until > time.monotonic():
            entry.where = BACKOFF
            self._wake.set()
        else:
            self._activate(uid, entry)

    def move_all(self, plugins: tuple[str, ...] | None = None) -> None:
        """Something changed that may let unschedulable pods fit: try them again (after backoff);
        `plugins` limits it to pods one of those plugins refused (kube's queueing hints, coarsely)."""
        for uid, entry in self.entries.items():
            if plugins is not None and not entry.plugins & set(plugins):
                continue
            if entry.where == UNSCHEDULABLE:
                self._move(uid, entry)
            elif entry.where == IN_FLIGHT:
                entry.moved_while_in_flight = True

    def _failed(self, uid: str) -> Entry | None:
        entry = self.entries.get(uid)
        if entry is None:
            return None
        entry.attempts += 1
        entry.backoff_until = time.monotonic() + min(INITIAL_BACKOFF * 2 ** (entry.attempts - 1), MAX_BACKOFF)
        return entry

    def unschedulable(self, uid: str, plugins: set[str]) -> None:
        entry = self._failed(uid)
        if entry is None:
            return
        entry.plugins = frozenset(plugins)
        if entry.moved_while_in_flight:
            self._move(uid, entry)
        else:
            entry.where, entry.since = UNSCHEDULABLE, time.monotonic()

    def retry(self, uid: str) -> None:
        """An error (not a verdict) ended the attempt: back off, then try again."""
        entry = self._failed(uid)
        if entry is not None:
            entry.where = BACKOFF
            self._wake.set()

    def done(self, uid: str) -> None:
        """The pod was bound: it leaves the queue."""
        self.entries.pop(uid, None)

    def _flush(self) -> float:
        """Move what has waited long enough; the seconds until the next thing is due."""
        now, due = time.monotonic(), MAX_UNSCHEDULABLE
        for uid, entry in self.entries.items():
            if entry.where == BACKOFF:
                if entry.backoff_until <= now:
                    self._activate(uid, entry)
                else:
                    due = min(due, entry.backoff_until - now)
            elif entry.where == UNSCHEDULABLE:
                if now - entry.since >= MAX_UNSCHEDULABLE:
                    self._move(uid, entry)
                else:
                    due = min(due, MAX_UNSCHEDULABLE - (now - entry.since))
        return due

    async def pop(self) -> dict:
        while True:
            due = self._flush()
            while self._active:
                *_, uid = heapq.heappop(self._active)
                entry = self.entries.get(uid)
                if entry is not None and entry.where == ACTIVE:
                    entry.where, entry.moved_while_in_flight = IN_FLIGHT, False
                    return entry.pod
            self._wake.clear()
            try:   # not wait_for, which may swallow a cancellation in Python 3.11 (see the kubelet)
                async with asyncio.timeout(max(due, 0.01)):
                    await self._wake.wait()
            except TimeoutError:
                pass
