"""Events, recorded as kube's client-go recorder records them.

`recorder.event(obj, type, reason, message)` never blocks the caller: the event is queued and
written by the recorder's own task. Repeats are aggregated as kube's EventCorrelator does: the
same event again (same object, type, reason, message and source) bumps `count` and
`lastTimestamp` of the one already written; more than AGGREGATE_MAX events differing only in
message within AGGREGATE_WINDOW become one "(combined from similar events)" event. Events are
core/v1 objects with the reporting fields the events.k8s.io API shows (reportingComponent,
reportingInstance, action), so `kubectl describe`, `kubectl events` and either API read them.

A recorder made with `series=True` records as kube's events.k8s.io recorder (the scheduler's)
does: events carry `eventTime` and `action`, and the same event again (same object, action,
reason and reporter, whatever its note) grows the first one's `series` instead of its count.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import OrderedDict

from .. import errors
from ..registry.strategies import micro_rfc3339, rfc3339
from ..writes.patch import MERGE

log = logging.getLogger("vapi.controllers")

QUEUE_LIMIT = 1000           # kube's broadcaster drops events past its 1000-deep queue
CACHE_SIZE = 4096            # kube's correlator LRU size
AGGREGATE_WINDOW = 600.0     # seconds
AGGREGATE_MAX = 10
COMBINED = "(combined from similar events): "


def involved_object(obj: dict) -> dict:
    meta = obj["metadata"]
    ref = {"kind": obj.get("kind", ""), "namespace": meta.get("namespace"), "name": meta["name"],
           "uid": meta.get("uid"), "apiVersion": obj.get("apiVersion", ""),
           "resourceVersion": meta.get("resourceVersion")}
    return {k: v for k, v in ref.items() if v}


class EventRecorder:
    def __init__(self, api, component: str, host: str = "", series: bool = False):
        self.api = api
        self.component = component
        self.host = host
        self.series = series
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        # correlation key -> [event namespace, event name, count]
        self._seen: OrderedDict[tuple, list] = OrderedDict()
        # aggregation key (message left out) -> [window start, messages seen]
        self._similar: OrderedDict[tuple, list] = OrderedDict()

    def event(self, obj: dict, event_type: str, reason: str, message: str, action: str | None = None) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue(QUEUE_LIMIT)
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"events {self.component}")
        try:
            self._queue.put_nowait((involved_object(obj), event_type, reason, message, action, time.time()))
        except asyncio.QueueFull:
            log.warning("event queue of %s full: dropping %s %s", self.component, reason, message)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                await self._write(*item)
            except asyncio.CancelledError:
                raise
            except errors.StatusError as e:
                # A namespace being deleted refuses new events (403); nothing to keep.
                log.debug("event %s not written: %s", item[2], e.message)
            except Exception:  # noqa: BLE001 - one bad event must not stop the recorder
                log.exception("writing event %s failed", item[2])

    def _remember(self, cache: OrderedDict, key: tuple, value: list) -> None:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)

    def _aggregate(self, ref: dict, event_type: str, reason: str, message: str, at: float) -> str:
        key = (tuple(sorted(ref.items())), event_type, reason)
        window = self._similar.get(key)
        if window is None or at - window[0] > AGGREGATE_WINDOW:
            window = [at, set()]
        window[1].add(message)
        self._remember(self._similar, key, window)
        return COMBINED + message if len(window[1]) > AGGREGATE_MAX else message

    async def _write(self, ref: dict, event_type: str, reason: str, message: str, action: str | None,
                     at: float) -> None:
        if self.series:
            await self._write_series(ref, event_type, reason, message, action, at)
            return
        message = self._aggregate(ref, event_type, reason, message, at)
        # Once combined, later similar events bump the one combined event.
        key = (tuple(sorted(ref.items())), event_type, reason,
               COMBINED if message.startswith(COMBINED) else message)
        stamp = rfc3339(int(at))

        def event(namespace: str, name: str) -> dict:
            made = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": namespace},
                    "involvedObject": ref, "reason": reason, "message": message, "type": event_type,
                    "source": {"component": self.component, **({"host": self.host} if self.host else {})},
                    "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1, "eventTime": None,
                    "reportingComponent": self.component, "reportingInstance": self.host}
            if action:
                made["action"] = action
            return made
        await self._bump_or_create(key, ref, lambda count: {"count": count, "lastTimestamp": stamp,
                                                            "message": message}, event)

    async def _write_series(self, ref: dict, event_type: str, reason: str, note: str, action: str | None,
                            at: float) -> None:
        key = (tuple(sorted(ref.items())), action, reason)
        stamp = micro_rfc3339(dt.datetime.fromtimestamp(at, dt.timezone.utc))

        def event(namespace: str, name: str) -> dict:
            return {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": namespace},
                    "involvedObject": ref, "reason": reason, "message": note, "type": event_type,
                    "source": {}, "firstTimestamp": None, "lastTimestamp": None, "eventTime": stamp,
                    "action": action or reason, "reportingComponent": self.component,
                    "reportingInstance": self.host or self.component}
        await self._bump_or_create(key, ref, lambda count: {"series": {"count": count, "lastObservedTime": stamp}},
                                   event)

    async def _bump_or_create(self, key: tuple, ref: dict, bump, event) -> None:
        """The event seen before under `key` patched with `bump(new count)`; else (never seen, or
        gone since) a new one, `event(namespace, name)`, named as kube names them."""
        info = self.api.registry.get("", "v1", "events")
        seen = self._seen.get(key)
        if seen is not None:
            namespace, name, count = seen
            try:
                await self.api.patch(info, namespace, name, MERGE, bump(count + 1))
                self._remember(self._seen, key, [namespace, name, count + 1])
                return
            except errors.StatusError as e:
                if e.code != 404:
                    raise
        namespace = ref.get("namespace") or "default"
        name = f"{ref['name']}.{time.time_ns():x}"
        await self.api.create(info, namespace, event(namespace, name))
        self._remember(self._seen, key, [namespace, name, 1])
