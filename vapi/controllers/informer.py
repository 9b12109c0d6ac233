"""Shared informers, in the manner of client-go's: one per resource, however many consumers.

An informer lists a resource through the pipeline (`API.each`), then watches it from the list's
revision (`API.watch`), keeping a cache of every object, by key and by namespace, that anyone in
the process may read synchronously (admission's namespace look-ups, controllers' checks), and
passing each change to the handlers registered on it. When the watch is lost (history compacted, watcher dropped) it
lists again; a handler may ask to hear of that first, to drop what the lost watch left stale.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from ..api import ListOptions

log = logging.getLogger("vapi.controllers")
RETRY_SECONDS = 1.0

# await handle(event_type, obj, previous object or None)
Handle = Callable[[str, dict, dict | None], Awaitable[None]]


def _key(obj: dict) -> tuple[str | None, str]:
    meta = obj["metadata"]
    return meta.get("namespace") or None, meta["name"]


class Informer:
    def __init__(self, api, info):
        self.api = api
        self.info = info
        self._objects: dict[tuple[str | None, str], dict] = {}
        # namespace -> name -> object: what a namespace holds, without a walk over every object
        self._by_namespace: dict[str | None, dict[str, dict]] = {}
        self.synced = asyncio.Event()
        self._handlers: list[tuple[Handle, Callable[[], Awaitable[None]] | None]] = []
        self._task: asyncio.Task | None = None

    def get(self, namespace: str | None, name: str) -> dict | None:
        return self._objects.get((namespace or None, name))

    def list(self, namespace: str | None = None) -> list[dict]:
        """The cached objects of one namespace, or of all when `namespace` is None."""
        if namespace is None:
            return list(self._objects.values())
        return list(self._by_namespace.get(namespace, {}).values())

    def _put(self, obj: dict) -> dict | None:
        namespace, name = key = _key(obj)
        self._by_namespace.setdefault(namespace, {})[name] = obj
        prev, self._objects[key] = self._objects.get(key), obj
        return prev

    def _drop(self, obj: dict) -> dict | None:
        namespace, name = key = _key(obj)
        in_namespace = self._by_namespace.get(namespace, {})
        in_namespace.pop(name, None)
        if not in_namespace:
            self._by_namespace.pop(namespace, None)
        return self._objects.pop(key, None)

    def add_handler(self, handle: Handle, on_resync: Callable[[], Awaitable[None]] | None = None) -> None:
        """Hear every change from now on; what the cache already holds arrives first, as ADDED."""
        self._handlers.append((handle, on_resync))
        if self.synced.is_set():
            asyncio.create_task(self._replay(handle, self.list()))

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"informer {self.info.group_resource}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def wait_synced(self) -> None:
        await self.synced.wait()

    async def _replay(self, handle: Handle, objects: list[dict]) -> None:
        for obj in objects:
            await self._call(handle, "ADDED", obj, None)

    async def _call(self, handle: Handle, event_type: str, obj: dict, prev: dict | None) -> None:
        try:
            await handle(event_type, obj, prev)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - one consumer's failure must not starve the others
            log.exception("handling %s %s/%s failed", event_type, self.info.group_resource, obj["metadata"]["name"])

    async def _run(self) -> None:
        while True:
            try:
                revision = await self._list()
                await self._watch(revision)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - an informer outlives one bad list or event
                self._failed(e)
                await asyncio.sleep(RETRY_SECONDS)

    def _failed(self, error: Exception) -> None:
        log.error("informer for %s failed; listing again", self.info.group_resource, exc_info=error)

    async def _fetch(self) -> tuple[str, list[dict]]:
        """Every object and the revision they were read at (a host informer reads elsewhere)."""
        return self.api.each(self.info)

    def _events(self, revision: str):
        return self.api.watch(self.info, None, ListOptions(resource_version=revision))

    async def _list(self) -> str:
        revision, objects = await self._fetch()
        self._objects.clear()
        self._by_namespace.clear()
        for obj in objects:
            self._put(obj)
        listed = self.list()
        for handle, on_resync in list(self._handlers):
            if on_resync is not None:
                await on_resync()
            await self._replay(handle, listed)
        self.synced.set()
        return revision

    async def _watch(self, revision: str) -> None:
        events = self._events(revision)
        try:
            async for event_type, obj in events:
                if event_type == "ERROR":
                    return  # compacted or dropped: list again
                if event_type == "BOOKMARK":
                    continue
                prev = self._drop(obj) if event_type == "DELETED" else self._put(obj)
                for handle, _ in list(self._handlers):
                    await self._call(handle, event_type, obj, prev)
        finally:
            await events.aclose()


class Informers:
    """The process's informers, one per resource, created and started on first request."""

    def __init__(self, api):
        self.api = api
        self._informers: dict[tuple[str, str], Informer] = {}

    def get(self, info) -> Informer:
        key = (info.group, info.plural)
        informer = self._informers.get(key)
        if informer is None:
            informer = self._informers[key] = Informer(self.api, info)
            informer.start()
        return informer

    def cached(self, info, namespace: str | None, name: str) -> dict | None:
        """The cached object if that resource's informer has synced; None otherwise."""
        informer = self._informers.get((info.group, info.plural))
        return informer.get(namespace, name) if informer is not None and informer.synced.is_set() else None

    async def remove(self, group: str, plural: str) -> None:
        informer = self._informers.pop((group, plural), None)
        if informer is not None:
            await informer.stop()

    async def stop(self) -> None:
        for informer in list(self._informers.values()):
            await informer.stop()
        self._informers.clear()


def ensure_task(tasks: dict, key, start) -> None:
    """At most one running `start()` task per key: work that outlives the event that asked for it
    (emptying a deleted namespace or CRD) and must not be started twice."""
    task = tasks.get(key)
    if task is None or task.done():
        tasks[key] = asyncio.create_task(start())
