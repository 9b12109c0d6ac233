"""The in-memory watch hub: committed events fan out to watchers, which replay history first.

Events travel as `RawEvent` tuples holding the serialized values; each watcher decodes only what it
yields, so every consumer gets fresh dicts and a dropped or idle watcher costs no JSON work.
"""
from __future__ import annotations

import asyncio
from collections import deque
from typing import Callable, NamedTuple

import orjson

from .store import Compacted, Event

EVENT_TYPES = ("ADDED", "MODIFIED", "DELETED")


class RawEvent(NamedTuple):
    revision: int
    type: int          # index into EVENT_TYPES
    key: str
    value: bytes
    prev_value: bytes | None

    def decode(self) -> Event:
        prev = orjson.loads(self.prev_value) if self.prev_value is not None else None
        return Event(EVENT_TYPES[self.type], self.key, self.revision, orjson.loads(self.value), prev)


# (prefix, after, upto, limit) -> up to `limit` events under prefix with after < revision <= upto,
# oldest first; raises Compacted when history no longer holds all of them.
ReplayReader = Callable[[str, int, int, int], "list[RawEvent]"]

REPLAY_PAGE = 500


def slash_prefixes(key: str):
    """Every prefix of `key` that ends in `/`: the prefixes a watch can ask for and still match it."""
    end = key.find("/")
    while end != -1:
        yield key[:end + 1]
        end = key.find("/", end + 1)


class Watcher:
    """One watch: history replay up to the hub's revision at registration, then live events."""

    def __init__(self, hub: WatchHub, prefix: str, after_revision: int, replay: ReplayReader):
        self.prefix = prefix
        self.dropped = False
        self._hub = hub
        self._closed = False
        self._buffer: deque[RawEvent] = deque()
        self._waiter: asyncio.Future | None = None
        # Live events arrive only above the hub's revision now; older ones come from history.
        self._replay_upto = hub.revision
        self._replay_cursor = after_revision
        self._replay_reader = replay
        self._replayed: deque[RawEvent] = deque()
        # The newest revision accepted: guards against duplicates when the caller's revision is
        # ahead of what the hub has published.
        self._last = after_revision
        self._yielded = after_revision

    @property
    def progress_revision(self) -> int:
        """A revision this watcher has caught up to, with nothing under its prefix pending: what a
        bookmark may announce."""
        if self._replayed or self._replay_cursor < self._replay_upto or self._buffer:
            return self._yielded
        return max(self._last, self._hub.revision)

    def __aiter__(self) -> Watcher:
        return self

    async def __anext__(self) -> Event:
        while True:
            if self._closed or self.dropped:
                raise StopAsyncIteration
            if self._replayed:
                return self._hand_out(self._replayed.popleft())
            if self._replay_cursor < self._replay_upto:
                self._read_history()
                continue
            if self._buffer:
                return self._hand_out(self._buffer.popleft())
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def _hand_out(self, event: RawEvent) -> Event:
        self._yielded = event.revision
        return event.decode()

    def _read_history(self) -> None:
        try:
            page = self._replay_reader(self.prefix, self._replay_cursor, self._replay_upto, REPLAY_PAGE)
        except Compacted:
            # Compaction overtook the replay: the stream would have a gap, so end it as a
            # watcher that fell behind; the client restarts from a newer revision.
            self._drop()
            return
        self._replayed.extend(page)
        self._replay_cursor = page[-1].revision if len(page) == REPLAY_PAGE else self._replay_upto

    def offer(self, event: RawEvent, capacity: int) -> None:
        if event.revision <= self._last:
            return
        if len(self._buffer) >= capacity:
            self._drop()
            return
        self._last = event.revision
        self._buffer.append(event)
        self._wake()

    def _drop(self) -> None:
        self.dropped = True
        self._buffer.clear()
        self._replayed.clear()
        self._hub.unregister(self)
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _end(self) -> None:
        self._closed = True
        self._wake()

    async def close(self) -> None:
        self._hub.unregister(self)
        self._end()


class WatchHub:
    """Watchers indexed by their exact prefix: an event reaches only the watchers whose prefix is
    one of the key's slash-ended prefixes, so fan-out costs O(depth + matching watchers)."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.revision = 0
        self._by_prefix: dict[str, set[Watcher]] = {}
        # Prefixes not ending in `/` cannot be found by slash_prefixes; checked one by one.
        self._partial: set[Watcher] = set()

    def register(self, prefix: str, after_revision: int, replay: ReplayReader) -> Watcher:
        watcher = Watcher(self, prefix, after_revision, replay)
        if prefix.endswith("/"):
            self._by_prefix.setdefault(prefix, set()).add(watcher)
        else:
            self._partial.add(watcher)
        return watcher

    def unregister(self, watcher: Watcher) -> None:
        group = self._by_prefix.get(watcher.prefix)
        if group is not None:
            group.discard(watcher)
            if not group:
                del self._by_prefix[watcher.prefix]
        self._partial.discard(watcher)

    def publish(self, events: list[RawEvent]) -> None:
        """Hand committed events, in revision order, to every matching watcher; never blocks."""
        capacity = self.capacity
        for event in events:
            for prefix in slash_prefixes(event.key):
                group = self._by_prefix.get(prefix)
                if group:
                    # A copy: a full watcher unregisters itself while we iterate.
                    for watcher in tuple(group):
                        watcher.offer(event, capacity)
            for watcher in tuple(self._partial):
                if event.key.startswith(watcher.prefix):
                    watcher.offer(event, capacity)
            self.revision = event.revision

    @property
    def watcher_count(self) -> int:
        return sum(len(group) for group in self._by_prefix.values()) + len(self._partial)

    def close_all(self) -> None:
        for watcher in [w for group in self._by_prefix.values() for w in group] + list(self._partial):
            watcher._end()
        self._by_prefix.clear()
        self._partial.clear()
