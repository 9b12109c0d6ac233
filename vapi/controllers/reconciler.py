"""The shape of a level-triggered controller, as client-go's controllers are built.

Changes seen by shared informers put keys (namespace, name) of primary objects on a work queue;
workers take a key and reconcile that object towards what its spec asks, reading the informers'
caches. A reconcile that fails is retried with per-key backoff; one that wants another look later
returns the seconds to wait. Workers start only once every informer the controller reads has
synced, so a controller never acts on a half-listed world.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from .. import errors
from .pods import controller_ref
from .settings import ControllerSettings
from .workqueue import ShutDown, WorkQueue

log = logging.getLogger("vapi.controllers")

Key = tuple  # (namespace or None, name)


def key_of(obj: dict) -> Key:
    meta = obj["metadata"]
    return meta.get("namespace") or None, meta["name"]


class Reconciler:
    user = ""                     # the kube-system service account the controller acts as
    component = ""                # the events' source when not `user` (kube's names differ)
    primary: tuple[str, str, str] = ("", "", "")   # (group, version, plural) it reconciles
    workers = 1
    settings = ControllerSettings()   # the server's tunables; `Controllers` hands over its own

    def __init__(self, api, informers, recorder, clock):
        self.api = api
        self.informers = informers
        self.recorder = recorder
        self.clock = clock
        self.queue = WorkQueue(type(self).__name__)
        self._read: list = []

    # --- what subclasses write ---------------------------------------------------------------

    def setup(self) -> None:
        """Watch what else the controller reads (`watch`, `watch_owned`)."""

    async def reconcile(self, namespace: str | None, name: str) -> float | None:
        raise NotImplementedError

    # --- what subclasses use -----------------------------------------------------------------

    def resource(self, group: str, version: str, plural: str):
        return self.api.registry.get(group, version, plural)

    def cache(self, group: str, version: str, plural: str):
        """The shared informer of a resource: `.get(namespace, name)`, `.list(namespace)`."""
        return self.informers.get(self.resource(group, version, plural))

    def enqueue(self, key: Key) -> None:
        self.queue.add(key)

    def enqueue_after(self, key: Key, seconds: float) -> None:
        self.queue.add_after(key, seconds)

    def watch(self, group: str, version: str, plural: str,
              mapper: Callable[[dict], Iterable[Key]]) -> None:
        """Reconcile the primaries `mapper` names for every change of this resource (the object
        before the change too, so a primary that stops matching hears of it)."""
        informer = self.cache(group, version, plural)
        self._read.append(informer)

        async def handle(event_type: str, obj: dict, prev: dict | None) -> None:
            for source in (obj, prev) if prev is not None else (obj,):
                for key in mapper(source):
                    self.enqueue(key)
        informer.add_handler(handle)

    def watch_owned(self, group: str, version: str, plural: str, owner_kind: str) -> None:
        """Reconcile the owner whose controller reference of `owner_kind` an object carries."""
        def owner(obj: dict) -> Iterable[Key]:
            ref = controller_ref(obj)
            if ref is not None and ref.get("kind") == owner_kind:
                yield obj["metadata"].get("namespace") or None, ref["name"]
        self.watch(group, version, plural, owner)

    # --- the loop ----------------------------------------------------------------------------

    async def run(self) -> None:
        primary = self.cache(*self.primary)
        self._read.append(primary)

        async def handle(event_type: str, obj: dict, prev: dict | None) -> None:
            self.enqueue(key_of(obj))
        primary.add_handler(handle)
        self.setup()
        for informer in self._read:
            await informer.wait_synced()
        try:
            await asyncio.gather(*(self._work() for _ in range(self.workers)))
        finally:
            self.queue.shut_down()

    async def _work(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except ShutDown:
                return
            try:
                after = await self.reconcile(*key)
            except asyncio.CancelledError:
                raise
            except errors.StatusError as e:
                # A conflict means the cache was behind a write: look again soon, quietly.
                if e.code != 409:
                    log.warning("%s: reconciling %s: %s", type(self).__name__, key, e.message)
                self.queue.add_rate_limited(key)
            except Exception:  # noqa: BLE001 - one object's failure must not stop the controller
                log.exception("%s: reconciling %s failed", type(self).__name__, key)
                self.queue.add_rate_limited(key)
            else:
                self.queue.forget(key)
                if after is not None:
                    self.queue.add_after(key, after)
            finally:
                self.queue.done(key)
