"""Events expire, as kube-apiserver's `--event-ttl` (default one hour) makes them expire.

kube gives each Event an etcd lease; here a sweep deletes those last seen longer ago than the
TTL. Events are read page by page from the store, not kept in an informer: a busy cluster writes
many, and none of them is worth holding in memory.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging

from admission.gotime import parse_rfc3339

from .. import errors

log = logging.getLogger("vapi.controllers")
BATCH = 500


def last_seen(event: dict) -> dt.datetime | None:
    series = event.get("series") or {}
    for stamp in (series.get("lastObservedTime"), event.get("lastTimestamp"), event.get("eventTime"),
                  event["metadata"].get("creationTimestamp")):
        if stamp:
            try:
                return parse_rfc3339(stamp)
            except ValueError:
                continue
    return None


class EventTTL:
    def __init__(self, api, clock, ttl: float):
        self.api = api
        self.clock = clock
        self.ttl = ttl

    async def run(self) -> None:
        period = min(max(self.ttl / 10, 1.0), 60.0)
        while True:
            await self.clock.sleep(period)
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the next sweep tries again
                log.exception("expiring events failed")

    async def sweep(self) -> int:
        info = self.api.registry.get("", "v1", "events")
        cutoff = self.clock.now() - dt.timedelta(seconds=self.ttl)
        expired = []
        for i, event in enumerate(self.api.each(info)[1]):
            seen = last_seen(event)
            if seen is not None and seen < cutoff:
                expired.append((event["metadata"]["namespace"], event["metadata"]["name"]))
            if i % BATCH == BATCH - 1:
                await asyncio.sleep(0)  # a long scan must not hold up requests
        for namespace, name in expired:
            try:
                await self.api.delete(info, namespace, name)
            except errors.StatusError as e:
                if e.code != 404:
                    raise
        return len(expired)
