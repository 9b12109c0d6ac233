"""Garbage collection by ownerReferences, with kube's three propagation policies.

As kube's collector does, it keeps a graph of who owns whom (built from every deletable
resource's informer) and works level-triggered from a queue of objects to look at:
- a dependent whose owners are all gone is deleted (in the background); one with a live owner
  only loses its references to the vanished ones; one whose remaining owners are being deleted
  in the foreground is deleted in the foreground too;
- an owner deleted with `orphan` has the references to it removed from its dependents, then its
  finalizer; one deleted in the foreground (`foregroundDeletion`) keeps its finalizer until the
  graph shows no dependent left.
Handlers only update the graph and queue keys, so deleting a thousand dependents never holds up
an informer; workers do the writes.
"""
from __future__ import annotations

import asyncio
import logging

from .. import errors
from ..api import DeleteOptions
from .workqueue import ShutDown, WorkQueue

log = logging.getLogger("vapi.controllers")
# How soon a newly served resource (a new CRD's) is garbage-collected too.
REGISTRY_POLL_SECONDS = 0.5
WORKERS = 4
ORPHAN, FOREGROUND = "orphan", "foregroundDeletion"


def _owner_uids(obj: dict | None) -> set[str]:
    if not obj:
        return set()
    return {ref.get("uid") for ref in obj["metadata"].get("ownerReferences") or [] if ref.get("uid")}


class OwnerUnknown(Exception):
    """An owner reference names a kind no served resource has (yet): ask again later."""


