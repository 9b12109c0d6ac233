"""The controllers' clock: real time in the server, a hand-driven one in unit tests.

Controllers whose behaviour is about time (CronJob schedules, Job deadlines, TTLs, stabilization
windows) read `now()` and wait with `sleep()` here, never `datetime.now` or `asyncio.sleep`
directly, so a test can move time forward instead of waiting for it.
"""
from __future__ import annotations

import asyncio
import datetime as dt


class Clock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0))


class FakeClock(Clock):
    """Time that moves only when `advance` is called; sleepers wake when their moment comes."""

    def __init__(self, start: dt.datetime | None = None):
        self._now = start or dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
        self._sleepers: list[tuple[dt.datetime, asyncio.Future]] = []

    def now(self) -> dt.datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        waiter = asyncio.get_running_loop().create_future()
        self._sleepers.append((self._now + dt.timedelta(seconds=seconds), waiter))
        await waiter

    async def advance(self, seconds: float) -> None:
        self._now += dt.timedelta(seconds=seconds)
        due = [w for when, w in self._sleepers if when <= self._now]
        self._sleepers = [(when, w) for when, w in self._sleepers if when > self._now]
        for waiter in due:
            if not waiter.done():
                waiter.set_result(None)
        await asyncio.sleep(0)