class GarbageCollector:
    def __init__(self, api, informers):
        self.api = api
        self.informers = informers
        # owner uid -> {(group, plural, namespace, name)} of objects that name it as owner
        self.dependents: dict[str, set[tuple]] = {}
        # uid -> key of every object seen, so a dependent's going can wake its owner
        self.keys: dict[str, tuple] = {}
        self.queue = WorkQueue("garbage collector")

    async def run(self) -> None:
        workers = [asyncio.create_task(self._work()) for _ in range(WORKERS)]
        try:
            await self._follow_registry()
        finally:
            self.queue.shut_down()
            for worker in workers:
                worker.cancel()

    async def _follow_registry(self) -> None:
        """One informer per deletable resource, following the registry as CRDs come and go."""
        watched: set[tuple[str, str]] = set()
        generation, generation_seen = None, False
        while True:
            if generation != self.api.registry.generation:
                generation = self.api.registry.generation
                served = {}
                for info in self.api.registry.all():
                    if "delete" in info.verbs:
                        served.setdefault((info.group, info.plural), info)
                for gone in watched - served.keys():
                    watched.discard(gone)
                    await self.informers.remove(*gone)
                new = served.keys() - watched
                for key in new:
                    watched.add(key)
                    self.informers.get(served[key]).add_handler(self._handler(served[key]))
                if new and generation_seen:
                    # Owners of a newly served kind may have come and gone before its informer
                    # started: look at every dependent again, as kube's collector checks owners it
                    # has not observed ("virtual" nodes).
                    for deps in list(self.dependents.values()):
                        for dep in deps:
                            self.queue.add(dep)
                generation_seen = True
            await asyncio.sleep(REGISTRY_POLL_SECONDS)

    def _handler(self, info):
        async def handle(event_type, obj, prev):
            meta = obj["metadata"]
            key = (info.group, info.plural, meta.get("namespace"), meta["name"])
            now = _owner_uids(obj if event_type != "DELETED" else None)
            for uid in _owner_uids(prev) - now:
                self.dependents.get(uid, set()).discard(key)
            for uid in now:
                self.dependents.setdefault(uid, set()).add(key)
            if event_type == "DELETED":
                uid = meta.get("uid")
                self.keys.pop(uid, None)
                for dep in self.dependents.pop(uid, ()):
                    self.queue.add(dep)
                for owner_uid in _owner_uids(obj):
                    self._wake(owner_uid)
                return
            self.keys[meta.get("uid")] = key
            finalizers = meta.get("finalizers") or []
            if meta.get("ownerReferences") or (meta.get("deletionTimestamp") and
                                               (ORPHAN in finalizers or FOREGROUND in finalizers)):
                self.queue.add(key)
        return handle

    def _wake(self, owner_uid: str) -> None:
        """A foreground-deleting owner finishes when its last dependent is gone: look at it again."""
        key = self.keys.get(owner_uid)
        if key is not None and not self.dependents.get(owner_uid):
            self.queue.add(key)

    async def _work(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except ShutDown:
                return
            try:
                await self._attend(key)
            except asyncio.CancelledError:
                raise
            except OwnerUnknown:
                self.queue.add_rate_limited(key)
            except errors.StatusError as e:
                if e.code not in (404, 409):
                    log.warning("garbage collector: %s: %s", key, e.message)
                if e.code == 409:
                    self.queue.add_rate_limited(key)
            except Exception:  # noqa: BLE001 - one object's failure must not stop collection
                log.exception("garbage collector: %s failed", key)
                self.queue.add_rate_limited(key)
            else:
                self.queue.forget(key)
            finally:
                self.queue.done(key)

    def _info(self, group, plural):
        for info in self.api.registry.all():
            if info.group == group and info.plural == plural:
                return info
        return None

    def _owner(self, dependent: dict, ref: dict) -> dict | None:
        """The owner an ownerReference names, or None when that owner is gone (or replaced)."""
        group, _, version = ref.get("apiVersion", "").rpartition("/")
        info = self.api.registry.by_kind(group, version, ref.get("kind", ""))
        if info is None:
            raise OwnerUnknown(ref.get("kind", ""))
        ns = dependent["metadata"].get("namespace") if info.namespaced else None
        owner = self.api.lookup(info, ns, ref.get("name", ""))
        if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
            return None
        return owner

    async def _attend(self, key: tuple) -> None:
        group, plural, namespace, name = key
        info = self._info(group, plural)
        obj = info and self.api.lookup(info, namespace, name)
        if obj is None:
            return
        meta = obj["metadata"]
        finalizers = meta.get("finalizers") or []
        if meta.get("deletionTimestamp"):
            uid = meta.get("uid")
            if ORPHAN in finalizers:
                for dep in list(self.dependents.get(uid, ())):
                    await self._drop_reference(dep, uid)
                await self._remove_finalizer(info, obj, ORPHAN)
                return
            if FOREGROUND in finalizers:
                if self.dependents.get(uid):
                    for dep in list(self.dependents[uid]):
                        self.queue.add(dep)
                else:
                    await self._remove_finalizer(info, obj, FOREGROUND)
        refs = meta.get("ownerReferences") or []
        if not refs:
            return
        owners = [(ref, self._owner(obj, ref)) for ref in refs]
        solid = [ref for ref, owner in owners
                 if owner is not None and FOREGROUND not in (owner["metadata"].get("finalizers") or [])]
        if solid:
            alive = [ref for ref, owner in owners if owner is not None]
            if len(alive) < len(refs):  # only the references to vanished owners go
                await self._set_references(info, obj, alive)
            return
        if meta.get("deletionTimestamp"):
            return
        waiting = any(owner is not None for _, owner in owners)
        await self.api.delete(info, namespace, name,
                              DeleteOptions(propagation_policy="Foreground" if waiting else "Background",
                                            preconditions={"uid": meta["uid"]}))

    async def _drop_reference(self, dep: tuple, owner_uid: str) -> None:
        group, plural, namespace, name = dep
        info = self._info(group, plural)
        obj = info and self.api.lookup(info, namespace, name)
        if obj is not None:
            await self._set_references(info, obj, [r for r in obj["metadata"].get("ownerReferences") or []
                                                   if r.get("uid") != owner_uid])

    async def _set_references(self, info, obj: dict, refs: list[dict]) -> None:
        def mutate(current):
            if refs:
                current["metadata"]["ownerReferences"] = refs
            else:
                current["metadata"].pop("ownerReferences", None)
            return current
        meta = obj["metadata"]
        await self.api.guaranteed_update(info, meta.get("namespace"), meta["name"], mutate)

    async def _remove_finalizer(self, info, obj: dict, finalizer: str) -> None:
        def mutate(current):
            current["metadata"]["finalizers"] = [f for f in current["metadata"].get("finalizers") or []
                                                 if f != finalizer]
            return current
        meta = obj["metadata"]
        await self.api.guaranteed_update(info, meta.get("namespace"), meta["name"], mutate)
